#include "session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/write.hpp>

#include "completion_inbox.h"
#include "server_core.h"
#include "tsa/service/logging.h"

namespace tsa::http {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
constexpr std::size_t kIdleChunk = 2048;
constexpr std::size_t kLingerBytes = 1 << 20;  // at most this much of an unread body is drained before closing
constexpr auto kLinger = std::chrono::seconds(2);
}  // namespace

Session::Stream Session::MakeStream(net::ip::tcp::socket socket, net::ssl::context* tls) {
  if (tls != nullptr) return Stream(std::in_place_index<1>, std::move(socket), *tls);
  return Stream(std::in_place_index<0>, std::move(socket));
}

Session::Session(net::ip::tcp::socket socket, ServerCore& core, std::shared_ptr<net::ssl::context> tls)
    : tls_context_(std::move(tls)),
      stream_(MakeStream(std::move(socket), tls_context_.get())),
      core_(core),
      buffer_(core.limits.max_header_bytes + core.limits.max_uri_bytes + kReadChunk),
      log_timer_(Tcp().get_executor()),
      // Every connection's executor is one of the server's io_contexts (ServerCore::iocs).
      inbox_(net::use_service<CompletionInbox>(
          static_cast<net::io_context&>(net::query(Tcp().get_executor(), net::execution::context)))),
      idle_since_(Clock::now()) {
  beast::error_code ec;
  const auto remote = Tcp().socket().remote_endpoint(ec);
  client_ = ec ? "-" : remote.address().to_string();
  Tcp().socket().set_option(net::ip::tcp::no_delay(true), ec);
  core_.router.metrics().CountConnection(is_tls());
}

Session::~Session() {
  if (counted_in_flight_) core_.LeaveInFlight();
  core_.Unregister(*this);
}

void Session::Start() {
  net::dispatch(Tcp().get_executor(), [self = shared_from_this()] {
    if (self->is_tls()) return self->StartTls();
    self->NextRequest();
  });
}

// The handshake is part of the first request's deadline (--read-timeout): a client that trickles
// its ClientHello (slow loris over TLS) is cut off like one that trickles a request.
void Session::StartTls() {
  SetState(State::kReading);
  deadline_ = Clock::now() + std::chrono::seconds(core_.options.read_timeout_s);
  Tcp().expires_at(deadline_);
  beast::async_detect_ssl(Tcp(), buffer_,
                          [self = shared_from_this()](const beast::error_code& ec, bool tls) { self->OnDetect(ec, tls); });
}

void Session::OnDetect(const beast::error_code& ec, bool tls) {
  if (ec == net::error::eof && buffer_.size() == 0) {  // connected and closed (a port probe): not a failure
    beast::error_code ignored;
    Tcp().socket().close(ignored);
    return;
  }
  if (ec)
    return HandshakeFailed(ec == beast::error::timeout ? service::TlsFailure::kTimeout : service::TlsFailure::kHandshake, ec);
  if (!tls) return RefusePlaintext();
  // Boost 1.81's buffered async_handshake constrains its handler as void(error_code) while
  // calling it with (error_code, bytes used): the variadic handler satisfies both.
  std::get<TlsStream>(stream_).async_handshake(net::ssl::stream_base::server, buffer_.data(),
                                               [self = shared_from_this()](const beast::error_code& e, auto... used) {
                                                 self->OnHandshake(e, (std::size_t{0} + ... + used));
                                               });
}

void Session::OnHandshake(const beast::error_code& ec, std::size_t used) {
  if (ec)
    return HandshakeFailed(ec == beast::error::timeout ? service::TlsFailure::kTimeout : service::TlsFailure::kHandshake, ec);
  buffer_.consume(used);
  handshake_done_ = true;
  if (auto peer = crypto::VerifiedPeerCertificate(std::get<TlsStream>(stream_).native_handle())) {
    peer_ = std::make_shared<const crypto::PeerCertificate>(std::move(*peer));
  }
  NextRequest();
}

