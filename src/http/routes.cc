#include "routes.h"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/field.hpp>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "tls_store.h"
#include "tsa/core/media_type.h"
#include "tsa/service/health.h"
#include "tsa/service/logging.h"
#include "tsa/service/reply_json.h"

namespace tsa::http {
namespace bhttp = boost::beast::http;

namespace {

constexpr const char* kReplyType = "application/timestamp-reply";  // exactly: jarsigner/OpenSSL reject parameters

Response Make(int status, const RequestHead& head, std::string body, const char* content_type) {
  Response res{static_cast<bhttp::status>(status), head.version};
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response Json(int status, const RequestHead& head, const nlohmann::json& body) {
  Response res = Make(status, head, body.dump(2) + "\n", "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

constexpr const char* kNoLogKey = "this tsad has no log key (--log-key): no C2SP checkpoints";

bool IsHex(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos; }

}  // namespace

std::string NextRequestId() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint32_t boot = static_cast<std::uint32_t>(std::time(nullptr));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08x-%06llx", boot, static_cast<unsigned long long>(++counter));
  return buf;
}

const char* RouteName(Route route) {
  switch (route) {
    case Route::kTimeStamp: return "tsa";
    case Route::kHealth: return "health";
    case Route::kCertificate:  // the certificate and the chain are one metrics route
    case Route::kChain: return "certs";
    case Route::kAuditCheckpoint: return "audit_checkpoint";
    case Route::kAuditProof: return "audit_proof";
    case Route::kAuditOff: return "audit_off";
    case Route::kLogCheckpoint: return "log_checkpoint";
    case Route::kLogVerifierKey: return "log_vkey";
    case Route::kLogTile: return "log_tile";
    case Route::kMetrics: return "metrics";
    case Route::kMethodNotAllowed: return "method_not_allowed";
    case Route::kNotFound: return "not_found";
    case Route::kInvalid: break;
  }
  return "invalid";
}

Router::Router(const HttpOptions& options, service::Issuer& issuer, service::AuditService& audit, int anchor_interval_s,
               std::shared_ptr<service::Metrics> metrics, std::shared_ptr<service::ClientRegistry> clients)
    : options_(options),
      issuer_(issuer),
      audit_(audit),
      anchor_interval_s_(anchor_interval_s),
      metrics_(std::move(metrics)),
      clients_(std::move(clients)),
      limiter_(options.rate_limit_identities) {
  if (!metrics_) metrics_ = std::make_shared<service::Metrics>(issuer.signer()->options().policy);
  // Every label child is resolved here, so that counting a request is a few atomic increments.
  for (std::size_t i = 0; i < kRouteCount; ++i) route_metrics_[i] = metrics_->ForRoute(RouteName(static_cast<Route>(i)));
}

Route Router::Classify(const RequestHead& head, const Target& target) const {
  const std::string& path = target.path;
  if (path == "/tsa" || path == "/") return head.method == bhttp::verb::post ? Route::kTimeStamp : Route::kMethodNotAllowed;
  const bool get = head.method == bhttp::verb::get || head.method == bhttp::verb::head;
  if (!get) return Route::kNotFound;
  if (path == "/health" || path == "/healthz") return Route::kHealth;
  if (path == "/certs/tsa.pem") return Route::kCertificate;
  if (path == "/certs/chain.pem") return Route::kChain;
  if (path == "/metrics") return Route::kMetrics;
  if (path.rfind("/audit/", 0) == 0) {
    // --no-audit-log: there is no audit chain to show, and an empty one would mislead.
    if (!issuer_.logs_tokens()) return Route::kAuditOff;
    if (path == "/audit/checkpoint") return Route::kAuditCheckpoint;
    if (path == "/audit/proof") return Route::kAuditProof;
  }
  if (path.rfind("/log/", 0) == 0) {
    if (!issuer_.logs_tokens()) return Route::kAuditOff;
    if (path == "/log/checkpoint") return Route::kLogCheckpoint;
    if (path == "/log/vkey") return Route::kLogVerifierKey;
    if (path.rfind("/log/tile/", 0) == 0) return Route::kLogTile;
  }
  return Route::kNotFound;
}

// A verified client certificate that a client lists authenticates it; a listed but disabled one
// is refused outright. Otherwise the Authorization header decides (a certificate that no client
// lists is no credential, but the API key may still be sent over the same connection).
service::AuthResult Router::Identify(const service::ClientSet& clients, const Exchange& ex, bool allow_slow_hash) const {
  if (ex.peer) {
    service::AuthResult by_cert = clients.AuthenticateCertificate(ex.peer->subject, ex.peer->spki_sha256);
    // A listed certificate claims its client's name (an unknown one claims its subject).
    const bool listed = by_cert.client != nullptr || by_cert.claimed != ex.peer->subject;
    if (listed || ex.head.authorization.empty()) return by_cert;
  }
  return clients.Authenticate(ex.head.authorization, allow_slow_hash);
}

// Wrong secrets for known key ids (each cost an argon2id hash) per remote address: 10, then one
// more every 5 s. Past that, a key that is not
// in the verified cache is refused with 429 before its argon2id hash (~30 ms of an I/O thread)
// is computed, so guessing keys cannot take the I/O threads; a client whose key was verified
// before still gets in from the same address.
constexpr core::RateSpec kAuthFailuresPerAddress{0.2, 10};

std::optional<Response> Router::Authenticate(Exchange& ex) {
  if (!clients_) return std::nullopt;
  ex.client_set = clients_->Current();
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  const bool allow_slow_hash = auth_failures_.Peek(ex.client, kAuthFailuresPerAddress, now_ns) == 0;
  const service::AuthResult auth = Identify(*ex.client_set, ex, allow_slow_hash);
  if (auth.client != nullptr) {
    ex.client_entry = auth.client;
    return std::nullopt;
  }
  if (auth.throttled) {
    const int wait = auth_failures_.Peek(ex.client, kAuthFailuresPerAddress, now_ns);
    metrics_->CountAuthFailure();
    metrics_->CountRateLimited();
    service::LogEvent(spdlog::level::warn, "auth_throttled", {{"id", ex.id}, {"client", ex.client}, {"claimed", auth.claimed}});
    Response res = TransportError(429, "too many failed authentication attempts: retry after " + std::to_string(wait) + " s",
                                  ex.head);
    res.set(bhttp::field::retry_after, std::to_string(std::max(1, wait)));
    return res;
  }
  if (auth.wrong_after_hash) auth_failures_.Acquire(ex.client, kAuthFailuresPerAddress, now_ns);
  return Unauthorized(ex, auth);
}

Response Router::Unauthorized(const Exchange& ex, const service::AuthResult& auth) const {
  metrics_->CountAuthFailure();
  service::LogEvent(
      spdlog::level::warn, "auth_failed",
      {{"id", ex.id}, {"client", ex.client}, {"claimed", auth.claimed.empty() ? "-" : auth.claimed}, {"reason", auth.failure}});
  // RFC 9110 §11.6.1: one challenge per scheme tsad accepts.
  Response res = TransportError(401, "authentication required: an API key as Bearer token or as the Basic password", ex.head);
  res.insert(bhttp::field::www_authenticate, "Basic realm=\"tsad\", charset=\"UTF-8\"");
  res.insert(bhttp::field::www_authenticate, "Bearer realm=\"tsad\"");
  return res;
}

std::optional<Response> Router::RateLimit(const Exchange& ex) {
  const service::Client* client = ex.client_entry;
  const core::RateSpec* spec = client != nullptr && client->rate_spec ? &*client->rate_spec
                               : options_.rate_limit                  ? &*options_.rate_limit
                                                                      : nullptr;
  if (spec == nullptr && !options_.global_rate_limit) return std::nullopt;
  const std::int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  // The identity's own bucket first: a client over its rate must not use up the global one.
  int wait = 0;
  if (spec != nullptr)
    wait = limiter_.Acquire(client != nullptr ? "client " + client->name
                            : ex.peer         ? "cert " + ex.peer->subject
                                              : "address " + ex.client,
                            *spec, now_ns);
  if (wait == 0 && options_.global_rate_limit) wait = global_limiter_.Acquire("", *options_.global_rate_limit, now_ns);
  if (wait == 0) return std::nullopt;
  metrics_->CountRateLimited();
  Response res = TransportError(429, "rate limit exceeded: retry after " + std::to_string(wait) + " s", ex.head);
  res.set(bhttp::field::retry_after, std::to_string(wait));  // RFC 9110 §10.2.3: delay-seconds
  return res;
}

Response Router::Handle(Route route, const Exchange& ex) {
  switch (route) {
    case Route::kHealth: return Health(ex);
    case Route::kCertificate:
    case Route::kChain: {
      // The signer of now: after a SIGHUP reload these serve the new certificate.
      const auto signer = issuer_.signer();
      const auto& material = signer->material();
      std::string pem = material.certificate_pem();
      if (route == Route::kChain) pem += material.chain_pem();
      return Make(200, ex.head, pem, "application/x-pem-file");
    }
    case Route::kAuditCheckpoint: return AuditCheckpoint(ex);
    case Route::kAuditProof: return AuditProof(ex);
    case Route::kMetrics: return Metrics(ex);
    case Route::kLogCheckpoint: return LogCheckpoint(ex);
    case Route::kLogVerifierKey: return LogVerifierKey(ex);
    case Route::kLogTile: return LogTile(ex);
    case Route::kAuditOff:
      return TransportError(404, "the audit log is off on this tsad (--no-audit-log): tokens are not logged", ex.head);
    case Route::kMethodNotAllowed: {
      Response res = TransportError(405, "method not allowed: use POST", ex.head);
      res.set(bhttp::field::allow, "POST");
      return res;
    }
    case Route::kNotFound:
    case Route::kInvalid:
    case Route::kTimeStamp: break;
  }
  return TransportError(404, "not found", ex.head);
}

Response Router::Health(const Exchange& ex) {
  const core::UnixMicros now = issuer_.ReadClock().now;
  auto report = service::CheckHealth(issuer_, core::UnixSeconds(now), options_.cert_warn_days);
  report.anchor_json = audit_.AnchorHealth(now, anchor_interval_s_).dump();
  if (tls_store != nullptr)
    report.tls_json = tls_store->Health(core::UnixSeconds(now), options_.cert_warn_days, &report.tls_warning).dump();
  report.log_checkpoint_json = audit_.LogCheckpointHealth().dump();
  report.witnesses_json = audit_.WitnessHealth().dump();
  report.degraded = audit_.Degradations();
  return Json(report.ok ? 200 : 503, ex.head, report.ToJson());
}

Response Router::AuditCheckpoint(const Exchange& ex) {
  auto cp = audit_.LatestCheckpoint();
  if (!cp) return TransportError(503, "audit log unavailable", ex.head);
  return Json(200, ex.head, *cp);
}

// c2sp.org/tlog-tiles: the checkpoint is short-lived (a new one at least every second while the
// log grows); tiles are immutable.
Response Router::LogCheckpoint(const Exchange& ex) {
  auto note = audit_.SignedCheckpoint();
  if (!note) return TransportError(404, kNoLogKey, ex.head);
  Response res = Make(200, ex.head, std::move(*note), "text/plain; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

Response Router::LogVerifierKey(const Exchange& ex) {
  auto vkey = audit_.VerifierKey();
  if (!vkey) return TransportError(404, kNoLogKey, ex.head);
  Response res = Make(200, ex.head, *vkey + "\n", "text/plain; charset=utf-8");
  res.set(bhttp::field::cache_control, "max-age=3600");
  return res;
}

Response Router::LogTile(const Exchange& ex) {
  auto tile = audit_.Tile(ex.target.path.substr(5));  // below "/log/"
  if (!tile) {
    const auto kind = tile.error().kind;
    const int status = kind == ErrorKind::kNotFound ? 404 : kind == ErrorKind::kUnavailable ? 409 : 503;
    return TransportError(status, tile.error().message, ex.head);
  }
  Response res = Make(200, ex.head, std::string(tile->bytes.begin(), tile->bytes.end()), "application/octet-stream");
  // tlog-tiles: a full tile never changes; a partial one is replaced as the log grows.
  res.set(bhttp::field::cache_control, tile->full ? "public, max-age=31536000, immutable" : "no-store");
  return res;
}

Response Router::AuditProof(const Exchange& ex) {
  const std::string serial = ex.target.Param("serial").value_or("");
  if (serial.size() > 64 || !IsHex(serial)) return TransportError(400, "give ?serial=<hex serial number of the token>", ex.head);
  if (ex.target.Param("format").value_or("") == "tlog-proof") {
    auto text = audit_.TlogProof(serial);
    if (!text) {
      const auto kind = text.error().kind;
      const int status = kind == ErrorKind::kNotFound ? 404 : kind == ErrorKind::kUnavailable ? 409 : 503;
      return TransportError(status, text.error().message, ex.head);
    }
    Response res = Make(200, ex.head, std::move(*text), "text/plain; charset=utf-8");
    res.set(bhttp::field::cache_control, "no-store");
    return res;
  }
  auto proof = audit_.Proof(serial);
  if (!proof) {
    const auto kind = proof.error().kind;
    const int status = kind == ErrorKind::kNotFound ? 404 : kind == ErrorKind::kUnavailable ? 409 : 503;
    return TransportError(status, proof.error().message, ex.head);
  }
  return Json(200, ex.head, *proof);
}

Response Router::Metrics(const Exchange& ex) {
  // Metrics show traffic and state an outsider should not see: loopback only unless opened.
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ex.client, ec);
  if (options_.metrics_from == MetricsAccess::kLoopback && (ec || !address.is_loopback())) {
    return TransportError(403, "/metrics is served to loopback clients only (see --metrics-from)", ex.head);
  }
  if (options_.metrics_from == MetricsAccess::kClient) {
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    const bool allow_slow_hash = auth_failures_.Peek(ex.client, kAuthFailuresPerAddress, now_ns) == 0;
    const service::AuthResult auth = clients_ ? Identify(*clients_->Current(), ex, allow_slow_hash)
                                              : service::AuthResult{nullptr, "", "no --clients"};
    if (auth.wrong_after_hash) auth_failures_.Acquire(ex.client, kAuthFailuresPerAddress, now_ns);
    if (auth.client == nullptr) return Unauthorized(ex, auth);
  }
  const service::ServerGauges gauges = server_gauges ? server_gauges() : service::ServerGauges{};
  Response res = Make(200, ex.head, metrics_->Render(issuer_, audit_, gauges), "text/plain; version=0.0.4; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  return res;
}

bool Router::IsQuery(const RequestHead& head) { return core::IsTimeStampQuery(head.content_type); }

std::size_t Router::BodyLimit(const RequestHead& head) const {
  return IsQuery(head) ? options_.max_request_bytes : options_.max_data_bytes;
}

std::optional<core::HashAlgorithm> Router::DataHash(const Target& target) const {
  const auto alg = core::HashAlgorithmFromName(target.Param("hash").value_or("sha256"));
  if (!alg || !issuer_.signer()->options().policy.Accepts(*alg)) return std::nullopt;
  return alg;
}

// Always 200 (conformance §1.5): DER with the exact media type, or JSON when asked for.
Response Router::TimeStampReply(const service::IssueOutcome& outcome, const Exchange& ex) const {
  const bool json = core::WantsJson(ex.target.Param("format").value_or(""), ex.head.accept);
  Response res = json ? Make(200, ex.head, service::TimeStampReplyJson(outcome).dump(2) + "\n", "application/json")
                      : Make(200, ex.head, std::string(outcome.der.begin(), outcome.der.end()), kReplyType);
  if (!json) res.set(bhttp::field::content_disposition, "attachment; filename=\"timestamp.tsr\"");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Request-Id", ex.id);
  return res;
}

Response Router::TransportError(int status, const std::string& message, const RequestHead& head) {
  return Make(status, head, nlohmann::json{{"error", message}}.dump() + "\n", "application/json");
}

void Router::LogRequest(const Exchange& ex, const service::IssueOutcome* outcome, int status) const {
  const auto elapsed = std::chrono::steady_clock::now() - ex.start;
  route_metrics_[static_cast<std::size_t>(ex.route)]->Observe(status, elapsed);
  if (outcome != nullptr) metrics_->CountOutcome(*outcome);
  const auto level = outcome && !outcome->internal_error.empty() ? spdlog::level::err : spdlog::level::info;
  if (!service::LogEnabled(level)) return;  // the fields below cost allocations on every request
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  std::string result = outcome == nullptr   ? "http-" + std::to_string(status)
                       : outcome->granted() ? "granted"
                                            : std::string("rejection:") + core::FailInfoName(outcome->rejection->fail_info);
  service::LogFields fields = {{"id", ex.id},
                               {"client", ex.client},
                               {"client_name", ex.client_entry != nullptr ? ex.client_entry->name : "-"},
                               {"method", std::string(bhttp::to_string(ex.head.method))},
                               {"path", ex.target.path},
                               {"mode", outcome == nullptr ? "-"
                                        : IsQuery(ex.head) ? "query"
                                                           : "data"},
                               {"outcome", result},
                               {"serial", outcome && outcome->granted() ? outcome->serial_hex : "-"},
                               {"alg", outcome && !outcome->hash_algorithm.empty() ? outcome->hash_algorithm : "-"},
                               {"us", us}};
  if (ex.peer) fields.emplace_back("cert", ex.peer->subject);  // the mTLS identity
  if (outcome && !outcome->internal_error.empty()) fields.emplace_back("error", outcome->internal_error);
  service::LogEvent(level, "request", fields);
}

}  // namespace tsa::http
