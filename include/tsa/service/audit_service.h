// Read access to the audit chain for the HTTP endpoints (/audit/checkpoint, /audit/proof) and
// /health, over the token log and the anchoring thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tsa/audit/anchor_worker.h"
#include "tsa/audit/checkpoint_publisher.h"
#include "tsa/audit/token_log.h"
#include "tsa/audit/witness_worker.h"
#include "tsa/core/result.h"

namespace tsa::service {

class AuditService {
 public:
  // `publisher` null: no log key, no C2SP checkpoints; `witnesses` null: no --witness.
  AuditService(audit::TokenLog& log, const audit::AnchorWorker* anchors, const audit::CheckpointPublisher* publisher = nullptr,
               const audit::WitnessWorker* witnesses = nullptr)
      : log_(log), anchors_(anchors), publisher_(publisher), witnesses_(witnesses) {}

  // The latest C2SP tlog-checkpoint signed note, followed by the witnesses' cosignature lines
  // stored for it (c2sp.org/tlog-cosignature); nullopt without a log key.
  std::optional<std::string> SignedCheckpoint() const;
  // A tlog-tiles tile or entry bundle by its path below /log/ ("tile/0/x001/234"), within the
  // latest signed checkpoint. kNotFound for a bad path or a tile beyond it.
  struct TileBytes {
    std::vector<std::uint8_t> bytes;
    bool full = false;  // immutable: cacheable for ever
  };
  Result<TileBytes> Tile(const std::string& path);
  // The signed-note verifier key string of the log key; nullopt without a log key.
  std::optional<std::string> VerifierKey() const;

  // {"head": {tree_size, root}, "checkpoint": {id, tree_size, root, text, token (base64), gen_time,
  //  anchors: [{tsa_url, gen_time, reply (base64)}]} | null}
  Result<nlohmann::json> LatestCheckpoint();
  // The proof bundle of the token with this serial (tsad-proof/v1, AUDIT_CHAIN.md).
  Result<nlohmann::json> Proof(const std::string& serial_hex);
  // The c2sp.org/tlog-proof@v1 text of the token with this serial (AUDIT_CHAIN.md).
  Result<std::string> TlogProof(const std::string& serial_hex);
  // For /health.
  nlohmann::json AnchorHealth(std::int64_t now_us, int interval_s) const;
  // {"ok", "tree_size", "last_error"} of the checkpoint publisher; null without a log key.
  nlohmann::json LogCheckpointHealth() const;
  // [{"name", "url", "ok", "cosigned_size", "last_cosigned", "last_error", "consecutive_failures"}];
  // null without witnesses.
  nlohmann::json WitnessHealth() const;
  // What works but not fully (a failing witness or checkpoint publisher), one line each: /health
  // then says "degraded" (still 200: issuance does not depend on them).
  std::vector<std::string> Degradations() const;
  // For /metrics: each witness's status (empty without witnesses).
  std::vector<audit::WitnessStatus> WitnessStatuses() const;
  // For /metrics: the anchoring thread's status (nullopt when anchoring is off), and the genTime
  // of the latest checkpoint (a read on the log's read connection; 0 when there is none).
  std::optional<audit::AnchorStatus> AnchorStatusNow() const;
  Result<std::int64_t> LastCheckpointGenTimeUs() const;

 private:
  audit::TokenLog& log_;
  const audit::AnchorWorker* anchors_;           // null when anchoring is off
  const audit::CheckpointPublisher* publisher_;  // null without a log key
  const audit::WitnessWorker* witnesses_;        // null without --witness
};

}  // namespace tsa::service
