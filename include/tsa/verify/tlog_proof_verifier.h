// Offline check of a c2sp.org/tlog-proof@v1 file (https://c2sp.org/tlog-proof) for one leaf: the
// checkpoint note's signature by the log key, then the inclusion path from the leaf hash
// (SHA-256(0x00 ‖ TimeStampToken DER)) to the checkpoint root (RFC 9162 §2.1.3.2).
#pragma once

#include <cstdint>
#include <string>

#include "tsa/audit/merkle.h"
#include "tsa/core/result.h"
#include "tsa/verify/note_verifier.h"

namespace tsa::verify {

struct TlogProofResult {
  std::uint64_t index = 0;
  CheckpointBody checkpoint;
  std::string note;  // the checkpoint note as in the proof, with any cosignature lines (witness_quorum.h)
};

// kInvalidArgument for a malformed proof, kCrypto for a signature or path that does not verify.
Result<TlogProofResult> VerifyTlogProof(const std::string& proof, const VerifierKey& key, const audit::Hash& leaf_hash);

}  // namespace tsa::verify
