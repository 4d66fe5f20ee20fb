// Tests for src/http/target.cc: the request-target split into path and query parameters, with
// percent-decoding ("+" is a space in the query only; invalid escapes are kept as they are).
#include "http/target.h"

#include <gtest/gtest.h>

namespace tsa::http {
namespace {

TEST(TargetTest, SplitsPathAndParameters) {
  const Target t = ParseTarget("/tsa?hash=sha384&format=json");
  EXPECT_EQ(t.path, "/tsa");
  ASSERT_EQ(t.params.size(), 2u);
  EXPECT_EQ(t.Param("hash"), "sha384");
  EXPECT_EQ(t.Param("format"), "json");
  EXPECT_EQ(t.Param("other"), std::nullopt);
}

TEST(TargetTest, PercentDecodesPathAndQuery) {
  const Target t = ParseTarget("/a%2Fb%20c?k%3D=v%26w%3d");
  EXPECT_EQ(t.path, "/a/b c");
  EXPECT_EQ(t.Param("k="), "v&w=");
}

TEST(TargetTest, PlusIsASpaceInTheQueryOnly) {
  const Target t = ParseTarget("/a+b?x=1+2%2B3");
  EXPECT_EQ(t.path, "/a+b");
  EXPECT_EQ(t.Param("x"), "1 2+3");
}

TEST(TargetTest, KeepsInvalidEscapes) {
  const Target t = ParseTarget("/%G0%4?x=%&y=%z1&z=%4");
  EXPECT_EQ(t.path, "/%G0%4");
  EXPECT_EQ(t.Param("x"), "%");
  EXPECT_EQ(t.Param("y"), "%z1");
  EXPECT_EQ(t.Param("z"), "%4");
}

TEST(TargetTest, DecodesAnEscapeAtTheVeryEnd) {
  EXPECT_EQ(ParseTarget("/tsa%41").path, "/tsaA");
  EXPECT_EQ(ParseTarget("/?h=sha%32").Param("h"), "sha2");
}

TEST(TargetTest, DecodesNulAndHighBytes) {
  const Target t = ParseTarget("/%00%ff");
  EXPECT_EQ(t.path, std::string("/\0\xff", 3));
}

TEST(TargetTest, DropsTheFragmentAndEmptyPairs) {
  const Target t = ParseTarget("/tsa?&a=1&&b&#frag=2");
  ASSERT_EQ(t.params.size(), 2u);
  EXPECT_EQ(t.Param("a"), "1");
  EXPECT_EQ(t.Param("b"), "");
  EXPECT_EQ(t.Param("frag"), std::nullopt);
}

TEST(TargetTest, TheFirstOfRepeatedParametersWins) { EXPECT_EQ(ParseTarget("/?hash=sha256&hash=md5").Param("hash"), "sha256"); }

TEST(TargetTest, APathWithoutQuery) {
  const Target t = ParseTarget("/health");
  EXPECT_EQ(t.path, "/health");
  EXPECT_TRUE(t.params.empty());
  EXPECT_EQ(ParseTarget("").path, "");
  EXPECT_TRUE(ParseTarget("/?").params.empty());
}

}  // namespace
}  // namespace tsa::http
