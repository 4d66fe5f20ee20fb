#include "support/fake_tsa.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>

#include "support/der_builder.h"
#include "support/http_helpers.h"

namespace tsa::test {
namespace {

using Clock = std::chrono::steady_clock;

bool IEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return s.substr(b, e - b);
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool SendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

FakeReply Relay(const HttpResponse& r) {
  FakeReply reply;
  if (r.status == 0) {
    reply.status = 502;
    reply.content_type = "text/plain";
    const std::string text = "fake TSA: upstream failed: " + r.error;
    reply.body.assign(text.begin(), text.end());
    return reply;
  }
  reply.status = r.status;
  reply.content_type = r.header("Content-Type");
  reply.body = r.body;
  return reply;
}

HttpResponse Forward(int upstream_port, const std::string& target, const std::vector<std::uint8_t>& body) {
  return HttpRequest(upstream_port, "POST", target, {{"Content-Type", "application/timestamp-query"}}, body,
                     std::chrono::milliseconds(10000));
}

// The same TimeStampReq with another nonce, or another imprint (same nonce). nullopt when the
// request is not one this parser understands (then the caller relays garbage-free 400).
std::optional<Bytes> AlterRequest(const Bytes& der, FakeTsa::Mismatch what) {
  auto req = ParseSingle(der);
  if (!req || req->tag != kTagSequence) return std::nullopt;
  auto fields = Children(*req);
  if (!fields || fields->size() < 2) return std::nullopt;
  auto imprint = Children((*fields)[1]);
  if (!imprint || imprint->size() != 2) return std::nullopt;
  auto alg = Children((*imprint)[0]);
  if (!alg || alg->empty()) return std::nullopt;
  RequestBuilder b;
  b.version = (*fields)[0].content_bytes();
  b.hash_oid = DecodeOid((*alg)[0].content);
  b.params = alg->size() > 1 ? RequestBuilder::Params::kNull : RequestBuilder::Params::kAbsent;
  b.digest = (*imprint)[1].content_bytes();
  b.cert_req = RequestBuilder::CertReq::kAbsent;
  for (std::size_t i = 2; i < fields->size(); ++i) {
    const DerElement& f = (*fields)[i];
    if (f.tag == kTagOid) b.policy = DecodeOid(f.content);
    if (f.tag == kTagInteger) b.nonce = f.content_bytes();
    if (f.tag == kTagBoolean && f.content_bytes() != Bytes{0x00}) b.cert_req = RequestBuilder::CertReq::kTrue;
  }
  if (what == FakeTsa::Mismatch::kNonce) {
    Bytes other;
    do {
      other = RandomNonceContent(63);
    } while (b.nonce && other == *b.nonce);
    b.nonce = other;
  } else {
    if (b.digest.empty()) return std::nullopt;
    for (auto& byte : b.digest) byte ^= 0x5a;  // same length, other imprint
  }
  return b.Encode();
}

}  // namespace

std::string FakeRequest::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return "";
}

FakeTsa::FakeTsa() {
  HttpStatus(503);
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    error_ = std::string("bind/listen on 127.0.0.1:0: ") + std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeTsa::~FakeTsa() { Stop(); }

std::string FakeTsa::url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

void FakeTsa::SetHandler(FakeHandler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

void FakeTsa::Proxy(int upstream_port, const std::string& target) {
  SetHandler([upstream_port, target](const FakeRequest& req) { return Relay(Forward(upstream_port, target, req.body)); });
}

void FakeTsa::Garbage(std::vector<std::uint8_t> bytes) {
  if (bytes.empty()) {
    // Starts like a DER SEQUENCE, then nonsense: a parser must refuse it, not crash.
    bytes = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04};
    const std::string text = "this is not a TimeStampResp";
    bytes.insert(bytes.end(), text.begin(), text.end());
  }
  SetHandler([bytes](const FakeRequest&) {
    FakeReply reply;
    reply.body = bytes;
    return reply;
  });
}

void FakeTsa::WrongRequest(int upstream_port, Mismatch what) {
  SetHandler([upstream_port, what](const FakeRequest& req) {
    auto altered = AlterRequest(req.body, what);
    if (!altered) {
      FakeReply reply;
      reply.status = 400;
      reply.content_type = "text/plain";
      const std::string text = "fake TSA: cannot parse the TimeStampReq";
      reply.body.assign(text.begin(), text.end());
      return reply;
    }
    return Relay(Forward(upstream_port, "/tsa", *altered));
  });
}

void FakeTsa::HttpStatus(int status) {
  SetHandler([status](const FakeRequest&) {
    FakeReply reply;
    reply.status = status;
    reply.content_type = "text/plain";
    const std::string text = "fake TSA says " + std::to_string(status) + "\n";
    reply.body.assign(text.begin(), text.end());
    return reply;
  });
}

void FakeTsa::SlowProxy(int upstream_port, std::chrono::milliseconds delay) {
  SetHandler([this, upstream_port, delay](const FakeRequest& req) {
    FakeReply reply;
    if (!SleepFor(delay)) {
      reply.close_without_reply = true;
      return reply;
    }
    return Relay(Forward(upstream_port, "/tsa", req.body));
  });
}

void FakeTsa::Hang() {
  SetHandler([](const FakeRequest&) {
    FakeReply reply;
    reply.hang = true;
    return reply;
  });
}

std::vector<FakeRequest> FakeTsa::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

bool FakeTsa::WaitForRequests(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.load() >= n || stopping_.load(); }) && requests_.load() >= n;
}

