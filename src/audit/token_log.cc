#include "tsa/audit/token_log.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "tsa/audit/log_migration.h"
#include "tsa/audit/tile_recovery.h"
#include "tsa/core/thread_name.h"
#include "tsa/core/wake_batch.h"
#include "tsa/store/log_queries.h"
#include "tsa/store/schema.h"
#include "tsa/store/sqlite_log_store.h"
#include "tsa/store/tile_files.h"

namespace tsa::audit {

// One queued request to the writer, shared between the caller and the writer (a caller that gives
// up after a timeout leaves it to the writer). Finish() is called once `status` is final.
struct TokenLog::Pending {
  enum class Kind { kToken, kProbe, kClaimEpoch } kind = Kind::kToken;
  TokenRecord record;
  std::uint16_t instance = 0;
  std::int64_t now_us = 0;
  std::uint64_t epoch = 0;
  std::size_t probe_bytes = 0;                                        // kProbe: > 0 while token commits fail (see Probe)
  std::optional<std::chrono::steady_clock::time_point> announced_at;  // AppendAsync's Announcement
  Status status;
  Hash leaf{};  // kToken: computed on the caller's thread, off the single writer
  Hash token_sha256{};

  // Completion: one mutex/condvar per waiter, so a commit wakes exactly the callers it served
  // (std::binary_semaphore's libstdc++ wait spins with sched_yield first, burning signing cores).
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;  // guarded by done_mutex
  // AppendAsync: called instead of waking a waiter, on the writer thread, once `status` is final.
  std::function<void(Status)> on_done;

  void Finish() {
    if (on_done) {
      on_done(status);
      return;
    }
    {
      std::lock_guard lock(done_mutex);
      done = true;
    }
    done_cv.notify_one();
  }
  bool Wait(int timeout_ms) {
    std::unique_lock lock(done_mutex);
    if (timeout_ms < 0) {
      done_cv.wait(lock, [&] { return done; });
      return true;
    }
    return done_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return done; });
  }
};

NodeReader TokenLog::Nodes(store::LogStore& store) {
  return [&store](int level, std::uint64_t index) -> Result<Hash> {
    const auto missing = [&] {
      return MakeError(ErrorKind::kNotFound,
                       "merkle node level " + std::to_string(level) + " index " + std::to_string(index) + " missing");
    };
    if (store.Derives(level)) {
      // The tiles keep every 8th level: fold the 2^r nodes of the kept level below (one tile read).
      const int r = level % 8;
      if (index > (UINT64_MAX >> r)) return missing();
      TSA_ASSIGN_OR_RETURN(auto rows, store.NodeRange(level - r, index << r, std::uint64_t{1} << r));
      if (rows.size() != (std::size_t{1} << r)) return missing();
      std::vector<Hash> hashes;
      for (const auto& row : rows) {
        TSA_ASSIGN_OR_RETURN(Hash h, HashFromBytes(row.hash));
        hashes.push_back(h);
      }
      while (hashes.size() > 1) {
        std::vector<Hash> up;
        for (std::size_t i = 0; i + 1 < hashes.size(); i += 2) up.push_back(NodeHash(hashes[i], hashes[i + 1]));
        hashes = std::move(up);
      }
      return hashes.front();
    }
    TSA_ASSIGN_OR_RETURN(auto hash, store.Node(level, index));
    if (!hash) return missing();
    return HashFromBytes(*hash);
  };
}

// What Open hands to the constructor.
struct TokenLog::Opened {
  TokenLogOptions options;
  store::LogLock lock;
  bool created = false;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::LogStore> store;  // over db
  std::unique_ptr<store::Database> side;   // Write's connection
  std::unique_ptr<store::Database> reader;
  std::unique_ptr<WalCheckpointer> checkpointer;
  MerkleFrontier frontier;
  std::int64_t last_gen_time_us = 0;
  store::LogFiles files;
  std::shared_ptr<store::TileFiles> tiles;  // the tiles layout
  std::shared_ptr<store::IndexTail> unindexed;
  std::shared_ptr<std::atomic<int>> wal_frames = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::mutex> sql_write = std::make_shared<std::mutex>();
  std::unique_ptr<IndexWriter> indexer;  // the tiles layout
};

