#include "tsa/audit/wal_checkpointer.h"
#include "tsa/core/thread_name.h"

namespace tsa::audit {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Open(const std::string& path, bool synchronous_full,
                                                               int threshold_frames, Pass pass) {
  store::OpenOptions open;
  open.create = false;
  open.synchronous_full = synchronous_full;
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(path, open));
  // NOLINTNEXTLINE: private constructor of a factory
  if (!pass) pass = [](store::Database& conn) { return conn.PassiveCheckpoint(); };
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(std::move(db), threshold_frames, std::move(pass)));  // NOLINT
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<store::Database> db, int threshold_frames, Pass pass)
    : db_(std::move(db)), threshold_frames_(threshold_frames), pass_(std::move(pass)) {
  thread_ = std::jthread([this](std::stop_token st) {
    core::NameThisThread("tsad-wal-ckpt");
    Run(st);
  });
}

WalCheckpointer::~WalCheckpointer() {
  thread_.request_stop();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::WriterCheckpoint(store::Database& writer) {
  if (auto left = writer.PassiveCheckpoint(); !left) {
    std::lock_guard lock(mutex_);
    if (!stopped_) last_error_ = left.error().message;  // a stopped thread's message stays
  }
}

void WalCheckpointer::AfterCommit(store::Database& writer, int wal_frames) {
  if (wal_frames < threshold_frames_) return;
  if (stopped()) return WriterCheckpoint(writer);  // no background thread any more
  const std::uint64_t done = passes();
  if (done != passes_seen_) {
    // A background pass has finished: copy what arrived during it, so that every frame is in the
    // database and the next transaction restarts the WAL from its beginning.
    passes_seen_ = done;
    return WriterCheckpoint(writer);
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

bool WalCheckpointer::stopped() const {
  std::lock_guard lock(mutex_);
  return stopped_;
}

// The thread's top: an exception must not std::terminate the TSA. The thread stops, says so in
// last_error (GET /health shows it as checkpoint_error), and the writer takes over the passes.
void WalCheckpointer::Run(std::stop_token stop) {
  std::string why;
  try {
    RunLoop(stop);
    return;
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
    why = "unknown exception";
  }
  std::lock_guard lock(mutex_);
  running_ = false;
  stopped_ = true;
  last_error_ = "the WAL checkpointer thread stopped (" + why + "); the log writer checkpoints instead";
}

void WalCheckpointer::RunLoop(std::stop_token& stop) {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, stop, [&] { return wanted_; });
      if (stop.stop_requested()) return;
      wanted_ = false;
      running_ = true;
    }
    auto left = pass_(*db_);
    {
      std::lock_guard lock(mutex_);
      running_ = false;
      last_error_ = left ? "" : left.error().message;
    }
    passes_.fetch_add(1, std::memory_order_acq_rel);
  }
}

}  // namespace tsa::audit
