#include "tsa/core/der.h"

namespace tsa::core {

namespace {
void AppendHeader(Bytes& out, std::uint8_t tag, std::size_t len) {
  out.push_back(tag);
  if (len < 0x80) {
    out.push_back(static_cast<std::uint8_t>(len));
    return;
  }
  int octets = 0;
  for (std::size_t l = len; l != 0; l >>= 8) ++octets;
  out.push_back(static_cast<std::uint8_t>(0x80 | octets));
  for (int i = octets - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>((len >> (8 * i)) & 0xff));
}
}  // namespace

void AppendDerTlv(Bytes& out, std::uint8_t tag, std::span<const std::uint8_t> content) {
  out.reserve(out.size() + content.size() + 6);
  AppendHeader(out, tag, content.size());
  out.insert(out.end(), content.begin(), content.end());
}

Bytes DerTlv(std::uint8_t tag, const Bytes& content) {
  Bytes out;
  AppendDerTlv(out, tag, content);
  return out;
}

Bytes DerTlvOf(std::uint8_t tag, std::initializer_list<std::span<const std::uint8_t>> parts) {
  std::size_t len = 0;
  for (const auto& p : parts) len += p.size();
  Bytes out;
  out.reserve(len + 6);
  AppendHeader(out, tag, len);
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes DerUnsignedInteger(std::span<const std::uint8_t> magnitude) {
  while (!magnitude.empty() && magnitude.front() == 0) magnitude = magnitude.subspan(1);
  Bytes content;
  if (magnitude.empty() || (magnitude.front() & 0x80) != 0) content.push_back(0);
  content.insert(content.end(), magnitude.begin(), magnitude.end());
  return DerTlv(0x02, content);
}

Bytes EncodeRejection(const Rejection& rejection) {
  constexpr std::uint8_t kInteger = 0x02, kBitString = 0x03, kUtf8String = 0x0c, kSequence = 0x30;
  const auto bit = static_cast<std::size_t>(rejection.fail_info);
  // Named-bit BIT STRING: octets up to the one holding the set bit; unused bits after it.
  Bytes bits(bit / 8 + 2, 0);
  bits[0] = static_cast<std::uint8_t>(7 - bit % 8);
  bits[bit / 8 + 1] = static_cast<std::uint8_t>(0x80U >> (bit % 8));

  Bytes status_info = DerTlv(kInteger, {2});  // rejection(2)
  if (!rejection.status_string.empty()) {
    const Bytes text(rejection.status_string.begin(), rejection.status_string.end());
    const Bytes free_text = DerTlv(kSequence, DerTlv(kUtf8String, text));
    status_info.insert(status_info.end(), free_text.begin(), free_text.end());
  }
  const Bytes fail_info = DerTlv(kBitString, bits);
  status_info.insert(status_info.end(), fail_info.begin(), fail_info.end());
  return DerTlv(kSequence, DerTlv(kSequence, status_info));
}

}  // namespace tsa::core
