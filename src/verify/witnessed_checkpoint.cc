#include "tsa/verify/witnessed_checkpoint.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"

namespace tsa::verify {
namespace {

// The size's note and its stored cosignature lines; kNotFound when no note of exactly this size.
Result<std::string> CosignedNote(store::LogStore& log, std::uint64_t size) {
  TSA_ASSIGN_OR_RETURN(auto cp, log.SignedCheckpointCovering(size - 1));
  if (!cp || static_cast<std::uint64_t>(cp->tree_size) != size) {
    return MakeError(ErrorKind::kNotFound, "no signed checkpoint of size " + std::to_string(size) + " is stored");
  }
  std::string note = cp->note;
  TSA_ASSIGN_OR_RETURN(auto rows, log.Cosignatures(size));
  for (const store::CosignatureRow& r : rows) note += r.line;
  return note;
}

// The checkpoint is the log's: signed by its key (when pinned) over the stored tree's root.
Status CheckAgainstLog(store::LogStore& log, const std::string& note, std::uint64_t size,
                       const std::optional<VerifierKey>& log_key) {
  std::string body = note.substr(0, note.rfind("\n\n") + 1);
  if (log_key) {
    TSA_ASSIGN_OR_RETURN(body, OpenNote(note, *log_key));
  }
  TSA_ASSIGN_OR_RETURN(CheckpointBody cp, ParseCheckpointBody(body));
  TSA_ASSIGN_OR_RETURN(audit::Hash root, audit::RootHash(audit::TokenLog::Nodes(log), size));
  if (cp.tree_size != size || cp.root != root) {
    return MakeError(ErrorKind::kCrypto,
                     "the cosigned checkpoint of size " + std::to_string(size) + " does not carry the stored tree's root");
  }
  return Ok();
}

}  // namespace

Result<WitnessedCheckpoint> LargestWitnessedCheckpoint(store::LogStore& log, const WitnessPolicy& policy,
                                                       const std::optional<VerifierKey>& log_key) {
  std::vector<std::uint64_t> sizes;
  for (const audit::WitnessKey& k : policy.keys) {
    TSA_ASSIGN_OR_RETURN(std::uint64_t size, log.LatestCosignedSize(k.name, static_cast<std::int64_t>(k.key_id)));
    if (size > 0) sizes.push_back(size);
  }
  std::sort(sizes.begin(), sizes.end(), std::greater<>());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  Error last = MakeError(ErrorKind::kNotFound, "cosigned by 0 of the required " + std::to_string(policy.quorum) +
                                                   " witness(es): no stored cosignature by them");
  for (std::uint64_t size : sizes) {
    TSA_ASSIGN_OR_RETURN(std::string note, CosignedNote(log, size));
    auto quorum = CheckNoteWitnessQuorum(note, policy);
    if (!quorum) {
      if (quorum.error().kind != ErrorKind::kNotFound) return quorum.error();
      last = MakeError(ErrorKind::kNotFound, "checkpoint size " + std::to_string(size) + ": " + quorum.error().message);
      continue;
    }
    TSA_TRY(CheckAgainstLog(log, note, size, log_key));
    return WitnessedCheckpoint{size, std::move(note), std::move(*quorum)};
  }
  return last;
}

}  // namespace tsa::verify
