// Tests for src/core/bytes.cc: hex parsing and formatting, whole-file reads and writes.
#include "tsa/core/bytes.h"

#include <gtest/gtest.h>

#include "../unit_test_helpers.h"

namespace tsa::core {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(ParseHexTest, ParsesLowerAndUpperCaseDigits) {
  EXPECT_EQ(ParseHex("0a1B"), (Bytes{0x0a, 0x1b}));
  EXPECT_EQ(ParseHex("00ff7F80"), (Bytes{0x00, 0xff, 0x7f, 0x80}));
  EXPECT_EQ(ParseHex("DEADbeef"), (Bytes{0xde, 0xad, 0xbe, 0xef}));
}

TEST(ParseHexTest, EmptyInputIsAnEmptyByteString) {
  const auto out = ParseHex("");
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->empty());
}

TEST(ParseHexTest, SkipsSpacesAndColons) {
  EXPECT_EQ(ParseHex("0a:1b:2c"), (Bytes{0x0a, 0x1b, 0x2c}));
  EXPECT_EQ(ParseHex("0a 1b  2c"), (Bytes{0x0a, 0x1b, 0x2c}));
  EXPECT_EQ(ParseHex(" 0A:1b 2C "), (Bytes{0x0a, 0x1b, 0x2c}));
}

TEST(ParseHexTest, RejectsAnOddNumberOfDigits) {
  EXPECT_FALSE(ParseHex("a").has_value());
  EXPECT_FALSE(ParseHex("0a1").has_value());
  EXPECT_FALSE(ParseHex("0a:1").has_value());
}

TEST(ParseHexTest, RejectsNonHexCharacters) {
  EXPECT_FALSE(ParseHex("0g").has_value());
  EXPECT_FALSE(ParseHex("0x0a").has_value());
  EXPECT_FALSE(ParseHex("0a-1b").has_value());
  EXPECT_FALSE(ParseHex("0a\n").has_value());
  EXPECT_FALSE(ParseHex("zz").has_value());
}

TEST(ToHexTest, IsLowerCaseTwoDigitsPerByteAndRoundTrips) {
  EXPECT_EQ(ToHex({}), "");
  EXPECT_EQ(ToHex({0x00, 0x0a, 0xff, 0x80}), "000aff80");
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  EXPECT_EQ(ParseHex(ToHex(all)), all);
}

TEST(FileBytesTest, WriteThenReadReturnsTheSameBytes) {
  unit_test::TempDir dir;
  Bytes data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<std::uint8_t>(i * 7));
  data.push_back(0);
  ASSERT_TRUE(WriteFileBytes(dir.Sub("f.bin"), data));
  auto back = ReadFileBytes(dir.Sub("f.bin"));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  auto text = ReadFileText(dir.Sub("f.bin"));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->size(), data.size());
}

TEST(FileBytesTest, WriteTruncatesAnExistingFile) {
  unit_test::TempDir dir;
  ASSERT_TRUE(WriteFileBytes(dir.Sub("f"), Bytes(100, 1)));
  ASSERT_TRUE(WriteFileBytes(dir.Sub("f"), Bytes{2, 3}));
  EXPECT_EQ(*ReadFileBytes(dir.Sub("f")), (Bytes{2, 3}));
}

TEST(FileBytesTest, MissingFileIsNotFoundAndUnwritablePathIsIo) {
  unit_test::TempDir dir;
  auto missing = ReadFileBytes(dir.Sub("missing"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  auto missing_text = ReadFileText(dir.Sub("missing"));
  ASSERT_FALSE(missing_text);
  EXPECT_EQ(missing_text.error().kind, ErrorKind::kNotFound);
  const Status st = WriteFileBytes(dir.Sub("no/such/dir/f"), Bytes{1});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
}

}  // namespace
}  // namespace tsa::core
