// What a relying party requires of witnesses (c2sp.org/tlog-witness, c2sp.org/tlog-cosignature):
// of the witness keys it trusts, at least `quorum` must have cosigned the checkpoint it relies
// on. A cosignature/v1 line signs "cosignature/v1\ntime <t>\n" + the checkpoint body; the check
// itself is audit::VerifyCosignatures, the one implementation tsad's witness worker also runs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "tsa/audit/cosignature.h"
#include "tsa/core/result.h"

namespace tsa::verify {

struct WitnessPolicy {
  std::vector<audit::WitnessKey> keys;
  std::size_t quorum = 0;  // 1..keys.size()
  bool empty() const { return keys.empty(); }
};

// From the verifier key strings (type 0x04) and a quorum (0: all of them). kInvalidArgument for
// a key that does not parse, the same key twice, or a quorum above the number of keys.
Result<WitnessPolicy> MakeWitnessPolicy(const std::vector<std::string>& vkeys, std::size_t quorum);

struct QuorumReport {
  std::vector<std::string> cosigned_by;  // the names of the policy's witnesses that validly cosigned
};

// `signature_lines`: the signed-note signature lines ("— <name> <base64>\n" ...) of a checkpoint
// whose body (the text the log key signs) is `checkpoint_body`. Lines by keys outside the policy
// are ignored (c2sp.org/signed-note). kCrypto when a line by a policy key is malformed or does
// not verify (a forgery: the note is rejected, as signed-note verifiers do); kNotFound
// "cosigned by k of the required q witnesses" when fewer than the quorum cosigned.
Result<QuorumReport> CheckWitnessQuorum(const std::string& signature_lines, const std::string& checkpoint_body,
                                        const WitnessPolicy& policy);

// The same for a whole signed note (body, blank line, signature lines, as GET /log/checkpoint
// serves it with the cosignatures after the log's line).
Result<QuorumReport> CheckNoteWitnessQuorum(const std::string& note, const WitnessPolicy& policy);

}  // namespace tsa::verify
