#include "tsa/crypto/cert_factory.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../unit_test_helpers.h"

namespace tsa::crypto {

namespace {

namespace fs = std::filesystem;

constexpr long kDay = 24 * 60 * 60;

using unit_test::TempDir;  // unique per test, removed with everything in it when the test ends

unsigned FileMode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<unsigned>(st.st_mode) & 07777U;
}

UniquePtr<X509> LoadCert(const std::string& path) {
  UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::vector<UniquePtr<X509>> LoadCerts(const std::string& path) {
  std::vector<UniquePtr<X509>> out;
  UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return out;
  while (UniquePtr<X509> cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) out.push_back(std::move(cert));
  ERR_clear_error();  // the read past the last certificate leaves a "no start line" error
  return out;
}

UniquePtr<EVP_PKEY> LoadKey(const std::string& path) {
  UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return nullptr;
  return UniquePtr<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// X509_V_OK, or the verification error of leaf against ca for the time-stamping purpose.
int VerifyForTimestamping(X509* ca, X509* leaf) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_TIMESTAMP_SIGN) != 1) {
    return X509_V_ERR_UNSPECIFIED;
  }
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

bool ExtensionIsCritical(X509* cert, int nid) {
  const int idx = X509_get_ext_by_NID(cert, nid, -1);
  return idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; returns its exit status and combined stdout+stderr.
std::pair<int, std::string> RunShell(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

bool OpensslCliAvailable() { return RunShell("openssl version").first == 0; }

struct TestCa {
  UniquePtr<EVP_PKEY> key;
  UniquePtr<X509> cert;
};

TestCa MakeCa(KeyType type = KeyType::kEcP256) {
  auto key = GenerateKey(type);
  EXPECT_TRUE(key) << key.error().message;
  CertProfile profile;
  profile.subject = "/C=XX/O=tsad test/CN=tsad Test Root CA";
  profile.is_ca = true;
  profile.validity_days = 730;
  auto cert = IssueCertificate(profile, key->get(), nullptr, key->get());
  EXPECT_TRUE(cert) << cert.error().message;
  return TestCa{std::move(*key), std::move(*cert)};
}

UniquePtr<X509> MakeLeaf(const TestCa& ca, const CertProfile& profile, KeyType type = KeyType::kEcP256) {
  auto key = GenerateKey(type);
  EXPECT_TRUE(key) << key.error().message;
  auto cert = IssueCertificate(profile, key->get(), ca.cert.get(), ca.key.get());
  EXPECT_TRUE(cert) << cert.error().message;
  return cert ? std::move(*cert) : nullptr;
}

CertProfile TsaProfile(CertProfile::EkuMode eku = CertProfile::kTimeStampingCritical) {
  CertProfile profile;
  profile.subject = "/C=XX/O=tsad test/CN=tsad Test TSA";
  profile.eku = eku;
  return profile;
}

DevPkiOptions DevOptions(const TempDir& tmp, KeyType type = KeyType::kEcP256) {
  DevPkiOptions options;
  options.dir = tmp.Sub("certs");
  options.key_type = type;
  return options;
}

// --- key types ---------------------------------------------------------------------------------

TEST(CertFactoryTest, KeyTypeNamesRoundTripAndUnknownNamesAreRejected) {
  for (const char* name : {"rsa2048", "rsa3072", "ec-p256", "ec-p384", "ed25519", "rsa-pss"}) {
    auto type = KeyTypeFromName(name);
    ASSERT_TRUE(type.has_value()) << name;
    EXPECT_STREQ(KeyTypeName(*type), name);
  }
  for (const char* name : {"", "RSA2048", "rsa", "ec", "p256", "rsa4096", "ed448"}) {
    EXPECT_FALSE(KeyTypeFromName(name).has_value()) << name;
  }
}

TEST(CertFactoryTest, EveryKeyTypeGeneratesAKeyThatIssuesAndSignsVerifiableCertificates) {
  const std::vector<std::pair<KeyType, const char*>> types = {{KeyType::kRsa2048, "RSA"},     {KeyType::kRsa3072, "RSA"},
                                                              {KeyType::kEcP256, "EC"},       {KeyType::kEcP384, "EC"},
                                                              {KeyType::kEd25519, "ED25519"}, {KeyType::kRsaPss, "RSA-PSS"}};
  for (const auto& [type, algorithm] : types) {
    SCOPED_TRACE(KeyTypeName(type));
    auto key = GenerateKey(type);
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(EVP_PKEY_is_a(key->get(), algorithm), 1);
    // The key type as CA (signing) and as leaf (signed).
    TestCa ca = MakeCa(type);
    ASSERT_TRUE(ca.cert);
    EXPECT_EQ(X509_verify(ca.cert.get(), ca.key.get()), 1);
    UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile(), type);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(X509_verify(leaf.get(), ca.key.get()), 1);
    EXPECT_EQ(VerifyForTimestamping(ca.cert.get(), leaf.get()), X509_V_OK);
  }
  EXPECT_EQ(EVP_PKEY_get_bits(GenerateKey(KeyType::kRsa3072)->get()), 3072);
  EXPECT_EQ(EVP_PKEY_get_bits(GenerateKey(KeyType::kEcP384)->get()), 384);
}

// --- certificate profiles ------------------------------------------------------------------------

TEST(CertFactoryTest, DefaultTsaProfilePassesTheTimestampSigningPurposeCheck) {
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile());
  ASSERT_TRUE(leaf);
  EXPECT_EQ(X509_check_purpose(leaf.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_TRUE(ExtensionIsCritical(leaf.get(), NID_ext_key_usage));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_TIMESTAMP));
}

TEST(CertFactoryTest, NonCriticalTimeStampingEkuFailsThePurposeCheck) {
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile(CertProfile::kTimeStampingNonCritical));
  ASSERT_TRUE(leaf);
  EXPECT_FALSE(ExtensionIsCritical(leaf.get(), NID_ext_key_usage));
  EXPECT_NE(X509_check_purpose(leaf.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(VerifyForTimestamping(ca.cert.get(), leaf.get()), X509_V_ERR_INVALID_PURPOSE);
}

TEST(CertFactoryTest, TimeStampingPlusServerAuthEkuFailsThePurposeCheck) {
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile(CertProfile::kTimeStampingPlusServerAuth));
  ASSERT_TRUE(leaf);
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_TIMESTAMP | XKU_SSL_SERVER));
  EXPECT_NE(X509_check_purpose(leaf.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(VerifyForTimestamping(ca.cert.get(), leaf.get()), X509_V_ERR_INVALID_PURPOSE);
}

TEST(CertFactoryTest, MissingEkuFailsThePurposeCheck) {
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile(CertProfile::kNone));
  ASSERT_TRUE(leaf);
  EXPECT_LT(X509_get_ext_by_NID(leaf.get(), NID_ext_key_usage, -1), 0);
  EXPECT_NE(X509_check_purpose(leaf.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(VerifyForTimestamping(ca.cert.get(), leaf.get()), X509_V_ERR_INVALID_PURPOSE);
}

TEST(CertFactoryTest, LeafHasCriticalNonCaBasicConstraintsAndDigitalSignatureKeyUsage) {
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile());
  ASSERT_TRUE(leaf);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_TRUE(ExtensionIsCritical(leaf.get(), NID_basic_constraints));
  EXPECT_TRUE(ExtensionIsCritical(leaf.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));

  CertProfile non_critical_ku = TsaProfile();
  non_critical_ku.key_usage_digital_signature_critical = false;
  UniquePtr<X509> other = MakeLeaf(ca, non_critical_ku);
  ASSERT_TRUE(other);
  EXPECT_FALSE(ExtensionIsCritical(other.get(), NID_key_usage));
}

TEST(CertFactoryTest, CaHasCriticalCaBasicConstraintsCertSignKeyUsageAndNoEku) {
  TestCa ca = MakeCa();
  EXPECT_EQ(X509_check_ca(ca.cert.get()), 1);
  EXPECT_TRUE(ExtensionIsCritical(ca.cert.get(), NID_basic_constraints));
  EXPECT_TRUE(ExtensionIsCritical(ca.cert.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(ca.cert.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_LT(X509_get_ext_by_NID(ca.cert.get(), NID_ext_key_usage, -1), 0);
  EXPECT_NE(X509_get0_subject_key_id(ca.cert.get()), nullptr);
  EXPECT_EQ(X509_check_issued(ca.cert.get(), ca.cert.get()), X509_V_OK);
}

TEST(CertFactoryTest, LeafAuthorityKeyIdIsTheCaSubjectKeyId) {
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile());
  ASSERT_TRUE(leaf);
  const ASN1_OCTET_STRING* akid = X509_get0_authority_key_id(leaf.get());
  const ASN1_OCTET_STRING* ca_skid = X509_get0_subject_key_id(ca.cert.get());
  ASSERT_NE(akid, nullptr);
  ASSERT_NE(ca_skid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(akid, ca_skid), 0);
  EXPECT_NE(X509_get0_subject_key_id(leaf.get()), nullptr);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf.get()), X509_get_subject_name(ca.cert.get())), 0);
}

