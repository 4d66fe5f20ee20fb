#include "tsa/audit/index_writer.h"

#include <exception>

#include "tsa/core/thread_name.h"

namespace tsa::audit {

Result<std::unique_ptr<IndexWriter>> IndexWriter::Open(const IndexWriterOptions& options, std::shared_ptr<store::TileFiles> tiles,
                                                       std::shared_ptr<store::IndexTail> unindexed,
                                                       std::shared_ptr<std::mutex> sql_write,
                                                       std::function<void(int)> on_wal_commit) {
  store::OpenOptions open;
  open.create = false;
  open.synchronous_full = options.synchronous_full;
  open.wal_autocheckpoint_pages = 0;  // the log's WalCheckpointer (or the writer) checkpoints
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(options.path, open));
  if (on_wal_commit) db->OnWalCommit(std::move(on_wal_commit));
  // NOLINTNEXTLINE: private constructor of a factory
  return std::unique_ptr<IndexWriter>(
      new IndexWriter(options, std::move(db), std::move(tiles), std::move(unindexed), std::move(sql_write)));  // NOLINT
}

IndexWriter::IndexWriter(IndexWriterOptions options, std::unique_ptr<store::Database> db, std::shared_ptr<store::TileFiles> tiles,
                         std::shared_ptr<store::IndexTail> unindexed, std::shared_ptr<std::mutex> sql_write)
    : options_(std::move(options)),
      db_(std::move(db)),
      unindexed_(unindexed),
      store_(*db_, std::move(tiles), std::move(unindexed)),
      sql_write_(std::move(sql_write)) {
  thread_ = std::jthread([this](std::stop_token stop) {
    core::NameThisThread("tsad-log-index");
    // The thread's top: an exception (bad_alloc, a bug) ends the background passes, recorded for
    // /health; the rows stay in memory and the destructor's Flush tries once more.
    try {
      Run(stop);
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      last_error_ = std::string("the serial index writer stopped: ") + e.what();
    } catch (...) {
      std::lock_guard lock(mutex_);
      last_error_ = "the serial index writer stopped on an unknown exception";
    }
  });
}

IndexWriter::~IndexWriter() {
  thread_.request_stop();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  try {
    (void)Flush();  // what the log committed last is indexed before the process ends
  } catch (const std::exception&) {
    // Nothing is lost: the next start indexes the leaves from the entry bundles (OpenTiles).
  }
}

void IndexWriter::Added() {
  if (unindexed_->size() < options_.batch_rows) return;
  {
    std::lock_guard lock(mutex_);
    wanted_ = true;
  }
  wake_.notify_one();
}

void IndexWriter::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, options_.interval, [&] { return wanted_; });
      wanted_ = false;
    }
    if (stop.stop_requested()) return;
    std::lock_guard pass(pass_mutex_);
    const Status st = WriteWaiting();
    std::lock_guard lock(mutex_);
    last_error_ = st ? "" : st.error().message;
  }
}

Status IndexWriter::Flush() {
  std::lock_guard pass(pass_mutex_);
  Status st = WriteWaiting();
  std::lock_guard lock(mutex_);
  last_error_ = st ? "" : st.error().message;
  return st;
}

// Rows leave memory only after their chunk committed: a lookup finds each row in one of the two.
Status IndexWriter::WriteWaiting() {
  for (std::size_t waiting = unindexed_->size(); waiting > 0;) {
    std::lock_guard sql(*sql_write_);
    TSA_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(*db_));
    TSA_ASSIGN_OR_RETURN(std::size_t rows, store_.WriteIndex(options_.chunk_rows));
    TSA_TRY(tx.Commit());
    store_.IndexWritten(rows);
    waiting = rows == 0 ? 0 : waiting - std::min(waiting, rows);
  }
  return Ok();
}

std::string IndexWriter::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

}  // namespace tsa::audit
