#include "support/http_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"

namespace tsa::test {
namespace {

using Clock = std::chrono::steady_clock;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

bool HasHeader(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return IEquals(h.first, name); });
}

}  // namespace

bool HttpResponse::has_header(std::string_view name) const { return HasHeader(headers, name); }

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

int HttpResponse::header_count(std::string_view name) const {
  return static_cast<int>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return IEquals(h.first, name); }));
}

std::string HttpResponse::Summary() const {
  std::string out = "HTTP status " + std::to_string(status) + " " + reason;
  if (!error.empty()) out += " (error: " + error + ")";
  for (const auto& [k, v] : headers) out += "\n  " + k + ": " + v;
  std::string text = body_text();
  bool printable = std::all_of(text.begin(), text.end(),
                               [](char c) { return c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7f); });
  if (printable) {
    out += "\n  body: " + text.substr(0, 600);
  } else {
    out += "\n  body: " + std::to_string(body.size()) + " binary bytes";
  }
  return out;
}

std::unique_ptr<HttpConnection> HttpConnection::Connect(int port, std::string* error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (error) *error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<HttpConnection>(new HttpConnection(fd));
}

HttpConnection::~HttpConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<HttpConnection> HttpConnection::ConnectTls(int port, const TlsClientOptions& options, std::string* error) {
  auto conn = Connect(port, error);
  if (!conn) return nullptr;
  const auto fail = [&](const std::string& what) -> std::unique_ptr<HttpConnection> {
    if (error) *error = what + ": " + crypto::DrainOpensslErrors();
    return nullptr;
  };
  const timeval timeout{10, 0};
  ::setsockopt(conn->fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(conn->fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  conn->ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (conn->ssl_ctx_ == nullptr) return fail("SSL_CTX_new");
  if (options.min_version != 0) SSL_CTX_set_min_proto_version(conn->ssl_ctx_, options.min_version);
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(conn->ssl_ctx_, options.max_version);
  if (SSL_CTX_load_verify_locations(conn->ssl_ctx_, options.ca_file.c_str(), nullptr) != 1) return fail("CA " + options.ca_file);
  SSL_CTX_set_verify(conn->ssl_ctx_, SSL_VERIFY_PEER, nullptr);
  if (!options.cert_file.empty() &&
      (SSL_CTX_use_certificate_chain_file(conn->ssl_ctx_, options.cert_file.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(conn->ssl_ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    return fail("client certificate " + options.cert_file);
  }
  conn->ssl_ = SSL_new(conn->ssl_ctx_);
  if (conn->ssl_ == nullptr) return fail("SSL_new");
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl_), "127.0.0.1");
  SSL_set_fd(conn->ssl_, conn->fd_);
  if (SSL_connect(conn->ssl_) != 1) return fail("TLS handshake");
  return conn;
}

std::string HttpConnection::PeerCertificateSha256() const {
  X509* cert = ssl_ != nullptr ? SSL_get0_peer_certificate(ssl_) : nullptr;
  if (cert == nullptr) return "";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  return crypto::Hex(md, len);
}

std::string HttpConnection::TlsVersion() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

bool HttpConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ssl_ != nullptr ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                                      : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0 && ssl_ != nullptr) return false;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool HttpConnection::Send(const std::vector<std::uint8_t>& bytes) {
  return Send(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string HttpConnection::DrainUntilClose(std::chrono::milliseconds timeout, bool* closed) {
  std::string data = std::move(buffer_);  // WaitForClose reports only what arrives after its call
  buffer_.clear();
  *closed = WaitForClose(timeout, &data);
  return data;
}

std::size_t HttpConnection::SendWithin(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || (p.revents & (POLLERR | POLLHUP)) != 0) break;
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  return sent;
}

void HttpConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

int HttpConnection::Fill(Clock::time_point deadline, std::string* error) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      if (error) *error = "timed out";
      return -1;
    }
    pollfd p{fd_, POLLIN, 0};
    const int r = ssl_ != nullptr && SSL_pending(ssl_) > 0 ? 1 : ::poll(&p, 1, static_cast<int>(left));
    if (r < 0) {
      if (errno == EINTR) continue;
      if (error) *error = std::string("poll: ") + std::strerror(errno);
      return -1;
    }
    if (r == 0) continue;  // re-check the deadline
    char buf[16384];
    if (ssl_ != nullptr) {
      const int got = SSL_read(ssl_, buf, sizeof(buf));
      if (got <= 0) {
        const int reason = SSL_get_error(ssl_, got);
        if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) continue;
        ERR_clear_error();
        return 0;  // close_notify, EOF or a reset: a close, as for plain TCP
      }
      buffer_.append(buf, static_cast<std::size_t>(got));
      return got;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return 0;  // treated as a close; the caller decides whether it is an error
      if (error) *error = std::string("recv: ") + std::strerror(errno);
      return -1;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return static_cast<int>(n);
  }
}

