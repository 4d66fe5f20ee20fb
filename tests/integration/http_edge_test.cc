// Issue 9 ("a strict, event-driven HTTP server edge"): deadlines, connections, the listening socket
// and the cost of idle clients, against a real tsad. The cpp-httplib edge gave each connection a
// thread, timed out each read rather than the whole request (a client sending one byte per 200 ms
// was never dropped), shared its port through SO_REUSEPORT, and had no cap on open connections.
//
// Flags of the new edge used here: --read-timeout S (the whole request, headers and body, must
// arrive within S seconds), --keep-alive-timeout S, --max-connections N (the oldest idle
// connections are closed first), --io-threads N.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grant_checks.h"
#include "shared_tsad.h"
#include "support/der_builder.h"
#include "support/http_helpers.h"
#include "support/tsad_process.h"

namespace tsa::test {
namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitizedBuild = true;
#else
constexpr bool kSanitizedBuild = false;
#endif

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

long MillisSince(Clock::time_point start) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

HttpResponse PostTimeStampQuery(int port, const RequestBuilder& query, std::chrono::milliseconds timeout) {
  return HttpRequest(port, "POST", "/tsa", {{"Content-Type", "application/timestamp-query"}}, query.Encode(), timeout);
}

// A slow-loris client: a request head sent one byte at a time.
const std::string kDripHead = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + std::string(200, 'd') + "\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// Deadlines

constexpr int kReadTimeoutS = 2;

class HttpDeadlines : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_.Start({"--read-timeout", std::to_string(kReadTimeoutS), "--keep-alive-timeout", "1", "--io-threads", "1"});
  }
  static void TearDownTestSuite() { env_.Stop(); }
  void SetUp() override { ASSERT_TRUE(env_.Ready()); }
  static int port() { return env_.port(); }

  static inline SharedTsad env_;
};

// Reproduced defect: the read timeout applied to each read, so a client sending one header byte
// every 200 ms held its connection for ever. --read-timeout bounds the whole request (RFC 9112
// §9.5: a server may close a connection that does not complete a request in time).
TEST_F(HttpDeadlines, HeaderDripOfOneBytePer200MsIsCutAtTheWholeRequestDeadline) {
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  const auto start = Clock::now();
  bool closed = false;
  for (std::size_t i = 0; i < kDripHead.size() && MillisSince(start) < 6000 && !closed; ++i) {
    if (!conn->Send(kDripHead.substr(i, 1))) break;  // the server reset the connection
    closed = conn->WaitForClose(200ms);
  }
  if (!closed) closed = conn->WaitForClose(200ms);
  const long closed_ms = MillisSince(start);
  EXPECT_TRUE(closed) << "the drip-fed connection was still open after " << closed_ms << " ms";
  EXPECT_GE(closed_ms, 1500) << "closed before the read timeout of " << kReadTimeoutS << " s";
  EXPECT_LE(closed_ms, 3500) << "--read-timeout " << kReadTimeoutS << " must bound the whole request";
}

// Issue 9: slow clients must not delay anyone on an event-driven edge, even with one I/O thread.
// Twenty connections drip one byte each per 200 ms while a real client asks for tokens.
TEST_F(HttpDeadlines, TwentyDripConnectionsDoNotDelayTokensOnOneIoThread) {
  std::vector<std::unique_ptr<HttpConnection>> drips;
  for (int i = 0; i < 20; ++i) {
    auto c = HttpConnection::Connect(port());
    ASSERT_TRUE(c) << "drip connection " << i;
    drips.push_back(std::move(c));
  }
  std::atomic<bool> stop{false};
  std::jthread dripper([&] {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kDripHead.size() && !stop && MillisSince(start) < 5000; ++i) {
      for (auto& c : drips) c->SendWithin(kDripHead.substr(i, 1), 10ms);
      std::this_thread::sleep_for(200ms);
    }
  });
  std::this_thread::sleep_for(300ms);  // every drip connection has started its request
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("token " + std::to_string(i + 1));
    const RequestBuilder query = RequestBuilder::Default();
    const auto start = Clock::now();
    const HttpResponse reply = PostTimeStampQuery(port(), query, 3s);
    const long elapsed_ms = MillisSince(start);
    EXPECT_TRUE(CheckGrant(reply, ExpectationsFor(query, env_.pki().tsa_cert_pem)));
    EXPECT_LT(elapsed_ms, 200) << "a token took " << elapsed_ms << " ms beside 20 drip-fed connections";
  }
  stop = true;
}

