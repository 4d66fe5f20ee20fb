#include "tsa/service/health.h"

#include <nlohmann/json.hpp>

#include "tsa/core/build_version.h"

namespace tsa::service {
namespace {
std::string IsoTime(std::time_t t) {
  char buf[32];
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

HealthReport CheckHealth(Issuer& issuer, std::time_t now) {
  HealthReport r;
  const auto& material = issuer.signer().material();
  r.cert_not_after = IsoTime(material.not_after());
  r.cert_days_left = static_cast<long>((material.not_after() - now) / 86400);
  // EN 319 421 §7.6.7: never sign outside the certificate's validity.
  r.cert_ok = material.UsableAt(now);

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
  j["status"] = ok ? "ok" : "unhealthy";
  j["service"] = "tsa-server";
  j["version"] = core::BuildVersion();
  j["commit"] = core::BuildCommit();
  if (!ok) j["failing"] = failing;
  j["checks"] = {
      {"certificate", {{"ok", cert_ok}, {"not_after", cert_not_after}, {"days_left", cert_days_left}}},
      {"clock", {{"ok", clock_ok}, {"mode", clock_mode}, {"synchronised", clock_synchronised}, {"detail", clock_detail}}},
      {"database", {{"ok", db_ok}, {"detail", db_detail}, {"tokens_logged", tokens_logged}}},
  };
  if (!db_checkpoint_error.empty()) j["checks"]["database"]["checkpoint_error"] = db_checkpoint_error;
  j["checks"]["audit_log"] = {{"enabled", audit_log_enabled}};
  if (!audit_log_enabled) {
    // Loud, not failing: a benchmark node stays in rotation, but nobody can miss that its tokens
    // are not in any log.
    j["checks"]["audit_log"]["detail"] = "OFF (--no-audit-log): tokens are issued without being logged";
    j["warnings"] = {"audit log off: tokens are not logged"};
  }
  if (!anchor_json.empty()) j["checks"]["anchor"] = nlohmann::json::parse(anchor_json);
  return j;
}

}  // namespace tsa::service
