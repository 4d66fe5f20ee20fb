// The HTTP edge: an event-driven HTTP/1.1 server on Boost.Beast/Asio. A few I/O threads serve
// every connection (no thread per connection); requests are framed strictly (RFC 9112 §6) with
// limits on header bytes and count, URI and body, a deadline for each whole request and for idle
// keep-alive connections, and a cap on open connections that closes the oldest idle ones first.
// Time-stamp requests are signed on the I/O thread and resumed by the token log's commit, never
// parking a thread. No protocol decision is made here: replies come from service::Issuer.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "tsa/core/rate_limit.h"
#include "tsa/core/result.h"
#include "tsa/crypto/tls_context.h"
#include "tsa/service/audit_service.h"
#include "tsa/service/clients.h"
#include "tsa/service/issuer.h"
#include "tsa/service/metrics.h"

namespace tsa::http {

// kLoopback: loopback addresses only (403 otherwise); kAny: everyone; kClient: an authenticated
// client of --clients (401 otherwise).
enum class MetricsAccess { kLoopback, kAny, kClient };

// The HTTPS listener (README "TLS"): same routes, limits and deadlines as plain HTTP; the TLS
// handshake must finish within read_timeout_s.
struct TlsOptions {
  int port = 5443;  // 0: any free port (tests)
  crypto::TlsFiles files;
};

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 5000;                // 0: any free port (tests)
  bool serve_http = true;         // false (--no-http): HTTPS only
  std::optional<TlsOptions> tls;  // nullopt: no HTTPS listener
  std::size_t io_threads = 0;     // 0: one per core
  int listen_backlog = 1024;
  std::size_t max_connections = 10000;                        // at the cap the oldest idle connections are closed first
  std::size_t max_in_flight = 1024;                           // requests being signed or logged; above, reading waits
  std::size_t max_request_bytes = std::size_t{16} * 1024;     // DER TimeStampReq bodies (the largest sane one is < 300 B)
  std::size_t max_data_bytes = std::size_t{4} * 1024 * 1024;  // raw-data mode bodies, hashed while streaming
  std::size_t max_header_bytes = std::size_t{16} * 1024;      // header fields (431 above)
  std::size_t max_headers = 100;                              // header fields (431 above)
  std::size_t max_uri_bytes = 4096;                           // request-target (414 above)
  int read_timeout_s = 10;                                    // a whole request (head and body) must arrive within this
  int keep_alive_timeout_s = 5;                               // an idle connection is closed after this
  int cert_warn_days = 30;                                    // /health warns (still 200) below this many days left
  int write_timeout_s = 10;
  int shutdown_timeout_s = 10;                            // SIGTERM: in-flight requests get this long to finish
  MetricsAccess metrics_from = MetricsAccess::kLoopback;  // who may GET /metrics (others: 403 / 401)
  // POST /tsa rate limits (README "Rate limits"): per identity (a client's own rate overrides it)
  // and for the whole daemon; nullopt: none.
  std::optional<core::RateSpec> rate_limit;
  std::optional<core::RateSpec> global_rate_limit;
  std::size_t rate_limit_identities = 100'000;  // buckets remembered at most (LRU)
};

class HttpServer {
 public:
  // `audit` serves /audit/* and the anchor part of /health; anchor_interval_s judges staleness.
  // `metrics` receives the counts of every request and renders GET /metrics. `clients` (null:
  // open) requires credentials for POST /tsa. With options.tls, the TLS certificate and key are
  // loaded here: an unreadable key or an expired certificate is an error (one line).
  static Result<std::unique_ptr<HttpServer>> Create(const HttpOptions& options, service::Issuer& issuer,
                                                    service::AuditService& audit, int anchor_interval_s,
                                                    std::shared_ptr<service::Metrics> metrics,
                                                    std::shared_ptr<service::ClientRegistry> clients = nullptr);
  ~HttpServer();

  // Binds and listens (never SO_REUSEPORT: a taken port is an error); returns the port (0 when
  // plain HTTP is off).
  Result<int> Bind();
  // The same for the HTTPS listener; returns its port (0 when TLS is off).
  Result<int> BindTls();
  // SIGHUP: builds a new TLS context from the same files; new connections use it, open ones keep
  // theirs. On failure the current one stays (and /health says so). Ok when TLS is off.
  Status ReloadTls();
  // The TLS certificate in use (nullopt: TLS is off), for the start-up log line.
  std::optional<crypto::TlsCertificateInfo> TlsCertificate() const;
  // Serves on the I/O threads (the caller's among them) until Stop(); returns once in-flight
  // requests have finished (bounded by shutdown_timeout_s).
  Status Serve();
  // Stops accepting, closes idle connections and lets in-flight requests finish. Thread-safe;
  // safe to call from the signal thread, also before Serve().
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsa::http
