// Byte helpers shared by the tools: hex parsing and whole-file reads/writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::core {

// "0a1B..." -> bytes; nullopt on odd length or a non-hex character. Spaces and colons are skipped.
std::optional<std::vector<std::uint8_t>> ParseHex(std::string_view hex);
std::string ToHex(const std::vector<std::uint8_t>& bytes);

// RFC 4648 §4 with padding; whitespace is skipped. kInvalidArgument on anything else.
// (The encoder is core::Base64 in response_info.h.)
Result<std::vector<std::uint8_t>> Base64Decode(const std::string& text);

Result<std::vector<std::uint8_t>> ReadFileBytes(const std::string& path);
Result<std::string> ReadFileText(const std::string& path);
Status WriteFileBytes(const std::string& path, const std::vector<std::uint8_t>& data);

}  // namespace tsa::core