HttpResponse HttpConnection::ReadResponse(std::chrono::milliseconds timeout, bool is_head) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  HttpResponse r;
  auto finish = [&](HttpResponse& resp) -> HttpResponse {
    resp.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return std::move(resp);
  };

  // Status line and headers.
  std::size_t end = std::string::npos;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    std::string err;
    const int n = Fill(deadline, &err);
    if (n == 0) {
      r.closed = true;
      r.error = buffer_.empty() ? "connection closed without a response" : "connection closed inside the headers";
      return finish(r);
    }
    if (n < 0) {
      r.error = err + " while reading the headers (" + std::to_string(buffer_.size()) + " bytes so far)";
      return finish(r);
    }
  }
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  {
    const auto sp1 = status_line.find(' ');
    const auto sp2 = sp1 == std::string::npos ? std::string::npos : status_line.find(' ', sp1 + 1);
    r.version = status_line.substr(0, sp1);
    try {
      r.status = std::stoi(status_line.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1));
    } catch (...) {
      r.error = "bad status line: " + status_line;
      return finish(r);
    }
    if (sp2 != std::string::npos) r.reason = status_line.substr(sp2 + 1);
  }
  while (line_end != std::string::npos) {
    const std::size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
    line_end = next;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers.emplace_back(line.substr(0, colon), Trim(line.substr(colon + 1)));
  }
  if (r.status >= 100 && r.status < 200) return finish(r);
  if (is_head || r.status == 204 || r.status == 304) return finish(r);

  auto need = [&](std::size_t bytes) -> bool {
    while (buffer_.size() < bytes) {
      std::string err;
      const int n = Fill(deadline, &err);
      if (n == 0) {
        r.closed = true;
        r.error = "connection closed inside the body";
        return false;
      }
      if (n < 0) {
        r.error = err + " while reading the body";
        return false;
      }
    }
    return true;
  };

  if (IEquals(r.header("Transfer-Encoding"), "chunked")) {
    while (true) {
      std::size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (!need(buffer_.size() + 1)) return finish(r);
      }
      std::size_t size = 0;
      try {
        size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
      } catch (...) {
        r.error = "bad chunk size line: " + buffer_.substr(0, eol);
        return finish(r);
      }
      buffer_.erase(0, eol + 2);
      if (!need(size + 2)) return finish(r);
      r.body.insert(r.body.end(), buffer_.begin(), buffer_.begin() + static_cast<long>(size));
      buffer_.erase(0, size + 2);
      if (size == 0) break;  // (trailers are not used by tsad)
    }
  } else if (r.has_header("Content-Length")) {
    std::size_t length = 0;
    try {
      length = std::stoul(r.header("Content-Length"));
    } catch (...) {
      r.error = "bad Content-Length";
      return finish(r);
    }
    if (!need(length)) return finish(r);
    r.body.assign(buffer_.begin(), buffer_.begin() + static_cast<long>(length));
    buffer_.erase(0, length);
  } else {
    // Until the server closes.
    while (true) {
      std::string err;
      const int n = Fill(deadline, &err);
      if (n == 0) {
        r.closed = true;
        break;
      }
      if (n < 0) {
        r.error = err + " while reading a body delimited by close";
        return finish(r);
      }
    }
    r.body.assign(buffer_.begin(), buffer_.end());
    buffer_.clear();
  }
  return finish(r);
}

bool HttpConnection::WaitForClose(std::chrono::milliseconds timeout, std::string* data) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const std::size_t before = buffer_.size();
    const int n = Fill(deadline, nullptr);
    if (data) data->append(buffer_.substr(before));
    buffer_.clear();
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

std::string BuildRequest(const std::string& method, const std::string& target, const Headers& headers,
                         const std::vector<std::uint8_t>& body, int port, bool http10) {
  std::string out = method + " " + target + (http10 ? " HTTP/1.0" : " HTTP/1.1") + "\r\n";
  if (!http10 && !HasHeader(headers, "Host")) out += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (!HasHeader(headers, "Content-Length") && !HasHeader(headers, "Transfer-Encoding") &&
      (!body.empty() || method == "POST" || method == "PUT")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out.append(reinterpret_cast<const char*>(body.data()), body.size());
  return out;
}

HttpResponse HttpRequest(int port, const std::string& method, const std::string& target, const Headers& headers,
                         const std::vector<std::uint8_t>& body, std::chrono::milliseconds timeout) {
  std::string error;
  auto conn = HttpConnection::Connect(port, &error);
  if (!conn) {
    HttpResponse r;
    r.error = error;
    return r;
  }
  Headers all = headers;
  if (!HasHeader(all, "Connection")) all.emplace_back("Connection", "close");
  if (!conn->Send(BuildRequest(method, target, all, body, port))) {
    // The server may have answered before reading everything (e.g. 413): still try to read.
  }
  return conn->ReadResponse(timeout, method == "HEAD");
}

HttpResponse HttpGet(int port, const std::string& target, const Headers& headers) {
  return HttpRequest(port, "GET", target, headers);
}

HttpResponse HttpPost(int port, const std::string& target, const std::vector<std::uint8_t>& body,
                      const std::optional<std::string>& content_type, const Headers& extra_headers) {
  Headers headers;
  if (content_type) headers.emplace_back("Content-Type", *content_type);
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  return HttpRequest(port, "POST", target, headers, body);
}

HttpResponse PostQuery(int port, const std::vector<std::uint8_t>& der, const std::string& target) {
  return HttpPost(port, target, der, std::string("application/timestamp-query"));
}

std::string SendRaw(int port, std::string_view bytes, std::chrono::milliseconds timeout, bool* closed_by_server) {
  if (closed_by_server) *closed_by_server = false;
  auto conn = HttpConnection::Connect(port);
  if (!conn) return "";
  conn->Send(bytes);
  std::string data;
  const bool closed = conn->WaitForClose(timeout, &data);
  if (closed_by_server) *closed_by_server = closed;
  return data;
}

}  // namespace tsa::test
