// Bytes from OpenSSL's CSPRNG (RAND_bytes), for secrets and salts (API keys, argon2 salts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::crypto {

// kCrypto error when the generator cannot be seeded (never a weaker fallback for secrets).
Result<std::vector<std::uint8_t>> RandomBytes(std::size_t count);

}  // namespace tsa::crypto
