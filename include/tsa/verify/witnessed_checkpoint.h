// tsa-audit-verify --db with --witness-vkey: the largest signed checkpoint in an audit database
// that a quorum of the relying party's witnesses cosigned (table witness_cosignatures, served
// after the note at GET /log/checkpoint), checked against the log as stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tsa/core/result.h"
#include "tsa/store/log_store.h"
#include "tsa/verify/note_verifier.h"
#include "tsa/verify/witness_quorum.h"

namespace tsa::verify {

struct WitnessedCheckpoint {
  std::uint64_t tree_size = 0;
  std::string note;  // the checkpoint note followed by the stored cosignature lines
  QuorumReport quorum;
};

// The candidates are the sizes each policy witness last cosigned (LogStore::LatestCosignedSize),
// largest first; the first whose stored cosignatures reach the quorum wins. Its note must be
// signed by `log_key` when one is given, and its root must be the root of the stored tree at that
// size (RFC 9162 §2.1.1, from the stored nodes the chain check verified). kNotFound "cosigned by k
// of the required q" when no candidate reaches the quorum; kCrypto for a cosignature by a policy
// witness that does not verify (forged or damaged row), a bad log signature, or another root.
Result<WitnessedCheckpoint> LargestWitnessedCheckpoint(store::LogStore& log, const WitnessPolicy& policy,
                                                       const std::optional<VerifierKey>& log_key);

}  // namespace tsa::verify
