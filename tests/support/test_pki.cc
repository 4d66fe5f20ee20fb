#include "support/test_pki.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tsa::test {
namespace {

constexpr long kDay = 24 * 60 * 60;

}  // namespace

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<TestPki> CreateTestPki(const std::string& dir, crypto::KeyType key_type) {
  crypto::DevPkiOptions options;
  options.dir = dir;
  options.key_type = key_type;
  options.subject = "/C=XX/O=tsad test/CN=tsad Integration Test TSA";
  options.days = 30;
  options.force = true;
  TSA_ASSIGN_OR_RETURN(crypto::DevPkiFiles files, crypto::CreateDevPki(options));
  TestPki pki;
  pki.dir = dir;
  pki.files = files;
  pki.ca_cert_pem = ReadTextFile(files.ca_cert);
  pki.tsa_cert_pem = ReadTextFile(files.tsa_cert);
  return pki;
}

const char* BadTsaCertName(BadTsaCert kind) {
  switch (kind) {
    case BadTsaCert::kEkuNotCritical: return "eku-not-critical";
    case BadTsaCert::kEkuPlusServerAuth: return "eku-plus-serverauth";
    case BadTsaCert::kNoEku: return "no-eku";
    case BadTsaCert::kKeyMismatch: return "key-mismatch";
    case BadTsaCert::kExpired: return "expired";
    case BadTsaCert::kNotYetValid: return "not-yet-valid";
    case BadTsaCert::kEd25519Key: return "ed25519";
    case BadTsaCert::kRsaPssKey: return "rsa-pss";
  }
  return "unknown";
}

namespace {

// A CA and a TSA certificate with `profile` for a key of `tsa_key_type`, written in the --cert-dir
// layout; with `mismatched_key`, tsa_key.pem holds another key.
Result<TestPki> WriteCustomPki(const std::string& dir, const crypto::CertProfile& profile, crypto::KeyType tsa_key_type,
                               bool mismatched_key) {
  using crypto::CertProfile;
  using crypto::KeyType;

  TSA_ASSIGN_OR_RETURN(auto ca_key, crypto::GenerateKey(KeyType::kEcP256));
  CertProfile ca_profile;
  ca_profile.subject = "/C=XX/O=tsad test/CN=tsad Test Root CA";
  ca_profile.is_ca = true;
  ca_profile.not_before_offset_seconds = -30 * kDay;
  ca_profile.validity_days = 365;
  TSA_ASSIGN_OR_RETURN(auto ca_cert, crypto::IssueCertificate(ca_profile, ca_key.get(), nullptr, ca_key.get()));
  TSA_ASSIGN_OR_RETURN(auto tsa_key, crypto::GenerateKey(tsa_key_type));
  TSA_ASSIGN_OR_RETURN(auto tsa_cert, crypto::IssueCertificate(profile, tsa_key.get(), ca_cert.get(), ca_key.get()));

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorKind::kIo, "create " + dir + ": " + ec.message());
  const crypto::DevPkiFiles files = crypto::DevPkiPaths(dir);
  TSA_TRY(crypto::WritePrivateKeyPem(files.ca_key, ca_key.get()));
  TSA_TRY(crypto::WriteCertificatesPem(files.ca_cert, {ca_cert.get()}));
  if (mismatched_key) {
    TSA_ASSIGN_OR_RETURN(auto other_key, crypto::GenerateKey(KeyType::kEcP256));
    TSA_TRY(crypto::WritePrivateKeyPem(files.tsa_key, other_key.get()));
  } else {
    TSA_TRY(crypto::WritePrivateKeyPem(files.tsa_key, tsa_key.get()));
  }
  TSA_TRY(crypto::WriteCertificatesPem(files.tsa_cert, {tsa_cert.get()}));
  TSA_TRY(crypto::WriteCertificatesPem(files.chain, {ca_cert.get()}));

  TestPki pki;
  pki.dir = dir;
  pki.files = files;
  pki.ca_cert_pem = ReadTextFile(files.ca_cert);
  pki.tsa_cert_pem = ReadTextFile(files.tsa_cert);
  return pki;
}

crypto::CertProfile GoodTsaProfile(const std::string& subject) {
  crypto::CertProfile profile;
  profile.subject = subject;
  profile.not_before_offset_seconds = -300;
  profile.validity_days = 30;
  return profile;
}

}  // namespace

Result<TestPki> CreateCustomTsaPki(const std::string& dir, const std::function<void(crypto::CertProfile&)>& adjust) {
  crypto::CertProfile profile = GoodTsaProfile("/C=XX/O=tsad test/CN=tsad Custom TSA");
  adjust(profile);
  return WriteCustomPki(dir, profile, crypto::KeyType::kEcP256, false);
}

Result<TestPki> CreateBadTsaPki(const std::string& dir, BadTsaCert kind) {
  using crypto::CertProfile;
  using crypto::KeyType;

  KeyType tsa_key_type = KeyType::kEcP256;
  if (kind == BadTsaCert::kEd25519Key) tsa_key_type = KeyType::kEd25519;
  if (kind == BadTsaCert::kRsaPssKey) tsa_key_type = KeyType::kRsaPss;

  CertProfile profile = GoodTsaProfile(std::string("/C=XX/O=tsad test/CN=tsad Bad TSA ") + BadTsaCertName(kind));
  switch (kind) {
    case BadTsaCert::kEkuNotCritical: profile.eku = CertProfile::kTimeStampingNonCritical; break;
    case BadTsaCert::kEkuPlusServerAuth: profile.eku = CertProfile::kTimeStampingPlusServerAuth; break;
    case BadTsaCert::kNoEku: profile.eku = CertProfile::kNone; break;
    case BadTsaCert::kExpired:
      profile.not_before_offset_seconds = -20 * kDay;
      profile.validity_days = 10;  // notAfter = 10 days ago
      break;
    case BadTsaCert::kNotYetValid:
      profile.not_before_offset_seconds = 2 * kDay;
      profile.validity_days = 30;
      break;
    case BadTsaCert::kKeyMismatch:
    case BadTsaCert::kEd25519Key:
    case BadTsaCert::kRsaPssKey: break;
  }
  return WriteCustomPki(dir, profile, tsa_key_type, kind == BadTsaCert::kKeyMismatch);
}

}  // namespace tsa::test
