// Tests for src/core/request.cc: ValidateRequest in the processing order of conformance §1.3
// (version -> hash -> parameters -> digest length -> policy -> extensions), IssuancePolicy and
// EffectivePolicy.
#include "tsa/core/request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../unit_test_helpers.h"

namespace tsa::core {
namespace {

using unit_test::kDefaultPolicy;
using unit_test::kMd5Oid;
using unit_test::kOtherPolicy;
using unit_test::kSha1Oid;
using unit_test::kSha256Oid;

IssuancePolicy Policy() { return unit_test::DefaultIssuancePolicy(); }

// A request every default policy accepts: v1, SHA-256 with NULL parameters, 32-byte digest.
TimeStampRequest GoodRequest() {
  TimeStampRequest r;
  r.version_is_v1 = true;
  r.hash_oid = kSha256Oid;
  r.hash_parameters = HashParameters::kNull;
  r.digest.assign(32, 0x11);
  r.has_nonce = true;
  r.cert_req = true;
  return r;
}

FailInfo FailOf(const TimeStampRequest& r, const IssuancePolicy& p = Policy()) {
  const auto rejection = ValidateRequest(r, p);
  EXPECT_TRUE(rejection.has_value());
  return rejection ? rejection->fail_info : FailInfo::kAddInfoNotAvailable;  // never expected
}

TEST(RequestValidationTest, AcceptsAWellFormedSha256Request) {
  EXPECT_FALSE(ValidateRequest(GoodRequest(), Policy()).has_value());
}

TEST(RequestValidationTest, AcceptsAbsentHashParametersAsWellAsNull) {
  auto r = GoodRequest();
  r.hash_parameters = HashParameters::kAbsent;
  EXPECT_FALSE(ValidateRequest(r, Policy()).has_value());
}

TEST(RequestValidationTest, AcceptsSha384AndSha512WithTheirDigestLengths) {
  auto r = GoodRequest();
  r.hash_oid = "2.16.840.1.101.3.4.2.2";
  r.digest.assign(48, 1);
  EXPECT_FALSE(ValidateRequest(r, Policy()).has_value());
  r.hash_oid = "2.16.840.1.101.3.4.2.3";
  r.digest.assign(64, 1);
  EXPECT_FALSE(ValidateRequest(r, Policy()).has_value());
}

TEST(RequestValidationTest, RejectsVersionOtherThanV1WithBadRequest) {
  auto r = GoodRequest();
  r.version_is_v1 = false;
  EXPECT_EQ(FailOf(r), FailInfo::kBadRequest);
}

TEST(RequestValidationTest, RejectsMd5WithBadAlg) {
  auto r = GoodRequest();
  r.hash_oid = kMd5Oid;
  r.digest.assign(16, 1);
  EXPECT_EQ(FailOf(r), FailInfo::kBadAlg);
}

TEST(RequestValidationTest, RejectsSha1WithBadAlgByDefault) {
  auto r = GoodRequest();
  r.hash_oid = kSha1Oid;
  r.digest.assign(20, 1);
  EXPECT_EQ(FailOf(r), FailInfo::kBadAlg);
}

TEST(RequestValidationTest, AcceptsSha1WhenTheOperatorAllowsIt) {
  auto r = GoodRequest();
  r.hash_oid = kSha1Oid;
  r.digest.assign(20, 1);
  auto p = Policy();
  p.accepted_hashes.push_back(HashAlgorithm::kSha1);
  EXPECT_FALSE(ValidateRequest(r, p).has_value());
}

TEST(RequestValidationTest, RejectsAnUnknownHashOidWithBadAlg) {
  auto r = GoodRequest();
  r.hash_oid = "1.2.3.4.5";
  EXPECT_EQ(FailOf(r), FailInfo::kBadAlg);
}

TEST(RequestValidationTest, RejectsAKnownHashThePolicyDoesNotListWithBadAlg) {
  auto r = GoodRequest();
  r.hash_oid = "2.16.840.1.101.3.4.2.8";  // SHA3-256: known, not in the default list
  EXPECT_EQ(FailOf(r), FailInfo::kBadAlg);
}

TEST(RequestValidationTest, RejectsNonNullHashParametersWithBadAlg) {
  auto r = GoodRequest();
  r.hash_parameters = HashParameters::kOther;  // e.g. an OCTET STRING
  const auto rejection = ValidateRequest(r, Policy());
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->fail_info, FailInfo::kBadAlg);
}

TEST(RequestValidationTest, RejectsADigestOfTheWrongLengthWithBadDataFormat) {
  for (std::size_t len : {0U, 1U, 20U, 31U, 33U, 64U}) {
    auto r = GoodRequest();
    r.digest.assign(len, 0x22);
    EXPECT_EQ(FailOf(r), FailInfo::kBadDataFormat) << "digest length " << len;
  }
}

TEST(RequestValidationTest, RejectsAnUnknownPolicyWithUnacceptedPolicy) {
  auto r = GoodRequest();
  r.policy = "1.2.3.4";
  EXPECT_EQ(FailOf(r), FailInfo::kUnacceptedPolicy);
}

TEST(RequestValidationTest, AcceptsTheDefaultPolicyAndEveryListedPolicy) {
  auto r = GoodRequest();
  r.policy = kDefaultPolicy;
  EXPECT_FALSE(ValidateRequest(r, Policy()).has_value());
  r.policy = kOtherPolicy;
  EXPECT_FALSE(ValidateRequest(r, Policy()).has_value());
}

TEST(RequestValidationTest, RejectsAnyExtensionCriticalOrNotWithUnacceptedExtension) {
  // The parsed model holds only the OIDs: criticality makes no difference (RFC 3161 §2.4.1).
  auto r = GoodRequest();
  r.extension_oids = {"1.2.3.4.5.6"};
  EXPECT_EQ(FailOf(r), FailInfo::kUnacceptedExtension);
  r.extension_oids = {"2.5.29.15", "1.3.6.1.5.5.7.1.1"};
  EXPECT_EQ(FailOf(r), FailInfo::kUnacceptedExtension);
}

TEST(RequestValidationTest, RejectionsCarryAShortGenericStatusString) {
  auto r = GoodRequest();
  r.version_is_v1 = false;
  const auto rejection = ValidateRequest(r, Policy());
  ASSERT_TRUE(rejection.has_value());
  EXPECT_FALSE(rejection->status_string.empty());
  EXPECT_LT(rejection->status_string.size(), 80U);
}

// A request with several faults gets the failInfo of the first one in the processing order.
TEST(RequestValidationTest, VersionIsCheckedBeforeEverythingElse) {
  auto r = GoodRequest();
  r.version_is_v1 = false;
  r.hash_oid = kMd5Oid;
  r.hash_parameters = HashParameters::kOther;
  r.digest.assign(3, 0);
  r.policy = "1.2.3.4";
  r.extension_oids = {"1.2.3"};
  EXPECT_EQ(FailOf(r), FailInfo::kBadRequest);
}

TEST(RequestValidationTest, HashAlgorithmIsCheckedBeforeParametersLengthPolicyAndExtensions) {
  auto r = GoodRequest();
  r.hash_oid = kMd5Oid;
  r.hash_parameters = HashParameters::kOther;
  r.digest.assign(3, 0);
  r.policy = "1.2.3.4";
  r.extension_oids = {"1.2.3"};
  const auto rejection = ValidateRequest(r, Policy());
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->fail_info, FailInfo::kBadAlg);
  EXPECT_EQ(rejection->status_string, "Message digest algorithm is not supported.");
}

