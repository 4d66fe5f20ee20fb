// The Ed25519 key that signs the log's C2SP checkpoints (c2sp.org/signed-note, algorithm 0x01).
// Kept apart from the TSA signing key: a checkpoint signature is not a time-stamp, and the
// checkpoint key is what a verifier pins through the verifier key string (AUDIT_CHAIN.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

class Ed25519Key {
 public:
  // Reads a PKCS#8 PEM private key; refuses any other key type.
  static Result<Ed25519Key> LoadPem(const std::string& path);
  static Result<Ed25519Key> FromPem(const std::string& pem);
  // The raw 32-byte private key (RFC 8032 seed), e.g. from a Go note.NewSigner key string.
  static Result<Ed25519Key> FromSeed(const std::vector<std::uint8_t>& seed);
  // A new random key.
  static Result<Ed25519Key> Generate();

  Result<std::string> PrivatePem() const;
  // The raw 32-byte public key (RFC 8032 §5.1.5).
  const std::vector<std::uint8_t>& public_key() const { return public_key_; }
  // PureEd25519 signature (64 bytes) over `message`.
  Result<std::vector<std::uint8_t>> Sign(const std::string& message) const;

 private:
  static Result<Ed25519Key> Wrap(UniquePtr<EVP_PKEY> pkey);
  std::shared_ptr<EVP_PKEY> pkey_;
  std::vector<std::uint8_t> public_key_;
};

// Verifies a PureEd25519 signature with a raw 32-byte public key.
bool VerifyEd25519(const std::vector<std::uint8_t>& public_key, const std::string& message,
                   const std::vector<std::uint8_t>& signature);

}  // namespace tsa::crypto