void Session::HandshakeFailed(service::TlsFailure reason, const beast::error_code& ec) {
  core_.router.metrics().CountTlsHandshakeFailure(reason);
  service::LogEvent(spdlog::level::debug, "tls_handshake_failed",
                    {{"client", client_},
                     {"reason", reason == service::TlsFailure::kTimeout ? "timeout" : "handshake"},
                     {"error", ec.message()}});
  beast::error_code ignored;
  Tcp().socket().close(ignored);
}

// Plain HTTP on the HTTPS port: one clear answer in plain text, then close (nothing is parsed).
void Session::RefusePlaintext() {
  core_.router.metrics().CountTlsHandshakeFailure(service::TlsFailure::kPlaintext);
  service::LogEvent(spdlog::level::info, "tls_plaintext_refused",
                    {{"client", client_}, {"detail", "plain HTTP sent to the HTTPS port: answered 400 and closed"}});
  static constexpr char kRefusal[] =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 34\r\nConnection: close\r\n\r\n"
      "plain HTTP sent to the HTTPS port\n";
  SetState(State::kBusy);
  Tcp().expires_after(std::chrono::seconds(core_.options.write_timeout_s));
  net::async_write(Tcp(), net::buffer(kRefusal, sizeof(kRefusal) - 1),
                   [self = shared_from_this()](const beast::error_code&, std::size_t) { self->Shutdown(); });
}

void Session::SetState(State state) {
  if (state == State::kIdle) idle_since_.store(Clock::now(), std::memory_order_release);
  state_.store(state, std::memory_order_release);
}

void Session::Close(bool evict) {
  close_requested_.store(true, std::memory_order_release);
  net::post(Tcp().get_executor(), [self = shared_from_this(), evict] {
    if (self->state() == State::kIdle) {
      beast::error_code ec;
      self->Tcp().socket().close(ec);  // the pending read fails and the session ends
      return;
    }
    if (evict) {
      self->close_requested_.store(false, std::memory_order_release);  // it got a request meanwhile
    } else {
      self->closing_ = true;  // shutdown: close after the current reply
    }
  });
}

void Session::Resume() {
  net::post(Tcp().get_executor(), [self = shared_from_this()] { self->NextRequest(); });
}

// Between requests: a fresh parser, then either the pipelined bytes already buffered or a wait
// for the next request under the keep-alive deadline.
void Session::NextRequest() {
  if (closing_ || core_.stopping) return Shutdown();
  if (core_.InFlightFull()) {
    SetState(State::kIdle);
    core_.WaitForSlot(shared_from_this());
    return;
  }
  parser_ = std::make_unique<RequestParser>(core_.limits);
  header_handled_ = false;
  continue_sent_ = false;
  body_.clear();
  hasher_.reset();
  if (buffer_.size() == 0) {
    if (buffer_.capacity() > 2 * kIdleChunk) buffer_.shrink_to_fit();  // a large body's buffer is not kept
    SetState(State::kIdle);
    Tcp().expires_after(std::chrono::seconds(core_.options.keep_alive_timeout_s));
    ReadMore();
    return;
  }
  SetState(State::kReading);
  deadline_ = Clock::now() + std::chrono::seconds(core_.options.read_timeout_s);
  Parse();
}

void Session::ReadMore() {
  // The whole request must arrive by its deadline (not per read): a client dripping bytes cannot
  // hold the connection longer than --read-timeout.
  if (state() == State::kReading) Tcp().expires_at(deadline_);
  const std::size_t room = buffer_.max_size() - buffer_.size();
  if (room == 0) return Fail(431, "request header fields too large");
  // An idle connection waits with a small buffer: a thousand of them must stay cheap.
  const std::size_t chunk = state() == State::kIdle ? kIdleChunk : kReadChunk;
  const auto space = buffer_.prepare(std::min(room, chunk));
  std::visit(
      [&](auto& stream) {
        stream.async_read_some(space,
                               [self = shared_from_this()](const beast::error_code& ec, std::size_t n) { self->OnRead(ec, n); });
      },
      stream_);
}

void Session::OnRead(const beast::error_code& ec, std::size_t bytes) {
  if (ec) {
    // A timeout, the client's close or a Close() from the server: nothing to answer.
    beast::error_code ignored;
    Tcp().socket().close(ignored);
    return;
  }
  buffer_.commit(bytes);
  if (state() == State::kIdle) {
    SetState(State::kReading);
    deadline_ = Clock::now() + std::chrono::seconds(core_.options.read_timeout_s);
  }
  Parse();
}

