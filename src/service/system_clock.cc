#include "tsa/service/system_clock.h"

#include <sys/timex.h>
#include <time.h>

#include <string>

namespace tsa::service {

namespace {

core::ClockReading KernelState() {
  core::ClockReading r;
  struct timex tx {};
  tx.modes = 0;  // read only
  const int state = adjtimex(&tx);
  if (state == -1) {
    r.synchronised = false;
    r.detail = "adjtimex failed";
    return r;
  }
  // TIME_ERROR is returned while STA_UNSYNC is set (no time daemon disciplines the clock).
  r.synchronised = state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
  r.max_error_us = tx.maxerror;  // microseconds
  r.detail = r.synchronised ? "kernel: synchronised, maxerror " + std::to_string(tx.maxerror) + "us"
                            : "kernel: unsynchronised (no NTP/PTP daemon disciplines the clock)";
  return r;
}

}  // namespace

core::ClockReading SystemClockSource::Read() {
  core::ClockReading r;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (state_read_ == std::chrono::steady_clock::time_point{} || now - state_read_ >= kStateMaxAge) {
      state_ = KernelState();
      state_read_ = now;
    }
    r = state_;
  }
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  r.now = static_cast<core::UnixMicros>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1'000;
  return r;
}

}  // namespace tsa::service