// The layout of an existing log is the one recorded; a log from before the record is SQLite when
// it holds tokens. A log without leaves or record takes the one asked for, else tiles (sqlite when
// only hashes are kept: the tiles hold the tokens). Only an explicit kTiles moves a sqlite-layout
// log, so an upgrade with the default layout leaves an existing log as it is.
Result<TokenLog::LayoutChoice> TokenLog::ChooseLayout(store::Database& db, const TokenLogOptions& options) {
  using store::LogLayout;
  TSA_ASSIGN_OR_RETURN(auto stored, store::StoredLayout(db));
  std::optional<LogLayout> existing = stored;
  if (!existing) {
    TSA_ASSIGN_OR_RETURN(bool rows, store::HasTokenRows(db));
    if (rows) existing = LogLayout::kSqlite;
  }
  LayoutChoice choice{existing.value_or(options.layout.value_or(options.keep_token ? LogLayout::kTiles : LogLayout::kSqlite)),
                      !existing.has_value()};
  if (choice.layout == LogLayout::kSqlite && options.layout == LogLayout::kTiles && options.keep_token) {
    // An existing log moves when the tiles are asked for, unless it keeps only hashes (tiles hold tokens).
    TSA_ASSIGN_OR_RETURN(bool hash_only, store::HasHashOnlyRows(db));
    if (!hash_only) {
      TSA_TRY(MigrateToTiles(db));
      choice.layout = LogLayout::kTiles;
    }
  }
  if (choice.layout == LogLayout::kTiles && !options.keep_token) {
    return MakeError(ErrorKind::kInvalidArgument,
                     existing ? "the audit log " + options.path +
                                    " keeps its leaves as tiles, which hold every token: "
                                    "--store-token-hashes-only needs a log in the sqlite layout"
                              : "--log-layout tiles keeps every token in <db>.tiles/: --store-token-hashes-only needs "
                                "--log-layout sqlite (or no --log-layout) for the new audit log " +
                                    options.path);
  }
  if (!stored) TSA_TRY(store::SetStoredLayout(db, choice.layout));
  return choice;
}

// Opens the tile directory, rebuilds what a crash may have lost (a torn entry, the last hash
// tile, the partial tiles) and catches the serial index up with the bundles.
Result<std::unique_ptr<store::LogStore>> TokenLog::OpenTiles(store::Database& db, const std::string& path, bool new_leaves,
                                                             std::shared_ptr<store::TileFiles>& tiles,
                                                             std::shared_ptr<store::IndexTail>& unindexed) {
  const std::string dir = store::TileDirectoryFor(path);
  auto opened = store::TileFiles::Open(dir, /*create=*/new_leaves, /*writable=*/true);
  if (!opened && opened.error().kind == ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kStorage, "the audit log " + path + " keeps its leaves in " + dir +
                                              ", which does not exist: restore it from the backup");
  }
  if (!opened) return opened.error();
  tiles = std::move(*opened);
  unindexed = std::make_shared<store::IndexTail>();
  if (new_leaves && tiles->size() > 0) {
    return MakeError(ErrorKind::kStorage, dir + " holds " + std::to_string(tiles->size()) + " leaves but the database " + path +
                                              " is new: restore the database from the backup");
  }
  TSA_TRY(RecoverHashTiles(*tiles));
  auto log_store = std::make_unique<store::TiledLogStore>(db, tiles, unindexed);
  TSA_ASSIGN_OR_RETURN(std::uint64_t indexed, log_store->IndexedLeaves());
  if (indexed > tiles->size()) {
    return MakeError(ErrorKind::kStorage, "the audit log " + path + " indexed " + std::to_string(indexed) + " leaves but " + dir +
                                              " holds only " + std::to_string(tiles->size()) + ": run tsa-audit-verify");
  }
  TSA_ASSIGN_OR_RETURN(auto rows, IndexRowsFromEntries(*tiles, indexed));
  if (!rows.empty()) {
    TSA_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(db));
    TSA_TRY(log_store->InsertIndexRows(rows));
    TSA_TRY(tx.Commit());
  }
  return std::unique_ptr<store::LogStore>(std::move(log_store));
}

