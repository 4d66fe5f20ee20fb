#include "tsa/audit/merkle.h"

#include <bit>

#include "tsa/core/bytes.h"
#include "tsa/crypto/sha256.h"

namespace tsa::audit {
namespace {

// Largest power of two strictly less than n (n >= 2), RFC 9162 §2.1.1's k.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

bool IsPerfectAligned(std::uint64_t lo, std::uint64_t hi) {
  const std::uint64_t width = hi - lo;
  return std::has_single_bit(width) && lo % width == 0;
}

}  // namespace

Hash Sha256(const std::uint8_t* data, std::size_t len) { return crypto::Sha256({{data, len}}); }

Hash LeafHash(const std::uint8_t* data, std::size_t len) {
  static constexpr std::uint8_t kLeafPrefix[1] = {0x00};
  return crypto::Sha256({kLeafPrefix, {data, len}});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  static constexpr std::uint8_t kNodePrefix[1] = {0x01};
  return crypto::Sha256({kNodePrefix, left, right});
}

Hash EmptyRoot() { return Sha256(nullptr, 0); }

std::string HashHex(const Hash& h) { return core::ToHex(std::vector<std::uint8_t>(h.begin(), h.end())); }

Result<Hash> HashFromBytes(const std::vector<std::uint8_t>& bytes) {
  if (bytes.size() != 32)
    return MakeError(ErrorKind::kInvalidArgument, "a hash must be 32 bytes, got " + std::to_string(bytes.size()));
  Hash h;
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

Result<Hash> HashFromHex(const std::string& hex) {
  auto bytes = core::ParseHex(hex);
  if (!bytes) return MakeError(ErrorKind::kInvalidArgument, "not a hex hash: " + hex);
  return HashFromBytes(*bytes);
}

Result<Hash> SubtreeHash(const NodeReader& nodes, std::uint64_t lo, std::uint64_t hi) {
  if (hi <= lo) return MakeError(ErrorKind::kInvalidArgument, "empty subtree");
  if (IsPerfectAligned(lo, hi)) return nodes(std::countr_zero(hi - lo), lo / (hi - lo));
  const std::uint64_t k = SplitPoint(hi - lo);
  TSA_ASSIGN_OR_RETURN(Hash left, SubtreeHash(nodes, lo, lo + k));
  TSA_ASSIGN_OR_RETURN(Hash right, SubtreeHash(nodes, lo + k, hi));
  return NodeHash(left, right);
}

Result<Hash> RootHash(const NodeReader& nodes, std::uint64_t size) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(nodes, 0, size);
}

namespace {

Status Path(const NodeReader& nodes, std::uint64_t m, std::uint64_t lo, std::uint64_t hi, std::vector<Hash>& out) {
  // PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, with m relative to lo; appended bottom-up.
  const std::uint64_t n = hi - lo;
  if (n <= 1) return Ok();
  const std::uint64_t k = SplitPoint(n);
  if (m < k) {
    TSA_TRY(Path(nodes, m, lo, lo + k, out));
    TSA_ASSIGN_OR_RETURN(Hash right, SubtreeHash(nodes, lo + k, hi));
    out.push_back(right);
  } else {
    TSA_TRY(Path(nodes, m - k, lo + k, hi, out));
    TSA_ASSIGN_OR_RETURN(Hash left, SubtreeHash(nodes, lo, lo + k));
    out.push_back(left);
  }
  return Ok();
}

Status SubProof(const NodeReader& nodes, std::uint64_t m, std::uint64_t lo, std::uint64_t hi, bool b, std::vector<Hash>& out) {
  // SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1.
  const std::uint64_t n = hi - lo;
  if (m == n) {
    if (!b) {
      TSA_ASSIGN_OR_RETURN(Hash h, SubtreeHash(nodes, lo, hi));
      out.push_back(h);
    }
    return Ok();
  }
  const std::uint64_t k = SplitPoint(n);
  if (m <= k) {
    TSA_TRY(SubProof(nodes, m, lo, lo + k, b, out));
    TSA_ASSIGN_OR_RETURN(Hash right, SubtreeHash(nodes, lo + k, hi));
    out.push_back(right);
  } else {
    TSA_TRY(SubProof(nodes, m - k, lo + k, hi, false, out));
    TSA_ASSIGN_OR_RETURN(Hash left, SubtreeHash(nodes, lo, lo + k));
    out.push_back(left);
  }
  return Ok();
}

}  // namespace

Result<std::vector<Hash>> InclusionProof(const NodeReader& nodes, std::uint64_t index, std::uint64_t size) {
  if (index >= size) return MakeError(ErrorKind::kInvalidArgument, "leaf index beyond the tree size");
  std::vector<Hash> out;
  TSA_TRY(Path(nodes, index, 0, size, out));
  return out;
}

Result<std::vector<Hash>> ConsistencyProof(const NodeReader& nodes, std::uint64_t old_size, std::uint64_t new_size) {
  if (old_size > new_size) return MakeError(ErrorKind::kInvalidArgument, "old size beyond new size");
  std::vector<Hash> out;
  if (old_size == 0 || old_size == new_size) return out;
  TSA_TRY(SubProof(nodes, old_size, 0, new_size, true, out));
  return out;
}

bool VerifyInclusion(const Hash& leaf, std::uint64_t index, std::uint64_t size, const std::vector<Hash>& proof,
                     const Hash& root) {
  // RFC 9162 §2.1.3.2.
  if (index >= size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root, const Hash& new_root,
                       const std::vector<Hash>& proof) {
  // RFC 9162 §2.1.4.2.
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Hash> path = proof;
  if (std::has_single_bit(old_size)) path.insert(path.begin(), old_root);
  if (path.empty()) return false;
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

std::vector<MerkleFrontier::Node> MerkleFrontier::Append(const Hash& leaf) {
  std::vector<Node> out;
  const std::uint64_t index = size_;
  out.push_back({0, index, leaf});
  Hash carry = leaf;
  int level = 0;
  // Each set low bit of index is a pending left sibling that now completes a parent.
  std::uint64_t i = index;
  while (i & 1) {
    carry = NodeHash(frontier_[static_cast<std::size_t>(level)], carry);
    ++level;
    i >>= 1;
    out.push_back({level, i, carry});
  }
  if (frontier_.size() <= static_cast<std::size_t>(level)) frontier_.resize(static_cast<std::size_t>(level) + 1);
  frontier_[static_cast<std::size_t>(level)] = carry;
  ++size_;
  return out;
}

Hash MerkleFrontier::Root() const {
  if (size_ == 0) return EmptyRoot();
  // Fold the pending perfect subtrees from the smallest (rightmost) to the largest.
  bool have = false;
  Hash acc{};
  for (std::size_t level = 0; level < 64; ++level) {
    if ((size_ >> level) & 1) {
      acc = have ? NodeHash(frontier_[level], acc) : frontier_[level];
      have = true;
    }
  }
  return acc;
}

std::vector<std::pair<int, std::uint64_t>> MerkleFrontier::FrontierNodes(std::uint64_t size) {
  // For each set bit L of size, the perfect subtree of level L that ends right before the
  // subtrees of lower set bits: index = (size >> L) - 1.
  std::vector<std::pair<int, std::uint64_t>> out;
  for (int level = 0; level < 64; ++level) {
    if ((size >> level) & 1) out.emplace_back(level, (size >> level) - 1);
  }
  return out;
}

}  // namespace tsa::audit
