// Reads a DER TimeStampResp or a bare TimeStampToken into core::ResponseInfo.
#pragma once

#include <cstdint>
#include <span>

#include "tsa/core/response_info.h"
#include "tsa/core/result.h"

namespace tsa::crypto {

// Accepts a TimeStampResp, or a bare TimeStampToken (ContentInfo), which is reported as granted.
// Fails (kInvalidArgument) on anything else, including trailing bytes. Thread-safe.
Result<core::ResponseInfo> DescribeResponse(std::span<const std::uint8_t> der);

}  // namespace tsa::crypto
