#include "elastic_pool.h"

#include <algorithm>

namespace tsa::http {

ElasticPool::ElasticPool(std::size_t min_threads, std::size_t max_threads, std::size_t stack_bytes,
                         std::chrono::seconds idle_timeout)
    : min_threads_(std::max<std::size_t>(1, min_threads)),
      max_threads_(std::max(max_threads, std::max<std::size_t>(1, min_threads))),
      stack_bytes_(stack_bytes),
      idle_timeout_(idle_timeout) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < min_threads_; ++i) SpawnLocked();
}

ElasticPool::~ElasticPool() { shutdown(); }

void ElasticPool::SpawnLocked() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes_);
  pthread_t t;
  if (pthread_create(&t, &attr, &ElasticPool::Main, this) == 0) running_.push_back(t);
  pthread_attr_destroy(&attr);
}

void ElasticPool::ReapLocked() {
  for (pthread_t t : exited_) pthread_join(t, nullptr);
  exited_.clear();
}

void* ElasticPool::Main(void* self) {
  static_cast<ElasticPool*>(self)->Work();
  return nullptr;
}

void ElasticPool::Work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    const bool woke = cond_.wait_for(lock, idle_timeout_, [&] { return !jobs_.empty() || shutdown_; });
    --idle_;
    if (!woke) {
      // Idle for a while: surplus workers leave (joined later by on_idle or shutdown).
      if (running_.size() > min_threads_) {
        const pthread_t me = pthread_self();
        running_.erase(std::find_if(running_.begin(), running_.end(), [&](pthread_t t) { return pthread_equal(t, me); }));
        exited_.push_back(me);
        return;
      }
      continue;
    }
    if (jobs_.empty()) return;  // shutdown with nothing left to run
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

void ElasticPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(fn));
    // Every worker is busy (each holds a connection): grow, up to the cap.
    if (idle_ < jobs_.size() && running_.size() < max_threads_) SpawnLocked();
  }
  cond_.notify_one();
}

void ElasticPool::on_idle() {
  std::lock_guard lock(mutex_);
  ReapLocked();
}

void ElasticPool::shutdown() {
  std::vector<pthread_t> to_join;
  {
    std::lock_guard lock(mutex_);
    if (shutdown_ && running_.empty() && exited_.empty()) return;
    shutdown_ = true;
  }
  cond_.notify_all();
  // Workers drain the queue, then return; they stay in running_ until joined here.
  {
    std::lock_guard lock(mutex_);
    to_join = running_;
    to_join.insert(to_join.end(), exited_.begin(), exited_.end());
    running_.clear();
    exited_.clear();
  }
  for (pthread_t t : to_join) pthread_join(t, nullptr);
}

std::size_t ElasticPool::threads() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

}  // namespace tsa::http
