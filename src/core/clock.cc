#include "tsa/core/clock.h"

#include <cmath>
#include <cstdlib>

namespace tsa::core {

std::string Accuracy::ToString() const {
  // Appends piece by piece: `const char* + std::string` temporaries trip GCC 12's -Wrestrict
  // false positive in release builds.
  std::string out;
  const auto part = [&out](int value, const char* unit) {
    if (value == 0) return;
    if (!out.empty()) out.push_back(' ');
    out.append(std::to_string(value)).append(unit);
  };
  part(seconds, "s");
  part(millis, "ms");
  part(micros, "us");
  return out.empty() ? "0s" : out;
}

std::optional<Accuracy> ParseAccuracy(const std::string& text) {
  std::size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = text.substr(pos);
  double micros = 0;
  if (unit == "s" || unit.empty()) {
    micros = value * 1e6;
  } else if (unit == "ms") {
    micros = value * 1e3;
  } else if (unit == "us") {
    micros = value;
  } else {
    return std::nullopt;
  }
  const auto total = static_cast<std::int64_t>(std::llround(micros));
  if (total <= 0 || total > 60'000'000) return std::nullopt;
  Accuracy a;
  a.seconds = static_cast<int>(total / 1'000'000);
  a.millis = static_cast<int>((total / 1'000) % 1'000);
  a.micros = static_cast<int>(total % 1'000);
  return a;
}

std::optional<std::string> ClockGate::Problem(const ClockReading& reading) const {
  if (mode_ == ClockMode::kRequireSync) {
    if (!reading.synchronised) return "clock not synchronised (" + reading.detail + ")";
    // EN 319 421 §7.7.1: synchronised within the declared accuracy.
    if (reading.max_error_us < 0 || reading.max_error_us >= accuracy_.TotalMicros()) {
      return "clock error bound " + std::to_string(reading.max_error_us) + "us exceeds the declared accuracy " +
             accuracy_.ToString();
    }
  }
  if (reading.now < last_issued_) return "clock is behind the last issued genTime (stepped backwards)";
  return std::nullopt;
}

ClockGate::Outcome ClockGate::Next(const ClockReading& reading) {
  if (auto problem = Problem(reading)) {
    return {std::nullopt, Reject(FailInfo::kTimeNotAvailable, "Time is not available.")};
  }
  last_issued_ = reading.now;
  return {reading.now, std::nullopt};
}

}  // namespace tsa::core
