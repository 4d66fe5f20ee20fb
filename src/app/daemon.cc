#include "tsa/app/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "tsa/app/daemon_options.h"
#include "tsa/app/log_signer.h"
#include "tsa/app/reload.h"
#include "tsa/app/signer_reloader.h"
#include "tsa/app/startup_report.h"
#include "tsa/audit/checkpoint_publisher.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/thread_name.h"
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

// Signals are handled by one thread with sigwait; they are blocked before any thread starts (the
// async logger's among them: threads inherit the mask), or the kernel may deliver SIGTERM to a
// thread that does not block it and kill the process. SIGHUP reloads the signing key, certificate
// and chain (README "Reload and rollover"). Returns the set the signal thread waits for.
sigset_t PrepareProcess(const Config& config) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  service::ConfigureLogging(config.log_format == "json" ? service::LogFormat::kJson : service::LogFormat::kText,
                            spdlog::level::from_str(config.log_level));
  signal(SIGPIPE, SIG_IGN);
  InstallSigbusHandler();
  // Each open connection holds a descriptor: raise the soft limit to the hard one.
  struct rlimit fd_limit {};
  if (getrlimit(RLIMIT_NOFILE, &fd_limit) == 0 && fd_limit.rlim_cur < fd_limit.rlim_max) {
    fd_limit.rlim_cur = fd_limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &fd_limit);
  }
  return signals;
}

// Written whole, then renamed: a reader never sees a partial number.
void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::error_code ec;
  std::ofstream(path + ".tmp") << port << "\n";
  std::filesystem::rename(path + ".tmp", path, ec);
}

int Fail(const std::string& message) {
  service::LogEvent(spdlog::level::critical, "startup_failed", {{"error", message}});
  service::ShutdownLogging();  // the log line first, then the one-line reason last on stderr
  std::cerr << "tsad: " << message << "\n";
  return 1;
}

// The signal thread: SIGHUP reloads (a failed reload is retried, never fatal), SIGTERM/SIGINT
// stop the server, which then finishes its in-flight requests.
std::jthread StartSignalThread(const sigset_t& signals, http::HttpServer& server, SignerReloader& reloader, ReloadHooks& hooks) {
  return std::jthread([&server, signals, &reloader, &hooks](std::stop_token stop) {
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
          hooks.RunAll();
          continue;
        }
        reloader.RetryIfFailing();
      } catch (const std::exception& e) {  // a reload must never take the server down
        service::LogEvent(spdlog::level::err, "reload_failed", {{"error", std::string("exception: ") + e.what()}});
      }
      if (sig == SIGTERM || sig == SIGINT) {
        service::LogEvent(spdlog::level::info, "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        server.Stop();
        return;
      }
    }
  });
}

// C2SP checkpoints (AUDIT_CHAIN.md): without a log key tsad still issues and anchors, with a
// warning. Null when there is no key or no log.
Result<std::unique_ptr<audit::CheckpointPublisher>> StartPublisher(const Config& config, audit::TokenLog& log,
                                                                   const std::string& subject, core::ClockSource& clock) {
  if (!config.audit_log) return std::unique_ptr<audit::CheckpointPublisher>();
  TSA_ASSIGN_OR_RETURN(LogSignerChoice choice, BuildLogSigner(config, subject));
  if (!choice.signer) {
    service::LogEvent(spdlog::level::warn, "no_log_key", {{"detail", choice.warning}});
    return std::unique_ptr<audit::CheckpointPublisher>();
  }
  auto started = audit::CheckpointPublisher::Start(log, std::move(*choice.signer), clock);
  if (!started) return MakeError(started.error().kind, "C2SP checkpoints: " + started.error().message);
  return std::move(*started);
}

}  // namespace

