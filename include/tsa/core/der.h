// A minimal DER writer for the few structures tsad encodes itself (rejections), so that they do
// not depend on OpenSSL's TS_STATUS_INFO, which has no public setters in 3.0.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "tsa/core/decision.h"

namespace tsa::core {

using Bytes = std::vector<std::uint8_t>;

// tag || length || content, with the minimal (DER) length form.
Bytes DerTlv(std::uint8_t tag, const Bytes& content);
void AppendDerTlv(Bytes& out, std::uint8_t tag, std::span<const std::uint8_t> content);
// The same around the concatenation of already encoded elements (a SEQUENCE or SET body).
Bytes DerTlvOf(std::uint8_t tag, std::initializer_list<std::span<const std::uint8_t>> parts);

// INTEGER (X.690 §8.3) of a non-negative value given as its big-endian magnitude: leading zero
// octets dropped, one 0x00 added when the high bit is set, "02 01 00" for zero.
Bytes DerUnsignedInteger(std::span<const std::uint8_t> magnitude);

// DER TimeStampResp for a rejection (RFC 3161 §2.4.2):
//   SEQUENCE { PKIStatusInfo SEQUENCE { status INTEGER 2, statusString SEQUENCE OF UTF8String,
//                                       failInfo BIT STRING (exactly one bit) } }
// The failInfo BIT STRING drops trailing zero bits as DER requires (badAlg = 03 02 07 80).
Bytes EncodeRejection(const Rejection& rejection);

}  // namespace tsa::core