// The stored tree must still give the roots that tsad signed: RFC 9162 §2.1.1 MTH of the first
// tree_size leaves, recomputed from O(log n) stored perfect subtrees, for its latest anchored
// checkpoint and its latest C2SP checkpoint (published about every second, so it also covers
// leaves cut cleanly off the end of a log not yet anchored). A log that lost leaves (tree_size
// above the log's size) or whose nodes changed refuses to start, instead of appending to a tree
// that no longer matches what was published.
Status TokenLog::CheckAgainstLatestCheckpoint(store::LogStore& store, const std::string& path, std::uint64_t size) {
  const auto check = [&](std::int64_t tree_size, const std::vector<std::uint8_t>& root_hash, const std::string& which) -> Status {
    if (tree_size < 0) return MakeError(ErrorKind::kStorage, which + " has a negative tree size");
    if (static_cast<std::uint64_t>(tree_size) > size) {
      return MakeError(ErrorKind::kStorage, "the audit log " + path + " holds " + std::to_string(size) +
                                                " tokens, fewer than its latest " + which + ": run tsa-audit-verify");
    }
    auto root = RootHash(Nodes(store), static_cast<std::uint64_t>(tree_size));
    if (!root || std::vector<std::uint8_t>(root->begin(), root->end()) != root_hash) {
      return MakeError(ErrorKind::kStorage, "the Merkle tree in the audit log " + path +
                                                " does not give the root of its latest " + which +
                                                (root ? "" : " (" + root.error().message + ")") + ": run tsa-audit-verify");
    }
    return Ok();
  };
  TSA_ASSIGN_OR_RETURN(auto checkpoint, store.LatestCheckpoint());
  if (checkpoint) {
    TSA_TRY(check(checkpoint->tree_size, checkpoint->root_hash,
                  "checkpoint " + std::to_string(checkpoint->id) + " (tree size " + std::to_string(checkpoint->tree_size) + ")"));
  }
  TSA_ASSIGN_OR_RETURN(auto signed_note, store.LatestSignedCheckpoint());
  if (signed_note) {
    TSA_TRY(check(signed_note->tree_size, signed_note->root_hash,
                  "signed checkpoint (C2SP note, tree size " + std::to_string(signed_note->tree_size) + ")"));
  }
  return Ok();
}

namespace {

// The pending perfect subtrees of the right edge (RFC 9162 §2.1.1): enough to keep appending and
// to give the root. A log whose indexes have gaps is refused.
Result<MerkleFrontier> LoadFrontier(store::LogStore& log_store, const std::string& path) {
  TSA_ASSIGN_OR_RETURN(store::LogExtent extent, log_store.Extent());
  const std::uint64_t size = extent.next_index;
  if (extent.rows != size) {
    return MakeError(ErrorKind::kStorage, "the token log in " + path + " has gaps in its indexes: run tsa-audit-verify");
  }
  std::vector<Hash> frontier;
  NodeReader nodes = TokenLog::Nodes(log_store);
  for (const auto& [level, index] : MerkleFrontier::FrontierNodes(size)) {
    TSA_ASSIGN_OR_RETURN(Hash h, nodes(level, index));
    if (frontier.size() <= static_cast<std::size_t>(level)) frontier.resize(static_cast<std::size_t>(level) + 1);
    frontier[static_cast<std::size_t>(level)] = h;
  }
  return MerkleFrontier(size, std::move(frontier));
}

}  // namespace

Result<std::unique_ptr<TokenLog>> TokenLog::Open(const TokenLogOptions& options) {
  TSA_TRY(store::RequireParentDirectory(options.path));
  // Lock before SQLite touches the file: a second tsad must not even migrate it.
  TSA_ASSIGN_OR_RETURN(store::LogLock lock, store::LogLock::Acquire(options.path));
  const bool created = !store::IdentifyFile(options.path).has_value();
  store::OpenOptions open;
  open.synchronous_full = options.synchronous_full;
  if (options.checkpoint_frames > 0) open.wal_autocheckpoint_pages = 0;  // the WalCheckpointer does it
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(options.path, open));
  // Write()'s connection: checkpoints, anchors, cosignatures and certificate events.
  TSA_ASSIGN_OR_RETURN(auto side, store::Database::Open(options.path, open));
  // Check before migrating: a damaged file is not written to.
  if (Status st = store::QuickCheck(*db, options.startup_check_max_pages); !st) {
    return MakeError(ErrorKind::kStorage, st.error().message + ": run tsa-audit-verify, restore from a backup");
  }
  TSA_TRY(store::Migrate(*db));
  std::unique_ptr<WalCheckpointer> checkpointer;
  if (options.checkpoint_frames > 0) {
    TSA_ASSIGN_OR_RETURN(checkpointer, WalCheckpointer::Open(options.path, options.synchronous_full, options.checkpoint_frames));
  }
  TSA_ASSIGN_OR_RETURN(LayoutChoice layout, ChooseLayout(*db, options));
  std::shared_ptr<store::TileFiles> tiles;
  std::shared_ptr<store::IndexTail> unindexed;
  std::unique_ptr<store::LogStore> log_store;
  if (layout.layout == store::LogLayout::kTiles) {
    TSA_ASSIGN_OR_RETURN(log_store, OpenTiles(*db, options.path, layout.new_leaves, tiles, unindexed));
  } else {
    log_store = std::make_unique<store::SqliteLogStore>(*db);
  }
  TSA_ASSIGN_OR_RETURN(MerkleFrontier frontier, LoadFrontier(*log_store, options.path));
  const std::uint64_t size = frontier.size();
  TSA_TRY(CheckAgainstLatestCheckpoint(*log_store, options.path, size));
  TSA_ASSIGN_OR_RETURN(std::int64_t last_gen_time, log_store->MaxGenTimeUs());
  store::OpenOptions read_only;
  read_only.read_only = true;
  TSA_ASSIGN_OR_RETURN(auto reader, store::Database::Open(options.path, read_only));
  // Every connection is open, so the WAL exists: from now on both files must stay the same.
  store::LogFiles files(options.path);
  TSA_TRY(files.Record());
  auto wal_frames = std::make_shared<std::atomic<int>>(0);
  db->OnWalCommit([wal_frames](int frames) { wal_frames->store(frames, std::memory_order_relaxed); });
  side->OnWalCommit([wal_frames](int frames) { wal_frames->store(frames, std::memory_order_relaxed); });
  auto sql_write = std::make_shared<std::mutex>();
  std::unique_ptr<IndexWriter> indexer;
  if (tiles) {
    IndexWriterOptions index_options{options.path, options.synchronous_full, options.index_batch,
                                     std::chrono::milliseconds(options.index_interval_ms)};
    TSA_ASSIGN_OR_RETURN(indexer, IndexWriter::Open(index_options, tiles, unindexed, sql_write, [wal_frames](int frames) {
                           wal_frames->store(frames, std::memory_order_relaxed);
                         }));
  }
  Opened opened{options,
                std::move(lock),
                created,
                std::move(db),
                std::move(log_store),
                std::move(side),
                std::move(reader),
                std::move(checkpointer),
                std::move(frontier),
                last_gen_time,
                std::move(files),
                std::move(tiles),
                std::move(unindexed),
                std::move(wal_frames),
                std::move(sql_write),
                std::move(indexer)};
  // NOLINTNEXTLINE: private constructor of a factory
  return std::unique_ptr<TokenLog>(new TokenLog(std::move(opened)));  // NOLINT
}

