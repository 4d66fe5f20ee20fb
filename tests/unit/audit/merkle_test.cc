// RFC 9162 §2.1 Merkle tree math: the Certificate Transparency reference vectors (the 8-leaf tree
// of the CT reference implementation's merkle_tree_test, also used by RFC 6962 implementations),
// then every tree size 1..70 against a naive recursive MTH.
#include "tsa/audit/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tsa/core/bytes.h"

namespace tsa::audit {
namespace {

std::vector<std::uint8_t> Hex(const std::string& hex) { return *core::ParseHex(hex); }
Hash H(const std::string& hex) { return *HashFromHex(hex); }

const std::vector<std::string> kCtLeaves = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

// Roots of the trees of the first 0..8 leaves.
const std::vector<std::string> kCtRoots = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct InclusionVector {
  std::uint64_t index;  // 0-based
  std::uint64_t size;
  std::vector<std::string> proof;
};
const std::vector<InclusionVector> kCtInclusion = {
    {0, 1, {}},
    {0,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

struct ConsistencyVector {
  std::uint64_t old_size, new_size;
  std::vector<std::string> proof;
};
const std::vector<ConsistencyVector> kCtConsistency = {
    {1, 1, {}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

// The RFC 9162 §2.1.1 definition, literally.
Hash NaiveMth(const std::vector<Hash>& leaves, std::size_t lo, std::size_t hi) {
  const std::size_t n = hi - lo;
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaves[lo];
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return NodeHash(NaiveMth(leaves, lo, lo + k), NaiveMth(leaves, lo + k, hi));
}

// A NodeReader over the perfect subtrees of `leaves`, computed naively, counting its reads.
struct NaiveNodes {
  explicit NaiveNodes(std::vector<Hash> l) : leaves(std::move(l)) {}
  std::vector<Hash> leaves;
  std::map<std::pair<int, std::uint64_t>, Hash> cache;
  NodeReader Reader(std::uint64_t size) {
    return [this, size](int level, std::uint64_t index) -> Result<Hash> {
      const std::uint64_t lo = index << level, hi = (index + 1) << level;
      if (hi > size) return MakeError(ErrorKind::kNotFound, "node beyond the tree");
      auto key = std::make_pair(level, index);
      auto it = cache.find(key);
      if (it == cache.end()) it = cache.emplace(key, NaiveMth(leaves, lo, hi)).first;
      return it->second;
    };
  }
};

std::vector<Hash> CtLeafHashes() {
  std::vector<Hash> out;
  for (const auto& hex : kCtLeaves) out.push_back(LeafHash(Hex(hex)));
  return out;
}

std::vector<Hash> Parse(const std::vector<std::string>& hexes) {
  std::vector<Hash> out;
  for (const auto& h : hexes) out.push_back(H(h));
  return out;
}

TEST(MerkleTest, HashPrimitivesFollowRfc9162) {
  EXPECT_EQ(HashHex(EmptyRoot()), kCtRoots[0]);
  // Leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right).
  EXPECT_EQ(HashHex(LeafHash(std::vector<std::uint8_t>{})), kCtRoots[1]);
  const Hash a = LeafHash(Hex("00")), b = LeafHash(Hex("10"));
  std::vector<std::uint8_t> cat{0x01};
  cat.insert(cat.end(), a.begin(), a.end());
  cat.insert(cat.end(), b.begin(), b.end());
  EXPECT_EQ(NodeHash(a, b), Sha256(cat.data(), cat.size()));
  EXPECT_FALSE(HashFromHex("abcd"));
  EXPECT_FALSE(HashFromBytes(std::vector<std::uint8_t>(31)));
}

TEST(MerkleTest, CtReferenceRoots) {
  const auto leaves = CtLeafHashes();
  NaiveNodes nodes(leaves);
  MerkleFrontier frontier;
  EXPECT_EQ(HashHex(frontier.Root()), kCtRoots[0]);
  EXPECT_EQ(HashHex(*RootHash(nodes.Reader(0), 0)), kCtRoots[0]);
  for (std::size_t n = 1; n <= leaves.size(); ++n) {
    frontier.Append(leaves[n - 1]);
    EXPECT_EQ(HashHex(NaiveMth(leaves, 0, n)), kCtRoots[n]) << "naive, size " << n;
    EXPECT_EQ(HashHex(*RootHash(nodes.Reader(n), n)), kCtRoots[n]) << "RootHash, size " << n;
    EXPECT_EQ(HashHex(frontier.Root()), kCtRoots[n]) << "MerkleFrontier, size " << n;
  }
}

TEST(MerkleTest, CtReferenceInclusionProofs) {
  const auto leaves = CtLeafHashes();
  NaiveNodes nodes(leaves);
  for (const auto& v : kCtInclusion) {
    auto proof = InclusionProof(nodes.Reader(v.size), v.index, v.size);
    ASSERT_TRUE(proof) << proof.error().message;
    EXPECT_EQ(*proof, Parse(v.proof)) << "leaf " << v.index << " size " << v.size;
    EXPECT_TRUE(VerifyInclusion(leaves[v.index], v.index, v.size, *proof, H(kCtRoots[v.size])));
    EXPECT_FALSE(VerifyInclusion(leaves[v.index], v.index, v.size, *proof, H(kCtRoots[0])));
  }
}

TEST(MerkleTest, CtReferenceConsistencyProofs) {
  const auto leaves = CtLeafHashes();
  NaiveNodes nodes(leaves);
  for (const auto& v : kCtConsistency) {
    auto proof = ConsistencyProof(nodes.Reader(v.new_size), v.old_size, v.new_size);
    ASSERT_TRUE(proof) << proof.error().message;
    EXPECT_EQ(*proof, Parse(v.proof)) << v.old_size << " -> " << v.new_size;
    EXPECT_TRUE(VerifyConsistency(v.old_size, v.new_size, H(kCtRoots[v.old_size]), H(kCtRoots[v.new_size]), *proof));
  }
}

class MerkleSizesTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kMax = 70;
  void SetUp() override {
    for (std::size_t i = 0; i < kMax; ++i) {
      std::vector<std::uint8_t> data(i % 7, static_cast<std::uint8_t>(i));
      data.push_back(static_cast<std::uint8_t>(i * 31));
      leaves_.push_back(LeafHash(data));
    }
    for (std::size_t n = 0; n <= kMax; ++n) roots_.push_back(NaiveMth(leaves_, 0, n));
  }
  std::vector<Hash> leaves_;
  std::vector<Hash> roots_;  // roots_[n] = MTH of the first n leaves
};

TEST_F(MerkleSizesTest, RootsMatchNaiveMthForEverySize) {
  NaiveNodes nodes(leaves_);
  MerkleFrontier frontier;
  for (std::size_t n = 1; n <= kMax; ++n) {
    const auto completed = frontier.Append(leaves_[n - 1]);
    // The perfect subtrees the append completes: the leaf, then each ancestor it finishes.
    ASSERT_FALSE(completed.empty());
    EXPECT_EQ(completed[0].level, 0);
    EXPECT_EQ(completed[0].index, n - 1);
    for (const auto& node : completed) {
      const std::uint64_t lo = node.index << node.level, hi = (node.index + 1) << node.level;
      EXPECT_EQ(hi, n) << "a completed subtree ends at the new leaf";
      EXPECT_EQ(node.hash, NaiveMth(leaves_, lo, hi));
    }
    EXPECT_EQ(completed.size(), static_cast<std::size_t>(std::countr_one(n - 1)) + 1);
    EXPECT_EQ(frontier.size(), n);
    EXPECT_EQ(frontier.Root(), roots_[n]) << "size " << n;
    auto root = RootHash(nodes.Reader(n), n);
    ASSERT_TRUE(root) << root.error().message;
    EXPECT_EQ(*root, roots_[n]) << "size " << n;
  }
}

TEST_F(MerkleSizesTest, FrontierReloadedFromStoredNodesContinues) {
  NaiveNodes nodes(leaves_);
  for (std::size_t size : {0u, 1u, 5u, 8u, 13u, 32u, 33u, 63u}) {
    std::vector<Hash> pending;
    for (const auto& [level, index] : MerkleFrontier::FrontierNodes(size)) {
      if (pending.size() <= static_cast<std::size_t>(level)) pending.resize(static_cast<std::size_t>(level) + 1);
      pending[static_cast<std::size_t>(level)] = *nodes.Reader(size)(level, index);
    }
    MerkleFrontier frontier(size, pending);
    EXPECT_EQ(frontier.Root(), roots_[size]);
    for (std::size_t n = size + 1; n <= kMax; ++n) {
      frontier.Append(leaves_[n - 1]);
      ASSERT_EQ(frontier.Root(), roots_[n]) << "reloaded at " << size << ", size " << n;
    }
  }
}

TEST_F(MerkleSizesTest, EveryInclusionProofVerifiesAndAFlippedOneFails) {
  NaiveNodes nodes(leaves_);
  for (std::uint64_t n = 1; n <= kMax; ++n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(nodes.Reader(n), i, n);
      ASSERT_TRUE(proof) << proof.error().message;
      ASSERT_TRUE(VerifyInclusion(leaves_[i], i, n, *proof, roots_[n])) << "leaf " << i << " size " << n;
      // Wrong leaf, index, size or root.
      EXPECT_FALSE(VerifyInclusion(leaves_[(i + 1) % kMax], i, n, *proof, roots_[n]));
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion(leaves_[i], (i + 1) % n, n, *proof, roots_[n])) << "leaf " << i << " size " << n;
      }
      EXPECT_FALSE(VerifyInclusion(leaves_[i], n, n, *proof, roots_[n]));
      // Every flipped bit in every proof element.
      for (std::size_t k = 0; k < proof->size(); ++k) {
        auto bad = *proof;
        bad[k][k % 32] ^= 0x01;
        EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, bad, roots_[n]));
      }
      // Too short or too long.
      if (!proof->empty()) {
        auto shorter = *proof;
        shorter.pop_back();
        EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, shorter, roots_[n]));
      }
      auto longer = *proof;
      longer.push_back(leaves_[0]);
      EXPECT_FALSE(VerifyInclusion(leaves_[i], i, n, longer, roots_[n]));
    }
  }
  EXPECT_FALSE(InclusionProof(nodes.Reader(4), 4, 4));
}

