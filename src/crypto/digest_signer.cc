#include "tsa/crypto/digest_signer.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tsa/crypto/ossl_util.h"

namespace tsa::crypto {

Result<std::unique_ptr<DigestSigner>> DigestSigner::Create(EVP_PKEY* key, const EVP_MD* md) {
  std::unique_ptr<DigestSigner> signer(new DigestSigner(key, md));  // NOLINT: private constructor of a factory
  TSA_ASSIGN_OR_RETURN(auto ctx, signer->NewContext());
  signer->pool_.push_back(std::move(ctx));
  return signer;
}

Result<UniquePtr<EVP_PKEY_CTX>> DigestSigner::NewContext() const {
  ERR_clear_error();
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(key_, nullptr));
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) <= 0)
    return MakeError(ErrorKind::kCrypto, "EVP_PKEY_sign_init: " + DrainOpensslErrors());
  if (EVP_PKEY_get_base_id(key_) == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) <= 0) {
    return MakeError(ErrorKind::kCrypto, "RSA PKCS #1 v1.5 padding: " + DrainOpensslErrors());
  }
  if (EVP_PKEY_CTX_set_signature_md(ctx.get(), md_) <= 0) {
    return MakeError(ErrorKind::kCrypto, "signature digest: " + DrainOpensslErrors());
  }
  return ctx;
}

Result<std::vector<std::uint8_t>> DigestSigner::Sign(std::span<const std::uint8_t> digest) {
  UniquePtr<EVP_PKEY_CTX> ctx;
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      ctx = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!ctx) {
    TSA_ASSIGN_OR_RETURN(ctx, NewContext());
  }
  ERR_clear_error();
  std::size_t len = 0;
  std::vector<std::uint8_t> sig;
  bool ok = EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) > 0;
  if (ok) {
    sig.resize(len);
    ok = EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) > 0;
    sig.resize(len);
  }
  // A context whose operation failed (an HSM that went away) is dropped, not pooled again.
  if (!ok) return MakeError(ErrorKind::kCrypto, "signing failed: " + DrainOpensslErrors());
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(std::move(ctx));
  return sig;
}

bool VerifySignature(X509* cert, const EVP_MD* md, std::span<const std::uint8_t> data, std::span<const std::uint8_t> signature) {
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  const bool ok = pub != nullptr && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pub) > 0 &&
                  EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data.data(), data.size()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace tsa::crypto
