// Tests for src/core/decision.cc: PKIFailureInfo names (as in the RFC 3161 ASN.1 module).
#include "tsa/core/decision.h"

#include <gtest/gtest.h>

namespace tsa::core {
namespace {

TEST(FailInfoNameTest, NamesAreThoseOfTheAsn1Module) {
  EXPECT_STREQ(FailInfoName(FailInfo::kBadAlg), "badAlg");
  EXPECT_STREQ(FailInfoName(FailInfo::kBadRequest), "badRequest");
  EXPECT_STREQ(FailInfoName(FailInfo::kBadDataFormat), "badDataFormat");
  EXPECT_STREQ(FailInfoName(FailInfo::kTimeNotAvailable), "timeNotAvailable");
  EXPECT_STREQ(FailInfoName(FailInfo::kUnacceptedPolicy), "unacceptedPolicy");
  EXPECT_STREQ(FailInfoName(FailInfo::kUnacceptedExtension), "unacceptedExtension");
  EXPECT_STREQ(FailInfoName(FailInfo::kAddInfoNotAvailable), "addInfoNotAvailable");
  EXPECT_STREQ(FailInfoName(FailInfo::kSystemFailure), "systemFailure");
}

TEST(FailInfoNameTest, NamesRoundTripAndUnknownNamesAreRejected) {
  for (FailInfo f :
       {FailInfo::kBadAlg, FailInfo::kBadRequest, FailInfo::kBadDataFormat, FailInfo::kTimeNotAvailable,
        FailInfo::kUnacceptedPolicy, FailInfo::kUnacceptedExtension, FailInfo::kAddInfoNotAvailable, FailInfo::kSystemFailure}) {
    EXPECT_EQ(FailInfoFromName(FailInfoName(f)), f);
  }
  EXPECT_FALSE(FailInfoFromName("BadAlg").has_value());
  EXPECT_FALSE(FailInfoFromName("").has_value());
  EXPECT_STREQ(FailInfoName(static_cast<FailInfo>(3)), "unknown");
}

TEST(RejectTest, BuildsARejectionWithTheGivenBitAndText) {
  const Rejection r = Reject(FailInfo::kUnacceptedPolicy, "Requested policy is not supported.");
  EXPECT_EQ(r.fail_info, FailInfo::kUnacceptedPolicy);
  EXPECT_EQ(r.status_string, "Requested policy is not supported.");
  EXPECT_EQ(r, (Rejection{FailInfo::kUnacceptedPolicy, "Requested policy is not supported."}));
}

}  // namespace
}  // namespace tsa::core