void Session::Parse() {
  while (true) {
    if (parser_->is_header_done() && !header_handled_) {
      header_handled_ = true;
      if (!OnHeader()) return;  // it answered, or continues after a 100 Continue
    }
    if (parser_->is_done()) return OnBodyComplete();
    if (buffer_.size() == 0) return ReadMore();
    if (!parser_->request_line_parsed() &&
        parser_->RequestLineTooLong(std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size()))) {
      return Fail(414, "request-target longer than " + std::to_string(core_.limits.max_uri_bytes) + " bytes");
    }
    beast::error_code ec;
    const std::size_t used = parser_->Put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more ||
        (!ec && used == 0 && !parser_->is_done() && header_handled_ == parser_->is_header_done())) {
      return ReadMore();  // (the second: a parser that takes nothing must not spin this loop)
    }
    if (ec) {
      const ParseFailure failure = parser_->Classify(ec);
      return Fail(StatusOf(failure),
                  failure == ParseFailure::kBadRequest ? "malformed request: " + ec.message()
                  : failure == ParseFailure::kBodyTooLarge
                      ? "request body larger than " + std::to_string(core_.router.BodyLimit(parser_->head())) + " bytes"
                      : std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(StatusOf(failure)))));
    }
  }
}

// The head is complete and nothing of the body has been read: choose the route and what to do
// with the body. Returns false when it has taken over (replied, or writes a 100 Continue).
// The request's head is parsed (Parse calls this once per request). True: read its body now;
// false: the head was answered (or is being dispatched) without it.
bool Session::OnHeader() {
  BeginExchange();
  if (route_ != Route::kTimeStamp) {
    Dispatch();
    return false;
  }
  if (RefusedBeforeTheBody()) return false;
  const std::size_t limit = core_.router.BodyLimit(exchange_.head);
  if (Router::IsQuery(exchange_.head)) {
    CollectQueryBody(limit);
  } else if (!StartDataHash(limit)) {
    return false;
  }
  parser_->eager(true);
  if (exchange_.head.version >= 11 && beast::iequals(exchange_.head.expect, "100-continue") && !parser_->is_done()) {
    SendContinue();
    return false;
  }
  return true;
}

void Session::BeginExchange() {
  exchange_.head = parser_->head();
  exchange_.target = ParseTarget(exchange_.head.target);
  exchange_.id = NextRequestId();
  exchange_.client = client_;
  exchange_.peer = peer_;
  exchange_.start = Clock::now();
  route_ = core_.router.Classify(exchange_.head, exchange_.target);
  exchange_.route = route_;
}

// 401, 429 and 413 are answered from the head. The body is left unread: the connection closes
// after the reply (as after every reply that leaves a body unread, RFC 9112 §9.6).
bool Session::RefusedBeforeTheBody() {
  exchange_.client_set.reset();
  exchange_.client_entry = nullptr;
  auto refused = core_.router.Authenticate(exchange_);
  if (!refused) refused = core_.router.RateLimit(exchange_);
  if (refused) {
    core_.router.LogRequest(exchange_, nullptr, refused->result_int());
    Reply(std::move(*refused), true);
    return true;
  }
  const std::size_t limit = core_.router.BodyLimit(exchange_.head);
  // 413 before reading anything when the announced length is too large (conformance H10).
  if (exchange_.head.content_length.value_or(0) > limit) {
    Fail(413, "request body larger than " + std::to_string(limit) + " bytes");
    return true;
  }
  return false;
}

// A DER TimeStampReq (or its JSON form): kept whole, up to the limit.
void Session::CollectQueryBody(std::size_t limit) {
  parser_->SetBodySink([this, limit](std::string_view data) {
    if (body_.size() + data.size() > limit) return false;
    body_.append(data);
    return true;
  });
}

