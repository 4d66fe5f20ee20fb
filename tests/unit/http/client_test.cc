// Tests for src/http/client.cc: every reply is capped in size (ClientOptions::max_reply_bytes) and
// the whole exchange in time (ClientOptions::timeout_s), for tsa-request (Post) and for the
// anchoring thread (HttpAnchorTransport). The "TSA" here is a raw socket on 127.0.0.1:0 that
// answers a declared 400 MB body, an endless chunked or close-delimited body, or trickles one byte
// every 100 ms; it counts what it managed to send, which shows that the client stopped reading
// (and so could not have buffered the reply).
#include "tsa/http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tsa/http/anchor_transport.h"

namespace tsa::http {
namespace {

using namespace std::chrono_literals;

// Sends all of `data`; false when the peer has gone.
bool SendAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}
bool SendAll(int fd, const std::string& s) { return SendAll(fd, s.data(), s.size()); }

// One-connection-at-a-time HTTP responder whose reply is written by the test's `answer`.
class RawServer {
 public:
  using Answer = std::function<void(int fd, std::atomic<std::uint64_t>& sent, const std::atomic<bool>& stop)>;

  explicit RawServer(Answer answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~RawServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/tsa"; }
  std::uint64_t body_bytes_sent() const { return sent_.load(); }

 private:
  void Loop() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      // The request, body included: closing a socket with unread bytes sends a reset, which can
      // destroy the reply in the client's receive buffer before the client reads it.
      std::string in;
      char buf[4096];
      while (!WholeRequest(in)) {
        const ssize_t r = ::recv(c, buf, sizeof(buf), 0);
        if (r <= 0) break;
        in.append(buf, static_cast<std::size_t>(r));
      }
      answer_(c, sent_, stop_);
      ::close(c);
    }
  }

  static bool WholeRequest(const std::string& in) {
    const std::size_t end = in.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    const std::size_t at = in.find("Content-Length: ");
    const std::size_t length = at < end ? std::stoul(in.substr(at + 16)) : 0;
    return in.size() >= end + 4 + length;
  }