TEST(CertFactoryTest, SerialNumbersAreRandomPositive128BitIntegers) {
  TestCa ca = MakeCa();
  UniquePtr<X509> a = MakeLeaf(ca, TsaProfile());
  UniquePtr<X509> b = MakeLeaf(ca, TsaProfile());
  ASSERT_TRUE(a && b);
  UniquePtr<BIGNUM> sa(ASN1_INTEGER_to_BN(X509_get0_serialNumber(a.get()), nullptr));
  UniquePtr<BIGNUM> sb(ASN1_INTEGER_to_BN(X509_get0_serialNumber(b.get()), nullptr));
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ(BN_num_bits(sa.get()), 128);
  EXPECT_EQ(BN_is_negative(sa.get()), 0);
  EXPECT_NE(BN_cmp(sa.get(), sb.get()), 0);
}

TEST(CertFactoryTest, NegativeNotBeforeOffsetProducesAnExpiredCertificate) {
  TestCa ca = MakeCa();
  CertProfile profile = TsaProfile();
  profile.not_before_offset_seconds = -400 * kDay;
  profile.validity_days = 365;
  UniquePtr<X509> leaf = MakeLeaf(ca, profile);
  ASSERT_TRUE(leaf);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(leaf.get())), 0);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(leaf.get())), 0);
  // Still a correct time-stamping profile: only the dates make it unusable.
  EXPECT_EQ(X509_check_purpose(leaf.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(VerifyForTimestamping(ca.cert.get(), leaf.get()), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(CertFactoryTest, ValidityRunsForTheGivenDaysFromNotBefore) {
  TestCa ca = MakeCa();
  CertProfile profile = TsaProfile();
  profile.validity_days = 10;
  UniquePtr<X509> leaf = MakeLeaf(ca, profile);
  ASSERT_TRUE(leaf);
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(leaf.get()), X509_get0_notAfter(leaf.get())), 1);
  EXPECT_EQ(days, 10);
  EXPECT_EQ(seconds, 0);
}

TEST(CertFactoryTest, SubjectInSlashFormatIsParsedWithEscapes) {
  auto name = ParseSubject("/C=XX/O=a\\/b/CN=tsad Test TSA");
  ASSERT_TRUE(name) << name.error().message;
  EXPECT_EQ(X509_NAME_entry_count(name->get()), 3);
  char buf[256];
  ASSERT_GT(X509_NAME_get_text_by_NID(name->get(), NID_organizationName, buf, sizeof(buf)), 0);
  EXPECT_STREQ(buf, "a/b");
  ASSERT_GT(X509_NAME_get_text_by_NID(name->get(), NID_commonName, buf, sizeof(buf)), 0);
  EXPECT_STREQ(buf, "tsad Test TSA");
}

TEST(CertFactoryTest, MalformedSubjectsAreRejectedWithAMessageNamingTheProblem) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"", "slash format"},
      {"CN=x", "slash format"},
      {"/CN", "missing '='"},
      {"/=x", "missing attribute type"},
      {"/CN=", "empty value for CN"},
      {"/C=XX//CN=x", "empty component"},
      {"/CN=x/", "empty component"},
      {"/FOO=bar", "unknown attribute type \"FOO\""},
      {"/C=XXX/CN=x", "value for C rejected"},
      {"/CN=x\\", "trailing backslash"},
  };
  for (const auto& [subject, expected] : cases) {
    auto name = ParseSubject(subject);
    ASSERT_FALSE(name) << subject;
    EXPECT_EQ(name.error().kind, ErrorKind::kInvalidArgument) << subject;
    EXPECT_NE(name.error().message.find("invalid subject"), std::string::npos) << name.error().message;
    EXPECT_NE(name.error().message.find(expected), std::string::npos) << name.error().message;
  }
  EXPECT_EQ(ERR_peek_error(), 0UL) << "a rejected subject must not leave errors in the OpenSSL queue";
}

