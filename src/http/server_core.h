// What every connection of the HTTP server shares: options, the router, the io_context, the
// pool for blocking handlers, the registry of open connections (for the connection cap and
// shutdown) and the count of requests in signing/logging (backpressure).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "routes.h"
#include "session.h"

namespace tsa::http {

class ServerCore {
 public:
  ServerCore(const HttpOptions& options, service::Issuer& issuer, service::AuditService& audit, int anchor_interval_s,
             std::shared_ptr<service::Metrics> metrics, std::shared_ptr<service::ClientRegistry> clients);

  const HttpOptions options;
  ParserLimits limits;
  Router router;
  std::atomic<bool> stopping{false};

  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session& session);
  std::size_t connections() const;
  // Closes the idle connection that has waited longest; false when none is idle.
  bool EvictOldestIdle();
  // Shutdown: idle connections close now, the others after their current reply.
  void CloseAll();
  // Called (on any thread) whenever a connection ends: the acceptor may resume.
  std::function<void()> on_connection_closed;

  // Requests in signing/logging (backpressure): a session reads its next request only while
  // fewer than max_in_flight are; otherwise it waits here, its bytes left in the socket.
  void EnterInFlight() { in_flight_.fetch_add(1, std::memory_order_acq_rel); }
  void LeaveInFlight();
  bool InFlightFull() const { return in_flight_.load(std::memory_order_acquire) >= options.max_in_flight; }
  void WaitForSlot(const std::shared_ptr<Session>& session);

 private:
  void WakeOneWaiter();

  mutable std::mutex sessions_mutex_;
  std::list<std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  std::atomic<std::size_t> in_flight_{0};
  std::mutex waiting_mutex_;
  std::deque<std::weak_ptr<Session>> waiting_;  // guarded by waiting_mutex_

 public:
  // Last, so destroyed first: the handlers it still holds own sessions, whose destructors use
  // the registry above. The pool (health probes and audit reads, which may wait for the disk)
  // is joined before the io_context goes.
  static constexpr std::size_t kBlockingThreads = 2;
  boost::asio::thread_pool blocking{kBlockingThreads};
  // One io_context per I/O thread, each run by that thread alone: no handler of a connection
  // ever needs a strand or meets another thread's lock in Asio's scheduler (a shared io_context
  // run by two threads served 10k tokens/s where one served as many). The acceptor hands new
  // connections round-robin; iocs[0] also runs the acceptor and the shutdown timers.
  std::vector<std::unique_ptr<boost::asio::io_context>> iocs;
  boost::asio::io_context& NextContext() { return *iocs[next_context_.fetch_add(1, std::memory_order_relaxed) % iocs.size()]; }

 private:
  std::atomic<std::size_t> next_context_{0};
};

}  // namespace tsa::http
