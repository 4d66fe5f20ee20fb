#include "tsa/app/daemon.h"

#include "tsa/app/signer_reloader.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>
#include <tuple>

#include "tsa/app/log_signer.h"
#include "tsa/app/reload.h"
#include "tsa/audit/checkpoint_publisher.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/build_version.h"
#include "tsa/core/serial.h"
#include "tsa/core/thread_name.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/verifier.h"
#include "tsa/http/anchor_transport.h"
#include "tsa/http/server.h"
#include "tsa/http/witness_transport.h"
#include "tsa/service/audit_service.h"
#include "tsa/service/issuer.h"
#include "tsa/service/logging.h"
#include "tsa/service/metrics.h"
#include "tsa/service/system_clock.h"

namespace tsa::app {
namespace {

std::string Join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

Result<core::IssuancePolicy> BuildPolicy(const Config& c) {
  core::IssuancePolicy p;
  if (c.policy.empty()) return MakeError(ErrorKind::kInvalidArgument, "no default policy OID (--policy / TSA_POLICY)");
  p.default_policy = c.policy;
  p.accepted_policies = c.accepted_policies;
  for (const auto& name : c.hashes) {
    if (name.empty()) continue;
    const auto alg = core::HashAlgorithmFromName(name);
    if (!alg) return MakeError(ErrorKind::kInvalidArgument, "unknown hash algorithm '" + name + "' in --hash");
    if (*alg == core::HashAlgorithm::kSha1 && !c.allow_sha1) {
      return MakeError(ErrorKind::kInvalidArgument, "SHA-1 is listed in --hash but not allowed: add --allow-sha1");
    }
    p.accepted_hashes.push_back(*alg);
  }
  if (c.allow_sha1 && !p.Accepts(core::HashAlgorithm::kSha1)) p.accepted_hashes.push_back(core::HashAlgorithm::kSha1);
  if (p.accepted_hashes.empty())
    return MakeError(ErrorKind::kInvalidArgument, "the list of accepted hash algorithms (--hash) is empty");
  return p;
}

// SQLite maps the WAL index (<db>-shm) into memory; if that file can no longer be written (made
// immutable, its file system gone), the next access raises SIGBUS, whose default action kills
// tsad without a word. The handler says what happened in one line; only async-signal-safe calls.
void OnSigbus(int /*sig*/) {
  static constexpr char kLine[] =
      "tsad: fatal: SIGBUS: a memory-mapped file became unavailable (most likely the audit log's -shm file; check that "
      "the database directory is writable and not full), stopping\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, kLine, sizeof(kLine) - 1);
  ::_exit(1);
}

void InstallSigbusHandler() {
  struct sigaction action {};
  action.sa_handler = OnSigbus;
  sigemptyset(&action.sa_mask);
  sigaction(SIGBUS, &action, nullptr);
}

// Written whole, then renamed: a reader never sees a partial number.
void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::error_code ec;
  std::ofstream(path + ".tmp") << port << "\n";
  std::filesystem::rename(path + ".tmp", path, ec);
}

// --tls-cert/--tls-key (both or neither), the client CA, --no-http.
Status ApplyTlsOptions(const Config& c, http::HttpOptions* o) {
  o->serve_http = c.serve_http;
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "--tls-cert and --tls-key go together (HTTPS needs both)");
  }
  if (c.tls_cert.empty()) {
    if (!c.tls_client_ca.empty() || c.tls_require_client_cert) {
      return MakeError(ErrorKind::kInvalidArgument,
                       "--tls-client-ca and --tls-require-client-cert need --tls-cert and --tls-key");
    }
    if (!c.serve_http) return MakeError(ErrorKind::kInvalidArgument, "--no-http needs --tls-cert and --tls-key");
    return Ok();
  }
  http::TlsOptions tls;
  tls.port = c.tls_port;
  tls.files.cert_path = c.tls_cert;
  tls.files.key_path = c.tls_key;
  tls.files.client_ca_path = c.tls_client_ca;
  tls.files.require_client_cert = c.tls_require_client_cert;
  tls.files.allow_readable_key = c.allow_readable_key;
  tls.files.pkcs11_module = c.pkcs11_module;
  o->tls = std::move(tls);
  return Ok();
}

