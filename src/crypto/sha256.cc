#include "tsa/crypto/sha256.h"

#include <openssl/sha.h>

namespace tsa::crypto {

Sha256Digest Sha256(std::initializer_list<std::span<const std::uint8_t>> parts) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  for (const auto& p : parts) SHA256_Update(&ctx, p.data(), p.size());
  Sha256Digest out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

}  // namespace tsa::crypto
