#include "completion_inbox.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "tsa/core/wake_batch.h"

namespace tsa::http {

namespace net = boost::asio;

CompletionInbox::CompletionInbox(net::io_context& context) : net::execution_context::service(context), context_(context) {}

void CompletionInbox::Push(std::function<void()> completion) {
  bool post = false;
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(completion));
    post = !drain_posted_;
    drain_posted_ = true;
  }
  // The posted Drain is outstanding work: the io_context keeps running until it has run. Inside
  // a core::WakeBatch (the log writer completing a commit) it is posted once, at the batch's end.
  if (!post) return;
  // The guard keeps the io_context running until the deferred post is made (the completion's own
  // work guard is released as soon as it was pushed).
  auto wake = [this, guard = net::make_work_guard(context_)]() mutable {
    net::post(context_, [this] { Drain(); });
    guard.reset();
  };
  if (!core::WakeBatch::Defer(this, wake)) wake();
}

void CompletionInbox::Drain() {
  std::vector<std::function<void()>> burst;
  {
    std::lock_guard lock(mutex_);
    burst.swap(pending_);
    drain_posted_ = false;  // a completion pushed from now on posts the next Drain
  }
  for (auto& completion : burst) completion();
}

void CompletionInbox::shutdown() {
  // The io_context is going away: its handlers are destroyed without running, and so are these
  // (they hold connections, whose destructors must run before the context's other services go).
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(pending_);
  }
}

}  // namespace tsa::http
