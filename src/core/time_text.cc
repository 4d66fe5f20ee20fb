#include "tsa/core/time_text.h"

#include <cstdio>
#include <ctime>

namespace tsa::core {

std::string FormatTimeUs(std::int64_t us) {
  std::int64_t secs = us / 1'000'000;
  std::int64_t frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    secs -= 1;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char f[8];
    std::snprintf(f, sizeof(f), "%06lld", static_cast<long long>(frac));
    std::string fs = f;
    while (!fs.empty() && fs.back() == '0') fs.pop_back();
    out += "." + fs;
  }
  return out + "Z";
}

}  // namespace tsa::core
