#include "tsa/service/audit_service.h"

#include <nlohmann/json.hpp>

#include "tsa/audit/proof_bundle.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/core/serial.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/store/log_queries.h"

namespace tsa::service {
namespace {
std::string Rfc3339(std::int64_t us) {
  if (us <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(us / 1'000'000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%03dZ", static_cast<int>((us / 1000) % 1000));
  return std::string(buf) + frac;
}
}  // namespace

Result<nlohmann::json> AuditService::LatestCheckpoint() {
  const audit::LogHead head = log_.Head();
  nlohmann::json out;
  out["head"] = {{"tree_size", head.size}, {"root", audit::HashHex(head.root)}};
  out["checkpoint"] = nullptr;
  TSA_TRY(log_.Read([&](store::Database& db) -> Status {
    TSA_ASSIGN_OR_RETURN(store::Statement cp,
                         db.Prepare("SELECT id, tree_size, root_hash, checkpoint, tsa_token, tsa_serial, tsa_gen_time_us "
                                    "FROM checkpoints ORDER BY id DESC LIMIT 1"));
    TSA_ASSIGN_OR_RETURN(bool row, cp.Step());
    if (!row) return Ok();
    nlohmann::json c;
    const std::int64_t id = cp.ColumnInt(0);
    c["id"] = id;
    c["tree_size"] = cp.ColumnInt(1);
    c["root"] = core::ToHex(cp.ColumnBlob(2));
    c["checkpoint"] = cp.ColumnText(3);
    c["token"] = core::Base64(cp.ColumnBlob(4));
    c["serial"] = cp.ColumnText(5);
    c["gen_time"] = Rfc3339(cp.ColumnInt(6));
    auto anchors = nlohmann::json::array();
    TSA_ASSIGN_OR_RETURN(store::Statement at,
                         db.Prepare("SELECT tsa_url, ext_gen_time_us, reply, attempted_at_us FROM anchor_attempts "
                                    "WHERE checkpoint_id = ? AND ok = 1 ORDER BY id"));
    at.Bind(1, id);
    while (true) {
      TSA_ASSIGN_OR_RETURN(bool more, at.Step());
      if (!more) break;
      anchors.push_back(
          {{"tsa_url", at.ColumnText(0)}, {"gen_time", Rfc3339(at.ColumnInt(1))}, {"reply", core::Base64(at.ColumnBlob(2))}});
    }
    c["anchors"] = anchors;
    out["checkpoint"] = c;
    return Ok();
  }));
  return out;
}

std::optional<audit::AnchorStatus> AuditService::AnchorStatusNow() const {
  if (anchors_ == nullptr) return std::nullopt;
  return anchors_->GetStatus();
}

Result<std::int64_t> AuditService::LastCheckpointGenTimeUs() const {
  std::int64_t gen_time_us = 0;
  TSA_TRY(log_.Read([&](store::Database& db) -> Status {
    TSA_ASSIGN_OR_RETURN(auto latest, store::LatestCheckpoint(db));
    if (latest) gen_time_us = latest->gen_time_us;
    return Ok();
  }));
  return gen_time_us;
}

nlohmann::json AuditService::AnchorHealth(std::int64_t now_us, int interval_s) const {
  if (anchors_ == nullptr) return {{"enabled", false}};
  const audit::AnchorStatus s = anchors_->GetStatus();
  nlohmann::json j;
  j["enabled"] = s.enabled;
  j["last_success"] = s.last_success_us ? nlohmann::json(Rfc3339(s.last_success_us)) : nlohmann::json(nullptr);
  j["age_seconds"] = s.last_success_us ? nlohmann::json((now_us - s.last_success_us) / 1'000'000) : nlohmann::json(nullptr);
  j["anchored_tree_size"] = s.anchored_tree_size;
  j["tree_size"] = log_.Head().size;
  j["last_error"] = s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error);
  j["consecutive_failures"] = s.consecutive_failures;
  // Stale: the log has grown and no anchor succeeded for two intervals. Informational: issuance
  // does not depend on anchoring.
  j["stale"] = log_.Head().size > s.anchored_tree_size &&
               (s.last_success_us == 0 || now_us - s.last_success_us > 2LL * interval_s * 1'000'000);
  return j;
}

Result<nlohmann::json> AuditService::Proof(const std::string& serial_hex) {
  const auto serial = core::CanonicalSerialHex(serial_hex);
  if (!serial) return MakeError(ErrorKind::kInvalidArgument, "not a serial number: " + serial_hex);
  Result<nlohmann::json> bundle = MakeError(ErrorKind::kInternal, "no result");
  TSA_TRY(log_.Read([&](store::Database& db) -> Status {
    bundle = audit::BuildProofBundle(db, *serial);
    return Ok();
  }));
  return bundle;
}

}  // namespace tsa::service
