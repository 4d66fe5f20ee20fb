#include "tsa/core/decision.h"

#include <array>
#include <utility>

namespace tsa::core {
namespace {
constexpr std::array<std::pair<FailInfo, const char*>, 8> kNames = {{
    {FailInfo::kBadAlg, "badAlg"},
    {FailInfo::kBadRequest, "badRequest"},
    {FailInfo::kBadDataFormat, "badDataFormat"},
    {FailInfo::kTimeNotAvailable, "timeNotAvailable"},
    {FailInfo::kUnacceptedPolicy, "unacceptedPolicy"},
    {FailInfo::kUnacceptedExtension, "unacceptedExtension"},
    {FailInfo::kAddInfoNotAvailable, "addInfoNotAvailable"},
    {FailInfo::kSystemFailure, "systemFailure"},
}};
}  // namespace

const char* FailInfoName(FailInfo info) {
  for (const auto& [value, name] : kNames) {
    if (value == info) return name;
  }
  return "unknown";
}

std::optional<FailInfo> FailInfoFromName(const std::string& name) {
  for (const auto& [value, n] : kNames) {
    if (name == n) return value;
  }
  return std::nullopt;
}

Rejection Reject(FailInfo info, std::string status_string) { return Rejection{info, std::move(status_string)}; }

}  // namespace tsa::core