TEST(CertFactoryTest, IssuingWithABadSubjectFailsAsInvalidArgument) {
  TestCa ca = MakeCa();
  auto key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key);
  CertProfile profile = TsaProfile();
  profile.subject = "CN=no slash";
  auto cert = IssueCertificate(profile, key->get(), ca.cert.get(), ca.key.get());
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().kind, ErrorKind::kInvalidArgument);
}

TEST(CertFactoryTest, SelfSignedCertificateMustBeSignedWithItsOwnKey) {
  auto key = GenerateKey(KeyType::kEcP256);
  auto other = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key && other);
  auto cert = IssueCertificate(TsaProfile(), key->get(), nullptr, other->get());
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().kind, ErrorKind::kInvalidArgument);
  // nullptr issuer key with no issuer certificate means "sign with the subject key".
  auto self = IssueCertificate(TsaProfile(), key->get(), nullptr, nullptr);
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_EQ(X509_verify(self->get(), key->get()), 1);
}

TEST(CertFactoryTest, IssuerKeyThatDoesNotMatchTheIssuerCertificateIsRejected) {
  TestCa ca = MakeCa();
  auto subject_key = GenerateKey(KeyType::kEcP256);
  auto wrong_key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(subject_key && wrong_key);
  auto cert = IssueCertificate(TsaProfile(), subject_key->get(), ca.cert.get(), wrong_key->get());
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().kind, ErrorKind::kInvalidArgument);
}

