// SHA-256 over one or more byte ranges, without an EVP context (the Merkle tree's hot path).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

namespace tsa::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

// SHA-256 of the concatenation of `parts`.
Sha256Digest Sha256(std::initializer_list<std::span<const std::uint8_t>> parts);

}  // namespace tsa::crypto