TokenLog::TokenLog(Opened opened)
    : options_(std::move(opened.options)),
      lock_(std::move(opened.lock)),
      created_(opened.created),
      files_(std::move(opened.files)),
      db_(std::move(opened.db)),
      store_(std::move(opened.store)),
      checkpointer_(std::move(opened.checkpointer)),
      wal_frames_(std::move(opened.wal_frames)),
      sql_write_(std::move(opened.sql_write)),
      side_db_(std::move(opened.side)),
      side_store_(opened.tiles ? std::unique_ptr<store::LogStore>(
                                     std::make_unique<store::TiledLogStore>(*side_db_, opened.tiles, opened.unindexed))
                               : std::make_unique<store::SqliteLogStore>(*side_db_)),
      reader_(std::move(opened.reader)),
      reader_store_(opened.tiles ? std::unique_ptr<store::LogStore>(
                                       std::make_unique<store::TiledLogStore>(*reader_, opened.tiles, opened.unindexed))
                                 : std::make_unique<store::SqliteLogStore>(*reader_)),
      tiles_(std::move(opened.tiles)),
      unindexed_(std::move(opened.unindexed)),
      indexer_(std::move(opened.indexer)),
      frontier_(std::move(opened.frontier)),
      last_gen_time_us_(opened.last_gen_time_us) {
  stats_.size = frontier_.size();
  // Wait until the writer has set its priority, so Stats() reports the outcome from the start.
  // (Members, not locals: they outlive the writer thread's use of them.)
  writer_ = std::jthread([this](std::stop_token st) {
    core::NameThisThread("tsad-log-writer");
    try {
      RaiseWriterPriority();
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      stats_.writer_priority_error = e.what();
    }
    {
      std::lock_guard lock(mutex_);
      writer_started_ = true;
    }
    writer_started_cv_.notify_all();
    Run(st);
  });
  std::unique_lock lock(mutex_);
  writer_started_cv_.wait(lock, [this] { return writer_started_; });
}

TokenLog::~TokenLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  writer_.request_stop();
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
  indexer_.reset();  // indexes the last leaves, before the connections close
}

Status TokenLog::Submit(const std::shared_ptr<Pending>& pending, int timeout_ms) {
  TSA_TRY(Enqueue(pending));
  if (!pending->Wait(timeout_ms)) {
    // Shared ownership lets the writer finish it later; a probe that waited too long has failed.
    if (pending->kind == Pending::Kind::kToken) {
      std::lock_guard lock(mutex_);
      stats_.append_timeouts += 1;
    }
    return MakeError(ErrorKind::kUnavailable, "the token log did not answer within " + std::to_string(timeout_ms) + " ms");
  }
  return pending->status;
}

