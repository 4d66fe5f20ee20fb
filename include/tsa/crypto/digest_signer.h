// Signs a precomputed digest with the TSA key: the one private-key operation of a token, as
// PKCS #1 v1.5 (RSA, with the DigestInfo of RFC 8017 §9.2) or ECDSA (an Ecdsa-Sig-Value, RFC 5480
// §2.2). Keeps a pool of EVP_PKEY_CTX already initialised for signing, one per concurrent
// caller, so nothing is looked up or allocated per token but the signature. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

class DigestSigner {
 public:
  // `key` must outlive the signer (SignerMaterial owns it). `md` names the digest that was
  // computed: RSA puts its OID into the DigestInfo; ECDSA checks its length.
  static Result<std::unique_ptr<DigestSigner>> Create(EVP_PKEY* key, const EVP_MD* md);

  Result<std::vector<std::uint8_t>> Sign(std::span<const std::uint8_t> digest);

 private:
  DigestSigner(EVP_PKEY* key, const EVP_MD* md) : key_(key), md_(md) {}
  Result<UniquePtr<EVP_PKEY_CTX>> NewContext() const;

  EVP_PKEY* key_;
  const EVP_MD* md_;
  std::mutex pool_mutex_;
  std::vector<UniquePtr<EVP_PKEY_CTX>> pool_;  // guarded by pool_mutex_
};

// Checks `signature` over `data` with the certificate's public key (the start-up self-test of
// the direct encoder, and tests).
bool VerifySignature(X509* cert, const EVP_MD* md, std::span<const std::uint8_t> data, std::span<const std::uint8_t> signature);

}  // namespace tsa::crypto
