// Tests for src/core/clock.cc: Accuracy, ParseAccuracy and the ClockGate that decides genTime
// (RFC 3161 §2.1 items 1-2, EN 319 421 §7.7.1: issue only while synchronised within the accuracy;
// genTime never goes backwards).
#include "tsa/core/clock.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace tsa::core {
namespace {

constexpr UnixMicros kT0 = 1'795'000'000'000'000;  // 2026-11-18, an arbitrary instant

ClockReading Synced(UnixMicros now, std::int64_t max_error_us = 1'000) {
  return ClockReading{now, true, max_error_us, "kernel: synchronised"};
}
ClockReading Unsynced(UnixMicros now) { return ClockReading{now, false, 16'000'000, "kernel: unsynchronised"}; }

TEST(AccuracyTest, TotalMicrosAddsAllThreeFields) {
  EXPECT_EQ((Accuracy{1, 0, 0}.TotalMicros()), 1'000'000);
  EXPECT_EQ((Accuracy{0, 500, 0}.TotalMicros()), 500'000);
  EXPECT_EQ((Accuracy{2, 3, 4}.TotalMicros()), 2'003'004);
}

TEST(AccuracyTest, ToStringNamesEachNonZeroField) {
  EXPECT_EQ((Accuracy{1, 0, 0}.ToString()), "1s");
  EXPECT_EQ((Accuracy{0, 500, 0}.ToString()), "500ms");
  EXPECT_EQ((Accuracy{1, 250, 0}.ToString()), "1s 250ms");
  EXPECT_EQ((Accuracy{0, 0, 250}.ToString()), "250us");
  EXPECT_EQ((Accuracy{0, 0, 0}.ToString()), "0s");
}

TEST(ParseAccuracyTest, ParsesSecondsMillisAndMicros) {
  auto a = ParseAccuracy("1s");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->seconds, 1);
  EXPECT_EQ(a->millis, 0);
  EXPECT_EQ(a->micros, 0);

  a = ParseAccuracy("500ms");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->TotalMicros(), 500'000);
  EXPECT_EQ(a->seconds, 0);
  EXPECT_EQ(a->millis, 500);

  a = ParseAccuracy("250us");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->TotalMicros(), 250);
  EXPECT_EQ(a->micros, 250);
}

TEST(ParseAccuracyTest, ParsesFractionsAndNormalisesIntoTheThreeFields) {
  auto a = ParseAccuracy("1.5s");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->seconds, 1);
  EXPECT_EQ(a->millis, 500);
  EXPECT_EQ(a->micros, 0);

  a = ParseAccuracy("1500ms");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->seconds, 1);
  EXPECT_EQ(a->millis, 500);

  a = ParseAccuracy("1.234567s");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->seconds, 1);
  EXPECT_EQ(a->millis, 234);
  EXPECT_EQ(a->micros, 567);
}

TEST(ParseAccuracyTest, ABareNumberIsSeconds) {
  auto a = ParseAccuracy("2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->TotalMicros(), 2'000'000);
}

TEST(ParseAccuracyTest, AcceptsUpToSixtySeconds) {
  ASSERT_TRUE(ParseAccuracy("60s"));
  EXPECT_EQ(ParseAccuracy("60s")->seconds, 60);
  EXPECT_FALSE(ParseAccuracy("61s"));
  EXPECT_FALSE(ParseAccuracy("60001ms"));
}

TEST(ParseAccuracyTest, RejectsZeroNegativeAndSubMicrosecondValues) {
  EXPECT_FALSE(ParseAccuracy("0s"));
  EXPECT_FALSE(ParseAccuracy("0"));
  EXPECT_FALSE(ParseAccuracy("-1s"));
  EXPECT_FALSE(ParseAccuracy("0.4us"));
}

TEST(ParseAccuracyTest, RejectsMalformedText) {
  EXPECT_FALSE(ParseAccuracy(""));
  EXPECT_FALSE(ParseAccuracy("s"));
  EXPECT_FALSE(ParseAccuracy("one second"));
  EXPECT_FALSE(ParseAccuracy("1 s"));
  EXPECT_FALSE(ParseAccuracy("1min"));
  EXPECT_FALSE(ParseAccuracy("1S"));
  EXPECT_FALSE(ParseAccuracy("1sec"));
  EXPECT_FALSE(ParseAccuracy("1s5"));
}

TEST(ParseAccuracyTest, RejectsNonFiniteAndHugeValues) {
  EXPECT_FALSE(ParseAccuracy("nan"));
  EXPECT_FALSE(ParseAccuracy("inf"));
  EXPECT_FALSE(ParseAccuracy("1e300s"));
}

TEST(ClockGateTest, RequireSyncIssuesWhenSynchronisedWithinTheAccuracy) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  const auto out = gate.Next(Synced(kT0, 999'999));
  ASSERT_TRUE(out.gen_time.has_value());
  EXPECT_FALSE(out.rejection.has_value());
  EXPECT_EQ(*out.gen_time, kT0);
  EXPECT_EQ(gate.last_issued(), kT0);
}

TEST(ClockGateTest, RequireSyncRefusesAnUnsynchronisedClockWithTimeNotAvailable) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  const auto out = gate.Next(Unsynced(kT0));
  EXPECT_FALSE(out.gen_time.has_value());
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->fail_info, FailInfo::kTimeNotAvailable);
  EXPECT_EQ(gate.last_issued(), 0) << "a refusal consumes nothing";
  ASSERT_TRUE(gate.Problem(Unsynced(kT0)).has_value());
  EXPECT_NE(gate.Problem(Unsynced(kT0))->find("kernel: unsynchronised"), std::string::npos);
}

