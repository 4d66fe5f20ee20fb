// A small HTTP/1.x client on raw sockets for integration tests. Raw sockets let a test send exact
// bytes (HTTP/1.0 without Host, chunked bodies, Expect: 100-continue, slow-loris, a Content-Length
// larger than the body) and see exactly what the server answers, including interim 100 replies,
// header order and whether the server closed the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;

namespace tsa::test {

// An HTTPS connection's client side (HttpConnection::ConnectTls): the CA that must have signed
// tsad's TLS certificate, an optional client certificate (mutual TLS) and the protocol range.
struct TlsClientOptions {
  std::string ca_file;
  std::string cert_file;  // empty: no client certificate
  std::string key_file;
  int min_version = 0;  // TLS1_2_VERSION, ...; 0: OpenSSL's default
  int max_version = 0;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;       // 0: no complete response (see error)
  std::string version;  // "HTTP/1.1"
  std::string reason;
  Headers headers;  // in the order received
  std::vector<std::uint8_t> body;
  std::string error;    // transport problem; empty when a whole response was read
  bool closed = false;  // the server closed the connection after this response (seen while reading)
  std::chrono::milliseconds elapsed{0};

  bool has_header(std::string_view name) const;
  std::string header(std::string_view name) const;  // first value, case-insensitive name; "" if absent
  int header_count(std::string_view name) const;
  std::string body_text() const { return std::string(body.begin(), body.end()); }
  // One line for assertion messages: status, headers, the start of the body or the error.
  std::string Summary() const;
};

class HttpConnection {
 public:
  // Connects to 127.0.0.1:port; nullptr (and *error set) on failure.
  static std::unique_ptr<HttpConnection> Connect(int port, std::string* error = nullptr);
  // The same over TLS (OpenSSL, blocking handshake bounded by a 10 s socket timeout), verifying
  // the server's certificate for 127.0.0.1 against options.ca_file.
  static std::unique_ptr<HttpConnection> ConnectTls(int port, const TlsClientOptions& options, std::string* error = nullptr);
  // TLS: the SHA-256 (hex) of the certificate the server presented, and the protocol ("TLSv1.3").
  std::string PeerCertificateSha256() const;
  std::string TlsVersion() const;
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Writes all of `bytes`; false on a write error (e.g. the peer closed).
  bool Send(std::string_view bytes);
  bool Send(const std::vector<std::uint8_t>& bytes);
  // Reads one response (an interim 1xx too) within timeout. A body is read by Content-Length, by
  // chunked transfer coding, or until the server closes. is_head: no body expected.
  HttpResponse ReadResponse(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000), bool is_head = false);
  // Waits until the server closes the connection (EOF or reset). True if it did within timeout;
  // bytes received meanwhile are appended to *data when given.
  bool WaitForClose(std::chrono::milliseconds timeout, std::string* data = nullptr);
  // Everything after the responses read so far: the bytes already buffered (a pipelined or smuggled
  // reply that arrived in the same segment) plus whatever arrives until the server closes or the
  // timeout passes. *closed: the server closed (EOF or reset) within the timeout.
  std::string DrainUntilClose(std::chrono::milliseconds timeout, bool* closed);
  // Writes as much of `bytes` as the peer accepts before the timeout, without blocking past it (a
  // server that stopped reading cannot hang the test). Returns the number of bytes written.
  std::size_t SendWithin(std::string_view bytes, std::chrono::milliseconds timeout);
  // Half-closes the sending side (shutdown SHUT_WR).
  void ShutdownWrite();
  int fd() const { return fd_; }

 private:
  explicit HttpConnection(int fd) : fd_(fd) {}
  ssl_ctx_st* ssl_ctx_ = nullptr;  // TLS only (owned)
  ssl_st* ssl_ = nullptr;          // TLS only (owned)
  // Reads more bytes into buffer_ before the deadline: >0 bytes read, 0 EOF, -1 error/timeout.
  int Fill(std::chrono::steady_clock::time_point deadline, std::string* error);
  int fd_;
  std::string buffer_;
};

// Builds request bytes: "METHOD target HTTP/1.1", Host (unless headers carry one or http10 is
// set), the given headers, Content-Length for a body (unless headers carry Content-Length or
// Transfer-Encoding), and the body.
std::string BuildRequest(const std::string& method, const std::string& target, const Headers& headers,
                         const std::vector<std::uint8_t>& body, int port, bool http10 = false);

// One request on a fresh connection ("Connection: close"), the reply read with a timeout.
HttpResponse HttpRequest(int port, const std::string& method, const std::string& target, const Headers& headers = {},
                         const std::vector<std::uint8_t>& body = {},
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
HttpResponse HttpGet(int port, const std::string& target, const Headers& headers = {});
// POST with a Content-Type header (none when content_type is nullopt).
HttpResponse HttpPost(int port, const std::string& target, const std::vector<std::uint8_t>& body,
                      const std::optional<std::string>& content_type, const Headers& extra_headers = {});
// POST of a DER TimeStampReq as application/timestamp-query to /tsa.
HttpResponse PostQuery(int port, const std::vector<std::uint8_t>& der, const std::string& target = "/tsa");

// Sends exact bytes on a fresh connection and returns everything received until the server closes
// or the timeout passes.
std::string SendRaw(int port, std::string_view bytes, std::chrono::milliseconds timeout, bool* closed_by_server = nullptr);

}  // namespace tsa::test
