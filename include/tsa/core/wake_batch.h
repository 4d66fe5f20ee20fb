// Merges the wake-ups that callbacks request while one thread completes a batch of work.
//
// The token log's writer completes a whole commit's tokens in a loop; each completion hands its
// reply to an I/O thread (http::CompletionInbox). Posting at once, the first completion woke an
// idle I/O thread, which drained it before the next one arrived, so one commit could wake the same
// thread several times (strace at half peak: 1 to 10+ wake-ups per commit, 5.5 on average, each an
// epoll_ctl and a context switch, which exit to the hypervisor on a virtual machine). Inside a
// WakeBatch the receivers defer their wake-up to the end of the scope, once per receiver.
//
//   { core::WakeBatch batch; for (auto& p : done) p->Finish(); }  // each inbox is woken once here
//
// A receiver calls WakeBatch::Defer(key, wake): false when no batch is open on this thread (wake
// now), true when `wake` was kept (or one for `key` already was). Thread-local; nesting keeps the
// outermost scope. Deferred wake-ups run in the order first deferred; one that throws is dropped
// (the destructor must not throw), so receivers keep their own state consistent before deferring.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace tsa::core {

class WakeBatch {
 public:
  WakeBatch();
  ~WakeBatch();
  WakeBatch(const WakeBatch&) = delete;
  WakeBatch& operator=(const WakeBatch&) = delete;

  static bool Defer(const void* key, std::function<void()> wake);

 private:
  bool outermost_;
  std::vector<std::pair<const void*, std::function<void()>>> wakes_;
};

}  // namespace tsa::core
