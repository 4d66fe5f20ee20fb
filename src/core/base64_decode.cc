#include <cctype>

#include "tsa/core/bytes.h"

namespace tsa::core {

Result<std::vector<std::uint8_t>> Base64Decode(const std::string& text) {
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t symbols = 0, padding = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) continue;
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      padding += 1;
      symbols += 1;
      continue;
    } else {
      return MakeError(ErrorKind::kInvalidArgument, "not base64: unexpected character");
    }
    if (padding > 0) return MakeError(ErrorKind::kInvalidArgument, "not base64: data after padding");
    symbols += 1;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (symbols % 4 != 0 || padding > 2 || acc != 0)
    return MakeError(ErrorKind::kInvalidArgument, "not base64: bad length or padding");
  return out;
}

}  // namespace tsa::core