TEST(ClockGateTest, RequireSyncRefusesAMaxErrorEqualToOrAboveTheAccuracy) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{0, 500, 0});
  EXPECT_TRUE(gate.Next(Synced(kT0, 500'000)).rejection.has_value());
  EXPECT_TRUE(gate.Next(Synced(kT0, 500'001)).rejection.has_value());
  EXPECT_TRUE(gate.Next(Synced(kT0, 16'000'000)).rejection.has_value());
  const auto ok = gate.Next(Synced(kT0, 499'999));
  EXPECT_FALSE(ok.rejection.has_value());
  EXPECT_EQ(ok.gen_time, kT0);
}

TEST(ClockGateTest, RequireSyncRefusesAnUnknownMaxError) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  const auto out = gate.Next(Synced(kT0, -1));
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->fail_info, FailInfo::kTimeNotAvailable);
}

TEST(ClockGateTest, TrustUnsyncedIssuesWithAnUnsynchronisedClock) {
  ClockGate gate(ClockMode::kTrustUnsynced, Accuracy{1, 0, 0});
  const auto out = gate.Next(Unsynced(kT0));
  ASSERT_TRUE(out.gen_time.has_value());
  EXPECT_EQ(*out.gen_time, kT0);
  EXPECT_FALSE(gate.Problem(Unsynced(kT0 + 1)).has_value());
  const auto unknown = gate.Next(ClockReading{kT0 + 5, false, -1, "kernel: unknown"});
  EXPECT_TRUE(unknown.gen_time.has_value());
}

TEST(ClockGateTest, BackwardsReadingIsRefusedInRequireSyncMode) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  ASSERT_TRUE(gate.Next(Synced(kT0)).gen_time);
  const auto back = gate.Next(Synced(kT0 - 2'000'000));
  EXPECT_FALSE(back.gen_time.has_value());
  ASSERT_TRUE(back.rejection.has_value());
  EXPECT_EQ(back.rejection->fail_info, FailInfo::kTimeNotAvailable);
  EXPECT_EQ(gate.last_issued(), kT0);
}

TEST(ClockGateTest, BackwardsReadingIsRefusedEvenInTrustUnsyncedMode) {
  ClockGate gate(ClockMode::kTrustUnsynced, Accuracy{1, 0, 0});
  ASSERT_TRUE(gate.Next(Unsynced(kT0)).gen_time);
  const auto back = gate.Next(Unsynced(kT0 - 1));
  EXPECT_FALSE(back.gen_time.has_value());
  ASSERT_TRUE(back.rejection.has_value());
  EXPECT_EQ(back.rejection->fail_info, FailInfo::kTimeNotAvailable);
  ASSERT_TRUE(gate.Problem(Unsynced(kT0 - 1)).has_value());
  EXPECT_NE(gate.Problem(Unsynced(kT0 - 1))->find("backwards"), std::string::npos);
}

TEST(ClockGateTest, IssuesAgainOnceTheClockPassesTheLastGenTime) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  ASSERT_TRUE(gate.Next(Synced(kT0)).gen_time);
  EXPECT_TRUE(gate.Next(Synced(kT0 - 2'000'000)).rejection);
  EXPECT_TRUE(gate.Next(Synced(kT0 - 1)).rejection);
  const auto again = gate.Next(Synced(kT0 + 1));
  ASSERT_TRUE(again.gen_time.has_value());
  EXPECT_EQ(*again.gen_time, kT0 + 1);
}

TEST(ClockGateTest, AReadingEqualToTheLastGenTimeIsIssued) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  ASSERT_TRUE(gate.Next(Synced(kT0)).gen_time);
  const auto same = gate.Next(Synced(kT0));
  ASSERT_TRUE(same.gen_time.has_value());
  EXPECT_EQ(*same.gen_time, kT0);
}

TEST(ClockGateTest, GenTimeNeverDecreasesOverAJitteryClock) {
  ClockGate gate(ClockMode::kTrustUnsynced, Accuracy{1, 0, 0});
  UnixMicros last = 0;
  int issued = 0;
  UnixMicros now = kT0;
  for (int i = 0; i < 2000; ++i) {
    now += (i % 7 == 3) ? -1'500 : 1'000;  // occasional small backwards steps
    const auto out = gate.Next(Synced(now));
    if (out.gen_time) {
      EXPECT_GE(*out.gen_time, last);
      last = *out.gen_time;
      ++issued;
    } else {
      EXPECT_LT(now, gate.last_issued());
    }
  }
  EXPECT_GT(issued, 1000);
}

TEST(ClockGateTest, ProblemDoesNotConsumeTheReading) {
  ClockGate gate(ClockMode::kRequireSync, Accuracy{1, 0, 0});
  EXPECT_FALSE(gate.Problem(Synced(kT0 + 10)).has_value());
  EXPECT_EQ(gate.last_issued(), 0);
  ASSERT_TRUE(gate.Next(Synced(kT0)).gen_time) << "Problem() must not have advanced the gate";
}

TEST(ClockGateTest, ExposesItsModeAndAccuracy) {
  ClockGate gate(ClockMode::kTrustUnsynced, Accuracy{0, 250, 0});
  EXPECT_EQ(gate.mode(), ClockMode::kTrustUnsynced);
  EXPECT_EQ(gate.accuracy().TotalMicros(), 250'000);
}

}  // namespace
}  // namespace tsa::core