  Answer answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

constexpr char kReplyHead[] = "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\n";

// Writes 64 KiB blocks of zeros (raw or as chunks) until the client goes away or `limit` is sent.
void Flood(int fd, std::atomic<std::uint64_t>& sent, const std::atomic<bool>& stop, bool chunked,
           std::uint64_t limit = 400ull << 20) {
  const std::string block(64 << 10, '\0');
  const std::string chunk_head = "10000\r\n";  // 64 KiB in hex
  while (!stop && sent < limit) {
    if (chunked && !SendAll(fd, chunk_head)) return;
    if (!SendAll(fd, block)) return;
    if (chunked && !SendAll(fd, "\r\n")) return;
    sent += block.size();
  }
}

const std::vector<std::uint8_t> kQuery = {0x30, 0x03, 0x02, 0x01, 0x01};

// The client stopped after about the cap: what the kernel's socket buffers hold on loopback is a
// few MiB, far below the 400 MB on offer.
constexpr std::uint64_t kMaxDrained = 32ull << 20;

TEST(HttpClientTest, RefusesADeclaredBodyOverTheCapBeforeReadingIt) {
  RawServer server([](int fd, auto& sent, const auto& stop) {
    if (SendAll(fd, std::string(kReplyHead) + "Content-Length: 419430400\r\n\r\n")) Flood(fd, sent, stop, false);
  });
  const auto start = std::chrono::steady_clock::now();
  auto reply = Post(server.url(), kQuery, "application/timestamp-query", ClientOptions{});
  ASSERT_FALSE(reply) << "a 400 MB reply was accepted";
  EXPECT_NE(reply.error().message.find("larger than the cap of 1048576 bytes"), std::string::npos) << reply.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_LT(server.body_bytes_sent(), kMaxDrained);
}

TEST(HttpClientTest, StopsReadingAnEndlessChunkedBodyAtTheCap) {
  RawServer server([](int fd, auto& sent, const auto& stop) {
    if (SendAll(fd, std::string(kReplyHead) + "Transfer-Encoding: chunked\r\n\r\n")) Flood(fd, sent, stop, true);
  });
  auto reply = Post(server.url(), kQuery, "application/timestamp-query", ClientOptions{});
  ASSERT_FALSE(reply) << "an endless chunked reply was accepted";
  EXPECT_NE(reply.error().message.find("larger than the cap of 1048576 bytes"), std::string::npos) << reply.error().message;
  EXPECT_LT(server.body_bytes_sent(), kMaxDrained);
}

TEST(HttpClientTest, StopsReadingABodyWithoutLengthAtTheCap) {
  RawServer server([](int fd, auto& sent, const auto& stop) {
    if (SendAll(fd, std::string(kReplyHead) + "Connection: close\r\n\r\n")) Flood(fd, sent, stop, false);
  });
  auto reply = Post(server.url(), kQuery, "application/timestamp-query", ClientOptions{});
  ASSERT_FALSE(reply) << "an endless close-delimited reply was accepted";
  EXPECT_NE(reply.error().message.find("larger than the cap"), std::string::npos) << reply.error().message;
  EXPECT_LT(server.body_bytes_sent(), kMaxDrained);
}

// Boundary: a body of exactly the cap is a reply; one byte more is not, with or without a length.
TEST(HttpClientTest, AcceptsABodyOfExactlyTheCap) {
  for (const bool declared : {true, false}) {
    for (const std::size_t size : {std::size_t{1000}, std::size_t{1001}}) {
      RawServer server([&](int fd, auto&, const auto&) {
        const std::string head = declared ? "Content-Length: " + std::to_string(size) + "\r\n\r\n" : "Connection: close\r\n\r\n";
        SendAll(fd, std::string(kReplyHead) + head + std::string(size, 'x'));
      });
      ClientOptions options;
      options.max_reply_bytes = 1000;
      auto reply = Post(server.url(), kQuery, "application/timestamp-query", options);
      SCOPED_TRACE(std::string(declared ? "Content-Length" : "close-delimited") + ", " + std::to_string(size) + " bytes");
      if (size == 1000) {
        ASSERT_TRUE(reply) << reply.error().message;
        EXPECT_EQ(reply->status, 200);
        EXPECT_EQ(reply->content_type, "application/timestamp-reply");
        EXPECT_EQ(reply->body, std::vector<std::uint8_t>(1000, 'x'));
      } else {
        ASSERT_FALSE(reply);
        EXPECT_NE(reply.error().message.find("larger than the cap of 1000 bytes"), std::string::npos) << reply.error().message;
      }
    }
  }
}

// Every read is quick (one byte per 100 ms), so only an overall deadline ends this exchange.
TEST(HttpClientTest, GivesUpOnATricklingReplyAtTheOverallDeadline) {
  RawServer server([](int fd, auto& sent, const auto& stop) {
    if (!SendAll(fd, std::string(kReplyHead) + "Content-Length: 100000\r\n\r\n")) return;
    while (!stop && SendAll(fd, "x")) {
      sent += 1;
      std::this_thread::sleep_for(100ms);
    }
  });
  ClientOptions options;
  options.timeout_s = 1;
  const auto start = std::chrono::steady_clock::now();
  auto reply = Post(server.url(), kQuery, "application/timestamp-query", options);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(reply) << "a reply trickling forever was accepted";
  EXPECT_NE(reply.error().message.find("timed out, no complete reply within 1 s"), std::string::npos) << reply.error().message;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s) << "the deadline of 1 s did not bound the exchange";
}

TEST(HttpClientTest, AnchorTransportCapsTheReplyToo) {
  RawServer server([](int fd, auto& sent, const auto& stop) {
    if (SendAll(fd, std::string(kReplyHead) + "Transfer-Encoding: chunked\r\n\r\n")) Flood(fd, sent, stop, true);
  });
  HttpAnchorTransport transport;
  auto reply = transport.PostQuery(server.url(), kQuery, 10);
  ASSERT_FALSE(reply) << "the anchoring thread accepted an endless reply";
  EXPECT_NE(reply.error().message.find("larger than the cap of 1048576 bytes"), std::string::npos) << reply.error().message;
  EXPECT_LT(server.body_bytes_sent(), kMaxDrained);
}

TEST(HttpClientTest, AnchorTransportHasAnOverallDeadline) {
  RawServer server([](int fd, auto&, const auto& stop) {
    if (!SendAll(fd, std::string(kReplyHead) + "Content-Length: 100000\r\n\r\n")) return;
    while (!stop && SendAll(fd, "x")) std::this_thread::sleep_for(100ms);
  });
  HttpAnchorTransport transport;
  const auto start = std::chrono::steady_clock::now();
  auto reply = transport.PostQuery(server.url(), kQuery, 1);
  ASSERT_FALSE(reply);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(HttpClientTest, IsHttpUrlNeedsASchemeAndAHost) {
  EXPECT_TRUE(IsHttpUrl("http://127.0.0.1:5000/tsa"));
  EXPECT_TRUE(IsHttpUrl("https://freetsa.org/tsr"));
  EXPECT_FALSE(IsHttpUrl("127.0.0.1:5000/tsa"));
  EXPECT_FALSE(IsHttpUrl("ftp://example.org/"));
  EXPECT_FALSE(IsHttpUrl("http://host:99999/"));
}

}  // namespace
}  // namespace tsa::http