bool FakeTsa::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, d, [&] { return stopping_.load(); });
}

void FakeTsa::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) {
      // Already stopped (or stopping on another thread): the joins below ran there.
      return;
    }
  }
  cv_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::list<std::thread> workers;
  {
    std::lock_guard lock(mutex_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // Serve() closes them
    workers.swap(workers_);
  }
  for (auto& t : workers) {
    if (t.joinable()) t.join();
  }
}

void FakeTsa::AcceptLoop() {
  while (!Stopping()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 50);
    if (r <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    if (Stopping()) {
      ::close(fd);
      break;
    }
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeTsa::Serve(int fd) {
  auto finish = [&] {
    {
      std::lock_guard lock(mutex_);
      open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    }
    ::close(fd);
  };
  // Read the head and the Content-Length body (10 s at most; Stop interrupts).
  std::string data;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::size_t head_end = std::string::npos;
  std::size_t content_length = 0;
  FakeRequest req;
  auto read_more = [&]() -> bool {
    while (!Stopping() && Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, 50);
      if (r < 0 && errno != EINTR) return false;
      if (r <= 0) continue;
      char buf[16384];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  };
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > 65536 || !read_more()) return finish();
  }
  {
    const std::string head = data.substr(0, head_end);
    std::size_t pos = 0;
    bool first = true;
    while (pos <= head.size()) {
      std::size_t eol = head.find("\r\n", pos);
      if (eol == std::string::npos) eol = head.size();
      const std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      if (first) {
        first = false;
        const auto sp1 = line.find(' ');
        const auto sp2 = line.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
        if (sp1 == std::string::npos || sp2 == std::string::npos) return finish();
        req.method = line.substr(0, sp1);
        req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        continue;
      }
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      req.headers.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
    }
    const std::string cl = req.header("Content-Length");
    if (!cl.empty()) {
      try {
        content_length = std::stoul(cl);
      } catch (...) {
        return finish();
      }
    }
    if (content_length > (1u << 20)) return finish();
  }
  while (data.size() - (head_end + 4) < content_length) {
    if (!read_more()) return finish();
  }
  req.body.assign(data.begin() + static_cast<std::ptrdiff_t>(head_end + 4),
                  data.begin() + static_cast<std::ptrdiff_t>(head_end + 4 + content_length));

  FakeHandler handler;
  {
    std::lock_guard lock(mutex_);
    received_.push_back(req);
    requests_.fetch_add(1);
    handler = handler_;
  }
  cv_.notify_all();

  in_flight_.fetch_add(1);
  FakeReply reply = handler ? handler(req) : FakeReply{};
  bool answer = !reply.close_without_reply;
  if (answer && reply.hang) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return stopping_.load(); });
    answer = false;
  } else if (answer && reply.delay.count() > 0) {
    answer = SleepFor(reply.delay);
  }
  in_flight_.fetch_sub(1);
  if (answer && !Stopping()) {
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + Reason(reply.status) + "\r\n";
    if (!reply.content_type.empty()) out += "Content-Type: " + reply.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n";
    out.append(reply.body.begin(), reply.body.end());
    SendAll(fd, out);
    ::shutdown(fd, SHUT_WR);
  }
  finish();
}

int ClosedLocalPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace tsa::test
