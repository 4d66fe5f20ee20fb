// Tests for src/crypto/streaming_hash.cc: incremental hashing equals the one-shot Digest and the
// published test vectors.
#include "tsa/crypto/streaming_hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tsa/core/bytes.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(DigestTest, MatchesKnownVectorsForAbc) {
  EXPECT_EQ(core::ToHex(*Digest(core::HashAlgorithm::kSha256, B("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(core::ToHex(*Digest(core::HashAlgorithm::kSha1, B("abc"))), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(core::ToHex(*Digest(core::HashAlgorithm::kSha3_256, B("abc"))),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  EXPECT_EQ(core::ToHex(*Digest(core::HashAlgorithm::kSha256, Bytes{})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestTest, LengthIsTheAlgorithmsDigestLength) {
  for (const auto& info : core::AllHashAlgorithms()) {
    auto d = Digest(info.algorithm, B("x"));
    ASSERT_TRUE(d) << info.name << ": " << d.error().ToString();
    EXPECT_EQ(d->size(), info.digest_length) << info.name;
  }
}

TEST(StreamingHashTest, EqualsTheOneShotDigestForAnyChunking) {
  std::mt19937 rng(3);
  Bytes data(100'000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  for (const auto& info : core::AllHashAlgorithms()) {
    SCOPED_TRACE(info.name);
    const Bytes expected = *Digest(info.algorithm, data);
    for (std::size_t chunk : {1U, 7U, 64U, 4096U, 100'000U}) {
      auto h = StreamingHash::Create(info.algorithm);
      ASSERT_TRUE(h);
      EXPECT_EQ(h->algorithm(), info.algorithm);
      for (std::size_t off = 0; off < data.size(); off += chunk) {
        h->Update(data.data() + off, std::min(chunk, data.size() - off));
      }
      EXPECT_EQ(h->Finish(), expected) << "chunk " << chunk;
    }
  }
}

TEST(StreamingHashTest, EmptyUpdatesChangeNothing) {
  auto h = StreamingHash::Create(core::HashAlgorithm::kSha256);
  ASSERT_TRUE(h);
  h->Update(nullptr, 0);
  h->Update("ab", 2);
  h->Update(nullptr, 0);
  h->Update("c", 1);
  EXPECT_EQ(h->Finish(), *Digest(core::HashAlgorithm::kSha256, B("abc")));
}

TEST(StreamingHashTest, SurvivesAMove) {
  auto h = StreamingHash::Create(core::HashAlgorithm::kSha512);
  ASSERT_TRUE(h);
  h->Update("ab", 2);
  StreamingHash moved = std::move(*h);
  moved.Update("c", 1);
  auto other = StreamingHash::Create(core::HashAlgorithm::kSha256);
  ASSERT_TRUE(other);
  *other = std::move(moved);
  EXPECT_EQ(other->algorithm(), core::HashAlgorithm::kSha512);
  EXPECT_EQ(other->Finish(), *Digest(core::HashAlgorithm::kSha512, B("abc")));
}

}  // namespace
}  // namespace tsa::crypto
