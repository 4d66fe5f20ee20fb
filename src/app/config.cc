#include "tsa/app/config.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tsa/core/build_version.h"

namespace tsa::app {
namespace {

const char* NonEmptyEnv(const std::string& name) {
  const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// CLI11 2.1 applies the config file before environment variables, and an environment variable only
// fills an option that is still unset, so a file would beat the environment. This parser drops the
// file keys whose TSA_* variable is set, giving the documented precedence: flag > environment >
// file > default.
class EnvironmentFirstConfig final : public CLI::ConfigTOML {
 public:
  explicit EnvironmentFirstConfig(const CLI::App* app) : app_(app) {}
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    auto kept = CLI::ConfigTOML::from_config(input);
    std::erase_if(kept, [&](const CLI::ConfigItem& item) {
      const CLI::Option* opt = item.parents.empty() ? app_->get_option_no_throw("--" + item.name) : nullptr;
      return opt != nullptr && NonEmptyEnv(opt->get_envname()) != nullptr;
    });
    return kept;
  }

 private:
  const CLI::App* app_;
};

// A boolean switch with its negation ("--x,!--no-x"). Its description ends with the real
// default; see SwitchFormatter for why.
CLI::Option* AddSwitch(CLI::App& app, const std::string& names, bool& value, const std::string& description) {
  return app.add_flag(names, value, description + " [default: " + (value ? "on" : "off") + "]");
}

// CLI11 2.1 prints a negated switch as "--no-x{false}", which readers take for the default even
// when the switch is on. The names are printed without the "{value}" suffixes.
class SwitchFormatter final : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, is_positional);
    for (auto open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
      const auto close = name.find('}', open);
      if (close == std::string::npos) break;
      name.erase(open, close - open + 1);
    }
    return name;
  }
};

