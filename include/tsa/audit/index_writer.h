// Writes the tiles layout's serial index (table leaf_index: serial → leaf index, for proofs by
// serial) on a thread and a SQLite connection of its own, off the token log's writer.
//
// The leaves are durable in the entry bundles before any reply; the index is derived from them
// (rebuilt from the bundles at start-up when it lags, TokenLog::OpenTiles) and lookups see the
// committed leaves not yet indexed in the shared IndexTail meanwhile. Written on the log writer,
// a second's worth of rows (~13k at full load) held every token behind it for ~40 ms (the p99 of
// docs/performance.md); here the writer never waits for it. Rows go in chunks of `chunk_rows`
// per transaction, so SQLite's single write lock is never held long by the index either (the
// writer's own transactions, checkpoints and health probes, wait for it at most one chunk). The
// two connections also take one in-process mutex around their transactions: SQLite's busy
// handler sleeps 1, 2, 5, 10, 25... ms between attempts, so a writer that met the index's lock
// slept tens of milliseconds with every token behind it (a 40-60 ms p99 in the bench); the
// mutex hands the lock over as soon as the chunk commits.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "tsa/core/result.h"
#include "tsa/store/database.h"
#include "tsa/store/tiled_log_store.h"

namespace tsa::audit {

struct IndexWriterOptions {
  std::string path;  // the audit database
  bool synchronous_full = true;
  // Rows are written once this many wait, and every `interval` while any wait.
  std::size_t batch_rows = 16384;
  std::chrono::milliseconds interval{1000};
  std::size_t chunk_rows = 2048;  // rows per transaction
};

class IndexWriter {
 public:
  // `on_wal_commit(frames)`: after each of this connection's commits, the WAL's size in frames
  // (the log's WalCheckpointer bounds the WAL that both connections append to).
  // `sql_write`: held around each of this connection's transactions, and by the log writer
  // around its own.
  static Result<std::unique_ptr<IndexWriter>> Open(const IndexWriterOptions& options, std::shared_ptr<store::TileFiles> tiles,
                                                   std::shared_ptr<store::IndexTail> unindexed,
                                                   std::shared_ptr<std::mutex> sql_write, std::function<void(int)> on_wal_commit);
  // Stops the thread after writing every row that waits.
  ~IndexWriter();
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  // Called after leaves were added to the IndexTail: wakes the thread when a batch is full.
  void Added();
  // Writes every row that waits now, on the caller's thread (waiting for a pass in progress).
  Status Flush();
  // The last pass's error ("" after a good one).
  std::string last_error() const;

 private:
  IndexWriter(IndexWriterOptions options, std::unique_ptr<store::Database> db, std::shared_ptr<store::TileFiles> tiles,
              std::shared_ptr<store::IndexTail> unindexed, std::shared_ptr<std::mutex> sql_write);
  void Run(std::stop_token stop);
  Status WriteWaiting();  // pass_mutex_ held

  const IndexWriterOptions options_;
  std::unique_ptr<store::Database> db_;
  std::shared_ptr<store::IndexTail> unindexed_;
  store::TiledLogStore store_;  // over db_
  std::shared_ptr<std::mutex> sql_write_;
  std::mutex pass_mutex_;  // one pass at a time (the thread's, or Flush's)

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  bool wanted_ = false;     // guarded by mutex_: a full batch waits
  std::string last_error_;  // guarded by mutex_
  std::jthread thread_;
};

}  // namespace tsa::audit