TEST_F(MerkleSizesTest, EveryConsistencyProofVerifiesAndAFlippedOneFails) {
  NaiveNodes nodes(leaves_);
  for (std::uint64_t n = 1; n <= kMax; ++n) {
    for (std::uint64_t m = 1; m <= n; ++m) {
      auto proof = ConsistencyProof(nodes.Reader(n), m, n);
      ASSERT_TRUE(proof) << proof.error().message;
      ASSERT_TRUE(VerifyConsistency(m, n, roots_[m], roots_[n], *proof)) << m << " -> " << n;
      if (m == n) {
        EXPECT_TRUE(proof->empty());
        continue;
      }
      EXPECT_FALSE(VerifyConsistency(m, n, roots_[m - 1], roots_[n], *proof)) << m << " -> " << n;
      EXPECT_FALSE(VerifyConsistency(m, n, roots_[m], roots_[n - 1], *proof)) << m << " -> " << n;
      for (std::size_t k = 0; k < proof->size(); ++k) {
        auto bad = *proof;
        bad[k][(k * 7) % 32] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(m, n, roots_[m], roots_[n], bad)) << m << " -> " << n << " element " << k;
      }
      auto shorter = *proof;
      shorter.pop_back();
      EXPECT_FALSE(VerifyConsistency(m, n, roots_[m], roots_[n], shorter));
    }
  }
  auto empty = ConsistencyProof(nodes.Reader(5), 0, 5);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(ConsistencyProof(nodes.Reader(5), 6, 5));
  EXPECT_FALSE(VerifyConsistency(6, 5, roots_[6], roots_[5], {}));
}

TEST_F(MerkleSizesTest, SubtreeHashNeedsOnlyStoredPerfectSubtrees) {
  // A reader that refuses anything but perfect aligned subtrees within the size, as the store does.
  NaiveNodes nodes(leaves_);
  int reads = 0;
  const std::uint64_t n = 45;
  NodeReader counting = [&](int level, std::uint64_t index) {
    ++reads;
    return nodes.Reader(n)(level, index);
  };
  auto root = RootHash(counting, n);
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, roots_[n]);
  EXPECT_LE(reads, 6);  // one per set bit of 45 = 101101b: 4
  EXPECT_FALSE(SubtreeHash(counting, 3, 3));
}

}  // namespace
}  // namespace tsa::audit