// --host, --port and the threads and caps that serve connections (group HTTP).
void AddListenerOptions(CLI::App& app, Config& c) {
  app.add_option("--host", c.host, "Address to listen on")->envname("TSA_HOST")->group("HTTP");
  app.add_option("-p,--port", c.port, "Port to listen on (0: any free port)")
      ->envname("TSA_PORT")
      ->check(CLI::Range(0, 65535))
      ->group("HTTP");
  app.add_option("--io-threads", c.io_threads, "I/O threads serving every connection (0: one per core)")
      ->envname("TSA_IO_THREADS")
      ->check(CLI::Range(0, 256))
      ->group("HTTP");
  app.add_option("--max-connections", c.max_connections, "Open connections at most; at the cap the oldest idle ones are closed")
      ->envname("TSA_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->group("HTTP");
  app.add_option("--max-in-flight", c.max_in_flight,
                 "Requests being signed or logged at most; above, further requests wait in their sockets")
      ->envname("TSA_MAX_IN_FLIGHT")
      ->check(CLI::Range(1, 1000000))
      ->group("HTTP");
  // The thread-per-connection server's knobs: accepted so that old configurations still start.
  for (const char* obsolete : {"--threads", "--max-threads"}) {
    app.add_option_function<std::string>(
           obsolete, [&c, obsolete](const std::string&) { c.obsolete_flags.emplace_back(obsolete); }, "obsolete: ignored")
        ->group("");
  }
  app.add_option("--port-file", c.port_file, "Write the bound port to this file once listening")
      ->envname("TSA_PORT_FILE")
      ->group("HTTP");
}

// Limits and deadlines of one request (group HTTP; README "HTTP limits").
void AddRequestLimitOptions(CLI::App& app, Config& c) {
  app.add_option("--max-request-bytes", c.max_request_bytes, "Largest DER TimeStampReq body accepted (413 above)")
      ->envname("TSA_MAX_REQUEST_BYTES")
      ->group("HTTP");
  app.add_option("--max-data-bytes", c.max_data_bytes, "Largest raw-data body hashed by tsad (413 above)")
      ->envname("TSA_MAX_DATA_BYTES")
      ->group("HTTP");
  app.add_option("--max-header-bytes", c.max_header_bytes, "Largest total size of the header fields (431 above)")
      ->envname("TSA_MAX_HEADER_BYTES")
      ->check(CLI::Range(1024, 1 << 20))
      ->group("HTTP");
  app.add_option("--max-headers", c.max_headers, "Most header fields in a request (431 above)")
      ->envname("TSA_MAX_HEADERS")
      ->check(CLI::Range(8, 10000))
      ->group("HTTP");
  app.add_option("--max-uri-bytes", c.max_uri_bytes, "Longest request-target (414 above)")
      ->envname("TSA_MAX_URI_BYTES")
      ->check(CLI::Range(64, 1 << 20))
      ->group("HTTP");
  app.add_option("--read-timeout", c.read_timeout_s, "Seconds a client may take to send a whole request (head and body)")
      ->envname("TSA_READ_TIMEOUT")
      ->check(CLI::Range(1, 300))
      ->group("HTTP");
  app.add_option("--keep-alive-timeout", c.keep_alive_timeout_s, "Seconds an idle connection is kept open between requests")
      ->envname("TSA_KEEP_ALIVE_TIMEOUT")
      ->check(CLI::Range(1, 3600))
      ->group("HTTP");
}

// Who may use /tsa and /metrics, how often, and plain HTTP on or off (group HTTP).
void AddAccessOptions(CLI::App& app, Config& c) {
  app.add_option("--clients", c.clients_file,
                 "Clients file (JSON, made with tsa-clients): POST /tsa then needs an API key; SIGHUP re-reads it")
      ->envname("TSA_CLIENTS_FILE")
      ->group("HTTP");
  app.add_option("--rate-limit", c.rate_limit,
                 "POST /tsa per client (name, or remote address when anonymous): RATE[/s|/min][:BURST]; 429 above")
      ->envname("TSA_RATE_LIMIT")
      ->group("HTTP");
  app.add_option("--global-rate-limit", c.global_rate_limit, "POST /tsa for the whole daemon: RATE[/s|/min][:BURST]")
      ->envname("TSA_GLOBAL_RATE_LIMIT")
      ->group("HTTP");
  app.add_option("--metrics-from", c.metrics_from,
                 "Who may GET /metrics: loopback (default), any, or client (an API key of --clients)")
      ->envname("TSA_METRICS_FROM")
      ->check(CLI::IsMember({"loopback", "any", "client"}))
      ->group("HTTP");

  AddSwitch(app, "--http,!--no-http", c.serve_http, "Serve plain HTTP on --port (--no-http: HTTPS only)")
      ->envname("TSA_HTTP")
      ->group("HTTP");
}

// HTTPS and mutual TLS (group TLS).
void AddTlsOptions(CLI::App& app, Config& c) {
  app.add_option("--tls-cert", c.tls_cert, "TLS server certificate (PEM, then its intermediates): serve HTTPS on --tls-port")
      ->envname("TSA_TLS_CERT")
      ->group("TLS");
  app.add_option("--tls-key", c.tls_key, "TLS private key: a PEM file (chmod 600) or a pkcs11: URI (as --key)")
      ->envname("TSA_TLS_KEY")
      ->group("TLS");
  app.add_option("--tls-port", c.tls_port, "HTTPS port (0: any free port)")
      ->envname("TSA_TLS_PORT")
      ->check(CLI::Range(0, 65535))
      ->group("TLS");
  app.add_option("--tls-port-file", c.tls_port_file, "Write the bound HTTPS port to this file once listening")
      ->envname("TSA_TLS_PORT_FILE")
      ->group("TLS");
  app.add_option("--tls-client-ca", c.tls_client_ca,
                 "CA certificates (PEM) that client certificates must chain to: request one (mutual TLS)")
      ->envname("TSA_TLS_CLIENT_CA")
      ->group("TLS");
  AddSwitch(app, "--tls-require-client-cert,!--no-tls-require-client-cert", c.tls_require_client_cert,
            "Refuse HTTPS clients without a certificate from --tls-client-ca")
      ->envname("TSA_TLS_REQUIRE_CLIENT_CERT")
      ->group("TLS");
}

// The TSA key, certificate and chain (group Signing).
void AddSigningOptions(CLI::App& app, Config& c) {
  app.add_option("--cert-dir", c.cert_dir, "Directory with tsa_key.pem, tsa_cert.pem and optional chain.pem")
      ->envname("TSA_CERT_DIR")
      ->group("Signing");
  app.add_option("--key", c.key_file,
                 "TSA private key: a PEM file, or an RFC 7512 pkcs11: URI of a key in a token (PIN from the URI's "
                 "pin-value/pin-source or TSA_PKCS11_PIN); overrides --cert-dir")
      ->envname("TSA_KEY_FILE")
      ->group("Signing");
  app.add_option("--pkcs11-module", c.pkcs11_module,
                 "PKCS#11 module for a pkcs11: --key (default: /usr/lib/softhsm/libsofthsm2.so)")
      ->envname("TSA_PKCS11_MODULE")
      ->group("Signing");
  app.add_option("--cert-warn-days", c.cert_warn_days, "/health warns when the TSA certificate has fewer days left")
      ->envname("TSA_CERT_WARN_DAYS")
      ->check(CLI::Range(0, 3650))
      ->group("Signing");
  app.add_option("--cert", c.cert_file, "TSA certificate (PEM); overrides --cert-dir")
      ->envname("TSA_CERT_FILE")
      ->group("Signing");
  app.add_option("--chain", c.chain_file, "Issuer certificates (PEM); overrides --cert-dir")
      ->envname("TSA_CHAIN_FILE")
      ->group("Signing");
  AddSwitch(app, "--allow-readable-key,!--no-allow-readable-key", c.allow_readable_key,
            "Accept a key file that other users can access (refused by default: chmod 600 it)")
      ->envname("TSA_ALLOW_READABLE_KEY")
      ->group("Signing");
}

// What goes into each token, and the clock it needs (groups Tokens and Time).
void AddTokenOptions(CLI::App& app, Config& c) {
  app.add_option("--policy", c.policy, "Default TSA policy OID (TSTInfo.policy)")->envname("TSA_POLICY")->group("Tokens");
  app.add_option("--accept-policy", c.accepted_policies,
                 "Further policy OIDs a request may ask for (repeatable, comma-separated)")
      ->envname("TSA_ACCEPT_POLICIES")
      ->delimiter(',')
      ->group("Tokens");
  app.add_option("--hash", c.hashes, "Accepted imprint hash algorithms (comma-separated)")
      ->envname("TSA_HASHES")
      ->delimiter(',')
      ->group("Tokens");
  AddSwitch(app, "--allow-sha1,!--no-allow-sha1", c.allow_sha1, "Also accept SHA-1 imprints (legacy clients)")
      ->envname("TSA_ALLOW_SHA1")
      ->group("Tokens");
  app.add_option("--accuracy", c.accuracy, "Declared accuracy written in every token: 1s, 500ms, ...")
      ->envname("TSA_ACCURACY")
      ->group("Tokens");
  app.add_option("--clock-precision", c.clock_precision_digits, "Fraction digits of genTime (0-6)")
      ->envname("TSA_CLOCK_PRECISION")
      ->check(CLI::Range(0, 6))
      ->group("Tokens");
  AddSwitch(app, "--tsa-name,!--no-tsa-name", c.include_tsa_name, "Put the TSA name in TSTInfo.tsa")
      ->envname("TSA_TSA_NAME")
      ->group("Tokens");
  app.add_option("--token-encoder", c.token_encoder,
                 "direct: tsad's DER encoder, checked against OpenSSL at start-up (3x faster); openssl: TS_RESP for every token")
      ->envname("TSA_TOKEN_ENCODER")
      ->check(CLI::IsMember({"direct", "openssl"}))
      ->group("Tokens");

  AddSwitch(app, "--allow-unsynced-clock,!--require-synced-clock", c.allow_unsynced_clock,
            "Issue tokens even when the kernel reports the clock unsynchronised (development/containers only)")
      ->envname("TSA_ALLOW_UNSYNCED_CLOCK")
      ->group("Time");
}

// The audit log's file, layout and writer (group Storage).
void AddStorageOptions(CLI::App& app, Config& c) {
  app.add_option("--db", c.db_path, "SQLite database of the audit log")->envname("TSA_DB")->group("Storage");
  AddSwitch(app, "--audit-log,!--no-audit-log", c.audit_log,
            "Append every granted token to the audit log (turning it off gives up the audit chain: benchmarks only)")
      ->envname("TSA_AUDIT_LOG")
      ->group("Storage");
  app.add_option("--log-layout", c.log_layout,
                 "Where the audit log keeps its leaves: tiles (C2SP entry bundles and hash tiles in <db>.tiles/, "
                 "SQLite for the rest) or sqlite (every token a row). A new log takes this one (sqlite with "
                 "--store-token-hashes-only unless given); an existing log keeps its own, except that tiles, when "
                 "given, moves a sqlite log at start-up; a tiles log stays tiles (AUDIT_CHAIN.md)")
      ->check(CLI::IsMember({"sqlite", "tiles"}))
      ->envname("TSA_LOG_LAYOUT")
      ->group("Storage");
  AddSwitch(app, "--store-tokens,!--store-token-hashes-only", c.store_tokens, "Keep each token in the log (else only its hash)")
      ->envname("TSA_STORE_TOKENS")
      ->group("Storage");
  AddSwitch(app, "--sync-full,!--sync-normal", c.synchronous_full, "fsync every commit (survives power loss)")
      ->envname("TSA_SYNC_FULL")
      ->group("Storage");
  app.add_option("--log-gather-us", c.log_gather_us,
                 "Microseconds a log commit may wait under load for its queue to fill (group commit; 0: never)")
      ->envname("TSA_LOG_GATHER_US")
      ->check(CLI::Range(0, 100000))
      ->group("Storage");
  app.add_option("--log-writer-nice", c.log_writer_nice,
                 "Nice value asked for the log writer thread, on every token's path (negative: CAP_SYS_NICE or RLIMIT_NICE)")
      ->envname("TSA_LOG_WRITER_NICE")
      ->check(CLI::Range(-20, 19))
      ->group("Storage");
  app.add_option("--instance-id", c.instance_id,
                 "Instance number (0-65535), distinct per tsad behind one URL; part of every serial")
      ->envname("TSA_INSTANCE_ID")
      ->check(CLI::Range(0, 65535))
      ->group("Storage");
}

// C2SP checkpoints, witnesses and anchors (group Audit chain, AUDIT_CHAIN.md).
void AddAuditChainOptions(CLI::App& app, Config& c) {
  app.add_option("--log-key", c.log_key,
                 "Ed25519 PEM key that signs the C2SP checkpoints (default <cert-dir>/log_key.pem; tsa-certgen makes it)")
      ->envname("TSA_LOG_KEY")
      ->group("Audit chain");
  app.add_option("--log-origin", c.log_origin, "Origin line (and key name) of the C2SP checkpoints (default <TSA CN>/log)")
      ->envname("TSA_LOG_ORIGIN")
      ->group("Audit chain");
  app.add_option("--witness", c.witnesses,
                 "A tlog-witness that cosigns each checkpoint: URL=VKEY (submission prefix and the witness's verifier key; "
                 "repeatable, comma-separated)")
      ->envname("TSA_WITNESSES")
      ->delimiter(',')
      ->group("Audit chain");
  app.add_option("--witness-timeout", c.witness_timeout_s, "Seconds per add-checkpoint request to a witness")
      ->envname("TSA_WITNESS_TIMEOUT")
      ->check(CLI::Range(1, 600))
      ->group("Audit chain");
  app.add_option("--anchor-tsa", c.anchor_tsas,
                 "External TSA URL(s) that time-stamp the log's checkpoints (repeatable, comma-separated)")
      ->envname("TSA_ANCHOR_TSAS")
      ->delimiter(',')
      ->group("Audit chain");
  AddSwitch(app, "--anchor,!--no-anchor", c.anchor_enabled, "Anchor checkpoints at external TSAs")
      ->envname("TSA_ANCHOR")
      ->group("Audit chain");
  app.add_option("--anchor-interval", c.anchor_interval_s, "Seconds between anchors (when the log has grown)")
      ->envname("TSA_ANCHOR_INTERVAL")
      ->check(CLI::Range(1, 7 * 86400))
      ->group("Audit chain");
  app.add_option("--anchor-ca", c.anchor_ca, "PEM trust bundle the external TSAs' tokens must chain to")
      ->envname("TSA_ANCHOR_CA")
      ->group("Audit chain");
  app.add_option("--anchor-mode", c.anchor_mode, "first: fail over down the list until one succeeds; all: every TSA must anchor")
      ->envname("TSA_ANCHOR_MODE")
      ->check(CLI::IsMember({"first", "all"}))
      ->group("Audit chain");
  app.add_option("--anchor-timeout", c.anchor_timeout_s, "Seconds per request to an external TSA")
      ->envname("TSA_ANCHOR_TIMEOUT")
      ->check(CLI::Range(1, 600))
      ->group("Audit chain");
  app.add_option("--anchor-retry-min", c.anchor_retry_min_s,
                 "Seconds before the first retry after a failed anchor (doubles up to the interval)")
      ->envname("TSA_ANCHOR_RETRY_MIN")
      ->check(CLI::Range(1, 86400))
      ->group("Audit chain");
}

// tsad's own log lines (group Logging).
void AddLoggingOptions(CLI::App& app, Config& c) {
  app.add_option("--log-level", c.log_level, "trace, debug, info, warn, error, critical or off")
      ->envname("TSA_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->group("Logging");
  app.add_option("--log-format", c.log_format, "text or json")
      ->envname("TSA_LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->group("Logging");
}

}  // namespace

ParsedConfig ParseConfig(int argc, char** argv) {
  Config c;
  CLI::App app{"tsad: an RFC 3161 time-stamping authority", "tsad"};
  app.set_version_flag("--version", core::VersionLine("tsad"));
  app.set_config("--config", "", "TOML/INI file with any of the options below (keys as the long flag names)")
      ->envname("TSA_CONFIG");
  app.option_defaults()->always_capture_default();

  AddListenerOptions(app, c);
  AddRequestLimitOptions(app, c);
  AddAccessOptions(app, c);
  AddTlsOptions(app, c);
  AddSigningOptions(app, c);
  AddTokenOptions(app, c);
  AddStorageOptions(app, c);
  AddAuditChainOptions(app, c);
  AddLoggingOptions(app, c);

  app.config_formatter(std::make_shared<EnvironmentFirstConfig>(&app));
  app.formatter(std::make_shared<SwitchFormatter>());

  // TSA_CONFIG names the file when --config is not given (CLI11 2.1 would read it too late).
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool has_config_flag = std::any_of(args.begin(), args.end(),
                                           [](const std::string& a) { return a == "--config" || a.rfind("--config=", 0) == 0; });
  if (!has_config_flag) {
    if (const char* file = NonEmptyEnv("TSA_CONFIG")) {
      args.emplace_back("--config");
      args.emplace_back(file);
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForAllHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForVersion& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    std::cerr << "tsad: " << e.what() << " (see tsad --help)\n";
    return {std::nullopt, 2};
  }
  c.log_layout_given = app.count("--log-layout") > 0;
  return {c, 0};
}

}  // namespace tsa::app
