// The checkpoint: the head of the token log written as a short canonical text, so that anyone can
// recompute the imprint that tsad's own token (and, through it, the external tokens) covers.
//
//   tsad-checkpoint/v1\n
//   <origin>\n            the TSA certificate subject (RFC 2253), identifies the log
//   <tree size>\n         decimal
//   <root hash>\n         lower-case hex of the RFC 9162 root
//
// imprint = SHA-256(text). AUDIT_CHAIN.md documents the format.
#pragma once

#include <cstdint>
#include <string>

#include "tsa/audit/merkle.h"
#include "tsa/core/result.h"

namespace tsa::audit {

struct Checkpoint {
  std::string origin;
  std::uint64_t tree_size = 0;
  Hash root{};

  std::string Text() const;
  Hash Imprint() const { return Sha256(Text()); }
};

// Parses the canonical text; anything else (extra lines, non-canonical numbers) is an error.
Result<Checkpoint> ParseCheckpoint(const std::string& text);

}  // namespace tsa::audit
