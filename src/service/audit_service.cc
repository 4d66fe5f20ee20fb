#include "tsa/service/audit_service.h"

#include <nlohmann/json.hpp>

#include "tsa/audit/proof_bundle.h"
#include "tsa/audit/tiles.h"
#include "tsa/audit/tlog_proof.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/core/serial.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/response_inspector.h"

namespace tsa::service {
namespace {
// JSON times of the audit endpoints, in milliseconds; empty for "never".
std::string Rfc3339(std::int64_t us) { return us <= 0 ? "" : core::FormatRfc3339(us, core::Fraction::kMillis); }
}  // namespace

Result<nlohmann::json> AuditService::LatestCheckpoint() {
  const audit::LogHead head = log_.Head();
  nlohmann::json out;
  out["head"] = {{"tree_size", head.size}, {"root", audit::HashHex(head.root)}};
  out["checkpoint"] = nullptr;
  TSA_TRY(log_.Read([&](store::LogStore& log) -> Status {
    TSA_ASSIGN_OR_RETURN(auto cp, log.LatestCheckpoint());
    if (!cp) return Ok();
    nlohmann::json c;
    c["id"] = cp->id;
    c["tree_size"] = cp->tree_size;
    c["root"] = core::ToHex(cp->root_hash);
    c["checkpoint"] = cp->checkpoint;
    c["token"] = core::Base64(cp->tsa_token);
    c["serial"] = cp->tsa_serial;
    c["gen_time"] = Rfc3339(cp->tsa_gen_time_us);
    auto anchors = nlohmann::json::array();
    TSA_ASSIGN_OR_RETURN(auto attempts, log.AnchorAttempts(cp->id, /*ok_only=*/true));
    for (const store::AnchorAttemptRow& a : attempts) {
      anchors.push_back({{"tsa_url", a.tsa_url}, {"gen_time", Rfc3339(a.ext_gen_time_us)}, {"reply", core::Base64(a.reply)}});
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
  TSA_TRY(log_.Read([&](store::LogStore& store) -> Status {
    TSA_ASSIGN_OR_RETURN(auto latest, store.LatestCheckpoint());
    if (latest) gen_time_us = latest->tsa_gen_time_us;
    return Ok();
  }));
  return gen_time_us;
}

std::optional<std::string> AuditService::SignedCheckpoint() const {
  if (publisher_ == nullptr) return std::nullopt;
  auto latest = publisher_->Latest();
  if (!latest) return std::nullopt;
  // tlog-witness: the cosignatures follow the log's own signature line (signed-note allows any
  // number of signature lines; a verifier ignores the keys it does not know).
  if (witnesses_ != nullptr) return latest->note + witnesses_->CosignatureLines(latest->tree_size);
  return latest->note;
}

nlohmann::json AuditService::LogCheckpointHealth() const {
  if (publisher_ == nullptr) return nullptr;
  const auto latest = publisher_->Latest();
  const std::string error = publisher_->last_error();
  nlohmann::json j{{"ok", error.empty()}, {"tree_size", latest ? latest->tree_size : 0}};
  j["last_error"] = error.empty() ? nlohmann::json(nullptr) : nlohmann::json(error);
  return j;
}

std::vector<audit::WitnessStatus> AuditService::WitnessStatuses() const {
  if (witnesses_ == nullptr) return {};
  return witnesses_->Statuses();
}

nlohmann::json AuditService::WitnessHealth() const {
  if (witnesses_ == nullptr) return nullptr;
  auto out = nlohmann::json::array();
  for (const audit::WitnessStatus& w : witnesses_->Statuses()) {
    nlohmann::json j{{"name", w.name},
                     {"url", w.url},
                     {"ok", w.consecutive_failures == 0},
                     {"cosigned_size", w.cosigned_size},
                     {"consecutive_failures", w.consecutive_failures}};
    j["last_cosigned"] = w.last_cosigned_timestamp > 0 ? nlohmann::json(Rfc3339(w.last_cosigned_timestamp * 1'000'000))
                                                       : nlohmann::json(nullptr);
    j["last_error"] = w.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.last_error);
    out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> AuditService::Degradations() const {
  std::vector<std::string> out;
  if (publisher_ != nullptr) {
    if (const std::string error = publisher_->last_error(); !error.empty()) out.push_back("log checkpoint: " + error);
  }
  for (const audit::WitnessStatus& w : WitnessStatuses()) {
    if (w.consecutive_failures > 0) out.push_back("witness " + w.name + " (" + w.url + "): " + w.last_error);
  }
  return out;
}

Result<AuditService::TileBytes> AuditService::Tile(const std::string& path) {
  const auto latest = publisher_ == nullptr ? std::nullopt : publisher_->Latest();
  if (!latest) return MakeError(ErrorKind::kNotFound, "this tsad has no log key (--log-key): no tiles");
  const auto tile = path.rfind("tile/", 0) == 0 ? audit::ParseTilePath(path.substr(5)) : std::nullopt;
  if (!tile) return MakeError(ErrorKind::kNotFound, "not a tlog-tiles path: " + path);
  TileBytes out;
  out.full = !tile->partial();
  TSA_TRY(log_.Read([&](store::LogStore& log) -> Status {
    TSA_ASSIGN_OR_RETURN(out.bytes, audit::ReadTile(log, *tile, latest->tree_size));
    return Ok();
  }));
  return out;
}

std::optional<std::string> AuditService::VerifierKey() const {
  if (publisher_ == nullptr) return std::nullopt;
  return publisher_->signer().VerifierKey();
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

Result<std::string> AuditService::TlogProof(const std::string& serial_hex) {
  if (publisher_ == nullptr) return MakeError(ErrorKind::kNotFound, "this tsad has no log key (--log-key): no tlog-proofs");
  const auto serial = core::CanonicalSerialHex(serial_hex);
  if (!serial) return MakeError(ErrorKind::kInvalidArgument, "not a serial number: " + serial_hex);
  Result<std::string> proof = MakeError(ErrorKind::kInternal, "no result");
  TSA_TRY(log_.Read([&](store::LogStore& log) -> Status {
    proof = audit::BuildTlogProof(log, *serial);
    return Ok();
  }));
  return proof;
}

Result<nlohmann::json> AuditService::Proof(const std::string& serial_hex) {
  const auto serial = core::CanonicalSerialHex(serial_hex);
  if (!serial) return MakeError(ErrorKind::kInvalidArgument, "not a serial number: " + serial_hex);
  Result<nlohmann::json> bundle = MakeError(ErrorKind::kInternal, "no result");
  TSA_TRY(log_.Read([&](store::LogStore& log) -> Status {
    bundle = audit::BuildProofBundle(log, *serial);
    return Ok();
  }));
  return bundle;
}

}  // namespace tsa::service
