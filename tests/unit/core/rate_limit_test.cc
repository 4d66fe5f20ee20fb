// The --rate-limit syntax and the token buckets behind 429: refill, burst, Retry-After and the
// LRU bound on remembered identities.
#include "tsa/core/rate_limit.h"

#include <gtest/gtest.h>

namespace tsa::core {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(ParseRate, Forms) {
  EXPECT_DOUBLE_EQ(ParseRate("10").value().per_second, 10);
  EXPECT_DOUBLE_EQ(ParseRate("10").value().burst, 10);
  EXPECT_DOUBLE_EQ(ParseRate("10/s:20").value().burst, 20);
  EXPECT_DOUBLE_EQ(ParseRate("60/min").value().per_second, 1);
  EXPECT_DOUBLE_EQ(ParseRate("1/min").value().burst, 1);  // at least one request
  EXPECT_DOUBLE_EQ(ParseRate("0.5/s:3").value().per_second, 0.5);
  for (const char* bad : {"", "0", "-1", "fast", "10/h", "10/s:", "10/s:0", "10:x", "1e999"}) {
    EXPECT_FALSE(ParseRate(bad)) << bad;
  }
}

TEST(RateLimiter, BurstThenRefillWithRetryAfter) {
  RateLimiter limiter;
  const RateSpec spec = ParseRate("1/s:2").value();
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 0);
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 0);
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 1);  // the next token in 1 s
  EXPECT_EQ(limiter.Acquire("b", spec, 0), 0) << "identities have their own buckets";
  EXPECT_EQ(limiter.Acquire("a", spec, kSecond), 0);
  EXPECT_EQ(limiter.Acquire("a", spec, kSecond), 1);
}

TEST(RateLimiter, PeekAnswersLikeAcquireWithoutTakingOrRemembering) {
  RateLimiter limiter;
  const RateSpec spec = ParseRate("1/s:2").value();
  EXPECT_EQ(limiter.Peek("a", spec, 0), 0);
  EXPECT_EQ(limiter.size(), 0u) << "an unknown identity is not remembered";
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 0);
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 0);
  EXPECT_EQ(limiter.Peek("a", spec, 0), 1);
  EXPECT_EQ(limiter.Peek("a", spec, 0), 1) << "peeking took nothing";
  EXPECT_EQ(limiter.Peek("a", spec, kSecond), 0);
  EXPECT_EQ(limiter.Acquire("a", spec, kSecond), 0);
}

TEST(RateLimiter, RetryAfterIsWholeSecondsRoundedUp) {
  RateLimiter limiter;
  const RateSpec spec = ParseRate("6/min:1").value();  // one per 10 s
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 0);
  EXPECT_EQ(limiter.Acquire("a", spec, 0), 10);
  EXPECT_EQ(limiter.Acquire("a", spec, 5 * kSecond / 2), 8);  // 7.5 s left -> 8
}

TEST(RateLimiter, MemoryIsBoundedByEvictingTheLeastRecentlyUsed) {
  RateLimiter limiter(160);  // 10 per shard
  const RateSpec spec = ParseRate("1/s:1").value();
  for (int i = 0; i < 10'000; ++i) limiter.Acquire("spoofed-" + std::to_string(i), spec, 0);
  EXPECT_LE(limiter.size(), 160u);
}

}  // namespace
}  // namespace tsa::core
