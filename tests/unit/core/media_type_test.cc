// Tests for src/core/media_type.cc: which POST bodies are TimeStampReq (RFC 3161 §3.4, and the
// legacy type some clients send, conformance §0.4) and when the client wants JSON.
#include "tsa/core/media_type.h"

#include <gtest/gtest.h>

namespace tsa::core {
namespace {

TEST(IsTimeStampQueryTest, AcceptsTheRfc3161MediaType) { EXPECT_TRUE(IsTimeStampQuery("application/timestamp-query")); }

TEST(IsTimeStampQueryTest, AcceptsTheLegacyTimestampRequestType) {
  EXPECT_TRUE(IsTimeStampQuery("application/timestamp-request"));
  EXPECT_TRUE(IsTimeStampQuery("Application/TimeStamp-Request"));
}

TEST(IsTimeStampQueryTest, IsCaseInsensitive) {
  EXPECT_TRUE(IsTimeStampQuery("APPLICATION/TIMESTAMP-QUERY"));
  EXPECT_TRUE(IsTimeStampQuery("Application/Timestamp-Query"));
}

TEST(IsTimeStampQueryTest, IgnoresParametersAndSurroundingWhitespace) {
  EXPECT_TRUE(IsTimeStampQuery("application/timestamp-query; charset=binary"));
  EXPECT_TRUE(IsTimeStampQuery("application/timestamp-query;charset=binary"));
  EXPECT_TRUE(IsTimeStampQuery("  application/timestamp-query\t; q=1"));
  EXPECT_TRUE(IsTimeStampQuery("application/timestamp-query "));
}

TEST(IsTimeStampQueryTest, TreatsEverythingElseAsRawData) {
  EXPECT_FALSE(IsTimeStampQuery(""));
  EXPECT_FALSE(IsTimeStampQuery("application/octet-stream"));
  EXPECT_FALSE(IsTimeStampQuery("application/timestamp-reply"));
  EXPECT_FALSE(IsTimeStampQuery("application/timestamp-query-x"));
  EXPECT_FALSE(IsTimeStampQuery("application/timestamp"));
  EXPECT_FALSE(IsTimeStampQuery("text/plain; x=application/timestamp-query"));
  EXPECT_FALSE(IsTimeStampQuery("application/json"));
}

TEST(WantsJsonTest, FormatParameterJsonInAnyCase) {
  EXPECT_TRUE(WantsJson("json", ""));
  EXPECT_TRUE(WantsJson("JSON", ""));
  EXPECT_FALSE(WantsJson("der", ""));
  EXPECT_FALSE(WantsJson("", ""));
  EXPECT_FALSE(WantsJson("jsonp", ""));
}

TEST(WantsJsonTest, AcceptHeaderNamingApplicationJson) {
  EXPECT_TRUE(WantsJson("", "application/json"));
  EXPECT_TRUE(WantsJson("", "Application/JSON"));
  EXPECT_TRUE(WantsJson("", "text/html, application/json;q=0.9"));
  EXPECT_TRUE(WantsJson("", " application/json ; q=0.5 , text/plain"));
}

TEST(WantsJsonTest, TheDerReplyTypeWinsOverJsonInTheSameAcceptHeader) {
  EXPECT_FALSE(WantsJson("", "application/timestamp-reply, application/json"));
  EXPECT_FALSE(WantsJson("", "application/json, application/timestamp-reply"));
  EXPECT_FALSE(WantsJson("", "application/timestamp-reply , application/json ; q=0.5"));
  EXPECT_FALSE(WantsJson("", "Application/Timestamp-Reply;q=0.1, application/json"));
  EXPECT_TRUE(WantsJson("json", "application/timestamp-reply")) << "?format=json is explicit";
}

TEST(WantsJsonTest, OtherAcceptHeadersGetDer) {
  EXPECT_FALSE(WantsJson("", "application/timestamp-reply"));
  EXPECT_FALSE(WantsJson("", "*/*"));
  EXPECT_FALSE(WantsJson("", "application/*"));
  EXPECT_FALSE(WantsJson("", "application/jsonx"));
  EXPECT_FALSE(WantsJson("", "text/json"));
  EXPECT_FALSE(WantsJson("", ","));
}

}  // namespace
}  // namespace tsa::core
