// tsad's configuration: every flag is also a TSA_* environment variable and a key of the optional
// config file (--config FILE, TOML/INI). Precedence: flag > environment > file > default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::app {

struct Config {
  // HTTP
  std::string host = "0.0.0.0";
  int port = 5000;
  std::size_t io_threads = 0;  // 0: one per core
  std::size_t max_connections = 10000;
  std::size_t max_in_flight = 1024;
  std::size_t max_request_bytes = std::size_t{16} * 1024;
  std::size_t max_data_bytes = std::size_t{4} * 1024 * 1024;
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::size_t max_headers = 100;
  std::size_t max_uri_bytes = 4096;
  int read_timeout_s = 10;
  int keep_alive_timeout_s = 5;
  std::vector<std::string> obsolete_flags;  // given but no longer used (warned about at start)
  std::string port_file;                    // written with the bound port once listening (orchestration, tests)
  std::string metrics_from = "loopback";    // who may GET /metrics: loopback, any or client
  std::string clients_file;                 // --clients: POST /tsa needs credentials (empty: open)
  std::string rate_limit;                   // --rate-limit RATE[/s|/min][:BURST] per identity (empty: none)
  std::string global_rate_limit;            // --global-rate-limit for the whole daemon (empty: none)
  bool serve_http = true;                   // false (--no-http): HTTPS only

  // TLS (README "TLS"): HTTPS on tls_port when tls_cert and tls_key are given
  std::string tls_cert;       // PEM: server certificate, then intermediates
  std::string tls_key;        // PEM file or pkcs11: URI
  int tls_port = 5443;        // 0: any free port
  std::string tls_port_file;  // written with the bound HTTPS port once listening
  std::string tls_client_ca;  // PEM CA bundle: request client certificates (mutual TLS)
  bool tls_require_client_cert = false;

  // Signing material
  std::string cert_dir = "certs";
  std::string key_file;             // override cert_dir/tsa_key.pem
  std::string cert_file;            // override cert_dir/tsa_cert.pem
  std::string chain_file;           // override cert_dir/chain.pem
  bool allow_readable_key = false;  // accept a key file with group/other permissions
  std::string pkcs11_module;        // PKCS#11 module for a pkcs11: --key (empty: Debian's SoftHSM2)
  int cert_warn_days = 30;          // /health warns when the certificate has fewer days left

  // Token policy
  std::string policy = "1.3.6.1.4.1.99999.1.1";
  std::vector<std::string> accepted_policies;
  std::vector<std::string> hashes = {"sha256", "sha384", "sha512"};
  bool allow_sha1 = false;
  std::string accuracy = "1s";
  int clock_precision_digits = 3;
  bool include_tsa_name = true;
  std::string token_encoder = "direct";  // "direct" (TokenAssembler) or "openssl" (TS_RESP)

  // Time
  bool allow_unsynced_clock = false;

  // Storage
  std::string db_path = "data/audit_chain.db";
  bool store_tokens = true;
  std::string log_layout = "tiles";  // "sqlite" or "tiles" (store::LogLayout)
  // --log-layout was given (flag, TSA_LOG_LAYOUT or the file): only then does an existing
  // sqlite-layout log move to tiles (audit::TokenLogOptions::layout).
  bool log_layout_given = false;
  bool audit_log = true;
  bool synchronous_full = true;
  int log_gather_us = 1000;
  int log_writer_nice = -10;
  int instance_id = 0;

  // Audit chain anchoring (AUDIT_CHAIN.md)
  std::vector<std::string> anchor_tsas = {"https://freetsa.org/tsr"};
  bool anchor_enabled = true;
  int anchor_interval_s = 3600;
  std::string anchor_ca;  // PEM trust bundle for the external TSAs' tokens
  std::string anchor_mode = "first";
  int anchor_timeout_s = 30;
  int anchor_retry_min_s = 30;

  // C2SP checkpoints (AUDIT_CHAIN.md "C2SP checkpoints and tiles")
  std::string log_key;     // Ed25519 PEM; empty: <cert_dir>/log_key.pem
  std::string log_origin;  // empty: derived from the TSA certificate's CN ("<cn>/log")
  // c2sp.org/tlog-witness witnesses, each "URL=VKEY" (AUDIT_CHAIN.md "Witnesses")
  std::vector<std::string> witnesses;
  int witness_timeout_s = 10;

  // Logging
  std::string log_level = "info";
  std::string log_format = "text";
};

// Parses argv (and the environment and config file). On --help/--version or a usage error, returns
// the exit code to use (0 or 2) in `exit_code` after printing; otherwise the config.
struct ParsedConfig {
  std::optional<Config> config;
  int exit_code = 0;
};
ParsedConfig ParseConfig(int argc, char** argv);

}  // namespace tsa::app
