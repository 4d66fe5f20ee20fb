// What this binary is: the release version (CMake project VERSION) and the git commit it was built
// from (git describe at configure time, "unknown" outside a checkout). Shown by every binary's
// --version, tsad's startup log line and /health, so that an operator can tell exactly which build
// issued a token. Defined in a file cmake/BuildVersion.cmake generates.
#pragma once

#include <string>
#include <string_view>

namespace tsa::core {

std::string_view BuildVersion();  // "0.1.0"
std::string_view BuildCommit();   // "v0.1.0-3-g0123456789ab", "0123456789ab-dirty" or "unknown"

// "<program> 0.1.0 (git 0123456789ab)": the one --version line of tsad and of every tool.
inline std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + std::string(BuildVersion()) + " (git " + std::string(BuildCommit()) + ")";
}

}  // namespace tsa::core