TEST(RequestValidationTest, ParametersAreCheckedBeforeDigestLengthPolicyAndExtensions) {
  auto r = GoodRequest();
  r.hash_parameters = HashParameters::kOther;
  r.digest.assign(3, 0);
  r.policy = "1.2.3.4";
  r.extension_oids = {"1.2.3"};
  const auto rejection = ValidateRequest(r, Policy());
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->fail_info, FailInfo::kBadAlg);
  EXPECT_EQ(rejection->status_string, "Superfluous message digest parameter.");
}

TEST(RequestValidationTest, DigestLengthIsCheckedBeforePolicyAndExtensions) {
  auto r = GoodRequest();
  r.digest.assign(3, 0);
  r.policy = "1.2.3.4";
  r.extension_oids = {"1.2.3"};
  EXPECT_EQ(FailOf(r), FailInfo::kBadDataFormat);
}

TEST(RequestValidationTest, PolicyIsCheckedBeforeExtensions) {
  auto r = GoodRequest();
  r.policy = "1.2.3.4";
  r.extension_oids = {"1.2.3"};
  EXPECT_EQ(FailOf(r), FailInfo::kUnacceptedPolicy);
}

TEST(IssuancePolicyTest, AcceptsOnlyListedHashes) {
  const auto p = Policy();
  EXPECT_TRUE(p.Accepts(HashAlgorithm::kSha256));
  EXPECT_TRUE(p.Accepts(HashAlgorithm::kSha512));
  EXPECT_FALSE(p.Accepts(HashAlgorithm::kSha1));
  EXPECT_FALSE(p.Accepts(HashAlgorithm::kSha3_256));
}

TEST(IssuancePolicyTest, AlwaysAcceptsTheDefaultPolicyEvenWhenNotListed) {
  IssuancePolicy p;
  p.default_policy = kDefaultPolicy;
  EXPECT_TRUE(p.AcceptsPolicy(kDefaultPolicy));
  EXPECT_FALSE(p.AcceptsPolicy(kOtherPolicy));
  p.accepted_policies = {kOtherPolicy};
  EXPECT_TRUE(p.AcceptsPolicy(kOtherPolicy));
  EXPECT_FALSE(p.AcceptsPolicy("1.2.3"));
}

TEST(EffectivePolicyTest, IsTheDefaultPolicyWhenTheRequestNamesNone) {
  EXPECT_EQ(EffectivePolicy(GoodRequest(), Policy()), kDefaultPolicy);
}

TEST(EffectivePolicyTest, IsTheRequestedPolicyWhenTheRequestNamesOne) {
  auto r = GoodRequest();
  r.policy = kOtherPolicy;
  EXPECT_EQ(EffectivePolicy(r, Policy()), kOtherPolicy);
  r.policy = kDefaultPolicy;
  EXPECT_EQ(EffectivePolicy(r, Policy()), kDefaultPolicy);
}

}  // namespace
}  // namespace tsa::core
