// The lock-free histogram behind tsad's duration histograms, and the policy index the token
// counters are resolved by.
#include "tsa/service/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tsa::service {
namespace {

TEST(AtomicHistogram, BucketsAreCumulativeAndInclusiveOfTheirBound) {
  AtomicHistogram h({1, 2, 4}, 1);
  for (double v : {0.0, 1.0, 2.0, 2.0, 3.0, 9.0}) h.Observe(v);  // unit 1: whole units
  const auto s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 4, 5, 6}));  // le=1, le=2, le=4, +Inf
  EXPECT_EQ(s.count, 6u);
}

TEST(AtomicHistogram, SumInUnits) {
  AtomicHistogram h({0.001, 0.01}, 1e-9);
  h.ObserveUnits(500'000);     // 0.5 ms
  h.ObserveUnits(5'000'000);   // 5 ms
  h.ObserveUnits(50'000'000);  // 50 ms
  const auto s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_NEAR(s.sum, 0.0555, 1e-12);
}

TEST(AtomicHistogram, ConcurrentObservationsAreAllCounted) {
  AtomicHistogram h({10, 100}, 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.ObserveUnits(static_cast<std::uint64_t>(i % 200));
    });
  }
  for (auto& t : threads) t.join();
  const auto s = h.Read();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative.back(), 40000u);
}

TEST(PolicyIndex, DefaultThenAcceptedThenUnknown) {
  core::IssuancePolicy p;
  p.default_policy = "1.2.3";
  p.accepted_policies = {"1.2.4", "1.2.5"};
  EXPECT_EQ(PolicyIndex(p, "1.2.3"), 0);
  EXPECT_EQ(PolicyIndex(p, "1.2.5"), 2);
  EXPECT_EQ(PolicyIndex(p, "9.9"), -1);
}

}  // namespace
}  // namespace tsa::service
