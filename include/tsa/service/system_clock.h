// The production clock: CLOCK_REALTIME, with the kernel's synchronisation state and maximum error
// from adjtimex(2) (what NTP/chrony/PTP daemons discipline).
#pragma once

#include "tsa/core/clock.h"

namespace tsa::service {

class SystemClockSource final : public core::ClockSource {
 public:
  core::ClockReading Read() override;
};

}  // namespace tsa::service
