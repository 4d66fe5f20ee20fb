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
  const auto b = Bytes(space, counter);
  std::string out;
  out.reserve(34);
  for (auto byte : b) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

}  // namespace tsa::core
