#include "tsa/http/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "server_core.h"
#include "session.h"
#include "tls_store.h"
#include "tsa/core/thread_name.h"
#include "tsa/service/logging.h"

namespace tsa::http {
namespace net = boost::asio;
using tcp = net::ip::tcp;

ServerCore::ServerCore(const HttpOptions& o, service::Issuer& issuer, service::AuditService& audit, int anchor_interval_s,
                       std::shared_ptr<service::Metrics> metrics, std::shared_ptr<service::ClientRegistry> clients)
    : options(o),
      limits{o.max_header_bytes, o.max_headers, o.max_uri_bytes},
      router(o, issuer, audit, anchor_interval_s, std::move(metrics), std::move(clients)) {
  for (std::size_t i = 0; i < std::max<std::size_t>(o.io_threads, 1); ++i) iocs.push_back(std::make_unique<net::io_context>(1));
  router.server_gauges = [this] { return service::ServerGauges{connections(), iocs.size() + kBlockingThreads}; };
}

void ServerCore::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(sessions_mutex_);
  session->registry_position = sessions_.insert(sessions_.end(), session);
}

void ServerCore::Unregister(Session& session) {
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.erase(session.registry_position);
  }
  if (on_connection_closed) on_connection_closed();
}

std::size_t ServerCore::connections() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

bool ServerCore::EvictOldestIdle() {
  // Strong references are taken under the lock but released after it: a session whose last
  // reference is one of these is destroyed then, and its destructor takes the lock itself.
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::lock_guard lock(sessions_mutex_);
    alive.reserve(sessions_.size());
    for (const auto& weak : sessions_) {
      if (auto s = weak.lock()) alive.push_back(std::move(s));
    }
  }
  Session* oldest = nullptr;
  for (const auto& s : alive) {
    if (s->state() != Session::State::kIdle || s->close_requested()) continue;
    if (oldest == nullptr || s->idle_since() < oldest->idle_since()) oldest = s.get();
  }
  if (oldest == nullptr) return false;
  oldest->Close(true);
  return true;
}

void ServerCore::CloseAll() {
  std::vector<std::shared_ptr<Session>> all;
  {
    std::lock_guard lock(sessions_mutex_);
    for (const auto& weak : sessions_) {
      if (auto s = weak.lock()) all.push_back(std::move(s));
    }
  }
  for (const auto& s : all) s->Close(false);
}

void ServerCore::LeaveInFlight() {
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  WakeOneWaiter();
}

void ServerCore::WakeOneWaiter() {
  std::shared_ptr<Session> next;
  {
    std::lock_guard lock(waiting_mutex_);
    while (!waiting_.empty() && !next) {
      next = waiting_.front().lock();
      waiting_.pop_front();
    }
  }
  if (next) next->Resume();
}

void ServerCore::WaitForSlot(const std::shared_ptr<Session>& session) {
  {
    std::lock_guard lock(waiting_mutex_);
    waiting_.push_back(session);
  }
  // A slot may have been freed between the check and the push: re-check so nobody waits forever.
  if (!InFlightFull()) WakeOneWaiter();
}

// One listening socket: plain HTTP or HTTPS.
struct Listener {
  Listener(net::io_context& ioc, bool is_tls) : acceptor(ioc), tls(is_tls) {}
  tcp::acceptor acceptor;
  const bool tls;
  // At the connection cap with nothing idle to close; written on the acceptor's thread only.
  std::atomic<bool> paused{false};
};

struct HttpServer::Impl {
  ServerCore core;
  std::unique_ptr<TlsContextStore> tls;  // null: no HTTPS
  // Bound before Serve() and never changed while serving; all on iocs[0].
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unique_ptr<net::steady_timer> shutdown_timer;
  std::unique_ptr<net::steady_timer> drain_timer;
  // Keep every io_context running while serving, connections or not; released at the end of Stop.
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;