// Fail closed at once: nothing written now could be committed where it belongs.
Status TokenLog::RefusalLocked() const {
  if (stopping_) return MakeError(ErrorKind::kUnavailable, "the token log is shutting down");
  if (!stats_.writer_failed.empty()) return MakeError(ErrorKind::kStorage, stats_.writer_failed);
  if (!stats_.file_problem.empty()) return MakeError(ErrorKind::kStorage, stats_.file_problem);
  return Ok();
}

Status TokenLog::Enqueue(const std::shared_ptr<Pending>& pending) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (pending->announced_at) EndAnnouncementLocked(*pending->announced_at);
    TSA_TRY(RefusalLocked());
    if (pending->kind == Pending::Kind::kProbe && !stats_.last_token_commit_ok) pending->probe_bytes = failed_batch_bytes_;
    // Wake the writer only when it can act: it is idle (empty queue), or it is gathering and this
    // record fills the queue to its target. Every other append would cost the writer a context
    // switch for nothing.
    wake = queue_.empty() || (gathering_ && queue_.size() + 1 >= gather_target_) ||
           (waiting_for_announced_.load(std::memory_order_relaxed) && announced_.load(std::memory_order_relaxed) == 0);
    queue_.push_back(pending);
  }
  if (wake) wake_writer_.notify_one();
  return Ok();
}

std::shared_ptr<TokenLog::Pending> TokenLog::TokenPending(TokenRecord record) {
  auto p = std::make_shared<Pending>();
  p->kind = Pending::Kind::kToken;
  p->record = std::move(record);
  p->leaf = LeafHash(p->record.token_der);
  p->token_sha256 = Sha256(p->record.token_der.data(), p->record.token_der.size());
  return p;
}

Status TokenLog::Append(TokenRecord record) { return Submit(TokenPending(std::move(record)), options_.append_timeout_ms); }

namespace {
// A moving average over about the last ten samples; the first sample sets it.
void Average(double& average, double sample) { average = average == 0 ? sample : 0.9 * average + 0.1 * sample; }
}  // namespace

TokenLog::Announcement TokenLog::Announce() {
  announced_.fetch_add(1, std::memory_order_relaxed);
  return Announcement(this, std::chrono::steady_clock::now());
}

// Under mutex_, so the writer's predicate sees the count and the queue change together.
void TokenLog::EndAnnouncementLocked(std::chrono::steady_clock::time_point start) {
  const double took_us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  double average = sign_us_.load(std::memory_order_relaxed);
  Average(average, took_us);  // two I/O threads may race here: one sample of an average is lost
  sign_us_.store(average, std::memory_order_relaxed);
  announced_.fetch_sub(1, std::memory_order_acq_rel);
}

// A signing that ended without a token (refused, failed): a writer waiting for it goes on.
void TokenLog::Withdraw(std::chrono::steady_clock::time_point start) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    EndAnnouncementLocked(start);
    wake = waiting_for_announced_.load(std::memory_order_relaxed) && announced_.load(std::memory_order_relaxed) == 0;
  }
  if (wake) wake_writer_.notify_one();
}

void TokenLog::AppendAsync(TokenRecord record, std::function<void(Status)> done) {
  AppendAsync(std::move(record), std::move(done), Announcement());
}

void TokenLog::AppendAsync(TokenRecord record, std::function<void(Status)> done, Announcement announced) {
  auto p = TokenPending(std::move(record));
  p->on_done = std::move(done);
  p->announced_at = announced.Release();
  if (Status queued = Enqueue(p); !queued) p->on_done(queued);
}

Status TokenLog::Probe(int timeout_ms) {
  auto p = std::make_shared<Pending>();
  p->kind = Pending::Kind::kProbe;
  TSA_TRY(Submit(p, timeout_ms));
  std::lock_guard lock(mutex_);
  if (!stats_.last_token_commit_ok) {
    return MakeError(ErrorKind::kStorage, "the last token commit failed: " + stats_.last_token_error);
  }
  return Ok();
}

// Not on the writer thread: the once-a-second checkpoint (and an index chunk it may wait for
// under sql_write_) held every token queued behind it, a few milliseconds each second, which is
// the 99th percentile at half load (docs/performance.md, fifth session).
Status TokenLog::Write(std::function<Status(store::LogStore&)> write) {
  {
    std::lock_guard lock(mutex_);
    TSA_TRY(RefusalLocked());
  }
  Status st = [&]() -> Status {
    std::lock_guard sql(*sql_write_);
    TSA_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(*side_db_));
    try {
      TSA_TRY(write(*side_store_));
    } catch (const std::exception& e) {  // rolled back (tx); the tokens' writer is not involved
      return MakeError(ErrorKind::kInternal, std::string("a log write failed: ") + e.what());
    }
    return CommitChecked(tx);
  }();
  std::lock_guard lock(mutex_);
  stats_.commits += 1;
  stats_.last_error = st ? "" : st.error().message;
  return st;
}