// Raw-data mode: the body is the data; it is hashed while it streams in, in constant memory. An
// unsupported ?hash= is a DER rejection (badAlg), answered before the body is read.
bool Session::StartDataHash(std::size_t limit) {
  const auto alg = core_.router.DataHash(exchange_.target);
  auto hasher = alg ? crypto::StreamingHash::Create(*alg) : Result<crypto::StreamingHash>(MakeError(ErrorKind::kInternal, ""));
  if (!alg || !hasher) {
    const auto outcome = service::Issuer::Rejection(
        alg ? core::FailInfo::kSystemFailure : core::FailInfo::kBadAlg,
        alg ? "System failure." : "Unsupported hash algorithm: use ?hash=sha256, sha384 or sha512.",
        alg ? "hash unavailable" : "");
    core_.router.LogRequest(exchange_, &outcome, 200);
    Reply(core_.router.TimeStampReply(outcome, exchange_), true);  // the body is left unread
    return false;
  }
  hasher_.emplace(std::move(*hasher));
  body_bytes_ = 0;
  parser_->SetBodySink([this, limit](std::string_view data) {
    body_bytes_ += data.size();
    if (body_bytes_ > limit) return false;
    hasher_->Update(data.data(), data.size());
    return true;
  });
  return true;
}

// RFC 9110 §10.1.1: the client waits for this before it sends the body.
void Session::SendContinue() {
  static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  Tcp().expires_at(deadline_);
  std::visit(
      [&](auto& stream) {
        net::async_write(stream, net::buffer(kContinue, sizeof(kContinue) - 1),
                         [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                           if (ec) return self->Shutdown();
                           self->Parse();
                         });
      },
      stream_);
}

void Session::OnBodyComplete() { Dispatch(); }

void Session::Dispatch() {
  SetState(State::kBusy);
  Tcp().expires_never();
  const bool body_unread = route_ != Route::kTimeStamp && !parser_->is_done();
  close_after_reply_ = body_unread || !parser_->keep_alive() || core_.stopping;
  if (route_ == Route::kTimeStamp) return IssueTimeStamp();
  if (!Router::Blocking(route_)) {
    Response res = core_.router.Handle(route_, exchange_);
    core_.router.LogRequest(exchange_, nullptr, res.result_int());
    return Reply(std::move(res), close_after_reply_);
  }
  // Health probes and audit reads may wait for the disk: never on an I/O thread.
  net::post(core_.blocking, [self = shared_from_this()] {
    Response res;
    try {
      res = self->core_.router.Handle(self->route_, self->exchange_);
    } catch (const std::exception& e) {
      service::LogEvent(spdlog::level::err, "exception", {{"path", self->exchange_.target.path}, {"what", e.what()}});
      res = Router::TransportError(500, "internal error", self->exchange_.head);
    }
    net::post(self->Tcp().get_executor(), [self, res = std::move(res)]() mutable {
      self->core_.router.LogRequest(self->exchange_, nullptr, res.result_int());
      self->Reply(std::move(res), self->close_after_reply_);
    });
  });
}

void Session::IssueTimeStamp() {
  const std::uint64_t generation = ++generation_;
  answered_ = false;
  core_.EnterInFlight();
  counted_in_flight_ = true;
  // The token log bounds its own commits; this timer bounds the whole wait, so a stalled log
  // becomes a systemFailure reply, not a hung connection. A token committed after it was given
  // up is in the log but was never sent, which is harmless.
  log_timer_.expires_after(std::chrono::milliseconds(core_.router.issuer().log_timeout_ms()));
  log_timer_.async_wait([self = shared_from_this(), generation](const beast::error_code& ec) {
    if (ec) return;  // cancelled: answered in time
    self->Finish(
        service::Issuer::Rejection(core::FailInfo::kSystemFailure, "System failure.", "the token log did not answer in time"),
        generation);
  });
  // Keeps the io_context running until the log's completion has been delivered. The writer
  // finishes a batch at once: the inbox wakes this I/O thread once for all of its connections.
  auto work = net::make_work_guard(Tcp().get_executor());
  // The connection moves into the completion, so its last reference never stays with the
  // writer thread (a Session must be destroyed on its I/O thread or at shutdown, not there).
  auto done = [self = shared_from_this(), generation, work = std::move(work)](service::IssueOutcome outcome) mutable {
    CompletionInbox& inbox = self->inbox_;
    inbox.Push([self = std::move(self), generation, outcome = std::move(outcome)] { self->Finish(outcome, generation); });
    work.reset();
  };
  try {
    const auto* allowed = exchange_.client_entry != nullptr ? &exchange_.client_entry->policies : nullptr;
    if (hasher_) {
      core_.router.issuer().IssueForDigestAsync(hasher_->algorithm(), hasher_->Finish(), std::move(done), allowed);
    } else {
      core_.router.issuer().IssueAsync(std::span(reinterpret_cast<const std::uint8_t*>(body_.data()), body_.size()),
                                       std::move(done), allowed);
    }
  } catch (const std::exception& e) {
    // Every protocol outcome is a DER TimeStampResp, an internal failure too.
    Finish(service::Issuer::Rejection(core::FailInfo::kSystemFailure, "System failure.", std::string("exception: ") + e.what()),
           generation);
  }
}

