// The HTTP worker pool. cpp-httplib hands each accepted connection to one worker for the
// connection's whole life (keep-alive included), so a fixed pool of N threads is starved by N idle
// or slow clients (conformance H17/H18). This pool keeps `min_threads` warm, grows up to
// `max_threads` when every worker is busy, and lets surplus workers exit after `idle_timeout`.
// Workers run on small stacks so that a thousand parked connections cost little memory.
#pragma once

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include <httplib.h>

namespace tsa::http {

class ElasticPool final : public httplib::TaskQueue {
 public:
  ElasticPool(std::size_t min_threads, std::size_t max_threads, std::size_t stack_bytes = 512 * 1024,
              std::chrono::seconds idle_timeout = std::chrono::seconds(30));
  ~ElasticPool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;  // runs every queued job, then joins all workers
  void on_idle() override;   // called by the accept loop: reaps exited workers

  std::size_t threads() const;

 private:
  static void* Main(void* self);
  void Work();
  void SpawnLocked();
  void ReapLocked();

  const std::size_t min_threads_;
  const std::size_t max_threads_;
  const std::size_t stack_bytes_;
  const std::chrono::seconds idle_timeout_;

  mutable std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::function<void()>> jobs_;  // guarded by mutex_
  std::vector<pthread_t> running_;          // guarded by mutex_
  std::vector<pthread_t> exited_;           // guarded by mutex_: to join
  std::size_t idle_ = 0;                    // guarded by mutex_
  bool shutdown_ = false;                   // guarded by mutex_
};

}  // namespace tsa::http