  Impl(const HttpOptions& o, service::Issuer& issuer, service::AuditService& audit, int interval,
       std::shared_ptr<service::Metrics> metrics, std::shared_ptr<service::ClientRegistry> clients)
      : core(o, issuer, audit, interval, std::move(metrics), std::move(clients)) {
    // Runs in a session's destructor, on any thread: hand over to the acceptor's thread.
    core.on_connection_closed = [this] {
      for (auto& listener : listeners) {
        if (!listener->paused.load(std::memory_order_acquire)) continue;
        net::post(*core.iocs.front(), [this, l = listener.get()] {
          if (!l->paused.exchange(false)) return;
          Accept(*l);
        });
      }
    };
  }

  Result<int> Bind(Listener& listener, int port) {
    auto& acceptor = listener.acceptor;
    const auto& o = core.options;
    boost::system::error_code ec;
    const auto address = net::ip::make_address(o.host, ec);
    if (ec) return MakeError(ErrorKind::kInvalidArgument, "cannot listen on " + o.host + ": not an IP address");
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    const std::string where = o.host + ":" + std::to_string(port) + (listener.tls ? " (HTTPS)" : "");
    acceptor.open(endpoint.protocol(), ec);
    // SO_REUSEADDR only lets a restart bind while old connections linger in TIME_WAIT; it never
    // shares a port another process listens on (that would be SO_REUSEPORT, never set here).
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(o.listen_backlog, ec);
    if (ec) return MakeError(ErrorKind::kIo, "cannot listen on " + where + ": " + ec.message());
    return static_cast<int>(acceptor.local_endpoint().port());
  }

  // On the acceptor's thread (iocs[0]).
  void Accept(Listener& listener) {
    if (core.stopping) return;
    // At the cap, the oldest idle connection makes room; with none idle, new clients wait in the
    // listen backlog until a connection ends.
    if (core.connections() >= core.options.max_connections && !core.EvictOldestIdle()) {
      listener.paused.store(true, std::memory_order_release);
      // A connection may have ended between the count and the flag: look once more.
      if (core.connections() < core.options.max_connections && listener.paused.exchange(false)) Accept(listener);
      return;
    }
    listener.acceptor.async_accept(
        core.NextContext(), [this, &listener](const boost::system::error_code& ec, tcp::socket socket) {
          if (ec) {
            if (ec == net::error::operation_aborted || !listener.acceptor.is_open()) return;
            // EMFILE and the like: log, back off a little, go on.
            service::LogEvent(spdlog::level::warn, "accept_failed", {{"error", ec.message()}});
            auto timer = std::make_shared<net::steady_timer>(listener.acceptor.get_executor(), std::chrono::milliseconds(50));
            timer->async_wait([this, timer, &listener](const boost::system::error_code&) { Accept(listener); });
            return;
          }
          // A new connection takes the TLS context of now (SIGHUP swaps it for later ones).
          auto session = std::make_shared<Session>(std::move(socket), core, listener.tls ? tls->Current() : nullptr);
          core.Register(session);
          session->Start();
          Accept(listener);
        });
  }

