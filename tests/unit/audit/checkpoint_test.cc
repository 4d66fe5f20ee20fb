// The canonical checkpoint text (checkpoint.h): exact format, imprint, and a strict parser.
#include "tsa/audit/checkpoint.h"

#include <gtest/gtest.h>

#include <string>

#include "tsa/audit/signed_note.h"

namespace tsa::audit {
namespace {

constexpr char kRoot[] = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
constexpr char kOrigin[] = "CN=tsad Unit Test TSA,O=tsad unit tests,C=XX";

Checkpoint Sample() { return Checkpoint{kOrigin, 8, *HashFromHex(kRoot), ""}; }

std::string SampleText() { return std::string("tsad-checkpoint/v1\n") + kOrigin + "\n8\n" + kRoot + "\n"; }

TEST(CheckpointTest, TextIsTheDocumentedFormat) { EXPECT_EQ(Sample().Text(), SampleText()); }

TEST(CheckpointTest, ImprintIsSha256OfTheText) {
  EXPECT_EQ(Sample().Imprint(), Sha256(SampleText()));
  Checkpoint other = Sample();
  other.tree_size = 9;
  EXPECT_NE(other.Imprint(), Sample().Imprint());
  other = Sample();
  other.origin = "CN=another";
  EXPECT_NE(other.Imprint(), Sample().Imprint());
}

TEST(CheckpointTest, ParseRoundTrips) {
  auto parsed = ParseCheckpoint(SampleText());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->origin, kOrigin);
  EXPECT_EQ(parsed->tree_size, 8u);
  EXPECT_EQ(HashHex(parsed->root), kRoot);
  EXPECT_EQ(parsed->Text(), SampleText());

  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1234567}, std::uint64_t{9223372036854775807ULL}}) {
    Checkpoint c{"O=x", size, EmptyRoot()};
    auto p = ParseCheckpoint(c.Text());
    ASSERT_TRUE(p) << size << ": " << p.error().message;
    EXPECT_EQ(p->tree_size, size);
    EXPECT_EQ(p->root, EmptyRoot());
  }
}

TEST(CheckpointTest, ParseRejectsAnythingNonCanonical) {
  const std::string root = kRoot;
  const std::string upper_root = "5DC9DA79A70659A9AD559CB701DED9A2AB9D823AAD2F4960CFE370EFF4604328";
  const std::vector<std::string> bad = {
      "",
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + root,                // no final newline
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + root + "\n\n",       // extra empty line
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + root + "\nextra\n",  // extra line
      "tsad-checkpoint/v1\n8\n" + root + "\n",                                       // no origin line
      "tsad-checkpoint/v2\n" + std::string(kOrigin) + "\n8\n" + root + "\n",         // other version
      "TSAD-CHECKPOINT/V1\n" + std::string(kOrigin) + "\n8\n" + root + "\n",
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n08\n" + root + "\n",  // leading zero
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n+8\n" + root + "\n",
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n-8\n" + root + "\n",
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8 \n" + root + "\n",
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n\n" + root + "\n",  // empty size
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n0x8\n" + root + "\n",
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n99999999999999999999\n" + root + "\n",  // 20 digits
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + upper_root + "\n",               // upper-case hex
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + root.substr(2) + "\n",           // short hash
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + root + "00\n",                   // long hash
      "tsad-checkpoint/v1\n" + std::string(kOrigin) + "\n8\n" + root.substr(0, 62) + "zz\n",
      "tsad-checkpoint/v1\r\n" + std::string(kOrigin) + "\r\n8\r\n" + root + "\r\n",  // CRLF
  };
  for (const auto& text : bad) {
    EXPECT_FALSE(ParseCheckpoint(text)) << "accepted: " << text;
  }
}

// Anchors made with a log key cover the signed C2SP note (checkpoint.h): parsed from its body,
// anchored as the exact bytes.
TEST(CheckpointTest, ParsesASignedNoteAndAnchorsItsExactBytes) {
  const std::string note = std::string("example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n") +
                           kNoteSignaturePrefix + "example.com/log AAAAAAAA\n";
  auto cp = ParseCheckpoint(note);
  ASSERT_TRUE(cp) << cp.error().message;
  EXPECT_TRUE(cp->is_note());
  EXPECT_EQ(cp->origin, "example.com/log");
  EXPECT_EQ(cp->tree_size, 8u);
  EXPECT_EQ(HashHex(cp->root), kRoot);
  EXPECT_EQ(cp->Text(), note);
  EXPECT_EQ(cp->Imprint(), Sha256(note));
  EXPECT_FALSE(ParseCheckpoint("example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"));  // unsigned
  EXPECT_FALSE(ParseCheckpoint("example.com/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\nnot a signature\n"));
  EXPECT_FALSE(ParseCheckpoint("example.com/log\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n" +
                               std::string(kNoteSignaturePrefix) + "x AAAA\n"));
}

}  // namespace
}  // namespace tsa::audit