Status TokenLog::Read(const std::function<Status(store::LogStore&)>& read) {
  std::lock_guard lock(read_mutex_);
  return read(*reader_store_);
}

LogHead TokenLog::Head() const {
  std::lock_guard lock(mutex_);
  return LogHead{frontier_.size(), frontier_.Root()};
}

Result<std::int64_t> TokenLog::LastGenTimeUs() const {
  std::lock_guard lock(mutex_);
  return last_gen_time_us_;
}

Result<std::uint64_t> TokenLog::ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us) {
  auto p = std::make_shared<Pending>();
  p->kind = Pending::Kind::kClaimEpoch;
  p->instance = instance;
  p->now_us = now_us;
  // Bounded like Append: a start-up that cannot claim its serial space must fail, not hang.
  TSA_TRY(Submit(p, options_.append_timeout_ms));
  return p->epoch;
}

TokenLogStats TokenLog::Stats() const {
  std::lock_guard lock(mutex_);
  TokenLogStats stats = stats_;
  stats.queued = queue_.size();
  if (checkpointer_) stats.checkpoint_error = checkpointer_->last_error();
  if (indexer_) stats.index_error = indexer_->last_error();
  return stats;
}

void TokenLog::RaiseWriterPriority() {
  if (options_.writer_nice == 0) return;
  // Linux: a thread's nice value is per thread (setpriority on its tid).
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.writer_nice) != 0) {
    const int err = errno;
    std::lock_guard lock(mutex_);
    stats_.writer_priority_error = "setpriority(" + std::to_string(options_.writer_nice) + "): " + ErrnoText(err) +
                                   (err == EPERM || err == EACCES ? " (needs CAP_SYS_NICE, or RLIMIT_NICE of at least " +
                                                                        std::to_string(20 - options_.writer_nice) + ")"
                                                                  : "");
  }
}

// In the tiles layout a batch ends where the entry bundle does. The commit that fills a bundle
// then has one fdatasync (and the two renames); the tokens past it go into the next commit instead
// of a second fdatasync in the same one, which every token of the batch waited for (at half peak,
// one commit in ~50 and the tokens queued behind it: a visible share of the p99).
std::size_t TokenLog::TokenRoomLocked() const {
  if (!tiles_) return options_.max_batch;
  return store::kTileEntries - frontier_.size() % store::kTileEntries;
}

void TokenLog::GatherLocked(std::unique_lock<std::mutex>& lock, std::stop_token& stop) {
  // The peak of tokens found queued at once is how many callers share the log right now. Half of
  // it arrive within a fraction of a commit cycle under load; under light load (a few connections)
  // the peak stays below the minimum and the commit starts at once, overlapping its fsync with the
  // signing of the next requests instead of idling the cores.
  peak_queued_ = std::max(static_cast<double>(queue_.size()), peak_queued_ * 0.995);
  const auto half_peak = static_cast<std::size_t>(peak_queued_ / 2);
  const std::size_t by_peak = half_peak >= options_.gather_min_tokens ? half_peak : 0;
  // Tokens being signed right now arrive within one signing time. When a signing takes longer
  // than a commit (RSA-3072: ~2 ms against ~0.5 ms), tokens never pile up during a commit, each
  // gets a commit of its own, and the commits' CPU comes out of the signing cores: then a commit
  // of few tokens waits for the ones being signed (docs/performance.md, fifth session). With fast
  // signing (P-256) batches form by themselves and the wait's wake-ups cost more than they save.
  // A lone caller has nothing announced while its token is queued: light load never waits here.
  const std::size_t announced = announced_.load(std::memory_order_acquire);
  const bool slow_signing = announced > 0 && queue_.size() <= announced && sign_us_.load(std::memory_order_relaxed) > commit_us_;
  const std::size_t by_announced = slow_signing ? queue_.size() + announced : 0;
  const std::size_t target = std::min(std::max(by_peak, by_announced), options_.max_batch);
  if (options_.gather_us <= 0 || queue_.size() >= target) return;
  gather_target_ = target;
  gathering_ = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(options_.gather_us);
  // Waiting for announced tokens ends early when none is announced any more (a signing failed).
  const bool for_announced = by_announced > by_peak;
  waiting_for_announced_.store(for_announced, std::memory_order_release);
  wake_writer_.wait_until(lock, stop, deadline, [&] {
    return queue_.size() >= gather_target_ || (for_announced && announced_.load(std::memory_order_acquire) == 0);
  });
  waiting_for_announced_.store(false, std::memory_order_relaxed);
  gathering_ = false;
}

