#include "tsa/http/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include <sys/socket.h>

#include "elastic_pool.h"
#include "tsa/core/media_type.h"
#include "tsa/crypto/streaming_hash.h"
#include "tsa/service/health.h"
#include "tsa/service/logging.h"
#include "tsa/service/reply_json.h"

namespace tsa::http {
namespace {

constexpr const char* kReplyType = "application/timestamp-reply";  // exactly: jarsigner/OpenSSL reject parameters

std::string NextRequestId() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint32_t boot = static_cast<std::uint32_t>(std::time(nullptr));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08x-%06llx", boot, static_cast<unsigned long long>(++counter));
  return buf;
}

std::size_t ContentLength(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return 0;
  try {
    return static_cast<std::size_t>(std::stoull(req.get_header_value("Content-Length")));
  } catch (...) {
    return SIZE_MAX;
  }
}

bool IsQuery(const httplib::Request& req) { return core::IsTimeStampQuery(req.get_header_value("Content-Type")); }

// The one place where a protocol outcome becomes an HTTP reply: always 200 (conformance §1.5),
// DER with the exact media type, or JSON when asked for.
void WriteTimeStampReply(const service::IssueOutcome& outcome, bool json, const std::string& request_id, httplib::Response& res) {
  res.status = 200;
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Request-Id", request_id);
  if (json) {
    res.set_content(service::TimeStampReplyJson(outcome).dump(2) + "\n", "application/json");
    return;
  }
  res.set_header("Content-Disposition", "attachment; filename=\"timestamp.tsr\"");
  res.set_content(reinterpret_cast<const char*>(outcome.der.data()), outcome.der.size(), kReplyType);
}

void TransportError(httplib::Response& res, int status, const std::string& message, bool close = false) {
  res.status = status;
  if (close) res.set_header("Connection", "close");
  res.set_content(nlohmann::json{{"error", message}}.dump() + "\n", "application/json");
}

}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  service::Issuer& issuer;
  service::AuditService& audit;
  int anchor_interval_s;
  httplib::Server server;
  std::atomic<bool> stopping{false};
  std::atomic<bool> serving_done{false};
  int listen_socket = -1;

  Impl(const HttpOptions& o, service::Issuer& i, service::AuditService& a, int interval)
      : options(o), issuer(i), audit(a), anchor_interval_s(interval) {}

  void LogRequest(const std::string& id, const httplib::Request& req, const service::IssueOutcome* outcome, const char* mode,
                  std::chrono::steady_clock::time_point start, int status) {
    const auto level = outcome && !outcome->internal_error.empty() ? spdlog::level::err : spdlog::level::info;
    if (!service::LogEnabled(level)) return;  // the fields below cost allocations on every request
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
    std::string result = outcome == nullptr   ? "http-" + std::to_string(status)
                         : outcome->granted() ? "granted"
                                              : std::string("rejection:") + core::FailInfoName(outcome->rejection->fail_info);
    service::LogFields fields = {{"id", id},
                                 {"client", req.remote_addr},
                                 {"path", req.path},
                                 {"mode", mode},
                                 {"outcome", result},
                                 {"serial", outcome && outcome->granted() ? outcome->serial_hex : "-"},
                                 {"alg", outcome && !outcome->hash_algorithm.empty() ? outcome->hash_algorithm : "-"},
                                 {"us", us}};
    if (outcome && !outcome->internal_error.empty()) fields.emplace_back("error", outcome->internal_error);
    service::LogEvent(level, "request", fields);
  }

  void HandleTimeStamp(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    const auto start = std::chrono::steady_clock::now();
    const std::string id = NextRequestId();
    const bool json = core::WantsJson(req.get_param_value("format"), req.get_header_value("Accept"));
    const bool query = IsQuery(req);
    const std::size_t limit = query ? options.max_request_bytes : options.max_data_bytes;

    // 413 before reading anything when the announced length is too large (conformance H10).
    if (ContentLength(req) > limit) {
      TransportError(res, 413, "request body larger than " + std::to_string(limit) + " bytes", true);
      LogRequest(id, req, nullptr, query ? "query" : "data", start, 413);
      return;
    }

    const char* mode = query ? "query" : "data";
    // Feeds the body to `sink` in chunks, enforcing the mode's limit while it streams (chunked
    // bodies have no Content-Length). Answers 413/400 itself and returns false on failure.
    auto read_body = [&](const std::function<void(const char*, std::size_t)>& sink) {
      std::size_t total = 0;
      bool too_large = false;
      const bool ok = reader([&](const char* data, std::size_t len) {
        total += len;
        if (total > limit) {
          too_large = true;
          return false;
        }
        sink(data, len);
        return true;
      });
      if (too_large || !ok) {
        const int status = too_large ? 413 : 400;
        TransportError(
            res, status,
            too_large ? "request body larger than " + std::to_string(limit) + " bytes" : "could not read the request body", true);
        LogRequest(id, req, nullptr, mode, start, status);
        return false;
      }
      return true;
    };

    service::IssueOutcome outcome;
    if (query) {
      std::string body;
      if (!read_body([&](const char* data, std::size_t len) { body.append(data, len); })) return;
      outcome = issuer.Issue(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
    } else {
      // Raw-data mode: the body is the data; hash it while it streams in, in constant memory.
      std::string hash_name = req.has_param("hash") ? req.get_param_value("hash") : "sha256";
      const auto alg = core::HashAlgorithmFromName(hash_name);
      if (!alg || !issuer.signer().options().policy.Accepts(*alg)) {
        TransportError(res, 400, "unsupported ?hash= value '" + hash_name + "' (use sha256, sha384 or sha512)", true);
        LogRequest(id, req, nullptr, mode, start, 400);
        return;
      }
      auto hasher = crypto::StreamingHash::Create(*alg);
      if (!hasher) {
        TransportError(res, 500, "hash unavailable", true);
        LogRequest(id, req, nullptr, mode, start, 500);
        return;
      }
      if (!read_body([&](const char* data, std::size_t len) { hasher->Update(data, len); })) return;
      outcome = issuer.IssueForDigest(*alg, hasher->Finish());
    }
    WriteTimeStampReply(outcome, json, id, res);
    LogRequest(id, req, &outcome, mode, start, 200);
  }

  void HandleHealth(const httplib::Request& /*req*/, httplib::Response& res) {
    auto report = service::CheckHealth(issuer, std::time(nullptr));
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    report.anchor_json = audit.AnchorHealth(now_us, anchor_interval_s).dump();
    res.status = report.ok ? 200 : 503;
    res.set_header("Cache-Control", "no-store");
    res.set_content(report.ToJson().dump(2) + "\n", "application/json");
  }

  void Routes() {
    auto post = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      HandleTimeStamp(req, res, reader);
    };
    auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", "POST");
      res.set_content("{\"error\":\"method not allowed: use POST\"}\n", "application/json");
    };
    auto not_allowed_with_body = [not_allowed](const httplib::Request& req, httplib::Response& res,
                                               const httplib::ContentReader&) {
      not_allowed(req, res);
      res.set_header("Connection", "close");  // the body was not read
    };
    for (const char* path : {"/tsa", "/"}) {
      server.Post(path, post);
      server.Get(path, not_allowed);
      server.Put(path, not_allowed_with_body);
      server.Patch(path, not_allowed_with_body);
      server.Delete(path, not_allowed);
      server.Options(path, not_allowed);
    }
    auto health = [this](const httplib::Request& req, httplib::Response& res) { HandleHealth(req, res); };
    server.Get("/health", health);
    server.Get("/healthz", health);

    const auto& material = issuer.signer().material();
    const std::string cert_pem = material.certificate_pem();
    const std::string chain_pem = material.chain_pem().empty() ? material.certificate_pem()
                                                               : material.certificate_pem() + material.chain_pem();
    server.Get("/certs/tsa.pem", [cert_pem](const httplib::Request&, httplib::Response& res) {
      res.set_content(cert_pem, "application/x-pem-file");
    });
    server.Get("/certs/chain.pem", [chain_pem](const httplib::Request&, httplib::Response& res) {
      res.set_content(chain_pem, "application/x-pem-file");
    });
    if (issuer.logs_tokens()) {
      AuditRoutes();
    } else {
      // --no-audit-log: there is no audit chain to show, and an empty one would mislead.
      server.Get(R"(/audit/.*)", [](const httplib::Request&, httplib::Response& res) {
        TransportError(res, 404, "the audit log is off on this tsad (--no-audit-log): tokens are not logged");
      });
    }
  }

  void AuditRoutes() {
    server.Get("/audit/checkpoint", [this](const httplib::Request&, httplib::Response& res) {
      auto cp = audit.LatestCheckpoint();
      if (!cp) {
        TransportError(res, 503, "audit log unavailable");
        return;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(cp->dump(2) + "\n", "application/json");
    });
    server.Get("/audit/proof", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string serial = req.get_param_value("serial");
      if (serial.empty() || serial.size() > 64 || serial.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        TransportError(res, 400, "give ?serial=<hex serial number of the token>");
        return;
      }
      auto proof = audit.Proof(serial);
      if (!proof) {
        const auto kind = proof.error().kind;
        TransportError(res,
                       kind == ErrorKind::kNotFound      ? 404
                       : kind == ErrorKind::kUnavailable ? 409
                                                         : 503,
                       proof.error().message);
        return;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(proof->dump(2) + "\n", "application/json");
    });
  }

  void Configure() {
    const std::size_t threads = options.threads;
    const std::size_t max_threads = options.max_threads;
    server.new_task_queue = [threads, max_threads] { return new ElasticPool(threads, max_threads); };  // NOLINT: httplib owns it
    // Remember the listening socket: the packaged cpp-httplib listens with a backlog of 5, which
    // drops connection bursts; Bind() raises it.
    server.set_socket_options([this](int sock) {
      httplib::default_socket_options(sock);
      listen_socket = sock;
    });
    server.set_read_timeout(options.read_timeout_s, 0);
    server.set_write_timeout(options.write_timeout_s, 0);
    server.set_keep_alive_timeout(options.keep_alive_timeout_s);
    server.set_keep_alive_max_count(options.keep_alive_max);
    server.set_tcp_nodelay(true);
    // httplib's own check is a backstop; the handlers enforce the per-mode limits.
    server.set_payload_max_length(std::max(options.max_request_bytes, options.max_data_bytes));
    // Expect: 100-continue (conformance H13): say 413 instead of 100 when the body is too large.
    server.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
      const std::size_t limit = IsQuery(req) ? options.max_request_bytes : options.max_data_bytes;
      if (ContentLength(req) > limit) {
        TransportError(res, 413, "request body larger than " + std::to_string(limit) + " bytes", true);
        return 413;
      }
      return 100;
    });
    server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      service::LogEvent(spdlog::level::err, "exception", {{"path", req.path}, {"what", what}});
      res.status = 500;
      res.headers.clear();  // never leak exception text in headers
      res.set_content("{\"error\":\"internal error\"}\n", "application/json");
    });
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.status == 404 && res.body.empty()) {
        res.set_content("{\"error\":\"not found\"}\n", "application/json");
      }
      service::LogEvent(spdlog::level::info, "request",
                        {{"id", "-"},
                         {"client", req.remote_addr},
                         {"method", req.method},
                         {"path", req.path},
                         {"outcome", "http-" + std::to_string(res.status)}});
    });
    Routes();
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpOptions& options, service::Issuer& issuer,
                                                       service::AuditService& audit, int anchor_interval_s) {
  if (options.threads == 0) return MakeError(ErrorKind::kInvalidArgument, "worker threads must be at least 1");
  auto impl = std::make_unique<Impl>(options, issuer, audit, anchor_interval_s);
  impl->Configure();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));  // NOLINT: private constructor of a factory
}

Result<int> HttpServer::Bind() {
  const int port = impl_->options.port == 0
                       ? impl_->server.bind_to_any_port(impl_->options.host)
                       : (impl_->server.bind_to_port(impl_->options.host, impl_->options.port) ? impl_->options.port : -1);
  if (port <= 0) {
    return MakeError(ErrorKind::kIo, "cannot listen on " + impl_->options.host + ":" + std::to_string(impl_->options.port) +
                                         " (address in use or not available)");
  }
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, impl_->options.listen_backlog);
  return port;
}

Status HttpServer::Serve() {
  const bool ok = impl_->stopping || impl_->server.listen_after_bind();
  impl_->serving_done = true;
  if (!ok && !impl_->stopping) return MakeError(ErrorKind::kIo, "the HTTP server stopped unexpectedly");
  return Ok();
}

void HttpServer::Stop() {
  impl_->stopping = true;
  // cpp-httplib's stop() is a no-op until listen_after_bind() runs: a signal that arrives between
  // Bind() and Serve() would be lost, so wait (bounded) until the server runs or Serve() returned.
  for (int i = 0; i < 5000 && !impl_->server.is_running() && !impl_->serving_done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->server.stop();
}

}  // namespace tsa::http
