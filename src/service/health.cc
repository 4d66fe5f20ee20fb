#include "tsa/service/health.h"

#include <nlohmann/json.hpp>

#include "tsa/core/build_version.h"
#include "tsa/core/utc.h"

namespace tsa::service {
namespace {
std::string IsoTime(std::time_t t) {
  return core::FormatRfc3339(static_cast<std::int64_t>(t) * 1'000'000, core::Fraction::kNone);
}
}  // namespace

HealthReport CheckHealth(Issuer& issuer, std::time_t now, int cert_warn_days) {
  HealthReport r;
  const auto signer = issuer.signer();
  const auto& material = signer->material();
  r.cert_not_after = IsoTime(material.not_after());
  r.cert_days_left = static_cast<long>((material.not_after() - now) / 86400);
  r.cert_subject = material.subject();
  r.cert_sha256 = material.certificate_sha256();
  // EN 319 421 §7.6.7: never sign outside the certificate's validity.
  r.cert_ok = material.UsableAt(now);
  r.cert_expiring = r.cert_ok && material.usable_until() - now < static_cast<std::time_t>(cert_warn_days) * 86400;
  r.key_source = material.key_source();
  r.key_description = material.key_description();
  if (auto failure = signer->Failure()) {
    r.key_ok = false;
    r.key_error = *failure;
  }
  const auto reload = issuer.LastReload();
  r.reload_at = reload.at;
  r.reload_error = reload.error;

  const core::ClockReading reading = issuer.ReadClock();
  r.clock_synchronised = reading.synchronised;
  r.clock_mode = issuer.clock_mode() == core::ClockMode::kRequireSync ? "require-sync" : "trust-unsynced (development)";
  const auto problem = issuer.ClockProblem();
  r.clock_ok = !problem.has_value();
  r.clock_detail = problem.value_or(reading.detail);

  const Status probe = issuer.log().Probe(2000);
  r.db_ok = probe.has_value();
  r.db_detail = probe ? "writable" : probe.error().message;
  r.audit_log_enabled = issuer.logs_tokens();
  const auto log_stats = issuer.log().Stats();
  r.tokens_logged = log_stats.size;
  r.db_checkpoint_error = log_stats.checkpoint_error;

  if (!r.cert_ok) {
    r.ok = false;
    r.failing = "certificate";
  } else if (!r.key_ok) {
    r.ok = false;
    r.failing = "signing_key";
  } else if (!r.clock_ok) {
    r.ok = false;
    r.failing = "clock";
  } else if (!r.db_ok) {
    r.ok = false;
    r.failing = "database";
  }
  return r;
}

nlohmann::json HealthReport::ToJson() const {
  nlohmann::json j;
  // "degraded": tokens are issued and logged, but a part of the audit chain around them (a
  // witness, the checkpoint publisher) is failing; the list says which.
  j["status"] = !ok ? "unhealthy" : degraded.empty() ? "ok" : "degraded";
  if (!degraded.empty()) j["degraded"] = degraded;
  j["service"] = "tsa-server";
  j["version"] = core::BuildVersion();
  j["commit"] = core::BuildCommit();
  if (!ok) j["failing"] = failing;
  j["checks"] = {
      {"certificate",
       {{"ok", cert_ok},
        {"subject", cert_subject},
        {"sha256", cert_sha256},
        {"not_after", cert_not_after},
        {"days_left", cert_days_left},
        {"expiring", cert_expiring}}},
      {"signing_key", {{"ok", key_ok}, {"source", key_source}, {"type", key_description}}},
      {"clock", {{"ok", clock_ok}, {"mode", clock_mode}, {"synchronised", clock_synchronised}, {"detail", clock_detail}}},
      {"database", {{"ok", db_ok}, {"detail", db_detail}, {"tokens_logged", tokens_logged}}},
  };
  if (!db_checkpoint_error.empty()) j["checks"]["database"]["checkpoint_error"] = db_checkpoint_error;
  if (!key_ok) j["checks"]["signing_key"]["error"] = key_error;
  if (reload_at != 0) {
    j["checks"]["reload"] = {{"ok", reload_error.empty()}, {"at", IsoTime(reload_at)}};
    if (!reload_error.empty()) j["checks"]["reload"]["error"] = reload_error;
  }
  j["checks"]["audit_log"] = {{"enabled", audit_log_enabled}};
  // Warnings are loud, not failing: the node stays in rotation while the operator acts.
  auto warnings = nlohmann::json::array();
  if (!audit_log_enabled) {
    j["checks"]["audit_log"]["detail"] = "OFF (--no-audit-log): tokens are issued without being logged";
    warnings.push_back("audit log off: tokens are not logged");
  }
  if (cert_expiring) {
    warnings.push_back("the TSA certificate expires in " + std::to_string(cert_days_left) + " days (" + cert_not_after +
                       "): roll it over (README \"Reload and rollover\")");
  }
  if (reload_at != 0 && !reload_error.empty()) {
    warnings.push_back("the last reload (SIGHUP) failed, the previous key and certificate are still in use: " + reload_error);
  }
  if (!tls_warning.empty()) warnings.push_back(tls_warning);
  for (const std::string& d : degraded) warnings.push_back(d);
  if (!warnings.empty()) j["warnings"] = warnings;
  if (!anchor_json.empty()) j["checks"]["anchor"] = nlohmann::json::parse(anchor_json);
  if (!tls_json.empty()) j["checks"]["tls"] = nlohmann::json::parse(tls_json);
  if (!log_checkpoint_json.empty() && log_checkpoint_json != "null") {
    j["checks"]["log_checkpoint"] = nlohmann::json::parse(log_checkpoint_json);
  }
  if (!witnesses_json.empty() && witnesses_json != "null") j["checks"]["witnesses"] = nlohmann::json::parse(witnesses_json);
  return j;
}

}  // namespace tsa::service
