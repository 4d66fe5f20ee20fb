#include "tsa/audit/tlog_proof.h"

#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/response_info.h"

namespace tsa::audit {

Result<std::string> BuildTlogProof(store::LogStore& log, const std::string& serial_hex) {
  TSA_ASSIGN_OR_RETURN(auto leaf, log.FindLeafBySerial(serial_hex));
  if (!leaf) return MakeError(ErrorKind::kNotFound, "serial " + serial_hex + " is not in the log");
  TSA_ASSIGN_OR_RETURN(auto cp, log.LatestSignedCheckpoint());
  const auto index = static_cast<std::uint64_t>(leaf->index);
  if (!cp || static_cast<std::uint64_t>(cp->tree_size) <= index) {
    return MakeError(ErrorKind::kUnavailable,
                     "no signed checkpoint covers leaf " + std::to_string(index) + " yet: retry in a second");
  }
  TSA_ASSIGN_OR_RETURN(auto path, InclusionProof(TokenLog::Nodes(log), index, static_cast<std::uint64_t>(cp->tree_size)));
  std::string out = std::string(kTlogProofHeader) + "\nindex " + std::to_string(index) + "\n";
  for (const Hash& h : path) out += core::Base64(std::vector<std::uint8_t>(h.begin(), h.end())) + "\n";
  out += "\n" + cp->note;
  // The witnesses' cosignatures follow the log's signature, as at GET /log/checkpoint, so that a
  // relying party can require them offline (c2sp.org/tlog-proof carries the checkpoint as served).
  TSA_ASSIGN_OR_RETURN(auto cosignatures, log.Cosignatures(static_cast<std::uint64_t>(cp->tree_size)));
  for (const store::CosignatureRow& c : cosignatures) out += c.line;
  return out;
}

}  // namespace tsa::audit
