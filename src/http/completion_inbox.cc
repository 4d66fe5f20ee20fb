#include "completion_inbox.h"

#include <boost/asio/post.hpp>

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
  // The posted Drain is outstanding work: the io_context keeps running until it has run.
  if (post) net::post(context_, [this] { Drain(); });
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
