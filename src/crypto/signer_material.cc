#include "tsa/crypto/signer_material.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/pkcs11_key.h"
#include "tsa/crypto/private_key_file.h"

namespace tsa::crypto {
namespace {

// PEM of certificates re-encoded from the parsed objects: whatever else the file held (a private
// key in a combined key+certificate PEM, comments) is never served.
Result<std::string> CertificatesToPem(const std::vector<X509*>& certs) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  for (X509* c : certs) {
    if (PEM_write_bio_X509(bio.get(), c) != 1)
      return MakeError(ErrorKind::kCrypto, "PEM encoding failed: " + DrainOpensslErrors());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<std::vector<UniquePtr<X509>>> ParseCertificates(const std::string& pem, const std::string& path) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<UniquePtr<X509>> certs;
  while (true) {
    UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (certs.empty()) return MakeError(ErrorKind::kInvalidArgument, "no PEM certificate in " + path);
  return certs;
}

// The privateKeyUsagePeriod extension (RFC 5280 §4.2.1.4, deprecated but honoured by EN 319 421
// §7.6.7): the key may sign only inside it. Either bound may be absent.
void ApplyKeyUsagePeriod(X509* cert, std::time_t* from, std::time_t* until) {
  UniquePtr<PKEY_USAGE_PERIOD> period(
      static_cast<PKEY_USAGE_PERIOD*>(X509_get_ext_d2i(cert, NID_private_key_usage_period, nullptr, nullptr)));
  if (!period) return;
  if (period->notBefore != nullptr) *from = std::max(*from, AsnTimeToTimeT(period->notBefore));
  if (period->notAfter != nullptr) *until = std::min(*until, AsnTimeToTimeT(period->notAfter));
}

bool IsSelfSigned(X509* cert) { return X509_check_issued(cert, cert) == X509_V_OK; }

// Accepts RSA >= 2048 and ECDSA on the NIST curves; refuses what the TS_RESP signer cannot use.
Result<std::string> CheckKeyType(EVP_PKEY* key, const EVP_MD** digest) {
  const int bits = EVP_PKEY_get_bits(key);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (bits < 2048)
        return MakeError(ErrorKind::kInvalidArgument, "RSA key of " + std::to_string(bits) + " bits is too short (minimum 2048)");
      *digest = EVP_sha256();
      return "RSA-" + std::to_string(bits);
    case EVP_PKEY_EC: {
      char curve[64] = {};
      size_t len = 0;
      EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve), &len);
      const std::string name(curve);
      if (name == "prime256v1" || name == "P-256") {
        *digest = EVP_sha256();
        return std::string("EC P-256");
      }
      if (name == "secp384r1" || name == "P-384") {
        *digest = EVP_sha384();
        return std::string("EC P-384");
      }
      if (name == "secp521r1" || name == "P-521") {
        *digest = EVP_sha512();
        return std::string("EC P-521");
      }
      return MakeError(ErrorKind::kInvalidArgument, "EC curve " + name + " is not supported (use P-256, P-384 or P-521)");
    }
    case EVP_PKEY_RSA_PSS:
      return MakeError(
          ErrorKind::kInvalidArgument,
          "RSA-PSS keys are not supported: OpenSSL 3.0's time-stamp signer cannot sign with them (use RSA or ECDSA)");
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return MakeError(
          ErrorKind::kInvalidArgument,
          "Ed25519/Ed448 keys are not supported: OpenSSL 3.0 cannot make EdDSA time-stamp tokens (use RSA or ECDSA)");
    default: return MakeError(ErrorKind::kInvalidArgument, "unsupported signing key type");
  }
}

// RFC 3161 §2.3: exactly one EKU, critical, id-kp-timeStamping only. OpenSSL's timestampsign
// purpose check enforces all three (and keyUsage digitalSignature/nonRepudiation only).
Status RequireTimestampingPurpose(X509* cert, const std::string& path) {
  if (X509_check_purpose(cert, X509_PURPOSE_TIMESTAMP_SIGN, 0) == 1) return Ok();
  return MakeError(ErrorKind::kInvalidArgument, "the certificate " + path +
                                                    " is not a TSA certificate: it needs one critical extendedKeyUsage "
                                                    "extension with timeStamping only (RFC 3161 section 2.3)");
}

std::string CertificateSha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(cert, EVP_sha256(), md, &md_len);
  return Hex(md, md_len);
}

// The chain file: its PEM as served, the intermediates a token embeds (never the root), and, when
// the file holds a root, the TSA certificate must chain to it for time-stamping at `now`.
// Without a root (intermediates only) there is nothing to anchor the check to; the relying
// party's trust store does that job then.
struct EmbeddedChain {
  std::string pem;
  X509Stack intermediates{sk_X509_new_null()};
};

