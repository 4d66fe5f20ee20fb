#include "tsa/core/der_reader.h"

namespace tsa::core {

std::optional<DerElement> ReadDer(std::span<const std::uint8_t>& in) {
  if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) return std::nullopt;
  std::size_t header = 2;
  std::size_t length = in[1];
  if (length & 0x80) {
    const std::size_t octets = length & 0x7f;
    if (octets == 0 || octets > 4 || in.size() < 2 + octets) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < octets; ++i) length = (length << 8) | in[2 + i];
    header += octets;
  }
  if (in.size() - header < length) return std::nullopt;
  DerElement e{in[0], in.subspan(header, length), in.first(header + length)};
  in = in.subspan(header + length);
  return e;
}

std::optional<DerElement> ReadDerIf(std::span<const std::uint8_t>& in, std::uint8_t tag) {
  if (in.empty() || in[0] != tag) return std::nullopt;
  return ReadDer(in);
}

}  // namespace tsa::core