  // After Stop(): once every connection has ended, cancel the shutdown bound so that run() returns.
  void WaitForSessions() {
    if (core.connections() == 0) {
      shutdown_timer->cancel();
      for (auto& guard : keep_running) guard.reset();
      return;
    }
    drain_timer = std::make_unique<net::steady_timer>(*core.iocs.front(), std::chrono::milliseconds(20));
    drain_timer->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) WaitForSessions();
    });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->core.stopping = true;
  for (auto& ioc : impl_->core.iocs) ioc->stop();
  // The pool may still drop the last reference to a session (whose destructor calls
  // on_connection_closed): join it before the callback is cleared, and clear it before the
  // acceptor it uses is destroyed.
  impl_->core.blocking.join();
  impl_->core.on_connection_closed = nullptr;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpOptions& options, service::Issuer& issuer,
                                                       service::AuditService& audit, int anchor_interval_s,
                                                       std::shared_ptr<service::Metrics> metrics,
                                                       std::shared_ptr<service::ClientRegistry> clients) {
  HttpOptions o = options;
  if (o.io_threads == 0) o.io_threads = std::max(1u, std::thread::hardware_concurrency());
  if (o.max_connections == 0 || o.max_in_flight == 0) {
    return MakeError(ErrorKind::kInvalidArgument, "--max-connections and --max-in-flight must be at least 1");
  }
  if (!o.serve_http && !o.tls) return MakeError(ErrorKind::kInvalidArgument, "--no-http needs --tls-cert and --tls-key");
  auto impl = std::make_unique<Impl>(o, issuer, audit, anchor_interval_s, std::move(metrics), std::move(clients));
  if (o.tls) {
    auto store = TlsContextStore::Create(o.tls->files, core::UnixSeconds(issuer.ReadClock().now));
    if (!store) return store.error();
    impl->tls = std::move(*store);
    impl->core.router.tls_store = impl->tls.get();
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));  // NOLINT: private constructor of a factory
}

Result<int> HttpServer::Bind() {
  if (!impl_->core.options.serve_http) return 0;
  auto& listener = *impl_->listeners.emplace_back(std::make_unique<Listener>(*impl_->core.iocs.front(), false));
  return impl_->Bind(listener, impl_->core.options.port);
}

Result<int> HttpServer::BindTls() {
  if (!impl_->tls) return 0;
  auto& listener = *impl_->listeners.emplace_back(std::make_unique<Listener>(*impl_->core.iocs.front(), true));
  return impl_->Bind(listener, impl_->core.options.tls->port);
}

Status HttpServer::ReloadTls() {
  if (!impl_->tls) return Ok();
  return impl_->tls->Reload(core::UnixSeconds(impl_->core.router.issuer().ReadClock().now));
}

std::optional<crypto::TlsCertificateInfo> HttpServer::TlsCertificate() const {
  if (!impl_->tls) return std::nullopt;
  return impl_->tls->Certificate();
}

Status HttpServer::Serve() {
  auto& core = impl_->core;
  for (auto& ioc : core.iocs) impl_->keep_running.push_back(net::make_work_guard(*ioc));
  for (auto& listener : impl_->listeners) {
    net::post(*core.iocs.front(), [this, l = listener.get()] { impl_->Accept(*l); });
  }
  const auto run = [](net::io_context& ioc) {
    // An I/O thread's top: an exception escaping a handler is logged and the thread goes on.
    while (true) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        service::LogEvent(spdlog::level::err, "io_thread_exception", {{"what", e.what()}});
      } catch (...) {
        service::LogEvent(spdlog::level::err, "io_thread_exception", {{"what", "unknown"}});
      }
    }
  };
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < core.iocs.size(); ++i) {
    threads.emplace_back([&run, &ioc = *core.iocs[i], i] {
      core::NameThisThread("tsad-io-" + std::to_string(i));
      run(ioc);
    });
  }
  run(*core.iocs.front());
  for (auto& t : threads) t.join();
  return Ok();
}

void HttpServer::Stop() {
  auto& core = impl_->core;
  if (core.stopping.exchange(true)) return;
  net::post(*core.iocs.front(), [this] {
    boost::system::error_code ec;
    for (auto& listener : impl_->listeners) listener->acceptor.close(ec);
    impl_->core.CloseAll();
    // In-flight requests get a bounded time to finish; then the I/O threads stop anyway.
    impl_->shutdown_timer = std::make_unique<net::steady_timer>(*impl_->core.iocs.front(),
                                                                std::chrono::seconds(impl_->core.options.shutdown_timeout_s));
    impl_->shutdown_timer->async_wait([this](const boost::system::error_code& e) {
      if (e) return;
      for (auto& ioc : impl_->core.iocs) ioc->stop();
    });
    // The timer itself is work: once every session has ended, cancel it so run() returns.
    impl_->WaitForSessions();
  });
}

}  // namespace tsa::http
