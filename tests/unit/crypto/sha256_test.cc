// Tests for src/crypto/sha256.cc: SHA-256 over several byte ranges equals SHA-256 of their
// concatenation (the Merkle tree's leaf and node hashes are built this way).
#include "tsa/crypto/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tsa/core/bytes.h"
#include "tsa/crypto/streaming_hash.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string Hex(const Sha256Digest& d) { return core::ToHex(Bytes(d.begin(), d.end())); }
Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(Sha256Test, MatchesTheFips180Vectors) {
  EXPECT_EQ(Hex(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const Bytes abc = B("abc");
  EXPECT_EQ(Hex(Sha256({abc})), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const Bytes two_blocks = B("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(Hex(Sha256({two_blocks})), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, PartsAreHashedAsTheirConcatenation) {
  const Bytes a = B("ab"), empty, c = B("c");
  EXPECT_EQ(Sha256({a, empty, c}), Sha256({B("abc")}));
  Bytes big(10'000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 13);
  const std::span<const std::uint8_t> all(big);
  EXPECT_EQ(Sha256({all.subspan(0, 1), all.subspan(1, 4095), all.subspan(4096)}), Sha256({all}));
  const Bytes streaming = *Digest(core::HashAlgorithm::kSha256, big);
  const Sha256Digest oneshot = Sha256({all});
  EXPECT_EQ(Bytes(oneshot.begin(), oneshot.end()), streaming);
}

TEST(Sha256Test, LeafPrefixGivesTheRfc9162EmptyLeafHash) {
  const Bytes zero = {0x00};
  EXPECT_EQ(Hex(Sha256({zero})), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

}  // namespace
}  // namespace tsa::crypto
