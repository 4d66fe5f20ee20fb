// One client connection of the event-driven server: reads requests with a strict parser under a
// whole-request deadline, answers them in order (pipelining), closes after any reply that leaves
// a body unread, and resumes time-stamp requests from the token log's completion. All its
// handlers run on its io_context, which one I/O thread runs alone (so they never run
// concurrently); the server reaches it only through Close(), Resume() and its atomics. On the
// HTTPS port the same connection first detects TLS (plain HTTP gets a 400 and is closed) and
// completes the handshake under the request deadline; everything after that is the same code
// over an SSL stream.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "request_parser.h"
#include "routes.h"
#include "tsa/crypto/streaming_hash.h"

namespace tsa::http {

class CompletionInbox;
class ServerCore;

class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class State { kIdle, kReading, kBusy };

  // `tls` (null: plain HTTP) is the context of the HTTPS listener at accept time; the session
  // keeps it for its whole life (a SIGHUP reload affects new connections only).
  Session(boost::asio::ip::tcp::socket socket, ServerCore& core, std::shared_ptr<boost::asio::ssl::context> tls);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void Start();
  // Closes the connection from any thread. `evict` (the connection cap): only while it is still
  // idle when the close runs. Otherwise (shutdown): an idle connection closes now, one in a
  // request closes after its reply.
  void Close(bool evict);
  // Continues reading after a wait for a free in-flight slot (backpressure).
  void Resume();

  State state() const { return state_.load(std::memory_order_acquire); }
  // An eviction is on its way (the cap must not pick the same connection twice).
  bool close_requested() const { return close_requested_.load(std::memory_order_acquire); }
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_.load(std::memory_order_acquire); }

  // The server's registry position (guarded by the server's sessions mutex).
  std::list<std::weak_ptr<Session>>::iterator registry_position;

 private:
  using PlainStream = boost::beast::tcp_stream;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
  using Stream = std::variant<PlainStream, TlsStream>;
  static Stream MakeStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls);
  boost::beast::tcp_stream& Tcp() {
    return std::visit([](auto& s) -> boost::beast::tcp_stream& { return boost::beast::get_lowest_layer(s); }, stream_);
  }
  bool is_tls() const { return stream_.index() == 1; }

  void StartTls();
  void OnDetect(const boost::beast::error_code& ec, bool is_tls);
  void OnHandshake(const boost::beast::error_code& ec, std::size_t used);
  void HandshakeFailed(service::TlsFailure reason, const boost::beast::error_code& ec);
  void RefusePlaintext();
  void NextRequest();
  void ReadMore();
  void OnRead(const boost::beast::error_code& ec, std::size_t bytes);
  void Parse();
  bool OnHeader();
  void BeginExchange();
  bool RefusedBeforeTheBody();
  void CollectQueryBody(std::size_t limit);
  bool StartDataHash(std::size_t limit);
  void SendContinue();
  void OnBodyComplete();
  void StartBody();
  void Dispatch();
  void IssueTimeStamp();
  void Finish(const service::IssueOutcome& outcome, std::uint64_t generation);
  void Reply(Response response, bool close);
  void Fail(int status, const std::string& message);
  void Shutdown();
  void Drain(std::size_t drained);
  void SetState(State state);

  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // before stream_, which uses it
  Stream stream_;
  ServerCore& core_;
  boost::beast::flat_buffer buffer_;
  std::unique_ptr<RequestParser> parser_;
  Exchange exchange_;
  Route route_ = Route::kNotFound;
  bool header_handled_ = false;
  bool continue_sent_ = false;
  std::string body_;                                // query mode: the DER request
  std::optional<crypto::StreamingHash> hasher_;     // raw-data mode: the body's hash so far
  std::chrono::steady_clock::time_point deadline_;  // of the request being read
  boost::asio::steady_timer log_timer_;             // bounds the wait for the token log
  CompletionInbox& inbox_;                          // of this connection's io_context
  std::uint64_t generation_ = 0;                    // of the request; stale completions are ignored
  bool answered_ = true;                            // the current request has its reply
  bool counted_in_flight_ = false;
  bool close_after_reply_ = false;
  bool closing_ = false;
  std::size_t body_bytes_ = 0;  // raw-data mode: bytes hashed so far
  std::string client_;
  bool handshake_done_ = false;                          // TLS: the handshake completed
  std::shared_ptr<const crypto::PeerCertificate> peer_;  // TLS: the verified client certificate
  std::atomic<State> state_{State::kIdle};
  std::atomic<bool> close_requested_{false};
  std::atomic<std::chrono::steady_clock::time_point> idle_since_;
};

}  // namespace tsa::http
