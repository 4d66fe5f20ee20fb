#include "tsa/core/serial.h"

#include <array>

namespace tsa::core {
namespace {
std::array<std::uint8_t, 17> Bytes(const SerialSpace& space, std::uint64_t counter) {
  std::array<std::uint8_t, 17> b{};
  b[0] = static_cast<std::uint8_t>(space.instance >> 8);
  b[1] = static_cast<std::uint8_t>(space.instance);
  for (int i = 0; i < 7; ++i) b[2 + i] = static_cast<std::uint8_t>(space.epoch_us >> (8 * (6 - i)));
  for (int i = 0; i < 8; ++i) b[9 + i] = static_cast<std::uint8_t>(counter >> (8 * (7 - i)));
  return b;
}
}  // namespace

std::vector<std::uint8_t> EncodeSerial(const SerialSpace& space, std::uint64_t counter) {
  const auto b = Bytes(space, counter);
  std::size_t first = 0;
  while (first + 1 < b.size() && b[first] == 0) ++first;
  return {b.begin() + static_cast<long>(first), b.end()};
}

std::string SerialHex(const SerialSpace& space, std::uint64_t counter) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto b = EncodeSerial(space, counter);
  std::string out = b.front() >= 0x80 ? "00" : "";  // DER INTEGER content octets of a positive value
  for (auto byte : b) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

std::optional<std::string> CanonicalSerialHex(std::string_view hex) {
  std::string digits;
  for (char c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    digits.push_back(c);
  }
  const auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) return std::nullopt;  // zero is never a serial
  // Prefixes built by concatenation (GCC 12 -O3 warns falsely on string::insert at position 0).
  std::string out = (digits.size() - first) % 2 ? std::string("0") : std::string();
  out += std::string_view(digits).substr(first);
  if (out[0] >= '8') out = "00" + out;
  return out;
}

}  // namespace tsa::core
