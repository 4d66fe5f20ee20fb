// Read access to the audit chain for the HTTP endpoints (/audit/checkpoint, /audit/proof) and
// /health, over the token log and the anchoring thread.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tsa/audit/anchor_worker.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/result.h"

namespace tsa::service {

class AuditService {
 public:
  AuditService(audit::TokenLog& log, const audit::AnchorWorker* anchors) : log_(log), anchors_(anchors) {}

  // {"head": {tree_size, root}, "checkpoint": {id, tree_size, root, text, token (base64), gen_time,
  //  anchors: [{tsa_url, gen_time, reply (base64)}]} | null}
  Result<nlohmann::json> LatestCheckpoint();
  // The proof bundle of the token with this serial (tsad-proof/v1, AUDIT_CHAIN.md).
  Result<nlohmann::json> Proof(const std::string& serial_hex);
  // For /health.
  nlohmann::json AnchorHealth(std::int64_t now_us, int interval_s) const;
  // For /metrics: the anchoring thread's status (nullopt when anchoring is off), and the genTime
  // of the latest checkpoint (a read on the log's read connection; 0 when there is none).
  std::optional<audit::AnchorStatus> AnchorStatusNow() const;
  Result<std::int64_t> LastCheckpointGenTimeUs() const;

 private:
  audit::TokenLog& log_;
  const audit::AnchorWorker* anchors_;  // null when anchoring is off
};

}  // namespace tsa::service
