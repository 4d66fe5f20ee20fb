// What tsad answers, apart from the I/O: which route a request takes, how large its body may be,
// and the replies themselves. The one place where a protocol outcome becomes an HTTP reply is
// TimeStampReply. Session (session.cc) calls these; no function here reads or writes a socket.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "request_parser.h"
#include "target.h"
#include "tsa/core/hash_algorithm.h"
#include "tsa/crypto/tls_context.h"
#include "tsa/http/server.h"
#include "tsa/service/clients.h"
#include "tsa/service/metrics.h"

namespace tsa::http {

using Response = boost::beast::http::response<boost::beast::http::string_body>;

enum class Route {
  kTimeStamp,         // POST /tsa, POST /
  kHealth,            // GET /health, /healthz (blocking: a real write through the log)
  kCertificate,       // GET /certs/tsa.pem
  kChain,             // GET /certs/chain.pem
  kAuditCheckpoint,   // GET /audit/checkpoint (blocking: a database read)
  kAuditProof,        // GET /audit/proof (blocking)
  kAuditOff,          // /audit/* and /log/* under --no-audit-log: 404
  kLogCheckpoint,     // GET /log/checkpoint: the latest C2SP signed checkpoint (from memory)
  kLogVerifierKey,    // GET /log/vkey: the signed-note verifier key string
  kLogTile,           // GET /log/tile/...: tlog-tiles hash tiles and entry bundles (blocking)
  kMetrics,           // GET /metrics (Prometheus; blocking: a database read; loopback only by default)
  kMethodNotAllowed,  // other methods on /tsa and /: 405 with Allow: POST
  kNotFound,
  kInvalid,  // no route: the request could not be parsed
};
inline constexpr std::size_t kRouteCount = static_cast<std::size_t>(Route::kInvalid) + 1;
const char* RouteName(Route route);  // the metrics label ("tsa", "health", ...)

// One request as the router sees it.
struct Exchange {
  RequestHead head;
  Target target;
  std::string id;      // X-Request-Id
  std::string client;  // remote address
  // HTTPS: the client certificate the handshake verified (--tls-client-ca); null otherwise.
  std::shared_ptr<const crypto::PeerCertificate> peer;
  Route route = Route::kInvalid;
  // The authenticated client (--clients), pinned with the set it came from (a SIGHUP may swap it).
  std::shared_ptr<const service::ClientSet> client_set;
  const service::Client* client_entry = nullptr;
  std::chrono::steady_clock::time_point start;
};

class TlsContextStore;

class Router {
 public:
  Router(const HttpOptions& options, service::Issuer& issuer, service::AuditService& audit, int anchor_interval_s,
         std::shared_ptr<service::Metrics> metrics, std::shared_ptr<service::ClientRegistry> clients);

  Route Classify(const RequestHead& head, const Target& target) const;
  // Routes whose handler may block (database reads and writes): run off the I/O threads.
  static bool Blocking(Route route) {
    return route == Route::kHealth || route == Route::kAuditCheckpoint || route == Route::kAuditProof ||
           route == Route::kMetrics || route == Route::kLogTile;
  }
  // POST /tsa under --clients: checks the credentials (a verified client certificate that a client
  // lists, else the Authorization header) and fills exchange.client_*; a 401 reply
  // (counted and logged with the address and the claimed name) when they are missing or wrong.
  std::optional<Response> Authenticate(Exchange& exchange);
  // POST /tsa under --rate-limit / --global-rate-limit / a client's rate: a 429 with Retry-After
  // (whole seconds) when over; nothing is signed or logged in the audit log then.
  std::optional<Response> RateLimit(const Exchange& exchange);
  // Every route but kTimeStamp.
  Response Handle(Route route, const Exchange& exchange);

  // Time-stamping: whether the body is a DER TimeStampReq (else raw data to hash), its limit, the
  // imprint algorithm of raw-data mode (nullopt: not accepted), and the reply.
  static bool IsQuery(const RequestHead& head);
  std::size_t BodyLimit(const RequestHead& head) const;
  std::optional<core::HashAlgorithm> DataHash(const Target& target) const;
  Response TimeStampReply(const service::IssueOutcome& outcome, const Exchange& exchange) const;
  static Response TransportError(int status, const std::string& message, const RequestHead& head);

  // One structured line per request (outcome null: an HTTP-level answer), and its metrics.
  void LogRequest(const Exchange& exchange, const service::IssueOutcome* outcome, int status) const;

  service::Issuer& issuer() { return issuer_; }
  service::Metrics& metrics() { return *metrics_; }
  // The server's own gauges for /metrics (set by the server before it serves).
  std::function<service::ServerGauges()> server_gauges;
  // The HTTPS listener's contexts, for /health (null: TLS off). Set before serving.
  const TlsContextStore* tls_store = nullptr;

 private:
  Response Health(const Exchange& exchange);
  Response AuditProof(const Exchange& exchange);
  Response AuditCheckpoint(const Exchange& exchange);
  Response Metrics(const Exchange& exchange);
  Response Unauthorized(const Exchange& exchange, const service::AuthResult& auth) const;
  // The client a request authenticates as, by certificate or by Authorization header.
  service::AuthResult Identify(const service::ClientSet& clients, const Exchange& exchange, bool allow_slow_hash) const;
  Response LogCheckpoint(const Exchange& exchange);
  Response LogVerifierKey(const Exchange& exchange);
  Response LogTile(const Exchange& exchange);

  HttpOptions options_;
  service::Issuer& issuer_;
  service::AuditService& audit_;
  int anchor_interval_s_;
  std::shared_ptr<service::Metrics> metrics_;
  std::shared_ptr<service::ClientRegistry> clients_;  // null: no authentication
  core::RateLimiter limiter_;
  core::RateLimiter global_limiter_{1};
  core::RateLimiter auth_failures_{10'000};  // per remote address (Router::Authenticate)
  std::array<service::RouteMetrics*, kRouteCount> route_metrics_{};
};

std::string NextRequestId();

}  // namespace tsa::http
