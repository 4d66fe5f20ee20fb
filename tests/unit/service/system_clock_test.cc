// Tests for src/service/system_clock.cc: the time is read on every call; the kernel's
// synchronisation state (adjtimex) is reread at most every SystemClockSource::kStateMaxAge.
#include "tsa/service/system_clock.h"

#include <gtest/gtest.h>
#include <sys/timex.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace tsa::service {
namespace {

TEST(SystemClockSourceTest, ReadsTheRealTimeOnEveryCall) {
  SystemClockSource clock;
  const core::ClockReading first = clock.Read();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const core::ClockReading second = clock.Read();
  // Within the state's lifetime the time still moves (read per call, not cached with the state).
  EXPECT_GE(second.now - first.now, 1000);
  EXPECT_LT(second.now - first.now, 10'000'000);
  const auto wall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
  EXPECT_LT(std::abs(wall.count() - second.now), 1'000'000);
}

TEST(SystemClockSourceTest, ReportsTheKernelsSynchronisationState) {
  struct timex tx {};
  const int state = adjtimex(&tx);
  ASSERT_NE(state, -1);
  const bool kernel_synchronised = state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
  SystemClockSource clock;
  const core::ClockReading reading = clock.Read();
  EXPECT_EQ(reading.synchronised, kernel_synchronised);
  EXPECT_FALSE(reading.detail.empty());
  if (kernel_synchronised) {
    EXPECT_GE(reading.max_error_us, 0);
  }
  // A second read within kStateMaxAge gives the same state.
  const core::ClockReading again = clock.Read();
  EXPECT_EQ(again.synchronised, reading.synchronised);
  EXPECT_EQ(again.detail, reading.detail);
}

}  // namespace
}  // namespace tsa::service