Result<EmbeddedChain> LoadChain(const std::string& path, X509* tsa_cert, std::time_t now) {
  TSA_ASSIGN_OR_RETURN(std::string chain_text, ReadFileText(path, "certificate chain"));
  const SecretText chain_file(std::move(chain_text));
  TSA_ASSIGN_OR_RETURN(auto chain, ParseCertificates(chain_file.text(), path));
  std::vector<X509*> chain_certs;
  chain_certs.reserve(chain.size());
  for (const auto& c : chain) chain_certs.push_back(c.get());
  EmbeddedChain out;
  TSA_ASSIGN_OR_RETURN(out.pem, CertificatesToPem(chain_certs));
  UniquePtr<X509_STORE> store(X509_STORE_new());
  X509Stack untrusted(sk_X509_new_null());
  bool has_root = false;
  for (auto& c : chain) {
    if (IsSelfSigned(c.get())) {
      X509_STORE_add_cert(store.get(), c.get());
      has_root = true;
    } else {
      X509_up_ref(c.get());
      sk_X509_push(untrusted.get(), c.get());
      X509_up_ref(c.get());
      sk_X509_push(out.intermediates.get(), c.get());
    }
  }
  if (!has_root) return out;
  UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), tsa_cert, untrusted.get());
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_TIMESTAMP_SIGN);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), now);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument,
                     "the TSA certificate does not chain to " + path + ": " + X509_verify_cert_error_string(err));
  }
  return out;
}

}  // namespace

SignerFiles SignerFilesInDirectory(const std::string& dir) {
  const std::filesystem::path d(dir);
  SignerFiles files;
  files.key_path = (d / "tsa_key.pem").string();
  files.cert_path = (d / "tsa_cert.pem").string();
  if (std::filesystem::exists(d / "chain.pem")) files.chain_path = (d / "chain.pem").string();
  return files;
}

SignerMaterial::~SignerMaterial() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
  sk_X509_pop_free(embedded_chain_, X509_free);
}

Result<std::shared_ptr<const SignerMaterial>> SignerMaterial::Load(const SignerFiles& files, std::time_t now) {
  ERR_clear_error();
  std::shared_ptr<SignerMaterial> m(new SignerMaterial());  // NOLINT: private constructor of a factory

  TSA_ASSIGN_OR_RETURN(std::string cert_text, ReadFileText(files.cert_path, "TSA certificate"));
  const SecretText cert_file(std::move(cert_text));  // may be a combined key+certificate PEM
  TSA_ASSIGN_OR_RETURN(auto certs, ParseCertificates(cert_file.text(), files.cert_path));
  m->cert_ = certs.front().release();
  TSA_ASSIGN_OR_RETURN(m->cert_pem_, CertificatesToPem({m->cert_}));

  std::string token_uri;
  TSA_ASSIGN_OR_RETURN(
      m->key_,
      LoadPrivateKey(PrivateKeySource{files.key_path, "TSA key", files.allow_readable_key, files.pkcs11_module}, &token_uri));
  m->key_in_token_ = !token_uri.empty();
  m->key_source_ = m->key_in_token_ ? token_uri : files.key_path;

  TSA_ASSIGN_OR_RETURN(m->key_description_, CheckKeyType(m->key_, &m->signer_digest_));

  if (X509_check_private_key(m->cert_, m->key_) != 1) {
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument,
                     "the private key " + m->key_source_ + " does not match the certificate " + files.cert_path);
  }

  TSA_TRY(RequireTimestampingPurpose(m->cert_, files.cert_path));

  m->not_before_ = AsnTimeToTimeT(X509_get0_notBefore(m->cert_));
  m->not_after_ = AsnTimeToTimeT(X509_get0_notAfter(m->cert_));
  if (now < m->not_before_)
    return MakeError(ErrorKind::kInvalidArgument, "the TSA certificate " + files.cert_path + " is not valid yet");
  if (now > m->not_after_)
    return MakeError(ErrorKind::kInvalidArgument, "the TSA certificate " + files.cert_path + " has expired");
  m->usable_from_ = m->not_before_;
  m->usable_until_ = m->not_after_;
  ApplyKeyUsagePeriod(m->cert_, &m->usable_from_, &m->usable_until_);
  if (!m->UsableAt(now)) {
    return MakeError(ErrorKind::kInvalidArgument,
                     "the TSA key is outside the privateKeyUsagePeriod of the certificate " + files.cert_path);
  }

  m->subject_ = NameToString(X509_get_subject_name(m->cert_));
  m->cert_sha256_ = CertificateSha256Hex(m->cert_);
  if (files.chain_path.empty()) {
    m->embedded_chain_ = sk_X509_new_null();
  } else {
    TSA_ASSIGN_OR_RETURN(EmbeddedChain chain, LoadChain(files.chain_path, m->cert_, now));
    m->chain_pem_ = std::move(chain.pem);
    m->embedded_chain_ = chain.intermediates.release();
  }
  return std::shared_ptr<const SignerMaterial>(std::move(m));
}

}  // namespace tsa::crypto