// RFC 9112 §9.5: an idle persistent connection is closed after --keep-alive-timeout.
TEST_F(HttpDeadlines, IdleKeepAliveConnectionIsClosedAfterTheKeepAliveTimeout) {
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(BuildRequest("GET", "/health", {}, {}, port())));
  const HttpResponse reply = conn->ReadResponse(3s);
  ASSERT_EQ(reply.status, 200) << reply.Summary();
  ASSERT_FALSE(reply.closed);
  const auto idle_since = Clock::now();
  EXPECT_TRUE(conn->WaitForClose(4s)) << "an idle keep-alive connection stayed open past --keep-alive-timeout 1";
  const long idle_ms = MillisSince(idle_since);
  EXPECT_GE(idle_ms, 500) << "closed long before the keep-alive timeout";
  EXPECT_LE(idle_ms, 2000) << "--keep-alive-timeout 1";
}

// ---------------------------------------------------------------------------------------------
// Connections: --max-connections closes the oldest idle connections so new clients get in.
// Timeouts of 30 s make sure a connection closed here was closed for the cap (cpp-httplib's 1 s
// keep-alive timeout would otherwise close the oldest connections anyway).

TEST(HttpConnections, AtTheCapTheOldestIdleConnectionsMakeRoomForANewClient) {
  constexpr int kCap = 50;
  SharedTsad env;
  env.Start({"--max-connections", std::to_string(kCap), "--read-timeout", "30", "--keep-alive-timeout", "30"});
  ASSERT_TRUE(env.Ready());
  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < kCap; ++i) {
    auto c = HttpConnection::Connect(env.port());
    ASSERT_TRUE(c) << "connection " << i;
    if (i < kCap / 2) {  // the older half completed one request and stays idle (keep-alive)
      ASSERT_TRUE(c->Send(BuildRequest("GET", "/health", {}, {}, env.port())));
      const HttpResponse r = c->ReadResponse(3s);
      ASSERT_EQ(r.status, 200) << "connection " << i << ": " << r.Summary();
    }
    idle.push_back(std::move(c));
  }
  std::this_thread::sleep_for(200ms);  // the younger half (connected, nothing sent) is accepted too

  const RequestBuilder query = RequestBuilder::Default();
  const HttpResponse reply = PostTimeStampQuery(env.port(), query, 3s);
  EXPECT_TRUE(CheckGrant(reply, ExpectationsFor(query, env.pki().tsa_cert_pem)))
      << "a new client at --max-connections " << kCap << " must still be served";
  EXPECT_TRUE(idle.front()->WaitForClose(1s)) << "the oldest idle connection was not closed to make room";
  int closed = 1;
  for (std::size_t i = 1; i < idle.size(); ++i) closed += idle[i]->WaitForClose(10ms) ? 1 : 0;
  EXPECT_LT(closed, kCap) << "all idle connections were closed, not only the oldest";
  idle.clear();
  env.Stop();
}

// ---------------------------------------------------------------------------------------------
// One listener: a taken port is a start-up error, never a shared port.

// Binds a socket with SO_REUSEPORT to 127.0.0.1:port: succeeds only when every socket already
// bound there has SO_REUSEPORT too (same user), that is when the port can be shared.
bool CanShareThePort(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return bound;
}

// Reproduced defect: cpp-httplib set SO_REUSEPORT, so a second tsad on the same port started and
// the kernel split the clients between the two. The second must exit 1 with one line (as the
// start-up refusals of startup_test.cc) naming the port, and the first keeps serving.
TEST(HttpListener, SecondTsadOnATakenPortExitsWithOneLineAndTheFirstKeepsServing) {
  SharedTsad first;
  first.Start({});
  ASSERT_TRUE(first.Ready());
  const std::string port = std::to_string(first.port());
  EXPECT_FALSE(CanShareThePort(first.port())) << "the listening socket allows SO_REUSEPORT sharing";

  const auto second = TsadProcess::RunExpectingFailure(
      {"--port", port, "--cert-dir", first.pki().dir, "--allow-unsynced-clock", "--no-anchor"});
  EXPECT_FALSE(second.started) << "a second tsad started on the taken port " << port;
  EXPECT_EQ(second.exit_code, 1) << second.stderr_text;
  std::vector<std::string> human;
  for (const auto& line : NonEmptyLines(second.stderr_text)) {
    if (line.rfind("tsad: ", 0) == 0) human.push_back(line);
  }
  ASSERT_EQ(human.size(), 1u) << "expected one 'tsad: ...' line on stderr; got:\n" << second.stderr_text;
  EXPECT_NE(human[0].find(port), std::string::npos) << "the message does not name the port: " << human[0];

  for (int i = 0; i < 10; ++i) {
    const RequestBuilder query = RequestBuilder::Default();
    EXPECT_TRUE(CheckGrant(PostTimeStampQuery(first.port(), query, 3s), ExpectationsFor(query, first.pki().tsa_cert_pem)))
        << "request " << i + 1 << " to the first tsad";
  }
  first.Stop();
}

