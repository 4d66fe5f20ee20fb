// A tiny local "external TSA" for the audit-chain tests: an HTTP/1.1 server on 127.0.0.1:0 (plain
// POSIX sockets, one thread per connection) whose POST handler each test chooses. It passes
// requests through to a real tsad (proxy), answers garbage, answers a valid reply to a DIFFERENT
// request (wrong nonce or wrong imprint), answers an HTTP error, answers late, or never answers
// until it is stopped. A reply "signed by a different TSA" is a proxy to a tsad with its own CA.
// Every request is counted. The destructor stops the server, releasing hanging handlers and
// closing every connection, and joins all its threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tsa::test {

struct FakeRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::uint8_t> body;
  std::string header(const std::string& name) const;  // case-insensitive; "" if absent
};

struct FakeReply {
  int status = 200;
  std::string content_type = "application/timestamp-reply";
  std::vector<std::uint8_t> body;
  // Before answering: wait this long (interruptible by Stop), or until Stop (hang). A handler
  // may also block itself; it should then use FakeTsa::SleepFor so that Stop releases it.
  std::chrono::milliseconds delay{0};
  bool hang = false;
  bool close_without_reply = false;  // drop the connection instead of answering
};

using FakeHandler = std::function<FakeReply(const FakeRequest&)>;

class FakeTsa {
 public:
  FakeTsa();   // binds 127.0.0.1:0 and starts accepting; default handler: HTTP 503
  ~FakeTsa();  // Stop()
  FakeTsa(const FakeTsa&) = delete;
  FakeTsa& operator=(const FakeTsa&) = delete;

  bool ok() const { return port_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string url(const std::string& path = "/tsa") const;  // "http://127.0.0.1:PORT/tsa"

  void SetHandler(FakeHandler handler);

  // Canned behaviours (each replaces the handler).
  // Forwards the request unchanged to a tsad on 127.0.0.1:upstream_port (a TSA whose CA is not
  // the --anchor-ca makes a forged anchor) and relays its status, type and body.
  void Proxy(int upstream_port, const std::string& target = "/tsa");
  // 200 + application/timestamp-reply with bytes that are no TimeStampResp.
  void Garbage(std::vector<std::uint8_t> bytes = {});
  // Forwards a MODIFIED request to the tsad (another nonce, or another imprint with the same
  // nonce) and relays the valid reply to that other request.
  enum class Mismatch { kNonce, kImprint };
  void WrongRequest(int upstream_port, Mismatch what);
  // An HTTP error status with a short text body.
  void HttpStatus(int status);
  // Waits `delay` (interruptible by Stop), then proxies to the tsad.
  void SlowProxy(int upstream_port, std::chrono::milliseconds delay);
  // Never answers (until Stop).
  void Hang();

  int requests() const { return requests_.load(); }    // complete requests read
  int in_flight() const { return in_flight_.load(); }  // handlers running now
  std::vector<FakeRequest> received() const;           // every request read, in order
  // Blocks until requests() >= n or the timeout passes; returns whether it got there.
  bool WaitForRequests(int n, std::chrono::milliseconds timeout) const;

  // Sleeps up to d; returns false at once when the server is stopping.
  bool SleepFor(std::chrono::milliseconds d);
  // Stops accepting, releases waiting handlers, shuts every connection down and joins the threads.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int fd);
  bool Stopping() const { return stopping_.load(); }

  int listen_fd_ = -1;
  int port_ = 0;
  std::string error_;

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;  // requests_ progress and stop
  FakeHandler handler_;                 // guarded by mutex_
  std::vector<FakeRequest> received_;   // guarded by mutex_
  std::vector<int> open_fds_;           // guarded by mutex_
  std::list<std::thread> workers_;      // guarded by mutex_

  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> in_flight_{0};
  std::thread acceptor_;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed; another process could
// take it meanwhile, which is unlikely within a test).
int ClosedLocalPort();

}  // namespace tsa::test
