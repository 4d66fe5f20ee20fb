// Hands completions from another thread (the token log's writer) to one io_context with one
// post per burst, not one per completion.
//
// The writer finishes a whole batch of tokens at once. A post per token cost every I/O thread a
// wake-up per token (Asio re-arms its epoll interrupter with an epoll_ctl for each wake, and on
// a virtual machine each wake-up and context switch also exits to the hypervisor); the log's
// share of CPU was dominated by these hand-offs (docs/performance.md). Here the first completion
// of a burst posts one Drain and the others only join its list: the I/O thread wakes once and
// runs them all, in the order they were pushed. The writer also completes a commit inside a
// core::WakeBatch, so an I/O thread that drains between two completions of one commit is not
// woken again for the second: the Drain is posted once, after the last.
#pragma once

#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>

#include <functional>
#include <mutex>
#include <vector>

namespace tsa::http {

class CompletionInbox : public boost::asio::execution_context::service {
 public:
  using key_type = CompletionInbox;
  static inline boost::asio::execution_context::id id;

  // Asio creates one per io_context on first use: boost::asio::use_service<CompletionInbox>(ioc).
  explicit CompletionInbox(boost::asio::io_context& context);

  // Any thread: `completion` runs on the io_context's thread. Safe once the io_context has stopped:
  // it is then dropped with the context, like any handler posted to it.
  void Push(std::function<void()> completion);

 private:
  void Drain();
  void shutdown() override;

  boost::asio::io_context& context_;
  std::mutex mutex_;
  std::vector<std::function<void()>> pending_;  // guarded by mutex_
  bool drain_posted_ = false;                   // guarded by mutex_
};

}  // namespace tsa::http
