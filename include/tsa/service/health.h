// The checks behind GET /health: signing certificate, clock, database.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tsa/service/issuer.h"

namespace tsa::service {

struct HealthReport {
  bool ok = true;
  std::string failing;  // name of the first failing check
  nlohmann::json ToJson() const;
  // Filled by CheckHealth.
  bool cert_ok = true;
  long cert_days_left = 0;
  std::string cert_not_after;
  std::string cert_subject;
  std::string cert_sha256;
  bool cert_expiring = false;  // fewer than --cert-warn-days left: a warning, not a failure
  bool key_ok = true;          // the last signature succeeded (false: the HSM or module is failing)
  std::string key_source;      // PEM path or pkcs11: URI without PIN
  std::string key_description;
  std::string key_error;
  std::time_t reload_at = 0;  // last SIGHUP reload attempt (0: none)
  std::string reload_error;   // why it failed; empty when it succeeded
  bool clock_ok = true;
  std::string clock_mode;
  std::string clock_detail;
  bool clock_synchronised = false;
  bool db_ok = true;
  std::string db_detail;
  std::uint64_t tokens_logged = 0;
  bool audit_log_enabled = true;    // false under --no-audit-log (reported, and warned about)
  std::string db_checkpoint_error;  // the WAL cannot be copied back: it grows until this clears
  std::string anchor_json;          // AuditService::AnchorHealth, serialised (empty: not reported)
  std::string tls_json;             // the HTTPS listener's certificate and last reload (empty: TLS off)
  std::string tls_warning;          // a failed TLS reload, an expiring TLS certificate (empty: none)
  std::string log_checkpoint_json;  // AuditService::LogCheckpointHealth, serialised (empty or "null": none)
  std::string witnesses_json;       // AuditService::WitnessHealth, serialised (empty or "null": none)
  // AuditService::Degradations: while ok, status "degraded" (HTTP 200) names each of them.
  std::vector<std::string> degraded;
};

HealthReport CheckHealth(Issuer& issuer, std::time_t now, int cert_warn_days = 30);

}  // namespace tsa::service
