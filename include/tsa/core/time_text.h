// Times as text, for reports and JSON views.
#pragma once

#include <cstdint>
#include <string>

namespace tsa::core {

// "2026-11-25T09:31:26.123456Z" (fraction trimmed of trailing zeros, omitted when zero).
std::string FormatTimeUs(std::int64_t us);

}  // namespace tsa::core
