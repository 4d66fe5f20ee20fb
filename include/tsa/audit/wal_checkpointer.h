// Copies the token log's WAL back into the database on a thread of its own, so that the log
// writer's commits (on every token's critical path) never pay for a checkpoint.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the threshold: that commit
// copies ~1000 pages and fsyncs the database, and every token waiting on it waits too (a p99
// spike). Here the writer's connection has automatic checkpoints off; after each commit it calls
// AfterCommit(frames in the WAL). Past the threshold this thread runs a PASSIVE checkpoint on its
// own connection (never blocks the writer or readers). SQLite restarts the WAL from its beginning
// only once every frame is copied, and frames keep arriving during a background pass, so after
// each pass the writer copies the small remainder itself (AfterCommit does it) and the WAL stays
// bounded. https://sqlite.org/wal.html#checkpointing
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "tsa/core/result.h"
#include "tsa/store/database.h"

namespace tsa::audit {

class WalCheckpointer {
 public:
  // One background pass on the checkpointer's connection: frames left in the WAL, or an error.
  using Pass = std::function<Result<int>(store::Database&)>;

  // `threshold_frames`: WAL frames (pages) that start a background pass. `pass` replaces
  // Database::PassiveCheckpoint (tests inject failures and exceptions through it).
  static Result<std::unique_ptr<WalCheckpointer>> Open(const std::string& path, bool synchronous_full, int threshold_frames,
                                                       Pass pass = {});
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Called by the writer thread after each commit, on the writer's connection `writer`, with the
  // frames the WAL now holds. Once the background thread has stopped (see stopped()), the writer
  // runs the passive checkpoint itself, so the WAL stays bounded at the cost of some latency.
  void AfterCommit(store::Database& writer, int wal_frames);

  std::uint64_t passes() const { return passes_.load(std::memory_order_acquire); }
  std::string last_error() const;
  // The background thread caught an exception at its top and stopped (recorded in last_error).
  bool stopped() const;

 private:
  WalCheckpointer(std::unique_ptr<store::Database> db, int threshold_frames, Pass pass);
  void Run(std::stop_token stop);
  void RunLoop(std::stop_token& stop);
  void WriterCheckpoint(store::Database& writer);

  std::unique_ptr<store::Database> db_;  // the checkpointer thread's own connection
  const int threshold_frames_;
  const Pass pass_;
  std::atomic<std::uint64_t> passes_{0};  // background passes completed
  std::uint64_t passes_seen_ = 0;         // writer thread only: passes already followed up

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  bool wanted_ = false;     // guarded by mutex_
  bool running_ = false;    // guarded by mutex_
  std::string last_error_;  // guarded by mutex_
  bool stopped_ = false;    // guarded by mutex_
  std::jthread thread_;
};

}  // namespace tsa::audit
