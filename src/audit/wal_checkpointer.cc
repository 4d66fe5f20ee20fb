#include "tsa/audit/wal_checkpointer.h"

namespace tsa::audit {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Open(const std::string& path, bool synchronous_full,
                                                               int threshold_frames) {
  store::OpenOptions open;
  open.create = false;
  open.synchronous_full = synchronous_full;
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(path, open));
  // NOLINTNEXTLINE: private constructor of a factory
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db), threshold_frames));  // NOLINT
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<store::Database> db, int threshold_frames)
    : db_(std::move(db)), threshold_frames_(threshold_frames) {
  thread_ = std::jthread([this](std::stop_token st) { Run(st); });
}

WalCheckpointer::~WalCheckpointer() {
  thread_.request_stop();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::AfterCommit(store::Database& writer, int wal_frames) {
  if (wal_frames < threshold_frames_) return;
  const std::uint64_t done = passes();
  if (done != passes_seen_) {
    // A background pass has finished: copy what arrived during it, so that every frame is in the
    // database and the next transaction restarts the WAL from its beginning.
    passes_seen_ = done;
    if (auto left = writer.PassiveCheckpoint(); !left) {
      std::lock_guard lock(mutex_);
      last_error_ = left.error().message;
    }
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (running_ || wanted_) return;
    wanted_ = true;
  }
  wake_.notify_one();
}

std::string WalCheckpointer::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void WalCheckpointer::Run(std::stop_token stop) {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [&] { return wanted_; });
      if (stop.stop_requested()) return;
      wanted_ = false;
      running_ = true;
    }
    auto left = db_->PassiveCheckpoint();
    {
      std::lock_guard lock(mutex_);
      running_ = false;
      last_error_ = left ? "" : left.error().message;
    }
    passes_.fetch_add(1, std::memory_order_acq_rel);
  }
}

}  // namespace tsa::audit
