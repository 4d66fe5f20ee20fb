#include "tsa/service/system_clock.h"

#include <sys/timex.h>
#include <time.h>

#include <string>

namespace tsa::service {

core::ClockReading SystemClockSource::Read() {
  core::ClockReading r;
  struct timex tx {};
  tx.modes = 0;  // read only
  const int state = adjtimex(&tx);
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  r.now = static_cast<core::UnixMicros>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1'000;
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

}  // namespace tsa::service
