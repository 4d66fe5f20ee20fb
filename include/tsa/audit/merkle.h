// Merkle tree math of RFC 9162 §2.1 (the Certificate Transparency v2 tree) over the token log:
//   leaf hash  = SHA-256(0x00 || token DER)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH(D[n])  splits at the largest power of two k < n.
// The log stores the hash of every *perfect* subtree, node (level L, index i) covering leaves
// [i*2^L, (i+1)*2^L); every other subtree hash, root, inclusion and consistency proof is computed
// from O(log n) of those (O(log^2 n) lookups at most) without rereading the log.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::audit {

using Hash = std::array<std::uint8_t, 32>;

Hash LeafHash(const std::uint8_t* data, std::size_t len);
inline Hash LeafHash(const std::vector<std::uint8_t>& data) { return LeafHash(data.data(), data.size()); }
Hash NodeHash(const Hash& left, const Hash& right);
Hash Sha256(const std::uint8_t* data, std::size_t len);
inline Hash Sha256(const std::string& s) { return Sha256(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }
// SHA-256 of the empty string: MTH of the empty tree (RFC 9162 §2.1.1).
Hash EmptyRoot();

std::string HashHex(const Hash& h);
Result<Hash> HashFromHex(const std::string& hex);
Result<Hash> HashFromBytes(const std::vector<std::uint8_t>& bytes);

// Reads the stored hash of the perfect subtree (level, index). Must exist for every perfect
// subtree within the current tree size.
using NodeReader = std::function<Result<Hash>(int level, std::uint64_t index)>;

// MTH(D[lo:hi]) for 0 <= lo < hi <= size, where [lo, hi) is a range the RFC 9162 recursion can
// produce (lo aligned to the largest power of two not above hi - lo, or hi = tree size).
Result<Hash> SubtreeHash(const NodeReader& nodes, std::uint64_t lo, std::uint64_t hi);
Result<Hash> RootHash(const NodeReader& nodes, std::uint64_t size);

// RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in the tree of `size` leaves.
Result<std::vector<Hash>> InclusionProof(const NodeReader& nodes, std::uint64_t index, std::uint64_t size);
// RFC 9162 §2.1.4.1: the consistency proof between sizes old_size <= new_size.
Result<std::vector<Hash>> ConsistencyProof(const NodeReader& nodes, std::uint64_t old_size, std::uint64_t new_size);

// RFC 9162 §2.1.3.2: verifies an inclusion proof; pure, for offline checkers.
bool VerifyInclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& proof, const Hash& root);
// RFC 9162 §2.1.4.2: verifies a consistency proof.
bool VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof);

// Incremental builder used by the log writer: append leaf hashes one by one and receive every
// perfect subtree that becomes complete (level >= 1), so they can be stored with the leaf.
class MerkleFrontier {
 public:
  // `frontier[L]` = hash of the rightmost complete perfect subtree of level L still waiting for a
  // right sibling, as implied by `size` (bit L of size set). Loaded from storage at start-up.
  MerkleFrontier(std::uint64_t size, std::vector<Hash> frontier) : size_(size), frontier_(std::move(frontier)) {}
  MerkleFrontier() = default;

  struct Node {
    int level;
    std::uint64_t index;
    Hash hash;
  };
  // Adds leaf number size(); returns the new perfect subtrees (the leaf itself at level 0 first).
  std::vector<Node> Append(const Hash& leaf);
  std::uint64_t size() const { return size_; }
  Hash Root() const;  // MTH of the whole tree (EmptyRoot when empty)
  // Levels of the pending subtrees, for loading: frontier entry for every set bit of size.
  static std::vector<std::pair<int, std::uint64_t>> FrontierNodes(std::uint64_t size);

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> frontier_;  // indexed by level; meaningful where bit `level` of size_ is set
};

}  // namespace tsa::audit
