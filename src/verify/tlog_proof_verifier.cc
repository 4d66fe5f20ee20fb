#include "tsa/verify/tlog_proof_verifier.h"

#include <vector>

#include "tsa/audit/tlog_proof.h"
#include "tsa/core/bytes.h"

namespace tsa::verify {
namespace {

Error Bad(const std::string& what) { return MakeError(ErrorKind::kInvalidArgument, "tlog-proof: " + what); }

// Next line (without "\n") from `at`; false at the end or without a final newline.
bool NextLine(const std::string& text, std::size_t& at, std::string& line) {
  const std::size_t nl = text.find('\n', at);
  if (nl == std::string::npos) return false;
  line = text.substr(at, nl - at);
  at = nl + 1;
  return true;
}

}  // namespace

Result<TlogProofResult> VerifyTlogProof(const std::string& proof, const VerifierKey& key, const audit::Hash& leaf_hash) {
  std::size_t at = 0;
  std::string line;
  if (!NextLine(proof, at, line) || line != audit::kTlogProofHeader) return Bad("not a c2sp.org/tlog-proof@v1 file");
  if (!NextLine(proof, at, line)) return Bad("truncated");
  if (line.rfind("extra ", 0) == 0 && !NextLine(proof, at, line)) return Bad("truncated");  // opaque, unused here
  TlogProofResult result;
  const std::string digits = line.rfind("index ", 0) == 0 ? line.substr(6) : "";
  if (digits.empty() || digits.size() > 19 || digits.find_first_not_of("0123456789") != std::string::npos ||
      (digits.size() > 1 && digits[0] == '0')) {
    return Bad("bad index line: " + line);
  }
  result.index = std::stoull(digits);
  std::vector<audit::Hash> path;
  while (true) {
    if (!NextLine(proof, at, line)) return Bad("no checkpoint after the inclusion path");
    if (line.empty()) break;
    auto bytes = core::Base64Decode(line);
    if (!bytes || bytes->size() != 32 || path.size() >= 64) return Bad("bad inclusion hash: " + line);
    audit::Hash h;
    std::copy(bytes->begin(), bytes->end(), h.begin());
    path.push_back(h);
  }
  result.note = proof.substr(at);
  TSA_ASSIGN_OR_RETURN(std::string body, OpenNote(result.note, key));
  TSA_ASSIGN_OR_RETURN(result.checkpoint, ParseCheckpointBody(body));
  if (result.checkpoint.origin != key.name) return Bad("checkpoint origin " + result.checkpoint.origin + " is not " + key.name);
  if (!audit::VerifyInclusion(leaf_hash, result.index, result.checkpoint.tree_size, path, result.checkpoint.root)) {
    return MakeError(ErrorKind::kCrypto, "tlog-proof: the inclusion path does not lead from the leaf to the checkpoint root");
  }
  return result;
}

}  // namespace tsa::verify
