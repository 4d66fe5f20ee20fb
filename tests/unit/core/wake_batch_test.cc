// Tests for src/core/wake_batch.cc: wake-ups deferred inside a batch run once per key, in order,
// when the outermost scope ends; outside a batch nothing is deferred.
#include "tsa/core/wake_batch.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

namespace tsa::core {
namespace {

TEST(WakeBatchTest, OutsideABatchNothingIsDeferred) {
  bool ran = false;
  EXPECT_FALSE(WakeBatch::Defer(this, [&] { ran = true; }));
  EXPECT_FALSE(ran);  // the caller wakes the receiver itself
}

TEST(WakeBatchTest, EachKeyIsWokenOnceInTheOrderFirstDeferred) {
  int a = 1, b = 2;
  std::string woken;
  {
    WakeBatch batch;
    EXPECT_TRUE(WakeBatch::Defer(&a, [&] { woken += "a"; }));
    EXPECT_TRUE(WakeBatch::Defer(&b, [&] { woken += "b"; }));
    EXPECT_TRUE(WakeBatch::Defer(&a, [&] { woken += "A"; }));  // already deferred for &a
    EXPECT_EQ(woken, "");
  }
  EXPECT_EQ(woken, "ab");
}

TEST(WakeBatchTest, ANestedBatchDefersToTheOutermost) {
  int key = 0;
  int wakes = 0;
  {
    WakeBatch outer;
    {
      WakeBatch inner;
      EXPECT_TRUE(WakeBatch::Defer(&key, [&] { ++wakes; }));
    }
    EXPECT_EQ(wakes, 0);
  }
  EXPECT_EQ(wakes, 1);
}

TEST(WakeBatchTest, AThrowingWakeDoesNotStopTheOthers) {
  int a = 0, b = 0;
  bool second = false;
  {
    WakeBatch batch;
    WakeBatch::Defer(&a, [] { throw std::runtime_error("post failed"); });
    WakeBatch::Defer(&b, [&] { second = true; });
  }
  EXPECT_TRUE(second);
}

TEST(WakeBatchTest, ABatchBelongsToItsThread) {
  int key = 0;
  WakeBatch batch;
  bool deferred_elsewhere = true;
  std::thread other([&] { deferred_elsewhere = WakeBatch::Defer(&key, [] {}); });
  other.join();
  EXPECT_FALSE(deferred_elsewhere);
}

TEST(WakeBatchTest, AWakeThatDefersAgainRunsAtOnce) {
  int a = 0, b = 0;
  bool inner_deferred = true;
  {
    WakeBatch batch;
    WakeBatch::Defer(&a, [&] { inner_deferred = WakeBatch::Defer(&b, [] {}); });
  }
  EXPECT_FALSE(inner_deferred);  // the batch is closed while its wake-ups run
}

}  // namespace
}  // namespace tsa::core
