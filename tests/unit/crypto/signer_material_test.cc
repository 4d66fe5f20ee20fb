// Tests for src/crypto/signer_material.cc: SignerMaterial::Load accepts a proper TSA key and
// certificate and refuses, each with one clear line, the start-up cases of conformance §6.7 and
// §8.3 (key/cert mismatch, EKU not critical or not timeStamping-only, expired, not yet valid,
// Ed25519 and RSA-PSS keys, a chain that does not build).
#include "tsa/crypto/signer_material.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/cert_factory.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"

namespace tsa::crypto {
namespace {

constexpr long kDay = 24 * 60 * 60;

UniquePtr<X509> ReadCert(const std::string& path) {
  UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  return UniquePtr<X509>(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

UniquePtr<EVP_PKEY> ReadKey(const std::string& path) {
  UniquePtr<BIO> bio(BIO_new_file(path.c_str(), "r"));
  return UniquePtr<EVP_PKEY>(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

class SignerMaterialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& pki = unit_test::SharedPki();
    ASSERT_FALSE(pki.dir.empty());
    ca_cert_ = ReadCert(pki.files.ca_cert);
    ca_key_ = ReadKey(pki.files.ca_key);
    ASSERT_NE(ca_cert_, nullptr);
    ASSERT_NE(ca_key_, nullptr);
  }

  static CertProfile TsaProfile() {
    CertProfile p;
    p.subject = "/C=XX/O=tsad unit tests/CN=Crafted TSA";
    p.not_before_offset_seconds = -300;
    p.validity_days = 30;
    return p;
  }

  // Issues a TSA certificate for `key` from the shared CA and writes key, cert and chain files.
  SignerFiles Write(EVP_PKEY* key, const CertProfile& profile, EVP_PKEY* key_to_write = nullptr) {
    auto cert = IssueCertificate(profile, key, ca_cert_.get(), ca_key_.get());
    EXPECT_TRUE(cert) << (cert ? "" : cert.error().ToString());
    if (!cert) return {};
    SignerFiles files{dir_.Sub("tsa_key.pem"), dir_.Sub("tsa_cert.pem"), unit_test::SharedPki().files.chain, false, ""};
    EXPECT_TRUE(WritePrivateKeyPem(files.key_path, key_to_write ? key_to_write : key));
    EXPECT_TRUE(WriteCertificatesPem(files.cert_path, {cert->get()}));
    return files;
  }

  SignerFiles WriteNew(KeyType type, const CertProfile& profile) {
    auto key = GenerateKey(type);
    EXPECT_TRUE(key);
    if (!key) return {};
    return Write(key->get(), profile);
  }

  static std::string LoadError(const SignerFiles& files, std::time_t now = std::time(nullptr)) {
    auto m = SignerMaterial::Load(files, now);
    EXPECT_FALSE(m) << "Load unexpectedly accepted " << files.cert_path;
    if (m) return {};
    EXPECT_EQ(m.error().message.find('\n'), std::string::npos) << "one line";
    return m.error().message;
  }

  unit_test::TempDir dir_;
  UniquePtr<X509> ca_cert_;
  UniquePtr<EVP_PKEY> ca_key_;
};

TEST_F(SignerMaterialTest, LoadsTheDevPkiAndDescribesIt) {
  const auto& pki = unit_test::SharedPki();
  const std::time_t now = std::time(nullptr);
  auto m = SignerMaterial::Load(unit_test::FilesOf(pki), now);
  ASSERT_TRUE(m) << m.error().ToString();
  const SignerMaterial& mat = **m;
  EXPECT_EQ(mat.key_description(), "EC P-256");
  EXPECT_EQ(mat.subject(), "CN=tsad Unit Test TSA,O=tsad unit tests,C=XX");
  EXPECT_LE(mat.not_before(), now);
  EXPECT_GT(mat.not_after(), now + 29 * kDay);
  EXPECT_EQ(mat.signer_digest(), EVP_sha256());
  EXPECT_EQ(mat.certificate_pem(), pki.tsa_cert_pem);
  EXPECT_EQ(mat.chain_pem(), unit_test::ReadText(pki.files.chain));
  EXPECT_EQ(sk_X509_num(mat.embedded_chain()), 0) << "the root is never embedded";
  EXPECT_EQ(EVP_PKEY_eq(mat.key(), X509_get0_pubkey(mat.certificate())), 1);

  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(X509_digest(mat.certificate(), EVP_sha256(), md, &len), 1);
  EXPECT_EQ(mat.certificate_sha256(), Hex(md, len));
}

TEST_F(SignerMaterialTest, AcceptsRsaAndP384KeysWithAMatchingDigest) {
  auto rsa = SignerMaterial::Load(WriteNew(KeyType::kRsa2048, TsaProfile()), std::time(nullptr));
  ASSERT_TRUE(rsa) << rsa.error().ToString();
  EXPECT_EQ((*rsa)->key_description(), "RSA-2048");
  EXPECT_EQ((*rsa)->signer_digest(), EVP_sha256());

  auto p384 = SignerMaterial::Load(WriteNew(KeyType::kEcP384, TsaProfile()), std::time(nullptr));
  ASSERT_TRUE(p384) << p384.error().ToString();
  EXPECT_EQ((*p384)->key_description(), "EC P-384");
  EXPECT_EQ((*p384)->signer_digest(), EVP_sha384());
}

TEST_F(SignerMaterialTest, AcceptsAP521KeyWithSha512) {
  UniquePtr<EVP_PKEY> p521(EVP_EC_gen("P-521"));
  ASSERT_NE(p521, nullptr);
  auto m = SignerMaterial::Load(Write(p521.get(), TsaProfile()), std::time(nullptr));
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ((*m)->key_description(), "EC P-521");
  EXPECT_EQ((*m)->signer_digest(), EVP_sha512());
}

TEST_F(SignerMaterialTest, RefusesAnEcKeyOnAnotherCurveNamingIt) {
  UniquePtr<EVP_PKEY> k1(EVP_EC_gen("secp256k1"));
  ASSERT_NE(k1, nullptr);
  const std::string msg = LoadError(Write(k1.get(), TsaProfile()));
  EXPECT_NE(msg.find("secp256k1"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, WorksWithoutAChainFile) {
  SignerFiles files = WriteNew(KeyType::kEcP256, TsaProfile());
  files.chain_path.clear();
  auto m = SignerMaterial::Load(files, std::time(nullptr));
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(sk_X509_num((*m)->embedded_chain()), 0);
  EXPECT_TRUE((*m)->chain_pem().empty());
}

TEST_F(SignerMaterialTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  auto key = GenerateKey(KeyType::kEcP256);
  auto other = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key && other);
  const SignerFiles files = Write(key->get(), TsaProfile(), other->get());
  const std::string msg = LoadError(files);
  EXPECT_NE(msg.find("does not match"), std::string::npos) << msg;
  EXPECT_NE(msg.find(files.key_path), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesAKeyOfAnotherTypeThanTheCertificate) {
  auto key = GenerateKey(KeyType::kEcP256);
  auto rsa = GenerateKey(KeyType::kRsa2048);
  ASSERT_TRUE(key && rsa);
  const std::string msg = LoadError(Write(key->get(), TsaProfile(), rsa->get()));
  EXPECT_NE(msg.find("does not match"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesANonCriticalTimeStampingEku) {
  CertProfile p = TsaProfile();
  p.eku = CertProfile::kTimeStampingNonCritical;
  const std::string msg = LoadError(WriteNew(KeyType::kEcP256, p));
  EXPECT_NE(msg.find("not a TSA certificate"), std::string::npos) << msg;
  EXPECT_NE(msg.find("critical"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesAnEkuWithServerAuthBesideTimeStamping) {
  CertProfile p = TsaProfile();
  p.eku = CertProfile::kTimeStampingPlusServerAuth;
  EXPECT_NE(LoadError(WriteNew(KeyType::kEcP256, p)).find("timeStamping only"), std::string::npos);
}

TEST_F(SignerMaterialTest, RefusesACertificateWithoutEku) {
  CertProfile p = TsaProfile();
  p.eku = CertProfile::kNone;
  EXPECT_NE(LoadError(WriteNew(KeyType::kEcP256, p)).find("not a TSA certificate"), std::string::npos);
}

TEST_F(SignerMaterialTest, RefusesAnExpiredCertificate) {
  CertProfile p = TsaProfile();
  p.not_before_offset_seconds = -10 * kDay;
  p.validity_days = 1;
  const std::string msg = LoadError(WriteNew(KeyType::kEcP256, p));
  EXPECT_NE(msg.find("has expired"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesACertificateNotYetValid) {
  CertProfile p = TsaProfile();
  p.not_before_offset_seconds = kDay;
  const std::string msg = LoadError(WriteNew(KeyType::kEcP256, p));
  EXPECT_NE(msg.find("not valid yet"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, ChecksValidityAtTheGivenInstant) {
  const SignerFiles files = WriteNew(KeyType::kEcP256, TsaProfile());
  auto ok = SignerMaterial::Load(files, std::time(nullptr));
  ASSERT_TRUE(ok);
  const std::time_t not_before = (*ok)->not_before();
  const std::time_t not_after = (*ok)->not_after();
  EXPECT_TRUE(SignerMaterial::Load(files, not_before));
  // (At exactly notAfter OpenSSL's chain check already counts the certificate as expired.)
  auto at_end = SignerMaterial::Load(files, not_after - 1);
  EXPECT_TRUE(at_end) << at_end.error().ToString();
  EXPECT_NE(LoadError(files, not_after + 1).find("has expired"), std::string::npos);
  EXPECT_NE(LoadError(files, not_before - 1).find("not valid yet"), std::string::npos);
}

// Issue 8 item 2: the privateKeyUsagePeriod narrows when the key may sign.
TEST_F(SignerMaterialTest, PrivateKeyUsagePeriodEndsTheUsableWindow) {
  CertProfile p = TsaProfile();
  p.key_usage_not_after_offset_seconds = 3600;
  const SignerFiles files = WriteNew(KeyType::kEcP256, p);
  auto m = SignerMaterial::Load(files, std::time(nullptr));
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_LT((*m)->usable_until(), (*m)->not_after());
  EXPECT_TRUE((*m)->UsableAt(std::time(nullptr)));
  EXPECT_FALSE((*m)->UsableAt(std::time(nullptr) + 3700));
  EXPECT_TRUE((*m)->UsableAt(std::time(nullptr) + 3500));
  EXPECT_NE(LoadError(files, std::time(nullptr) + 3700).find("privateKeyUsagePeriod"), std::string::npos);
}

// Issue 8 item 1: a combined key+certificate file must not leak the key through certificate_pem.
TEST_F(SignerMaterialTest, CertificatePemIsReencodedWithoutAnythingElseTheFileHeld) {
  const auto& pki = unit_test::SharedPki();
  const std::string combined = dir_.Sub("combined.pem");
  {
    std::ofstream out(combined);
    out << unit_test::ReadText(pki.files.tsa_key) << "some comment\n" << pki.tsa_cert_pem;
  }
  ::chmod(combined.c_str(), 0600);
  auto m = SignerMaterial::Load(SignerFiles{combined, combined, pki.files.chain, false, ""}, std::time(nullptr));
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ((*m)->certificate_pem(), pki.tsa_cert_pem);
  EXPECT_EQ((*m)->certificate_pem().find("PRIVATE"), std::string::npos);
}

// Issue 8 item 1: group/world access to the key file is refused unless allowed.
TEST_F(SignerMaterialTest, RefusesAKeyFileOthersCanAccessUnlessAllowed) {
  SignerFiles files = unit_test::FilesOf(unit_test::SharedPki());
  const std::string key = dir_.Sub("key.pem");
  std::filesystem::copy_file(files.key_path, key);
  files.key_path = key;
  ASSERT_EQ(::chmod(key.c_str(), 0604), 0);
  const std::string msg = LoadError(files);
  EXPECT_NE(msg.find("accessible to other users (mode 0604)"), std::string::npos) << msg;
  files.allow_readable_key = true;
  EXPECT_TRUE(SignerMaterial::Load(files, std::time(nullptr)));
  ASSERT_EQ(::chmod(key.c_str(), 0400), 0);
  files.allow_readable_key = false;
  EXPECT_TRUE(SignerMaterial::Load(files, std::time(nullptr)));
}

TEST_F(SignerMaterialTest, RefusesAnEd25519KeyWithAClearMessage) {
  const std::string msg = LoadError(WriteNew(KeyType::kEd25519, TsaProfile()));
  EXPECT_NE(msg.find("Ed25519"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesAnRsaPssKeyWithAClearMessage) {
  const std::string msg = LoadError(WriteNew(KeyType::kRsaPss, TsaProfile()));
  EXPECT_NE(msg.find("RSA-PSS"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not supported"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesAnRsaKeyShorterThan2048Bits) {
  UniquePtr<EVP_PKEY> small(EVP_RSA_gen(1024));
  ASSERT_NE(small, nullptr);
  const std::string msg = LoadError(Write(small.get(), TsaProfile()));
  EXPECT_NE(msg.find("1024"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2048"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, RefusesAChainThatTheCertificateDoesNotBuildTo) {
  SignerFiles files = unit_test::FilesOf(unit_test::SharedPki());
  files.chain_path = unit_test::OtherPki().files.chain;
  const std::string msg = LoadError(files);
  EXPECT_NE(msg.find("does not chain"), std::string::npos) << msg;
}

TEST_F(SignerMaterialTest, EmbedsIntermediatesButNotTheRoot) {
  // root (shared CA) -> intermediate -> TSA; chain.pem = intermediate + root.
  auto inter_key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(inter_key);
  CertProfile inter_profile;
  inter_profile.subject = "/C=XX/O=tsad unit tests/CN=Intermediate CA";
  inter_profile.is_ca = true;
  inter_profile.not_before_offset_seconds = -300;
  inter_profile.validity_days = 60;
  auto inter = IssueCertificate(inter_profile, inter_key->get(), ca_cert_.get(), ca_key_.get());
  ASSERT_TRUE(inter) << inter.error().ToString();
  auto tsa_key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(tsa_key);
  auto tsa = IssueCertificate(TsaProfile(), tsa_key->get(), inter->get(), inter_key->get());
  ASSERT_TRUE(tsa);
  SignerFiles files{dir_.Sub("k.pem"), dir_.Sub("c.pem"), dir_.Sub("chain.pem"), false, ""};
  ASSERT_TRUE(WritePrivateKeyPem(files.key_path, tsa_key->get()));
  ASSERT_TRUE(WriteCertificatesPem(files.cert_path, {tsa->get()}));
  ASSERT_TRUE(WriteCertificatesPem(files.chain_path, {inter->get(), ca_cert_.get()}));
  auto m = SignerMaterial::Load(files, std::time(nullptr));
  ASSERT_TRUE(m) << m.error().ToString();
  ASSERT_EQ(sk_X509_num((*m)->embedded_chain()), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value((*m)->embedded_chain(), 0), inter->get()), 0);

  // Without the intermediate the chain does not build.
  ASSERT_TRUE(WriteCertificatesPem(files.chain_path, {ca_cert_.get()}));
  EXPECT_NE(LoadError(files).find("does not chain"), std::string::npos);
}

TEST_F(SignerMaterialTest, MissingFilesAreNotFound) {
  SignerFiles files = unit_test::FilesOf(unit_test::SharedPki());
  files.cert_path = dir_.Sub("missing_cert.pem");
  auto m = SignerMaterial::Load(files, std::time(nullptr));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(m.error().message.find("missing_cert.pem"), std::string::npos);

  files = unit_test::FilesOf(unit_test::SharedPki());
  files.key_path = dir_.Sub("missing_key.pem");
  m = SignerMaterial::Load(files, std::time(nullptr));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().kind, ErrorKind::kNotFound);
}

TEST_F(SignerMaterialTest, UnparsableFilesAreRefusedWithTheirPath) {
  SignerFiles files = unit_test::FilesOf(unit_test::SharedPki());
  const std::string junk = dir_.Sub("junk.pem");
  ASSERT_TRUE(core::WriteFileBytes(junk, {'n', 'o', 'p', 'e'}));
  ASSERT_EQ(::chmod(junk.c_str(), 0600), 0);  // past the key file's permission check
  files.cert_path = junk;
  EXPECT_NE(LoadError(files).find("no PEM certificate in " + junk), std::string::npos);

  files = unit_test::FilesOf(unit_test::SharedPki());
  files.key_path = junk;
  EXPECT_NE(LoadError(files).find("cannot parse the private key in " + junk), std::string::npos);
}

TEST(SignerFilesInDirectoryTest, NamesTheCertgenFilesAndTheChainOnlyWhenPresent) {
  unit_test::TempDir dir;
  SignerFiles files = SignerFilesInDirectory(dir.path().string());
  EXPECT_EQ(files.key_path, dir.Sub("tsa_key.pem"));
  EXPECT_EQ(files.cert_path, dir.Sub("tsa_cert.pem"));
  EXPECT_TRUE(files.chain_path.empty());
  ASSERT_TRUE(core::WriteFileBytes(dir.Sub("chain.pem"), {'x'}));
  files = SignerFilesInDirectory(dir.path().string());
  EXPECT_EQ(files.chain_path, dir.Sub("chain.pem"));
}

}  // namespace
}  // namespace tsa::crypto
