// The one place that turns Unix time into UTC calendar fields and text: RFC 3339 for JSON and
// logs, and the digits of an ASN.1 GeneralizedTime / UTCTime for the tokens tsad encodes itself.
#pragma once

#include <cstdint>
#include <string>

namespace tsa::core {

struct UtcFields {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int micros = 0;  // 0..999999
};

// Floors towards the past for negative times (the fraction is always 0..999999).
UtcFields SplitUtc(std::int64_t unix_micros);

enum class Fraction {
  kNone,     // "2026-11-30T04:10:00Z"
  kMillis,   // "2026-11-30T04:10:00.120Z" (always three digits)
  kTrimmed,  // "2026-11-30T04:10:00.12Z" (up to six digits, trailing zeros dropped, none if zero)
};
std::string FormatRfc3339(std::int64_t unix_micros, Fraction fraction);
// The form of reports and proof bundles: "2026-11-25T09:31:26.123456Z" (kTrimmed).
inline std::string FormatTimeUs(std::int64_t unix_micros) { return FormatRfc3339(unix_micros, Fraction::kTrimmed); }

// "YYYYMMDDhhmmss[.f...]Z" with at most `digits` (0..6) fraction digits, truncated, trailing
// zeros dropped and no '.' for a zero fraction: DER GeneralizedTime (X.690 §11.7) as RFC 3161
// §2.4.2 wants genTime, and as OpenSSL's TS_RESP_set_genTime_with_precision writes it.
std::string GeneralizedTimeDigits(std::int64_t unix_micros, int digits);

// "YYMMDDhhmmssZ" (UTCTime, years 1950..2049 only; RFC 5652 §11.3 uses GeneralizedTime outside).
std::string UtcTimeDigits(std::int64_t unix_micros);

}  // namespace tsa::core