TEST(CertFactoryTest, NonPositiveValidityIsRejected) {
  auto key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key);
  CertProfile profile = TsaProfile();
  profile.validity_days = 0;
  auto cert = IssueCertificate(profile, key->get(), nullptr, key->get());
  ASSERT_FALSE(cert);
  EXPECT_EQ(cert.error().kind, ErrorKind::kInvalidArgument);
}

// --- PEM files -----------------------------------------------------------------------------------

TEST(CertFactoryTest, PrivateKeyPemIsUnencryptedPkcs8WithMode0600EvenWhenReplacingAFile) {
  TempDir tmp;
  auto key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key);
  const std::string path = tmp.Sub("key.pem");
  { std::ofstream(path) << "old world-readable content"; }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);

  Status written = WritePrivateKeyPem(path, key->get());
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(FileMode(path), 0600U);
  const std::string pem = unit_test::ReadText(path);
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0U) << pem;
  UniquePtr<EVP_PKEY> loaded = LoadKey(path);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(EVP_PKEY_eq(loaded.get(), key->get()), 1);
}

TEST(CertFactoryTest, CreateNewPolicyDoesNotReplaceAnExistingFile) {
  TempDir tmp;
  auto key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key);
  const std::string path = tmp.Sub("key.pem");
  { std::ofstream(path) << "keep me"; }
  Status written = WritePrivateKeyPem(path, key->get(), WritePolicy::kCreateNew);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, ErrorKind::kIo);
  EXPECT_EQ(unit_test::ReadText(path), "keep me");
}

TEST(CertFactoryTest, CertificatesPemHoldsTheCertificatesInOrderWithMode0644) {
  TempDir tmp;
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile());
  const std::string path = tmp.Sub("certs.pem");
  Status written = WriteCertificatesPem(path, {leaf.get(), ca.cert.get()});
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(FileMode(path), 0644U);
  std::vector<UniquePtr<X509>> loaded = LoadCerts(path);
  ASSERT_EQ(loaded.size(), 2U);
  EXPECT_EQ(X509_cmp(loaded[0].get(), leaf.get()), 0);
  EXPECT_EQ(X509_cmp(loaded[1].get(), ca.cert.get()), 0);
}

