// Time for tokens: the accuracy the TSA declares, readings of the clock, and the gate that decides
// whether a token may be issued now (RFC 3161 §2.1 items 1-2; EN 319 421 §7.7.1c/§7.7.2).
// Pure: the kernel reading comes from a ClockSource that production and tests provide.
#pragma once

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "tsa/core/decision.h"

namespace tsa::core {

// TSTInfo.accuracy (RFC 3161 §2.4.2); EN 319 422 §5.2.2: always present, 1 s or better.
struct Accuracy {
  int seconds = 1;
  int millis = 0;  // 0..999
  int micros = 0;  // 0..999
  std::int64_t TotalMicros() const { return seconds * 1'000'000LL + millis * 1'000LL + micros; }
  std::string ToString() const;  // "1s", "500ms", "1s 250ms"
};

// Parses "1s", "500ms", "250us", "1.5s"; nullopt when malformed, zero, or over 60 s.
std::optional<Accuracy> ParseAccuracy(const std::string& text);

// Microseconds since the Unix epoch, UTC.
using UnixMicros = std::int64_t;

// The whole seconds of `us`, for the APIs that take a time_t (certificate validity, /health).
inline std::time_t UnixSeconds(UnixMicros us) { return static_cast<std::time_t>(us / 1'000'000); }

struct ClockReading {
  UnixMicros now = 0;              // CLOCK_REALTIME
  bool synchronised = false;       // kernel: not STA_UNSYNC / TIME_ERROR
  std::int64_t max_error_us = -1;  // kernel maxerror (-1 unknown)
  std::string detail;              // for /health and logs ("kernel: unsynchronised")
};

// Reads the clock. Production: CLOCK_REALTIME + adjtimex(2). Tests: a fake.
class ClockSource {
 public:
  virtual ~ClockSource() = default;
  virtual ClockReading Read() = 0;  // thread-safe
};

enum class ClockMode {
  kRequireSync,    // production: issue only while the kernel says the clock is synchronised within the accuracy
  kTrustUnsynced,  // development/containers: the kernel state is reported but not enforced
};

// Decides the genTime of the next token. Not thread-safe: the issuer calls it under its issuance
// lock, together with the serial allocation, so genTime never decreases in serial order.
class ClockGate {
 public:
  ClockGate(ClockMode mode, Accuracy accuracy) : mode_(mode), accuracy_(accuracy) {}

  struct Outcome {
    std::optional<UnixMicros> gen_time;  // set when a token may be issued
    std::optional<Rejection> rejection;  // timeNotAvailable otherwise
  };

  // Refuses (timeNotAvailable) when the mode requires sync and the kernel is unsynchronised or its
  // maximum error is not within the declared accuracy, and always when the clock reads earlier than
  // the last genTime handed out (a backwards step): genTime never goes backwards.
  Outcome Next(const ClockReading& reading);

  // Whether a token could be issued with this reading (for /health), without consuming it.
  std::optional<std::string> Problem(const ClockReading& reading) const;

  ClockMode mode() const { return mode_; }
  const Accuracy& accuracy() const { return accuracy_; }
  UnixMicros last_issued() const { return last_issued_; }
  // Starts the gate above a genTime already issued (the log's last one, at start-up): a restart
  // with a clock behind it refuses until the clock passes it.
  void Seed(UnixMicros last_issued) { last_issued_ = std::max(last_issued_, last_issued); }

 private:
  ClockMode mode_;
  Accuracy accuracy_;
  UnixMicros last_issued_ = 0;
};

}  // namespace tsa::core
