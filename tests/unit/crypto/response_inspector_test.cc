// Tests for src/crypto/response_inspector.cc: DescribeResponse reads TimeStampResp and bare
// TimeStampToken values, and refuses anything else, including trailing bytes.
#include "tsa/crypto/response_inspector.h"

#include <gtest/gtest.h>

#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/core/der.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(DescribeResponseTest, ReadsARejectionWithItsFailInfoAndText) {
  const Bytes der = core::EncodeRejection(core::Reject(core::FailInfo::kUnacceptedPolicy, "Requested policy is not supported."));
  auto info = DescribeResponse(der);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->status, 2);
  EXPECT_EQ(info->fail_info, (std::vector<core::FailInfo>{core::FailInfo::kUnacceptedPolicy}));
  EXPECT_EQ(info->status_string, "Requested policy is not supported.");
  EXPECT_FALSE(info->token.has_value());
  EXPECT_FALSE(info->granted());
}

TEST(DescribeResponseTest, ReadsAGrantAndItsBareTokenAlike) {
  auto signer = unit_test::MakeSigner(unit_test::SharedPki());
  ASSERT_NE(signer, nullptr);
  const core::UnixMicros gen = unit_test::NowMicros();
  auto der = signer->Sign(unit_test::Sha256Request(), Bytes{0x42}, gen);
  ASSERT_TRUE(der);
  auto resp = DescribeResponse(der->response_der);
  ASSERT_TRUE(resp);
  ASSERT_TRUE(resp->granted());
  EXPECT_EQ(resp->token->gen_time_us, gen / 1000 * 1000);
  auto bare = DescribeResponse(resp->token->token_der);
  ASSERT_TRUE(bare) << bare.error().ToString();
  EXPECT_EQ(bare->status, 0);
  ASSERT_TRUE(bare->token);
  EXPECT_EQ(bare->token->serial_hex, "42");
  EXPECT_EQ(bare->token->token_der, resp->token->token_der);
}

TEST(DescribeResponseTest, RefusesGarbageAndTrailingBytes) {
  EXPECT_FALSE(DescribeResponse(Bytes{}));
  EXPECT_FALSE(DescribeResponse(Bytes{0x01, 0x02}));
  Bytes der = core::EncodeRejection(core::Reject(core::FailInfo::kBadAlg, ""));
  der.push_back(0);
  auto r = DescribeResponse(der);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace tsa::crypto
