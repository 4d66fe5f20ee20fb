// Keys and X.509 certificates for a development / test PKI: a root CA and a TSA certificate
// whose profile follows RFC 3161 §2.3 (the only EKU is id-kp-timeStamping, and it is critical).
// Used by tsa-certgen and by the tests, which also need deliberately *wrong* profiles (non-critical
// EKU, extra serverAuth, no EKU, expired) to exercise the signer's certificate checks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

// kEd25519 and kRsaPss exist for tests of the signer's algorithm handling; tsa-certgen offers only
// the four types every RFC 3161 client is known to verify.
enum class KeyType { kRsa2048, kRsa3072, kEcP256, kEcP384, kEd25519, kRsaPss };

// "rsa2048", "rsa3072", "ec-p256", "ec-p384", "ed25519", "rsa-pss" (exact, lower case).
std::optional<KeyType> KeyTypeFromName(std::string_view name);
const char* KeyTypeName(KeyType type);

Result<UniquePtr<EVP_PKEY>> GenerateKey(KeyType type);

// Parses an OpenSSL slash-format name ("/C=XX/O=tsad test/CN=tsad Test TSA"); "\/" and "\\"
// escape a slash and a backslash inside a value. kInvalidArgument names the offending component.
Result<UniquePtr<X509_NAME>> ParseSubject(std::string_view subject);

struct CertProfile {
  enum EkuMode {
    kTimeStampingCritical,        // RFC 3161 §2.3: the profile a TSA certificate must have
    kTimeStampingNonCritical,     // wrong: EKU not critical
    kTimeStampingPlusServerAuth,  // wrong: timeStamping is not the only purpose
    kNone,                        // wrong: no EKU at all
  };

  std::string subject;                 // slash format, see ParseSubject
  long not_before_offset_seconds = 0;  // notBefore = now + offset (negative = in the past)
  long validity_days = 365;            // notAfter = notBefore + validity_days + validity_seconds
  long validity_seconds = 0;           // tests: certificates that expire within seconds (days may be 0)
  // When set, a privateKeyUsagePeriod extension (RFC 5280 §4.2.1.4) with only notAfter = now + this.
  std::optional<long> key_usage_not_after_offset_seconds;
  bool is_ca = false;  // CA: eku and key_usage_* are ignored
  EkuMode eku = kTimeStampingCritical;
  bool key_usage_digital_signature_critical = true;
};

// Issues a certificate for subject_key. issuer_cert == nullptr makes it self-signed; then
// issuer_key must be subject_key's key pair (or nullptr, meaning subject_key).
// CA:   basicConstraints critical CA:TRUE, keyUsage critical keyCertSign+cRLSign, SKID.
// Leaf: basicConstraints critical CA:FALSE, keyUsage digitalSignature, EKU per profile.eku, SKID.
// Both get an AKID (keyid of the issuer) when issued by another certificate. The serial is a
// random positive 128-bit number; the signature uses SHA-256 (no digest for Ed25519 issuers).
Result<UniquePtr<X509>> IssueCertificate(const CertProfile& profile, EVP_PKEY* subject_key, X509* issuer_cert,
                                         EVP_PKEY* issuer_key);

// kCreateNew fails (kIo, EEXIST) rather than replace a file that appeared in the meantime.
enum class WritePolicy { kOverwrite, kCreateNew };

// Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"), file mode exactly 0600 (also when replacing).
Status WritePrivateKeyPem(const std::string& path, EVP_PKEY* key, WritePolicy policy = WritePolicy::kOverwrite);
// Concatenated "BEGIN CERTIFICATE" blocks in the given order, file mode exactly 0644.
Status WriteCertificatesPem(const std::string& path, const std::vector<X509*>& certs,
                            WritePolicy policy = WritePolicy::kOverwrite);

struct DevPkiOptions {
  std::string dir;
  KeyType key_type = KeyType::kRsa3072;  // the TSA key; the CA key is RSA-3072 or P-384 (see .cc)
  std::string subject = "/C=XX/O=tsad development/CN=tsad Development TSA";
  int days = 365;      // TSA validity; the CA gets twice as long
  bool force = false;  // replace existing files
  // An existing TSA key to certify instead of generating one: a PEM path or a pkcs11: URI (the
  // key stays in its token; no tsa_key.pem is written). key_type is then ignored.
  std::string existing_key;
  std::string pkcs11_module;  // for a pkcs11: existing_key (empty: kDefaultPkcs11Module)
};

struct DevPkiFiles {
  std::string ca_key;  // 0600
  std::string ca_cert;
  std::string tsa_key;  // 0600; empty when the key already existed (DevPkiOptions::existing_key)
  std::string tsa_cert;
  std::string chain;  // the issuers of tsa_cert (the CA), what a verifier needs besides tsa_cert

  // In the order they are written.
  std::vector<std::string> All() const {
    if (tsa_key.empty()) return {ca_key, ca_cert, tsa_cert, chain};
    return {ca_key, ca_cert, tsa_key, tsa_cert, chain};
  }
};

// The file names CreateDevPki writes, inside dir.
DevPkiFiles DevPkiPaths(const std::string& dir);

// kInvalidArgument for an empty dir, days outside 1..36500 or a bad subject.
Status ValidateDevPkiOptions(const DevPkiOptions& options);

// Creates dir (0755) if missing and writes a CA and a TSA certificate issued by it.
// kInvalidArgument comes only from ValidateDevPkiOptions or, without force, from a refusal because
// one of the files already exists ("certificates already exist in DIR (use --force to
// overwrite)"); nothing is written then. Callers that must tell the two apart validate first.
Result<DevPkiFiles> CreateDevPki(const DevPkiOptions& options);

// A private key from a PEM file or, for an RFC 7512 pkcs11: URI, from a PKCS#11 token
// (tsa/crypto/pkcs11_key.h; the key stays in the token).
Result<UniquePtr<EVP_PKEY>> LoadPrivateKey(const std::string& pem_path_or_uri, const std::string& pkcs11_module = "");

// A PKCS#10 request (RFC 2986) for a TSA certificate, signed with `key`: the subject as given and
// an extensionRequest asking for what RFC 3161 §2.3 requires of the certificate: extendedKeyUsage
// critical with timeStamping only, and keyUsage critical digitalSignature.
Result<UniquePtr<X509_REQ>> CreateTsaCsr(EVP_PKEY* key, std::string_view subject);
// PEM "BEGIN CERTIFICATE REQUEST", file mode 0644.
Status WriteCsrPem(const std::string& path, X509_REQ* csr, WritePolicy policy = WritePolicy::kOverwrite);

}  // namespace tsa::crypto