TEST(CertFactoryTest, WritingIntoAMissingDirectoryFailsAsIo) {
  TempDir tmp;
  auto key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key);
  Status written = WritePrivateKeyPem(tmp.Sub("missing/key.pem"), key->get());
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, ErrorKind::kIo);
  EXPECT_NE(written.error().message.find("missing/key.pem"), std::string::npos);
}

// --- development PKI -----------------------------------------------------------------------------

TEST(CertFactoryDevPkiTest, TsaCertificatePassesThePurposeCheckAndVerifiesAgainstTheCa) {
  TempDir tmp;
  DevPkiOptions options;  // the defaults, as tsa-certgen without flags
  options.dir = tmp.Sub("certs");
  auto files = CreateDevPki(options);
  ASSERT_TRUE(files) << files.error().message;

  UniquePtr<X509> tsa = LoadCert(files->tsa_cert);
  UniquePtr<X509> ca = LoadCert(files->ca_cert);
  ASSERT_TRUE(tsa && ca);
  EXPECT_EQ(X509_check_purpose(tsa.get(), X509_PURPOSE_TIMESTAMP_SIGN, 0), 1);
  EXPECT_EQ(VerifyForTimestamping(ca.get(), tsa.get()), X509_V_OK);

  UniquePtr<EVP_PKEY> tsa_key = LoadKey(files->tsa_key);
  UniquePtr<EVP_PKEY> ca_key = LoadKey(files->ca_key);
  ASSERT_TRUE(tsa_key && ca_key);
  EXPECT_EQ(X509_check_private_key(tsa.get(), tsa_key.get()), 1);
  EXPECT_EQ(X509_check_private_key(ca.get(), ca_key.get()), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(tsa_key.get()), 3072);
  EXPECT_EQ(EVP_PKEY_is_a(ca_key.get(), "RSA"), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(ca_key.get()), 3072);

  char cn[256];
  ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(tsa.get()), NID_commonName, cn, sizeof(cn)), 0);
  EXPECT_STREQ(cn, "tsad Development TSA");
  ASSERT_GT(X509_NAME_get_text_by_NID(X509_get_subject_name(ca.get()), NID_commonName, cn, sizeof(cn)), 0);
  EXPECT_STREQ(cn, "tsad Development Root CA");
}

TEST(CertFactoryDevPkiTest, EcTsaKeysGetAP384Ca) {
  TempDir tmp;
  auto files = CreateDevPki(DevOptions(tmp, KeyType::kEcP256));
  ASSERT_TRUE(files) << files.error().message;
  UniquePtr<EVP_PKEY> ca_key = LoadKey(files->ca_key);
  UniquePtr<EVP_PKEY> tsa_key = LoadKey(files->tsa_key);
  ASSERT_TRUE(ca_key && tsa_key);
  EXPECT_EQ(EVP_PKEY_is_a(ca_key.get(), "EC"), 1);
  EXPECT_EQ(EVP_PKEY_get_bits(ca_key.get()), 384);
  EXPECT_EQ(EVP_PKEY_get_bits(tsa_key.get()), 256);
}

TEST(CertFactoryDevPkiTest, ChainFileHoldsExactlyTheCaCertificate) {
  TempDir tmp;
  auto files = CreateDevPki(DevOptions(tmp));
  ASSERT_TRUE(files) << files.error().message;
  std::vector<UniquePtr<X509>> chain = LoadCerts(files->chain);
  UniquePtr<X509> ca = LoadCert(files->ca_cert);
  ASSERT_EQ(chain.size(), 1U);
  EXPECT_EQ(X509_cmp(chain[0].get(), ca.get()), 0);
}

TEST(CertFactoryDevPkiTest, CaCertificateOutlivesTheTsaCertificate) {
  TempDir tmp;
  DevPkiOptions options = DevOptions(tmp);
  options.days = 30;
  auto files = CreateDevPki(options);
  ASSERT_TRUE(files) << files.error().message;
  UniquePtr<X509> tsa = LoadCert(files->tsa_cert);
  UniquePtr<X509> ca = LoadCert(files->ca_cert);
  ASSERT_TRUE(tsa && ca);
  EXPECT_LE(ASN1_TIME_compare(X509_get0_notBefore(ca.get()), X509_get0_notBefore(tsa.get())), 0);
  EXPECT_GT(ASN1_TIME_compare(X509_get0_notAfter(ca.get()), X509_get0_notAfter(tsa.get())), 0);
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(tsa.get()), X509_get0_notAfter(tsa.get())), 1);
  EXPECT_EQ(days, 30);
}

