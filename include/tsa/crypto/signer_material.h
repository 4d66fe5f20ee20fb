// The TSA's signing key, certificate and chain: loaded once at start-up, checked against
// RFC 3161 §2.3 and the conformance rules of §1.2 / §6.7, then shared read-only by every worker.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tsa/core/result.h"

// Opaque OpenSSL types: this header is used by layers that must not see OpenSSL.
struct x509_st;
struct evp_pkey_st;
struct stack_st_X509;
struct evp_md_st;

namespace tsa::crypto {

struct SignerFiles {
  std::string key_path;  // a PEM file, or an RFC 7512 "pkcs11:" URI of a key in a token
  std::string cert_path;
  std::string chain_path;  // optional: issuers of cert_path (intermediates and/or root)
  // Accept a key file that other users may read or write (mode & 077 != 0); refused otherwise.
  bool allow_readable_key = false;
  std::string pkcs11_module{};  // PKCS#11 module for a pkcs11: key (empty: kDefaultPkcs11Module)
};

// The files of a certificate directory as tsa-certgen writes them: tsa_key.pem, tsa_cert.pem and,
// if present, chain.pem.
SignerFiles SignerFilesInDirectory(const std::string& dir);

class SignerMaterial {
 public:
  ~SignerMaterial();
  SignerMaterial(const SignerMaterial&) = delete;
  SignerMaterial& operator=(const SignerMaterial&) = delete;

  // Loads and checks: the key matches the certificate; the certificate carries exactly one
  // extendedKeyUsage, critical, timeStamping only (RFC 3161 §2.3); `now` is inside its validity;
  // the key is RSA >= 2048 or ECDSA P-256/P-384/P-521 (the OpenSSL 3.0 TS_RESP signer cannot sign
  // with Ed25519/Ed448/RSA-PSS, conformance §5.1); the chain, when given, builds to a self-signed
  // root with the timestampsign purpose. Every failure is one readable line.
  static Result<std::shared_ptr<const SignerMaterial>> Load(const SignerFiles& files, std::time_t now);

  x509_st* certificate() const { return cert_; }
  evp_pkey_st* key() const { return key_; }
  // Certificates to embed after the signer when certReq is TRUE: the chain without its root
  // (keeps tokens small for PDF signers, conformance §3).
  stack_st_X509* embedded_chain() const { return embedded_chain_; }
  // Signature digest that matches the key's strength (SHA-384 for P-384, SHA-512 for P-521).
  const evp_md_st* signer_digest() const { return signer_digest_; }

  const std::string& subject() const { return subject_; }
  const std::string& key_description() const { return key_description_; }  // "RSA-3072", "EC P-256"
  // Where the key lives: the PEM path, or the pkcs11: URI without its PIN (logs, /health).
  const std::string& key_source() const { return key_source_; }
  bool key_in_token() const { return key_in_token_; }
  std::time_t not_after() const { return not_after_; }
  std::time_t not_before() const { return not_before_; }
  // The certificate's validity narrowed by its privateKeyUsagePeriod, if present: the key signs
  // only inside it (EN 319 421 §7.6.7). Checked for every token, not only at start-up.
  std::time_t usable_from() const { return usable_from_; }
  std::time_t usable_until() const { return usable_until_; }
  // The last second is excluded: at exactly notAfter OpenSSL's verifiers count it expired.
  bool UsableAt(std::time_t t) const { return t >= usable_from_ && t < usable_until_; }
  // SHA-256 of the certificate DER, hex (the ESSCertIDv2 certHash).
  const std::string& certificate_sha256() const { return cert_sha256_; }
  // PEM of the signer certificate, and of the chain file's certificates, re-encoded from the parsed
  // objects (for the GET endpoints: nothing else that the files held is ever served).
  const std::string& certificate_pem() const { return cert_pem_; }
  const std::string& chain_pem() const { return chain_pem_; }

 private:
  SignerMaterial() = default;

  x509_st* cert_ = nullptr;
  evp_pkey_st* key_ = nullptr;
  stack_st_X509* embedded_chain_ = nullptr;
  const evp_md_st* signer_digest_ = nullptr;
  std::string subject_;
  std::string key_description_;
  std::string key_source_;
  bool key_in_token_ = false;
  std::time_t not_after_ = 0;
  std::time_t not_before_ = 0;
  std::time_t usable_from_ = 0;
  std::time_t usable_until_ = 0;
  std::string cert_sha256_;
  std::string cert_pem_;
  std::string chain_pem_;
};

}  // namespace tsa::crypto
