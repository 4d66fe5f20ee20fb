// Tests for src/service/reply_json.cc: the JSON view of an outcome (issue 8 item 8: a granted,
// already logged token used to be reported as systemFailure when its reply failed to re-parse).
#include "tsa/service/reply_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tsa/core/der.h"

namespace tsa::service {
namespace {

TEST(ReplyJsonTest, AGrantWhoseReplyCannotBeDescribedIsStillReportedGranted) {
  IssueOutcome granted;
  granted.der = {0x30, 0x03, 0x02, 0x01};  // truncated: DescribeResponse fails
  granted.serial_hex = "0a0b";
  granted.gen_time = 1'795'599'086'000'000;
  const nlohmann::json j = TimeStampReplyJson(granted);
  EXPECT_EQ(j.value("status", ""), "granted") << j.dump();
  EXPECT_EQ(j.value("serial_number", ""), "0a0b") << j.dump();
  EXPECT_EQ(j.value("response", ""), "MAMCAQ==") << j.dump();
  EXPECT_FALSE(j.value("describe_error", "").empty()) << j.dump();
  EXPECT_FALSE(j.contains("fail_info")) << j.dump();
}

TEST(ReplyJsonTest, ARejectionKeepsItsOwnFailInfoWhenTheReplyCannotBeDescribed) {
  IssueOutcome rejected;
  rejected.rejection = core::Reject(core::FailInfo::kBadAlg, "unsupported algorithm");
  rejected.der = {0x00};
  const nlohmann::json j = TimeStampReplyJson(rejected);
  EXPECT_EQ(j.value("status", ""), "rejection") << j.dump();
  EXPECT_EQ(j.value("fail_info", ""), "badAlg") << j.dump();
}

TEST(ReplyJsonTest, ADescribableRejectionIsRenderedFromTheDer) {
  IssueOutcome rejected;
  rejected.rejection = core::Reject(core::FailInfo::kBadRequest, "bad request");
  rejected.der = core::EncodeRejection(*rejected.rejection);
  const nlohmann::json j = TimeStampReplyJson(rejected);
  EXPECT_EQ(j.value("status", ""), "rejection") << j.dump();
  EXPECT_EQ(j.value("fail_info", ""), "badRequest") << j.dump();
  EXPECT_FALSE(j.contains("describe_error")) << j.dump();
}

}  // namespace
}  // namespace tsa::service
