// Tests for src/core/response_json.cc: PkiStatusName, Base64 (RFC 4648 §10 vectors) and the JSON
// rendering of ResponseInfo / TokenInfo used by ?format=json and the tools.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tsa/core/response_info.h"

namespace tsa::core {
namespace {

std::vector<std::uint8_t> B(const std::string& s) { return std::vector<std::uint8_t>(s.begin(), s.end()); }

std::set<std::string> Keys(const nlohmann::json& j) {
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  return keys;
}

TokenInfo SampleToken() {
  TokenInfo t;
  t.version = 1;
  t.policy = "0.4.0.2023.1.1";
  t.hash_algorithm = "sha256";
  t.hash_oid = "2.16.840.1.101.3.4.2.1";
  t.digest_hex = std::string(64, 'a');
  t.gen_time = "2026-11-25T09:31:26.123Z";
  t.gen_time_us = 1'795'599'086'123'000;
  t.serial_hex = "0102";
  t.accuracy = Accuracy{1, 0, 0};
  t.ordering = false;
  t.nonce_hex = "00ff";
  t.tsa = "CN=tsad Test TSA,O=tsad test,C=XX";
  t.extensions = {{"1.2.3.4", false, "0500"}};
  t.signature_algorithm = "ecdsa-with-SHA256";
  t.signature_hex = "3045";
  t.digest_algorithm = "SHA256";
  t.certificate_count = 1;
  t.signer_subject = "CN=tsad Test TSA,O=tsad test,C=XX";
  t.token_der = {0x30, 0x03, 0x02, 0x01, 0x01};
  return t;
}

TEST(Base64Test, MatchesTheRfc4648TestVectors) {
  EXPECT_EQ(Base64(B("")), "");
  EXPECT_EQ(Base64(B("f")), "Zg==");
  EXPECT_EQ(Base64(B("fo")), "Zm8=");
  EXPECT_EQ(Base64(B("foo")), "Zm9v");
  EXPECT_EQ(Base64(B("foob")), "Zm9vYg==");
  EXPECT_EQ(Base64(B("fooba")), "Zm9vYmE=");
  EXPECT_EQ(Base64(B("foobar")), "Zm9vYmFy");
}

TEST(Base64Test, UsesTheStandardAlphabetIncludingPlusAndSlash) {
  EXPECT_EQ(Base64({0xfb, 0xff, 0xbf}), "+/+/");
  EXPECT_EQ(Base64({0x00, 0x00, 0x00}), "AAAA");
  EXPECT_EQ(Base64({0xff, 0xff, 0xff, 0xff}), "/////w==");
  EXPECT_EQ(Base64({0x14, 0xfb, 0x9c, 0x03, 0xd9, 0x7e}), "FPucA9l+");
}

TEST(PkiStatusNameTest, NamesEveryPkiStatus) {
  EXPECT_STREQ(PkiStatusName(0), "granted");
  EXPECT_STREQ(PkiStatusName(1), "grantedWithMods");
  EXPECT_STREQ(PkiStatusName(2), "rejection");
  EXPECT_STREQ(PkiStatusName(3), "waiting");
  EXPECT_STREQ(PkiStatusName(4), "revocationWarning");
  EXPECT_STREQ(PkiStatusName(5), "revocationNotification");
  EXPECT_STREQ(PkiStatusName(6), "unknown");
  EXPECT_STREQ(PkiStatusName(-1), "unknown");
}

TEST(ResponseJsonTest, TokenHasTheDocumentedFieldNames) {
  const nlohmann::json j = ToJson(SampleToken());
  EXPECT_EQ(Keys(j),
            (std::set<std::string>{"version", "policy", "message_imprint", "gen_time", "serial_number", "accuracy", "ordering",
                                   "nonce", "tsa", "extensions", "signature", "certificates", "signer", "token"}));
  EXPECT_EQ(Keys(j["message_imprint"]), (std::set<std::string>{"algorithm", "algorithm_oid", "digest"}));
  EXPECT_EQ(Keys(j["accuracy"]), (std::set<std::string>{"seconds", "millis", "micros"}));
  EXPECT_EQ(Keys(j["signature"]), (std::set<std::string>{"algorithm", "digest_algorithm", "value"}));
  ASSERT_EQ(j["extensions"].size(), 1U);
  EXPECT_EQ(Keys(j["extensions"][0]), (std::set<std::string>{"oid", "critical", "value"}));
}

TEST(ResponseJsonTest, TokenValuesAreCopiedThrough) {
  const nlohmann::json j = ToJson(SampleToken());
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["policy"], "0.4.0.2023.1.1");
  EXPECT_EQ(j["message_imprint"]["algorithm"], "sha256");
  EXPECT_EQ(j["message_imprint"]["algorithm_oid"], "2.16.840.1.101.3.4.2.1");
  EXPECT_EQ(j["message_imprint"]["digest"], std::string(64, 'a'));
  EXPECT_EQ(j["gen_time"], "2026-11-25T09:31:26.123Z");
  EXPECT_EQ(j["serial_number"], "0102");
  EXPECT_EQ(j["accuracy"]["seconds"], 1);
  EXPECT_EQ(j["accuracy"]["millis"], 0);
  EXPECT_EQ(j["accuracy"]["micros"], 0);
  EXPECT_EQ(j["ordering"], false);
  EXPECT_EQ(j["nonce"], "00ff");
  EXPECT_EQ(j["tsa"], "CN=tsad Test TSA,O=tsad test,C=XX");
  EXPECT_EQ(j["extensions"][0]["oid"], "1.2.3.4");
  EXPECT_EQ(j["extensions"][0]["critical"], false);
  EXPECT_EQ(j["extensions"][0]["value"], "0500");
  EXPECT_EQ(j["signature"]["algorithm"], "ecdsa-with-SHA256");
  EXPECT_EQ(j["signature"]["digest_algorithm"], "SHA256");
  EXPECT_EQ(j["signature"]["value"], "3045");
  EXPECT_EQ(j["certificates"], 1);
  EXPECT_EQ(j["signer"], "CN=tsad Test TSA,O=tsad test,C=XX");
  EXPECT_EQ(j["token"], "MAMCAQE=");
}

TEST(ResponseJsonTest, AbsentOptionalFieldsAreNullAndSignerIsOmitted) {
  TokenInfo t = SampleToken();
  t.accuracy.reset();
  t.nonce_hex.reset();
  t.tsa.reset();
  t.extensions.clear();
  t.signer_subject.clear();
  t.certificate_count = 0;
  const nlohmann::json j = ToJson(t);
  EXPECT_TRUE(j["accuracy"].is_null());
  EXPECT_TRUE(j["nonce"].is_null());
  EXPECT_TRUE(j["tsa"].is_null());
  EXPECT_TRUE(j["extensions"].is_array());
  EXPECT_TRUE(j["extensions"].empty());
  EXPECT_FALSE(j.contains("signer"));
  EXPECT_EQ(j["certificates"], 0);
}

TEST(ResponseJsonTest, GrantIsTheStatusPlusTheTokenFields) {
  ResponseInfo info;
  info.status = 0;
  info.token = SampleToken();
  const nlohmann::json j = ToJson(info);
  EXPECT_EQ(j["status"], "granted");
  EXPECT_EQ(j["serial_number"], "0102");
  EXPECT_FALSE(j.contains("fail_info"));
  EXPECT_FALSE(j.contains("status_string"));
  auto expected = Keys(ToJson(*info.token));
  expected.insert("status");
  EXPECT_EQ(Keys(j), expected);
}

TEST(ResponseJsonTest, RejectionHasStatusFailInfoAndStatusString) {
  ResponseInfo info;
  info.status = 2;
  info.fail_info = {FailInfo::kTimeNotAvailable};
  info.status_string = "Time is not available.";
  const nlohmann::json j = ToJson(info);
  EXPECT_EQ(Keys(j), (std::set<std::string>{"status", "fail_info", "status_string"}));
  EXPECT_EQ(j["status"], "rejection");
  EXPECT_EQ(j["fail_info"], "timeNotAvailable");
  EXPECT_EQ(j["status_string"], "Time is not available.");
}

TEST(ResponseJsonTest, RejectionWithoutFailInfoHasANullFailInfo) {
  ResponseInfo info;
  info.status = 2;
  const nlohmann::json j = ToJson(info);
  EXPECT_TRUE(j["fail_info"].is_null());
  EXPECT_EQ(j["status_string"], "");
}

TEST(ResponseInfoTest, GrantedNeedsAGrantingStatusAndAToken) {
  ResponseInfo info;
  info.status = 0;
  EXPECT_FALSE(info.granted());
  info.token = TokenInfo{};
  EXPECT_TRUE(info.granted());
  info.status = 1;
  EXPECT_TRUE(info.granted());
  info.status = 2;
  EXPECT_FALSE(info.granted());
}

}  // namespace
}  // namespace tsa::core
