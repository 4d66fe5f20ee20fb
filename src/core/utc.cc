#include "tsa/core/utc.h"

#include <cstdio>
#include <ctime>

namespace tsa::core {
namespace {

std::string TwoDigits(int v) { return {static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)}; }

std::string TrimmedFraction(int micros, int digits) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%06d", micros);
  std::string f(buf, static_cast<std::size_t>(digits));
  while (!f.empty() && f.back() == '0') f.pop_back();
  return f.empty() ? f : "." + f;
}

}  // namespace

UtcFields SplitUtc(std::int64_t unix_micros) {
  std::int64_t secs = unix_micros / 1'000'000;
  std::int64_t frac = unix_micros % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return UtcFields{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(frac)};
}

std::string FormatRfc3339(std::int64_t unix_micros, Fraction fraction) {
  const UtcFields u = SplitUtc(unix_micros);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", u.year, u.month, u.day, u.hour, u.minute, u.second);
  std::string out = buf;
  if (fraction == Fraction::kMillis) {
    std::snprintf(buf, sizeof(buf), ".%03d", u.micros / 1000);
    out += buf;
  } else if (fraction == Fraction::kTrimmed) {
    out += TrimmedFraction(u.micros, 6);
  }
  return out + "Z";
}

std::string GeneralizedTimeDigits(std::int64_t unix_micros, int digits) {
  const UtcFields u = SplitUtc(unix_micros);
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d", u.year, u.month, u.day, u.hour, u.minute, u.second);
  return buf + TrimmedFraction(u.micros, digits < 0 ? 0 : (digits > 6 ? 6 : digits)) + "Z";
}

std::string UtcTimeDigits(std::int64_t unix_micros) {
  const UtcFields u = SplitUtc(unix_micros);
  return TwoDigits(u.year % 100) + TwoDigits(u.month) + TwoDigits(u.day) + TwoDigits(u.hour) + TwoDigits(u.minute) +
         TwoDigits(u.second) + "Z";
}

}  // namespace tsa::core