// ---------------------------------------------------------------------------------------------
// Resources: an idle connection costs a socket and a few buffers, never a thread.

// Raises this process's open-file soft limit to its hard limit (tsad inherits it); returns it.
rlim_t RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

// The most file descriptors the process held while polling, until it holds `target` or the timeout
// passes.
int PeakOpenFds(pid_t pid, int target, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int peak = OpenFdCount(pid);
  while (peak < target && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    peak = std::max(peak, OpenFdCount(pid));
  }
  return peak;
}

// Reproduced defect: each connection held a worker thread (512 KiB stack) for its whole life.
TEST(HttpResources, ThousandIdleConnectionsAddNoThreadsAndAtMostTenMegabytes) {
  constexpr int kIdle = 1000;
  const rlim_t fd_limit = RaiseOpenFileLimit();
  if (fd_limit < 1100) GTEST_SKIP() << "the open-file limit is " << fd_limit << "; 1000 idle connections need 1100";
  SharedTsad env;
  env.Start({"--read-timeout", "30"});
  ASSERT_TRUE(env.Ready());
  const pid_t pid = env.tsad().pid();
  for (int i = 0; i < 3; ++i) {  // warm up: the first tokens allocate what every later one reuses
    const RequestBuilder query = RequestBuilder::Default();
    ASSERT_TRUE(CheckGrant(PostTimeStampQuery(env.port(), query, 3s), ExpectationsFor(query, env.pki().tsa_cert_pem)));
  }
  std::this_thread::sleep_for(200ms);
  const long threads_before = ProcStatusNumber(pid, "Threads");
  const long rss_before_kb = ProcStatusNumber(pid, "VmRSS");
  const int fds_before = OpenFdCount(pid);
  ASSERT_GT(threads_before, 0);
  ASSERT_GT(rss_before_kb, 0);

  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < kIdle; ++i) {
    std::string error;
    auto c = HttpConnection::Connect(env.port(), &error);
    ASSERT_TRUE(c) << "connection " << i << ": " << error;
    idle.push_back(std::move(c));
  }
  // All accepted and still open (they are within --read-timeout 30).
  const int peak_fds = PeakOpenFds(pid, fds_before + kIdle, 5s);
  EXPECT_GE(peak_fds - fds_before, kIdle) << "tsad held at most " << peak_fds - fds_before << " of the " << kIdle
                                          << " idle connections at once";
  std::this_thread::sleep_for(300ms);
  EXPECT_GE(OpenFdCount(pid) - fds_before, kIdle) << "tsad closed idle connections before --read-timeout 30";
  const long threads_after = ProcStatusNumber(pid, "Threads");
  const long rss_after_kb = ProcStatusNumber(pid, "VmRSS");
  EXPECT_LE(threads_after, threads_before) << kIdle << " idle connections added threads";
  // A sanitizer build's shadow memory triples every allocation: the RSS bound is for real builds.
  if (!kSanitizedBuild) {
    EXPECT_LE(rss_after_kb - rss_before_kb, 10 * 1024)
        << kIdle << " idle connections added " << rss_after_kb - rss_before_kb << " kB of RSS";
  }

  const RequestBuilder query = RequestBuilder::Default();
  EXPECT_TRUE(CheckGrant(PostTimeStampQuery(env.port(), query, 3s), ExpectationsFor(query, env.pki().tsa_cert_pem)))
      << "a client beside " << kIdle << " idle connections";
  idle.clear();
  env.Stop();
}

// ---------------------------------------------------------------------------------------------
// Shutdown (README, Signals): SIGTERM lets a request whose body is still arriving finish, then
// exits 0. startup_test.cc covers SIGTERM after a completed request; this one is in flight.

TEST(HttpShutdown, SigtermLetsARequestInFlightFinishAndExitsZero) {
  SharedTsad env;
  env.Start({});
  ASSERT_TRUE(env.Ready());
  const std::string data(2000, 'd');
  auto conn = HttpConnection::Connect(env.port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                         std::to_string(data.size()) + "\r\n\r\n" + data.substr(0, 1000)));
  std::this_thread::sleep_for(200ms);  // the request is being read
  int exit_code = -1;
  std::jthread stopper([&] { exit_code = env.tsad().Stop(10s); });
  std::this_thread::sleep_for(300ms);  // SIGTERM has arrived
  ASSERT_TRUE(conn->Send(data.substr(1000)));
  RequestBuilder expected;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  expected.digest = Bytes(digest, digest + length);
  expected.nonce.reset();
  EXPECT_TRUE(CheckGrant(conn->ReadResponse(5s), ExpectationsFor(expected, env.pki().tsa_cert_pem)))
      << "the request in flight at SIGTERM";
  stopper.join();
  EXPECT_EQ(exit_code, 0) << env.tsad().log();
}

}  // namespace
}  // namespace tsa::test
