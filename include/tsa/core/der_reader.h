// Reads DER TLVs (X.690 §8.1, definite lengths only) from a buffer that tsad encoded or
// re-encoded itself. Not a validating parser of untrusted input: clients' requests are decoded
// by OpenSSL (crypto/request_codec) and re-encoded before anything reads them here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace tsa::core {

struct DerElement {
  std::uint8_t tag = 0;
  std::span<const std::uint8_t> content;  // the value octets
  std::span<const std::uint8_t> whole;    // tag, length and value: the element as encoded
};

// Reads the element at the front of `in` and advances `in` past it. nullopt (and `in` unchanged)
// on a truncated element, a multi-byte tag, an indefinite length or a length over 4 octets.
std::optional<DerElement> ReadDer(std::span<const std::uint8_t>& in);

// Like ReadDer, but only if the next element has `tag`; otherwise nullopt and `in` unchanged.
std::optional<DerElement> ReadDerIf(std::span<const std::uint8_t>& in, std::uint8_t tag);

}  // namespace tsa::core
