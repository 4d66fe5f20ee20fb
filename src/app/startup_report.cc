#include "tsa/app/startup_report.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "tsa/core/build_version.h"
#include "tsa/core/hash_algorithm.h"
#include "tsa/core/utc.h"
#include "tsa/service/logging.h"
#include "tsa/store/tile_files.h"

namespace tsa::app {
namespace {

std::string Join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The word on the layout: an operator upgrading sees why a log stayed sqlite.
std::string LayoutText(const Config& c, const audit::TokenLog& log) {
  if (log.layout() == store::LogLayout::kTiles) return "tiles (" + store::TileDirectoryFor(c.db_path) + ")";
  if (log.created() || c.log_layout_given || !c.store_tokens) return "sqlite";
  return "sqlite (the existing log keeps its layout; --log-layout tiles moves it at start-up, AUDIT_CHAIN.md)";
}

std::string TlsCertText(const StartupFacts& f) {
  if (!f.tls_cert) return "-";
  return f.tls_cert->subject + " (not after " + core::FormatRfc3339(f.tls_cert->not_after * 1'000'000LL, core::Fraction::kNone) +
         ")";
}

std::string TlsClientCertText(const Config& c) {
  if (c.tls_client_ca.empty()) return "off";
  return (c.tls_require_client_cert ? "required (" : "optional (") + c.tls_client_ca + ")";
}

std::string AnchorText(const Config& c) {
  if (!c.anchor_enabled) return "off";
  return Join(c.anchor_tsas) + " every " + std::to_string(c.anchor_interval_s) + "s (" + c.anchor_mode + ")";
}

std::string ClientsText(const StartupFacts& f) {
  if (!f.clients) return "off (POST /tsa is open)";
  return f.config.clients_file + " (" + std::to_string(f.clients->Current()->size()) + " clients; POST /tsa needs credentials)";
}

}  // namespace

void LogStarted(const StartupFacts& f) {
  const Config& c = f.config;
  std::vector<std::string> hash_names;
  for (auto a : f.policy.accepted_hashes) hash_names.push_back(core::Info(a).name);
  service::LogEvent(spdlog::level::info, "started",
                    {{"version", std::string(core::BuildVersion())},
                     {"commit", std::string(core::BuildCommit())},
                     {"listen", c.serve_http ? c.host + ":" + std::to_string(f.port) : "off (--no-http)"},
                     {"listen_tls", f.tls_cert ? c.host + ":" + std::to_string(f.tls_port) : "off"},
                     {"tls_cert", TlsCertText(f)},
                     {"tls_client_cert", TlsClientCertText(c)},
                     {"cert", f.material.subject()},
                     {"key", f.material.key_description()},
                     {"key_source", f.material.key_source()},
                     {"signer", f.engine == crypto::SignerOptions::Engine::kDirect ? "direct DER encoder" : "OpenSSL TS_RESP"},
                     {"cert_days_left", (f.material.not_after() - core::UnixSeconds(f.clock.now)) / 86400},
                     {"policy", f.policy.default_policy},
                     {"hashes", Join(hash_names)},
                     {"accuracy", f.accuracy.ToString()},
                     {"clock", f.trust_unsynced ? "trust-unsynced (development: clock sync NOT enforced)" : "require-sync"},
                     {"clock_state", f.clock.detail},
                     {"db", c.db_path + (f.log.created() ? " (created a new audit log)" : "")},
                     {"log_layout", LayoutText(c, f.log)},
                     {"audit_log", c.audit_log ? "on" : "OFF (tokens are not logged)"},
                     {"io_threads", c.io_threads == 0 ? std::thread::hardware_concurrency() : c.io_threads},
                     {"max_connections", c.max_connections},
                     {"witnesses", f.witnesses == 0 ? std::string("none") : std::to_string(f.witnesses)},
                     {"anchor", AnchorText(c)},
                     {"clients", ClientsText(f)},
                     {"rate_limit", c.rate_limit.empty() ? "off" : c.rate_limit},
                     {"instance", c.instance_id}});
}

void LogStartupWarnings(const StartupFacts& f) {
  const Config& c = f.config;
  for (const auto& flag : c.obsolete_flags) {
    service::LogEvent(
        spdlog::level::warn, "obsolete_flag",
        {{"flag", flag}, {"detail", "ignored: the event-driven server has no worker per connection (see --io-threads)"}});
  }
  if (!c.audit_log) {
    service::LogEvent(spdlog::level::warn, "audit_log_off",
                      {{"effect", "tokens are issued without being logged: no audit chain, /audit/* answers 404"},
                       {"hint", "--no-audit-log is for benchmarks; remove it in production"}});
  }
  if (!f.trust_unsynced && !f.clock.synchronised) {
    service::LogEvent(spdlog::level::warn, "clock_unsynchronised",
                      {{"detail", f.clock.detail},
                       {"effect", "every request is answered timeNotAvailable until the clock is synchronised"},
                       {"hint", "run an NTP daemon, or start with --allow-unsynced-clock on development machines"}});
  }
  if (const auto stats = f.log.Stats(); !stats.writer_priority_error.empty()) {
    service::LogEvent(spdlog::level::warn, "log_writer_priority",
                      {{"detail", stats.writer_priority_error + ": the log writer keeps the default priority, "
                                                                "so throughput under load is lower"}});
  }
}

}  // namespace tsa::app