// The "started" event's word on the layout: an operator upgrading sees why a log stayed sqlite.
std::string LayoutText(const Config& c, const audit::TokenLog& log) {
  if (log.layout() == store::LogLayout::kTiles) return "tiles (" + store::TileDirectoryFor(c.db_path) + ")";
  if (log.created() || c.log_layout_given || !c.store_tokens) return "sqlite";
  return "sqlite (the existing log keeps its layout; --log-layout tiles moves it at start-up, AUDIT_CHAIN.md)";
}

int Fail(const std::string& message) {
  service::LogEvent(spdlog::level::critical, "startup_failed", {{"error", message}});
  service::ShutdownLogging();  // the log line first, then the one-line reason last on stderr
  std::cerr << "tsad: " << message << "\n";
  return 1;
}

}  // namespace

int RunDaemon(const Config& config) {
  // Signals are handled by one thread with sigwait; block them before any thread starts, or the
  // kernel may deliver SIGTERM to a thread that does not block it and kill the process.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // SIGHUP reloads the signing key, certificate and chain (README "Reload and rollover").
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Only now start threads (the async logger's among them): they inherit the blocked mask.
  service::ConfigureLogging(config.log_format == "json" ? service::LogFormat::kJson : service::LogFormat::kText,
                            spdlog::level::from_str(config.log_level));
  signal(SIGPIPE, SIG_IGN);
  InstallSigbusHandler();
  // Each open connection holds a descriptor (and a worker): raise the soft limit to the hard one.
  struct rlimit fd_limit {};
  if (getrlimit(RLIMIT_NOFILE, &fd_limit) == 0 && fd_limit.rlim_cur < fd_limit.rlim_max) {
    fd_limit.rlim_cur = fd_limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &fd_limit);
  }

  auto policy = BuildPolicy(config);
  if (!policy) return Fail(policy.error().message);
  const auto accuracy = core::ParseAccuracy(config.accuracy);
  if (!accuracy) return Fail("bad --accuracy '" + config.accuracy + "' (use e.g. 1s, 500ms; at most 60s)");

  crypto::SignerOptions signer_options{*policy, *accuracy, config.clock_precision_digits, config.include_tsa_name};
  signer_options.engine = config.token_encoder == "openssl" ? crypto::SignerOptions::Engine::kOpenSsl
                                                            : crypto::SignerOptions::Engine::kDirect;
  auto built = BuildSigner(config, signer_options);
  if (!built) return Fail(built.error().message);
  std::shared_ptr<crypto::TokenSigner> shared_signer = std::move(*built);
  const auto material = shared_signer->shared_material();

  // Counting on the hot path is a few atomic increments (service/metrics.h).
  auto metrics = std::make_shared<service::Metrics>(*policy);

  // The database's directory is not created: a typo in --db must not start a new, empty log.
  audit::TokenLogOptions log_options;
  log_options.path = config.db_path;
  log_options.keep_token = config.store_tokens;
  if (config.log_layout_given) {
    log_options.layout = config.log_layout == "tiles" ? store::LogLayout::kTiles : store::LogLayout::kSqlite;
  }
  log_options.synchronous_full = config.synchronous_full;
  log_options.gather_us = config.log_gather_us;
  log_options.writer_nice = config.log_writer_nice;
  log_options.on_commit = [metrics](std::size_t tokens, std::chrono::nanoseconds took, bool ok) {
    metrics->ObserveLogCommit(tokens, took, ok);
  };
  auto log = audit::TokenLog::Open(log_options);
  if (!log) return Fail(log.error().message);
  std::shared_ptr<audit::TokenLog> shared_log(std::move(*log));
  if (Status st = RecordCertificate(*shared_log, *material, "start"); !st) return Fail(st.error().message);
  if (const auto stats = shared_log->Stats(); !stats.writer_priority_error.empty()) {
    service::LogEvent(spdlog::level::warn, "log_writer_priority",
                      {{"detail", stats.writer_priority_error + ": the log writer keeps the default priority, "
                                                                "so throughput under load is lower"}});
  }

  service::Issuer::Config issuer_config;
  issuer_config.instance = static_cast<std::uint16_t>(config.instance_id);
  issuer_config.log_tokens = config.audit_log;
  issuer_config.metrics = metrics;
  issuer_config.clock_mode = config.allow_unsynced_clock ? core::ClockMode::kTrustUnsynced : core::ClockMode::kRequireSync;
  auto clock = std::make_shared<service::SystemClockSource>();
  auto issuer = service::Issuer::Create(issuer_config, shared_signer, clock, shared_log);
  if (!issuer) return Fail(issuer.error().message);

  // The anchoring thread (AUDIT_CHAIN.md): checkpoints signed by tsad, time-stamped by external TSAs.
  audit::AnchorOptions anchor_options;
  if (config.anchor_enabled) anchor_options.urls = config.anchor_tsas;
  anchor_options.interval = std::chrono::seconds(config.anchor_interval_s);
  anchor_options.mode = config.anchor_mode == "all" ? audit::AnchorMode::kAll : audit::AnchorMode::kFirst;
  anchor_options.timeout_s = config.anchor_timeout_s;
  anchor_options.min_backoff = std::chrono::seconds(config.anchor_retry_min_s);
  anchor_options.origin = material->subject();
  std::vector<audit::Witness> witnesses;
  for (const std::string& spec : config.witnesses) {
    auto witness = audit::ParseWitnessSpec(spec);
    if (!witness) return Fail(witness.error().message);
    witnesses.push_back(std::move(*witness));
  }
  anchor_options.on_attempt = [metrics](bool ok, const std::string& url, std::uint64_t tree_size, const std::string& error) {
    metrics->CountAnchorAttempt(url, ok);
    if (ok) {
      service::LogEvent(spdlog::level::info, "anchored", {{"tsa", url}, {"tree_size", tree_size}});
    } else {
      service::LogEvent(spdlog::level::warn, "anchor_failed", {{"tsa", url}, {"tree_size", tree_size}, {"error", error}});
    }
  };
  if (!config.anchor_ca.empty()) {
    std::ifstream in(config.anchor_ca);
    if (!in) return Fail("cannot read --anchor-ca " + config.anchor_ca);
    anchor_options.ca_pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    // An empty or garbled bundle must not mean "no trust bundle" (signature-only checks).
    if (auto count = crypto::CountPemCertificates(anchor_options.ca_pem, "--anchor-ca " + config.anchor_ca); !count) {
      return Fail(count.error().message);
    }
  }
  // C2SP checkpoints (AUDIT_CHAIN.md): without a log key tsad still issues and anchors, with a warning.
  std::unique_ptr<audit::CheckpointPublisher> publisher;
  if (config.audit_log) {
    auto choice = BuildLogSigner(config, material->subject());
    if (!choice) return Fail(choice.error().message);
    if (choice->signer) {
      auto started = audit::CheckpointPublisher::Start(*shared_log, std::move(*choice->signer), *clock);
      if (!started) return Fail("C2SP checkpoints: " + started.error().message);
      publisher = std::move(*started);
      anchor_options.over_notes = true;  // anchors cover the signed note (AUDIT_CHAIN.md)
    } else {
      service::LogEvent(spdlog::level::warn, "no_log_key", {{"detail", choice->warning}});
    }
  }
  if (!witnesses.empty() && !publisher) return Fail("--witness needs a log key (--log-key): witnesses cosign signed checkpoints");
  service::Issuer* issuer_ptr = issuer->get();
  http::HttpAnchorTransport anchor_transport;
  audit::AnchorWorker anchors(
      anchor_options, *shared_log, [issuer_ptr](const audit::Hash& imprint) { return issuer_ptr->IssueCheckpointToken(imprint); },
      anchor_transport);
  // Witnesses (c2sp.org/tlog-witness): cosignatures on each new checkpoint, on their own thread.
  http::HttpWitnessTransport witness_transport;
  audit::WitnessOptions witness_options;
  witness_options.witnesses = witnesses;
  witness_options.timeout_s = config.witness_timeout_s;
  witness_options.on_result = [](const std::string& witness, bool ok, std::uint64_t tree_size, const std::string& error) {
    if (ok) {
      service::LogEvent(spdlog::level::debug, "witness_cosigned", {{"witness", witness}, {"tree_size", tree_size}});
    } else {
      service::LogEvent(spdlog::level::warn, "witness_failed",
                        {{"witness", witness}, {"tree_size", tree_size}, {"error", error}});
    }
  };
  audit::CheckpointPublisher* publisher_ptr = publisher.get();
  audit::WitnessWorker witness_worker(
      witness_options, *shared_log, [publisher_ptr]() { return publisher_ptr ? publisher_ptr->Latest() : std::nullopt; },
      witness_transport, *clock);
  service::AuditService audit_service(*shared_log, config.anchor_enabled ? &anchors : nullptr, publisher.get(),
                                      witnesses.empty() ? nullptr : &witness_worker);

  http::HttpOptions http_options;
  http_options.host = config.host;
  http_options.port = config.port;
  http_options.io_threads = config.io_threads;
  http_options.max_connections = config.max_connections;
  http_options.max_in_flight = config.max_in_flight;
  http_options.max_request_bytes = config.max_request_bytes;
  http_options.max_data_bytes = config.max_data_bytes;
  http_options.max_header_bytes = config.max_header_bytes;
  http_options.max_headers = config.max_headers;
  http_options.max_uri_bytes = config.max_uri_bytes;
  http_options.read_timeout_s = config.read_timeout_s;
  http_options.keep_alive_timeout_s = config.keep_alive_timeout_s;
  http_options.cert_warn_days = config.cert_warn_days;
  http_options.metrics_from = config.metrics_from == "any"      ? http::MetricsAccess::kAny
                              : config.metrics_from == "client" ? http::MetricsAccess::kClient
                                                                : http::MetricsAccess::kLoopback;
  if (http_options.metrics_from == http::MetricsAccess::kClient && config.clients_file.empty()) {
    return Fail("--metrics-from client needs --clients");
  }
  for (const auto& [text, target, flag] :
       {std::tuple{&config.rate_limit, &http_options.rate_limit, "--rate-limit"},
        std::tuple{&config.global_rate_limit, &http_options.global_rate_limit, "--global-rate-limit"}}) {
    if (text->empty()) continue;
    auto spec = core::ParseRate(*text);
    if (!spec) return Fail(std::string(flag) + ": " + spec.error().message);
    *target = *spec;
  }
  if (Status st = ApplyTlsOptions(config, &http_options); !st) return Fail(st.error().message);
  // What SIGHUP reloads (app/reload.h).
  ReloadHooks reload_hooks;
  std::shared_ptr<service::ClientRegistry> clients;
  if (!config.clients_file.empty()) {
    clients = std::make_shared<service::ClientRegistry>(config.clients_file);
    if (Status st = clients->Reload(); !st) return Fail(st.error().message);
    reload_hooks.Add("clients", [clients] { return clients->Reload(); });
  }
  auto server = http::HttpServer::Create(http_options, **issuer, audit_service, config.anchor_interval_s, metrics, clients);
  if (!server) return Fail(server.error().message);
  auto port = (*server)->Bind();
  if (!port) return Fail(port.error().message);
  auto tls_port = (*server)->BindTls();
  if (!tls_port) return Fail(tls_port.error().message);
  const auto tls_cert = (*server)->TlsCertificate();
  if (tls_cert) reload_hooks.Add("tls", [srv = server->get()] { return srv->ReloadTls(); });

  const auto reading = clock->Read();
  const bool trust_unsynced = issuer_config.clock_mode == core::ClockMode::kTrustUnsynced;
  std::vector<std::string> hash_names;
  for (auto a : policy->accepted_hashes) hash_names.push_back(core::Info(a).name);
  service::LogEvent(
      spdlog::level::info, "started",
      {{"version", std::string(core::BuildVersion())},
       {"commit", std::string(core::BuildCommit())},
       {"listen", config.serve_http ? config.host + ":" + std::to_string(*port) : "off (--no-http)"},
       {"listen_tls", tls_cert ? config.host + ":" + std::to_string(*tls_port) : "off"},
       {"tls_cert", tls_cert ? tls_cert->subject + " (not after " +
                                   core::FormatRfc3339(tls_cert->not_after * 1'000'000LL, core::Fraction::kNone) + ")"
                             : "-"},
       {"tls_client_cert", config.tls_client_ca.empty()     ? "off"
                           : config.tls_require_client_cert ? "required (" + config.tls_client_ca + ")"
                                                            : "optional (" + config.tls_client_ca + ")"},
       {"cert", material->subject()},
       {"key", material->key_description()},
       {"key_source", material->key_source()},
       {"signer", shared_signer->engine() == crypto::SignerOptions::Engine::kDirect ? "direct DER encoder" : "OpenSSL TS_RESP"},
       {"cert_days_left", (material->not_after() - std::time(nullptr)) / 86400},
       {"policy", policy->default_policy},
       {"hashes", Join(hash_names)},
       {"accuracy", accuracy->ToString()},
       {"clock", trust_unsynced ? "trust-unsynced (development: clock sync NOT enforced)" : "require-sync"},
       {"clock_state", reading.detail},
       {"db", config.db_path + (shared_log->created() ? " (created a new audit log)" : "")},
       {"log_layout", LayoutText(config, *shared_log)},
       {"audit_log", config.audit_log ? "on" : "OFF (tokens are not logged)"},
       {"io_threads", config.io_threads == 0 ? std::thread::hardware_concurrency() : config.io_threads},
       {"max_connections", config.max_connections},
       {"witnesses", witnesses.empty() ? std::string("none") : std::to_string(witnesses.size())},
       {"anchor", config.anchor_enabled ? Join(config.anchor_tsas) + " every " + std::to_string(config.anchor_interval_s) +
                                              "s (" + config.anchor_mode + ")"
                                        : "off"},
       {"clients", clients ? config.clients_file + " (" + std::to_string(clients->Current()->size()) +
                                 " clients; POST /tsa needs credentials)"
                           : "off (POST /tsa is open)"},
       {"rate_limit", config.rate_limit.empty() ? "off" : config.rate_limit},
       {"instance", config.instance_id}});
  for (const auto& flag : config.obsolete_flags) {
    service::LogEvent(
        spdlog::level::warn, "obsolete_flag",
        {{"flag", flag}, {"detail", "ignored: the event-driven server has no worker per connection (see --io-threads)"}});
  }
  if (!config.audit_log) {
    service::LogEvent(spdlog::level::warn, "audit_log_off",
                      {{"effect", "tokens are issued without being logged: no audit chain, /audit/* answers 404"},
                       {"hint", "--no-audit-log is for benchmarks; remove it in production"}});
  }
  if (!trust_unsynced && !reading.synchronised) {
    service::LogEvent(spdlog::level::warn, "clock_unsynchronised",
                      {{"detail", reading.detail},
                       {"effect", "every request is answered timeNotAvailable until the clock is synchronised"},
                       {"hint", "run an NTP daemon, or start with --allow-unsynced-clock on development machines"}});
  }
  // The TLS port file first: a test (or orchestrator) that sees the HTTP port file finds both.
  if (tls_cert) WritePortFile(config.tls_port_file, *tls_port);
  if (config.serve_http) WritePortFile(config.port_file, *port);

  if (Status st = anchors.Start(); !st) return Fail("anchoring: " + st.error().message);
  if (Status st = witness_worker.Start(); !st) return Fail("witnesses: " + st.error().message);

  http::HttpServer* srv = server->get();
  SignerReloader reloader(config, signer_options, **issuer);
  std::jthread signal_thread([srv, &signals, &reloader, &reload_hooks](std::stop_token stop) {
    core::NameThisThread("tsad-signals");
    while (!stop.stop_requested()) {
      struct timespec timeout {
        0, 200'000'000
      };
      const int sig = sigtimedwait(&signals, nullptr, &timeout);
      try {
        if (sig == SIGHUP) {
          service::LogEvent(spdlog::level::info, "reloading", {{"signal", "SIGHUP"}});
          reloader.Reload();
          reload_hooks.RunAll();
          continue;
        }
        reloader.RetryIfFailing();
      } catch (const std::exception& e) {  // a reload must never take the server down
        service::LogEvent(spdlog::level::err, "reload_failed", {{"error", std::string("exception: ") + e.what()}});
      }
      if (sig == SIGTERM || sig == SIGINT) {
        service::LogEvent(spdlog::level::info, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        srv->Stop();
        return;
      }
    }
  });

  const Status served = (*server)->Serve();
  signal_thread.request_stop();
  signal_thread.join();
  server->reset();  // joins the workers: in-flight requests have finished
  witness_worker.Stop();
  if (publisher) (void)publisher->PublishOnce();  // the final head gets its note, which the last anchor covers
  anchors.Stop();                                 // a last anchor when the head moved, bounded by its timeout
  const auto stats = shared_log->Stats();
  service::LogEvent(spdlog::level::info, "stopped", {{"tokens_logged", stats.size}, {"log_commits", stats.commits}});
  service::ShutdownLogging();
  if (!served) {
    std::cerr << "tsad: " << served.error().message << "\n";
    return 1;
  }
  return 0;
}

}  // namespace tsa::app