// The thread's top: any exception (a throwing on_commit hook, bad_alloc, a bug) stops the writer
// instead of terminating the TSA, and fails everything waiting on it (fail closed: no token is
// sent that is not logged, and no caller hangs).
void TokenLog::Run(std::stop_token stop) {
  std::vector<std::shared_ptr<Pending>> batch;
  try {
    RunLoop(stop, batch);
  } catch (const std::exception& e) {
    FailWriter(batch, std::string("the token log writer stopped: ") + e.what());
  } catch (...) {
    FailWriter(batch, "the token log writer stopped on an unknown exception");
  }
}

void TokenLog::FailWriter(std::vector<std::shared_ptr<Pending>>& batch, const std::string& why) {
  std::deque<std::shared_ptr<Pending>> queued;
  {
    std::lock_guard lock(mutex_);
    stats_.writer_failed = why;
    stats_.last_error = why;
    queued.swap(queue_);  // Submit refuses from now on, so nothing is queued after this
  }
  const Error error = MakeError(ErrorKind::kInternal, why);
  batch.insert(batch.end(), queued.begin(), queued.end());
  for (const auto& p : batch) {
    p->status = error;
    p->Finish();
  }
  batch.clear();
}

void TokenLog::RunLoop(std::stop_token& stop, std::vector<std::shared_ptr<Pending>>& batch) {
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_writer_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left to write
      // Under load, let the queue fill to about half of the callers before committing.
      if (queue_.front()->kind == Pending::Kind::kToken) GatherLocked(lock, stop);
      // Epoch claims run in a transaction of their own, so that their failure
      // never fails a token; tokens and probes are batched (group commit).
      std::size_t token_room = TokenRoomLocked();
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        const auto kind = queue_.front()->kind;
        const bool solo = kind == Pending::Kind::kClaimEpoch;
        if (solo && !batch.empty()) break;
        if (kind == Pending::Kind::kToken && token_room-- == 0) break;
        batch.push_back(queue_.front());
        queue_.pop_front();
        if (solo) break;
      }
    }
    const auto commit_start = std::chrono::steady_clock::now();
    const Status st = Commit(batch);
    if (st && batch.front()->kind == Pending::Kind::kToken) {
      Average(commit_us_, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - commit_start).count());
    }
    if (options_.on_commit) {
      std::size_t tokens = 0;
      for (const auto& p : batch) tokens += p->kind == Pending::Kind::kToken ? 1 : 0;
      options_.on_commit(tokens, std::chrono::steady_clock::now() - commit_start, static_cast<bool>(st));
    }
    if (checkpointer_) checkpointer_->AfterCommit(*db_, wal_frames_->load(std::memory_order_relaxed));
    RecordOutcome(batch, st);
    {
      core::WakeBatch wakes;  // each receiver (an I/O thread's inbox) is woken once per commit
      for (const auto& p : batch) p->Finish();
    }
    batch.clear();
    if (indexer_) indexer_->Added();
  }
}

void TokenLog::RecordOutcome(const std::vector<std::shared_ptr<Pending>>& batch, const Status& st) {
  std::size_t token_bytes = 0;
  bool tokens = false;
  bool sized_probe = false;
  std::int64_t max_gen_time = 0;
  for (const auto& p : batch) {
    if (p->kind == Pending::Kind::kToken) {
      tokens = true;
      token_bytes += p->record.token_der.size() + p->record.digest.size() + 256;  // row and node overhead
      max_gen_time = std::max(max_gen_time, p->record.gen_time_us);
    }
    if (p->kind == Pending::Kind::kProbe && p->probe_bytes > 0) sized_probe = true;
  }
  std::lock_guard lock(mutex_);
  stats_.commits += 1;
  stats_.last_error = st ? "" : st.error().message;
  if (tokens) {
    stats_.last_token_commit_ok = st.has_value();
    stats_.last_token_error = st ? "" : st.error().message;
    if (!st) failed_batch_bytes_ = std::min<std::size_t>(token_bytes, 4u << 20);
  } else if (sized_probe && st) {
    // The probe inserted a token row and wrote as much as the failed batch: tokens would commit.
    stats_.last_token_commit_ok = true;
    stats_.last_token_error.clear();
  }
  for (const auto& p : batch) {
    if (!st) p->status = st;
    if (st && p->kind == Pending::Kind::kToken) stats_.size += 1;
  }
  if (st) last_gen_time_us_ = std::max(last_gen_time_us_, max_gen_time);
}

Status TokenLog::CheckFiles() {
  Status st = Ok();
  {
    std::lock_guard lock(files_mutex_);
    st = files_.Check();
  }
  if (st && tiles_) st = tiles_->CheckIdentity();
  if (!st) {
    std::lock_guard lock(mutex_);
    if (stats_.file_problem.empty()) stats_.file_problem = st.error().message;
  }
  return st;
}

