// A minimal DER writer for the few structures tsad encodes itself (rejections), so that they do
// not depend on OpenSSL's TS_STATUS_INFO, which has no public setters in 3.0.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tsa/core/decision.h"

namespace tsa::core {

using Bytes = std::vector<std::uint8_t>;

// tag || length || content, with the minimal (DER) length form.
Bytes DerTlv(std::uint8_t tag, const Bytes& content);

// DER TimeStampResp for a rejection (RFC 3161 §2.4.2):
//   SEQUENCE { PKIStatusInfo SEQUENCE { status INTEGER 2, statusString SEQUENCE OF UTF8String,
//                                       failInfo BIT STRING (exactly one bit) } }
// The failInfo BIT STRING drops trailing zero bits as DER requires (badAlg = 03 02 07 80).
Bytes EncodeRejection(const Rejection& rejection);

}  // namespace tsa::core
