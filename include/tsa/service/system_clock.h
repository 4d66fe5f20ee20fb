// The production clock: CLOCK_REALTIME, with the kernel's synchronisation state and maximum error
// from adjtimex(2) (what NTP/chrony/PTP daemons discipline).
#pragma once

#include <chrono>
#include <mutex>

#include "tsa/core/clock.h"

namespace tsa::service {

class SystemClockSource final : public core::ClockSource {
 public:
  // How old the kernel's state may be. The kernel itself advances maxerror and the
  // synchronisation state once a second (kernel/time/ntp.c, second_overflow).
  static constexpr std::chrono::milliseconds kStateMaxAge{100};

  core::ClockReading Read() override;

 private:
  // The time is read on every call (vDSO, no system call). adjtimex(2) is a system call that
  // takes a kernel spinlock and feeds the entropy pool: once per token, it was a measurable part
  // of the time the issuer holds its lock (genTime and serial are taken under it), and the
  // I/O threads slept on that lock (docs/performance.md).
  std::mutex mutex_;
  std::chrono::steady_clock::time_point state_read_{};  // guarded by mutex_
  core::ClockReading state_;                            // guarded by mutex_ (all but `now`)
};

}  // namespace tsa::service
