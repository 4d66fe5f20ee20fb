// The HTTP edge (cpp-httplib): routes, limits, media types, timeouts, and the one function that
// turns an IssueOutcome into an HTTP reply. No protocol decision is made here.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "tsa/core/result.h"
#include "tsa/service/audit_service.h"
#include "tsa/service/issuer.h"

namespace tsa::http {

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 5000;                 // 0: any free port (tests)
  std::size_t threads = 16;        // workers kept warm
  std::size_t max_threads = 2048;  // each open connection holds a worker; the pool grows up to this
  int listen_backlog = 1024;
  std::size_t max_request_bytes = 16 * 1024;     // DER TimeStampReq bodies (the largest sane one is < 300 B)
  std::size_t max_data_bytes = 4 * 1024 * 1024;  // raw-data mode bodies, hashed while streaming
  int read_timeout_s = 10;                       // slow clients (slow-loris) are dropped after this
  int write_timeout_s = 10;
  // cpp-httplib waits this long for the next request on a connection, also after a request it
  // failed to read: short, so that slow or idle clients are dropped promptly (conformance H17).
  int keep_alive_timeout_s = 1;
  std::size_t keep_alive_max = 100;
};

class HttpServer {
 public:
  // `audit` serves /audit/* and the anchor part of /health; anchor_interval_s judges staleness.
  static Result<std::unique_ptr<HttpServer>> Create(const HttpOptions& options, service::Issuer& issuer,
                                                    service::AuditService& audit, int anchor_interval_s);
  ~HttpServer();

  // Binds the listening socket; returns the port (useful with port 0).
  Result<int> Bind();
  // Serves until Stop(); in-flight requests finish before it returns.
  Status Serve();
  // Thread-safe; safe to call from a signal-handling thread.
  void Stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tsa::http