int RunDaemon(const Config& config) {
  const sigset_t signals = PrepareProcess(config);
  auto policy = BuildPolicy(config);
  if (!policy) return Fail(policy.error().message);
  const auto accuracy = core::ParseAccuracy(config.accuracy);
  if (!accuracy) return Fail("bad --accuracy '" + config.accuracy + "' (use e.g. 1s, 500ms; at most 60s)");
  crypto::SignerOptions signer_options{*policy, *accuracy, config.clock_precision_digits, config.include_tsa_name};
  signer_options.engine = config.token_encoder == "openssl" ? crypto::SignerOptions::Engine::kOpenSsl
                                                            : crypto::SignerOptions::Engine::kDirect;
  auto clock = std::make_shared<service::SystemClockSource>();  // every wall-clock reading from here on
  auto built = BuildSigner(config, signer_options, clock->Read().now);
  if (!built) return Fail(built.error().message);
  std::shared_ptr<crypto::TokenSigner> shared_signer = std::move(*built);
  const auto material = shared_signer->shared_material();
  auto metrics = std::make_shared<service::Metrics>(*policy);  // a few atomic increments per token

  auto log = audit::TokenLog::Open(LogOptionsFor(config, metrics));
  if (!log) return Fail(log.error().message);
  std::shared_ptr<audit::TokenLog> shared_log(std::move(*log));
  if (Status st = RecordCertificate(*shared_log, *material, "start", clock->Read().now); !st) return Fail(st.error().message);

  service::Issuer::Config issuer_config;
  issuer_config.instance = static_cast<std::uint16_t>(config.instance_id);
  issuer_config.log_tokens = config.audit_log;
  issuer_config.metrics = metrics;
  issuer_config.clock_mode = config.allow_unsynced_clock ? core::ClockMode::kTrustUnsynced : core::ClockMode::kRequireSync;
  auto issuer = service::Issuer::Create(issuer_config, shared_signer, clock, shared_log);
  if (!issuer) return Fail(issuer.error().message);

  auto anchor_options = AnchorOptionsFor(config, material->subject(), metrics);
  if (!anchor_options) return Fail(anchor_options.error().message);
  auto witnesses = WitnessesFor(config);
  if (!witnesses) return Fail(witnesses.error().message);
  auto publisher = StartPublisher(config, *shared_log, material->subject(), *clock);
  if (!publisher) return Fail(publisher.error().message);
  if (!witnesses->empty() && !*publisher)
    return Fail("--witness needs a log key (--log-key): witnesses cosign signed checkpoints");
  anchor_options->over_notes = *publisher != nullptr;  // anchors cover the signed note (AUDIT_CHAIN.md)
  service::Issuer* issuer_ptr = issuer->get();
  http::HttpAnchorTransport anchor_transport;
  audit::AnchorWorker anchors(
      *anchor_options, *shared_log,
      [issuer_ptr](const audit::Hash& imprint) { return issuer_ptr->IssueCheckpointToken(imprint); }, anchor_transport, *clock);
  http::HttpWitnessTransport witness_transport;  // cosignatures on each new checkpoint, on their own thread
  audit::CheckpointPublisher* publisher_ptr = publisher->get();
  const std::size_t witness_count = witnesses->size();
  audit::WitnessWorker witness_worker(
      WitnessOptionsFor(config, std::move(*witnesses)), *shared_log,
      [publisher_ptr]() { return publisher_ptr ? publisher_ptr->Latest() : std::nullopt; }, witness_transport, *clock);
  service::AuditService audit_service(*shared_log, config.anchor_enabled ? &anchors : nullptr, publisher_ptr,
                                      witness_count == 0 ? nullptr : &witness_worker);

  auto http_options = HttpOptionsFor(config);
  if (!http_options) return Fail(http_options.error().message);
  ReloadHooks reload_hooks;  // what SIGHUP reloads besides the signer (app/reload.h)
  std::shared_ptr<service::ClientRegistry> clients;
  if (!config.clients_file.empty()) {
    clients = std::make_shared<service::ClientRegistry>(config.clients_file);
    if (Status st = clients->Reload(); !st) return Fail(st.error().message);
    reload_hooks.Add("clients", [clients] { return clients->Reload(); });
  }
  auto server = http::HttpServer::Create(*http_options, **issuer, audit_service, config.anchor_interval_s, metrics, clients);
  if (!server) return Fail(server.error().message);
  auto port = (*server)->Bind();
  if (!port) return Fail(port.error().message);
  auto tls_port = (*server)->BindTls();
  if (!tls_port) return Fail(tls_port.error().message);
  const auto tls_cert = (*server)->TlsCertificate();
  if (tls_cert) reload_hooks.Add("tls", [srv = server->get()] { return srv->ReloadTls(); });

  const core::ClockReading reading = clock->Read();
  const StartupFacts facts{.config = config,
                           .port = *port,
                           .tls_port = *tls_port,
                           .tls_cert = tls_cert,
                           .material = *material,
                           .engine = shared_signer->engine(),
                           .policy = *policy,
                           .accuracy = *accuracy,
                           .clock = reading,
                           .trust_unsynced = issuer_config.clock_mode == core::ClockMode::kTrustUnsynced,
                           .log = *shared_log,
                           .witnesses = witness_count,
                           .clients = clients.get()};
  LogStarted(facts);
  LogStartupWarnings(facts);
  // The TLS port file first: a test (or orchestrator) that sees the HTTP port file finds both.
  if (tls_cert) WritePortFile(config.tls_port_file, *tls_port);
  if (config.serve_http) WritePortFile(config.port_file, *port);

  if (Status st = anchors.Start(); !st) return Fail("anchoring: " + st.error().message);
  if (Status st = witness_worker.Start(); !st) return Fail("witnesses: " + st.error().message);
  SignerReloader reloader(config, signer_options, **issuer);
  std::jthread signal_thread = StartSignalThread(signals, **server, reloader, reload_hooks);

  const Status served = (*server)->Serve();
  signal_thread.request_stop();
  signal_thread.join();
  server->reset();  // joins the workers: in-flight requests have finished
  witness_worker.Stop();
  if (*publisher) (void)(*publisher)->PublishOnce();  // the final head gets its note, which the last anchor covers
  anchors.Stop();                                     // a last anchor when the head moved, bounded by its timeout
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