void Session::Finish(const service::IssueOutcome& outcome, std::uint64_t generation) {
  if (generation != generation_ || answered_) return;  // the other of timer and completion came first
  answered_ = true;
  log_timer_.cancel();
  if (counted_in_flight_) {
    counted_in_flight_ = false;
    core_.LeaveInFlight();
  }
  core_.router.LogRequest(exchange_, &outcome, 200);
  Reply(core_.router.TimeStampReply(outcome, exchange_), close_after_reply_ || closing_);
}

void Session::Reply(Response response, bool close) {
  SetState(State::kBusy);
  close = close || closing_ || core_.stopping;
  response.keep_alive(!close);
  response.prepare_payload();
  if (exchange_.head.method == bhttp::verb::head) response.body().clear();  // Content-Length stays
  Tcp().expires_after(std::chrono::seconds(core_.options.write_timeout_s));
  auto message = std::make_shared<Response>(std::move(response));
  std::visit(
      [&](auto& stream) {
        bhttp::async_write(stream, *message,
                           [self = shared_from_this(), message, close](const beast::error_code& ec, std::size_t) {
                             if (ec || close) return self->Shutdown();
                             self->NextRequest();
                           });
      },
      stream_);
}

void Session::Fail(int status, const std::string& message) {
  exchange_.head = parser_ ? parser_->head() : RequestHead{};
  exchange_.target = ParseTarget(exchange_.head.target);
  if (exchange_.id.empty()) exchange_.id = NextRequestId();
  exchange_.client = client_;
  exchange_.peer = peer_;
  if (!header_handled_) {
    exchange_.route = Route::kInvalid;
    exchange_.start = Clock::now();
  }
  core_.router.LogRequest(exchange_, nullptr, status);
  // The rest of the request is not read: the connection closes after this reply (RFC 9112 §9.6),
  // so no unread byte is ever parsed as another request.
  Reply(Router::TransportError(status, message, exchange_.head), true);
}

// Sends FIN, then drains what the client still sends for a moment (bounded), so that a reply
// followed by an unread body reaches the client instead of being destroyed by a reset.
// Over TLS: a close_notify first (RFC 8446 §6.1), waiting at most kLinger for the client's.
void Session::Shutdown() {
  closing_ = true;
  if (is_tls() && handshake_done_) {
    Tcp().expires_after(kLinger);
    std::get<TlsStream>(stream_).async_shutdown([self = shared_from_this()](const beast::error_code&) {
      beast::error_code ignored;
      self->Tcp().socket().close(ignored);
    });
    return;
  }
  beast::error_code ec;
  Tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    Tcp().socket().close(ec);
    return;
  }
  Tcp().expires_after(kLinger);
  Drain(0);
}

void Session::Drain(std::size_t drained) {
  buffer_.clear();
  Tcp().async_read_some(buffer_.prepare(kReadChunk),
                        [self = shared_from_this(), drained](const beast::error_code& ec, std::size_t n) {
                          if (ec || drained + n > kLingerBytes) {
                            beast::error_code ignored;
                            self->Tcp().socket().close(ignored);
                            return;
                          }
                          self->Drain(drained + n);
                        });
}

}  // namespace tsa::http
