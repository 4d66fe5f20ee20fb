#include "tsa/core/wake_batch.h"

#include <algorithm>

namespace tsa::core {
namespace {
thread_local WakeBatch* current = nullptr;
}  // namespace

WakeBatch::WakeBatch() : outermost_(current == nullptr) {
  if (outermost_) current = this;
}

WakeBatch::~WakeBatch() {
  if (!outermost_) return;
  // Closed first: a wake-up that completes more work on this thread posts it directly.
  current = nullptr;
  for (auto& [key, wake] : wakes_) {
    try {
      wake();
    } catch (...) {  // NOLINT(bugprone-empty-catch): see the header; a destructor must not throw
    }
  }
}

bool WakeBatch::Defer(const void* key, std::function<void()> wake) {
  if (current == nullptr) return false;
  auto& wakes = current->wakes_;
  const bool known = std::any_of(wakes.begin(), wakes.end(), [key](const auto& w) { return w.first == key; });
  if (!known) wakes.emplace_back(key, std::move(wake));
  return true;
}

}  // namespace tsa::core
