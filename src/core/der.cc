#include "tsa/core/der.h"

namespace tsa::core {

Bytes DerTlv(std::uint8_t tag, const Bytes& content) {
  Bytes out;
  out.push_back(tag);
  const std::size_t len = content.size();
  if (len < 0x80) {
    out.push_back(static_cast<std::uint8_t>(len));
  } else {
    Bytes len_bytes;
    for (std::size_t l = len; l != 0; l >>= 8) len_bytes.insert(len_bytes.begin(), static_cast<std::uint8_t>(l & 0xff));
    out.push_back(static_cast<std::uint8_t>(0x80 | len_bytes.size()));
    out.insert(out.end(), len_bytes.begin(), len_bytes.end());
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes EncodeRejection(const Rejection& rejection) {
  constexpr std::uint8_t kInteger = 0x02, kBitString = 0x03, kUtf8String = 0x0c, kSequence = 0x30;
  const int bit = static_cast<int>(rejection.fail_info);
  // Named-bit BIT STRING: octets up to the one holding the set bit; unused bits after it.
  Bytes bits(static_cast<std::size_t>(bit / 8 + 2), 0);
  bits[0] = static_cast<std::uint8_t>(7 - bit % 8);
  bits[static_cast<std::size_t>(bit / 8 + 1)] = static_cast<std::uint8_t>(0x80 >> (bit % 8));

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