// Every transaction checks, just before its COMMIT, that the database and its WAL are still the
// files that were opened (two stat calls per batch, not per token).
Status TokenLog::CommitChecked(store::Transaction& tx) {
  TSA_TRY(CheckFiles());
  return tx.Commit();
}

Status TokenLog::InsertToken(std::uint64_t index, const Pending& p) {
  const TokenRecord& r = p.record;
  store::TokenRow row{static_cast<std::int64_t>(index),
                      r.serial_hex,
                      r.gen_time_us,
                      r.policy,
                      r.hash_oid,
                      r.digest,
                      std::nullopt,
                      std::vector<std::uint8_t>(p.token_sha256.begin(), p.token_sha256.end()),
                      std::vector<std::uint8_t>(p.leaf.begin(), p.leaf.end())};
  if (options_.keep_token) row.token = r.token_der;
  return store_->AppendToken(row);
}

// meta.health_probe = the time. While token commits fail, the probe also checks that a token row
// would be accepted (inserted in a savepoint, then rolled back: never a leaf) and writes as many
// bytes as the failed batch held, so that a disk that is still full fails it too.
Status TokenLog::WriteProbe(const Pending& p, std::uint64_t next_index) {
  if (p.probe_bytes > 0) {
    store::TokenRow probe_token;
    probe_token.index = static_cast<std::int64_t>(next_index);
    probe_token.serial = "health-probe";
    probe_token.policy = "0";
    probe_token.hash_oid = "0";
    if (options_.keep_token) probe_token.token = std::vector<std::uint8_t>();
    probe_token.token_sha256.assign(32, 0);
    probe_token.leaf_hash.assign(32, 0);
    const Status inserted = store_->TryAppendToken(probe_token);
    if (!inserted) {
      return MakeError(inserted.error().kind, "token commits fail, a token row is still refused: " + inserted.error().message);
    }
  }
  std::string value = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  if (p.probe_bytes > 0) value += std::string(p.probe_bytes, '.');
  return store_->WriteHealthProbe(value);
}

Status TokenLog::Commit(std::vector<std::shared_ptr<Pending>>& batch) {
  store::Database& db = *db_;
  if (batch.size() == 1 && batch.front()->kind == Pending::Kind::kClaimEpoch) {
    const auto& p = batch.front();
    TSA_TRY(CheckFiles());
    std::lock_guard sql(*sql_write_);
    TSA_ASSIGN_OR_RETURN(p->epoch, store_->ClaimSerialEpoch(p->instance, p->now_us));
    return Ok();
  }
  // The tiles layout writes the leaves to files (one fdatasync): a SQLite transaction only for probes.
  const bool probes = std::any_of(batch.begin(), batch.end(), [](const auto& p) { return p->kind == Pending::Kind::kProbe; });
  std::unique_lock<std::mutex> sql;  // declared before tx: released after its commit or rollback
  std::optional<store::Transaction> tx;
  if (!tiles_ || probes) {
    sql = std::unique_lock(*sql_write_);
    TSA_ASSIGN_OR_RETURN(store::Transaction begun, store::Transaction::Begin(db));
    tx.emplace(std::move(begun));
  }
  // Work on a copy of the tree: it replaces the committed one only once the leaves are durable.
  MerkleFrontier tree;
  {
    std::lock_guard lock(mutex_);
    tree = frontier_;
  }
  bool appended = false;
  Status st = [&]() -> Status {
    for (const auto& p : batch) {
      switch (p->kind) {
        case Pending::Kind::kToken: {
          TSA_TRY(InsertToken(tree.size(), *p));
          for (const auto& node : tree.Append(p->leaf)) {
            TSA_TRY(store_->AppendNode(node.level, node.index, std::vector<std::uint8_t>(node.hash.begin(), node.hash.end())));
          }
          break;
        }
        case Pending::Kind::kProbe: TSA_TRY(WriteProbe(*p, tree.size())); break;
        case Pending::Kind::kClaimEpoch: return MakeError(ErrorKind::kInternal, "an epoch claim was batched with tokens");
      }
    }
    TSA_TRY(CheckFiles());
    TSA_TRY(store_->CommitAppends());  // the tiles: durable from here, whatever the transaction does
    appended = true;
    if (tiles_) {
      std::lock_guard lock(mutex_);
      frontier_ = tree;
    }
    if (tx) TSA_TRY(tx->Commit());
    return Ok();
  }();
  if (!appended) store_->RollbackAppends();
  if (!st) return st;
  std::lock_guard lock(mutex_);
  frontier_ = std::move(tree);
  return Ok();
}

}  // namespace tsa::audit
