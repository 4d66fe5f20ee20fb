// Tests for src/core/result.cc and include/tsa/core/result.h: Result<T>, Status, the TSA_TRY /
// TSA_ASSIGN_OR_RETURN macros and how errors print.
#include "tsa/core/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace tsa {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return MakeError(ErrorKind::kInvalidArgument, "odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  TSA_ASSIGN_OR_RETURN(int h, Half(x));
  TSA_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  TSA_TRY(Half(x));
  return Ok();
}

TEST(ResultTest, HoldsAValueOrAnError) {
  Result<int> ok = 21;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 21);
  Result<int> bad = MakeError(ErrorKind::kIo, "disk");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kIo);
  EXPECT_EQ(bad.error().message, "disk");
}

TEST(ResultTest, MoveOnlyValuesCanBeTakenOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "odd: 3");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
}

TEST(ResultTest, TryReturnsTheErrorOfAFailedResult) {
  EXPECT_TRUE(CheckEven(4));
  const Status st = CheckEven(5);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "odd: 5");
}

TEST(ResultTest, ErrorKindNamesAreReadable) {
  EXPECT_STREQ(ErrorKindName(ErrorKind::kInvalidArgument), "invalid argument");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kNotFound), "not found");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kCrypto), "crypto");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kIo), "i/o");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kBusy), "busy");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kStorage), "storage");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kUnavailable), "unavailable");
  EXPECT_STREQ(ErrorKindName(ErrorKind::kInternal), "internal");
}

// result.h documents Error::ToString() as "kind: message".
TEST(ResultTest, ErrorToStringIsKindColonMessage) {
  EXPECT_EQ(MakeError(ErrorKind::kStorage, "disk full").ToString(), "storage: disk full");
  EXPECT_EQ(MakeError(ErrorKind::kInvalidArgument, "bad flag").ToString(), "invalid argument: bad flag");
}

}  // namespace
}  // namespace tsa