TEST(CertFactoryDevPkiTest, KeyFilesHaveMode0600AndCertificateFilesMode0644) {
  TempDir tmp;
  auto files = CreateDevPki(DevOptions(tmp));
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_EQ(FileMode(files->ca_key), 0600U);
  EXPECT_EQ(FileMode(files->tsa_key), 0600U);
  EXPECT_EQ(FileMode(files->ca_cert), 0644U);
  EXPECT_EQ(FileMode(files->tsa_cert), 0644U);
  EXPECT_EQ(FileMode(files->chain), 0644U);
}

TEST(CertFactoryDevPkiTest, MissingDirectoryIsCreatedWithMode0755) {
  TempDir tmp;
  DevPkiOptions options = DevOptions(tmp);
  options.dir = tmp.Sub("a/b/certs");
  auto files = CreateDevPki(options);
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_EQ(FileMode(options.dir), 0755U);
  EXPECT_EQ(files->tsa_cert, options.dir + "/tsa_cert.pem");
}

TEST(CertFactoryDevPkiTest, RefusesToOverwriteWithoutForceAndLeavesTheFilesUnchanged) {
  TempDir tmp;
  const DevPkiOptions options = DevOptions(tmp);
  auto first = CreateDevPki(options);
  ASSERT_TRUE(first) << first.error().message;
  std::vector<std::string> before;
  for (const auto& path : first->All()) before.push_back(unit_test::ReadText(path));

  auto second = CreateDevPki(options);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(second.error().message, "certificates already exist in " + options.dir + " (use --force to overwrite)");
  const std::vector<std::string> paths = first->All();
  for (std::size_t i = 0; i < paths.size(); ++i) EXPECT_EQ(unit_test::ReadText(paths[i]), before[i]) << paths[i];
}

TEST(CertFactoryDevPkiTest, RefusesWhenAnyOneFileExistsAndWritesNothing) {
  TempDir tmp;
  const DevPkiOptions options = DevOptions(tmp);
  const DevPkiFiles paths = DevPkiPaths(options.dir);
  fs::create_directories(options.dir);
  { std::ofstream(paths.chain) << "someone else's chain"; }

  auto result = CreateDevPki(options);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(unit_test::ReadText(paths.chain), "someone else's chain");
  for (const std::string& path : {paths.ca_key, paths.ca_cert, paths.tsa_key, paths.tsa_cert}) {
    EXPECT_FALSE(fs::exists(path)) << path;
  }
}

TEST(CertFactoryDevPkiTest, ForceReplacesExistingFilesAndRestoresKeyFileModes) {
  TempDir tmp;
  DevPkiOptions options = DevOptions(tmp);
  auto first = CreateDevPki(options);
  ASSERT_TRUE(first) << first.error().message;
  const std::string old_tsa_cert = unit_test::ReadText(first->tsa_cert);
  ASSERT_EQ(::chmod(first->tsa_key.c_str(), 0644), 0);

  options.force = true;
  auto second = CreateDevPki(options);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(unit_test::ReadText(second->tsa_cert), old_tsa_cert);
  EXPECT_EQ(FileMode(second->tsa_key), 0600U);
  UniquePtr<X509> tsa = LoadCert(second->tsa_cert);
  UniquePtr<X509> ca = LoadCert(second->ca_cert);
  ASSERT_TRUE(tsa && ca);
  EXPECT_EQ(VerifyForTimestamping(ca.get(), tsa.get()), X509_V_OK);
}

TEST(CertFactoryDevPkiTest, InvalidOptionsAreRejectedBeforeAnythingIsWritten) {
  TempDir tmp;
  std::vector<DevPkiOptions> bad(5, DevOptions(tmp));
  bad[0].dir.clear();
  bad[1].days = 0;
  bad[2].days = 36501;
  bad[3].subject = "CN=no slash";
  bad[4].subject = "/C=XX/O=tsad development/CN=tsad Development Root CA";  // the CA's own name
  for (const DevPkiOptions& options : bad) {
    EXPECT_FALSE(ValidateDevPkiOptions(options));
    auto result = CreateDevPki(options);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::kInvalidArgument) << result.error().message;
  }
  EXPECT_FALSE(fs::exists(tmp.Sub("certs")));
}

// --- the openssl command line agrees ---------------------------------------------------------------

class CertFactoryOpensslCliTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(CertFactoryOpensslCliTest, OpensslVerifyAcceptsTheTsaCertificateForTimestampSigning) {
  if (!OpensslCliAvailable()) GTEST_SKIP() << "openssl command line tool not found";
  TempDir tmp;
  auto files = CreateDevPki(DevOptions(tmp, GetParam()));
  ASSERT_TRUE(files) << files.error().message;
  const auto [status, output] = RunShell("openssl verify -purpose timestampsign -CAfile " + Quote(files->ca_cert) + " " +
                                         Quote(files->tsa_cert));
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, files->tsa_cert + ": OK\n");
}

TEST_P(CertFactoryOpensslCliTest, OpensslTsTokenSignedWithTheTsaKeyVerifiesAgainstTheCa) {
  if (!OpensslCliAvailable()) GTEST_SKIP() << "openssl command line tool not found";
  TempDir tmp;
  auto files = CreateDevPki(DevOptions(tmp, GetParam()));
  ASSERT_TRUE(files) << files.error().message;
  const std::string data = tmp.Sub("data.txt");
  const std::string config = tmp.Sub("ts.cnf");
  const std::string query = tmp.Sub("q.tsq");
  const std::string reply = tmp.Sub("r.tsr");
  { std::ofstream(data) << "time-stamp me\n"; }
  {
    std::ofstream(config) << "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\n"
                             "default_policy = 1.2.3.4\ndigests = sha256\nsigner_digest = sha256\nserial = "
                          << tmp.Sub("serial") << "\n";
  }

  auto [status, output] = RunShell("openssl ts -query -data " + Quote(data) + " -sha256 -cert -out " + Quote(query));
  ASSERT_EQ(status, 0) << output;
  std::tie(status, output) = RunShell("openssl ts -reply -queryfile " + Quote(query) + " -signer " + Quote(files->tsa_cert) +
                                      " -inkey " + Quote(files->tsa_key) + " -out " + Quote(reply) + " -config " + Quote(config));
  ASSERT_EQ(status, 0) << output;
  std::tie(status, output) = RunShell("openssl ts -verify -queryfile " + Quote(query) + " -in " + Quote(reply) + " -CAfile " +
                                      Quote(files->ca_cert));
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("Verification: OK"), std::string::npos) << output;
}

// Only the key types tsa-certgen offers: not every RFC 3161 client handles Ed25519 or RSA-PSS.
INSTANTIATE_TEST_SUITE_P(CertFactoryToolKeyTypes, CertFactoryOpensslCliTest,
                         ::testing::Values(KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kEcP256, KeyType::kEcP384),
                         [](const ::testing::TestParamInfo<KeyType>& param_info) {
                           std::string name = KeyTypeName(param_info.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(CertFactoryTest, OpensslVerifyRejectsANonCriticalEkuForTimestampSigning) {
  if (!OpensslCliAvailable()) GTEST_SKIP() << "openssl command line tool not found";
  TempDir tmp;
  TestCa ca = MakeCa();
  UniquePtr<X509> leaf = MakeLeaf(ca, TsaProfile(CertProfile::kTimeStampingNonCritical));
  ASSERT_TRUE(leaf);
  ASSERT_TRUE(WriteCertificatesPem(tmp.Sub("ca.pem"), {ca.cert.get()}));
  ASSERT_TRUE(WriteCertificatesPem(tmp.Sub("leaf.pem"), {leaf.get()}));
  const auto [status, output] = RunShell("openssl verify -purpose timestampsign -CAfile " + Quote(tmp.Sub("ca.pem")) + " " +
                                         Quote(tmp.Sub("leaf.pem")));
  EXPECT_NE(status, 0) << output;
  EXPECT_NE(output.find("unsuitable certificate purpose"), std::string::npos) << output;
}

}  // namespace
}  // namespace tsa::crypto
