// The append-only log of every granted token, in SQLite (WAL), written with group commit:
// concurrent Append() calls are batched into one transaction by a single writer thread, and each
// caller returns only once its record is committed. A token therefore reaches a client only after
// it is durably in the log (AUDIT_CHAIN.md).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tsa/audit/index_writer.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/wal_checkpointer.h"
#include "tsa/core/result.h"
#include "tsa/store/database.h"
#include "tsa/store/log_files.h"
#include "tsa/store/log_store.h"
#include "tsa/store/schema.h"
#include "tsa/store/tile_files.h"
#include "tsa/store/tiled_log_store.h"

namespace tsa::audit {

struct TokenRecord {
  std::string serial_hex;
  std::int64_t gen_time_us = 0;
  std::string policy;
  std::string hash_oid;
  std::vector<std::uint8_t> digest;
  std::vector<std::uint8_t> token_der;  // the TimeStampToken (ContentInfo)
};

struct TokenLogOptions {
  std::string path;
  bool keep_token = true;  // false: store only SHA-256(token) and the leaf hash
  // Where the leaves live (store::LogLayout, AUDIT_CHAIN.md "On-disk layout"). Unset (the
  // default): a new log is created as tiles (as sqlite with !keep_token, since tiles hold the
  // tokens) and an existing log keeps its recorded layout. Set (the operator named one): a new log
  // takes it, kTiles moves an existing sqlite-layout log that keeps its tokens, and kTiles with
  // !keep_token refuses a new log.
  std::optional<store::LogLayout> layout;
  // The tiles layout: the serial index is written by its own thread (IndexWriter) when this many
  // leaves wait for it, and every index_interval_ms; lookups see the waiting ones meanwhile.
  std::size_t index_batch = 16384;
  int index_interval_ms = 1000;
  bool synchronous_full = true;  // fsync at every commit (power-loss durable)
  std::size_t max_batch = 512;   // records per transaction at most
  // Group commit gathering. Under load each commit has a fixed cost (partial pages, WAL frames,
  // fdatasync, wake-ups), so fewer, larger transactions serve more tokens. The writer remembers
  // how many tokens it recently found queued at once (a maximum that decays by 0.5% per commit).
  // When that peak is at least 2 * gather_min_tokens and fewer than half of it are queued, a
  // commit waits up to gather_us for the queue to reach half the peak. Under light load the peak
  // stays small and every commit starts at once. 0 disables gathering.
  int gather_us = 1000;
  std::size_t gather_min_tokens = 16;
  // The writer is on every token's critical path: it asks the kernel for this nice value (needs
  // CAP_SYS_NICE when negative; without it the writer keeps the default priority). 0: leave it.
  int writer_nice = -10;
  // WAL frames after which a background thread checkpoints (WalCheckpointer); 0: SQLite's own
  // automatic checkpoints, inside the writer's commits.
  int checkpoint_frames = 1000;
  // How long Append waits for its commit before it returns an error (the issuer then answers
  // systemFailure and never sends the token). A token whose wait timed out may still be
  // committed later: a logged token that was not sent is harmless, a sent one not logged is not.
  int append_timeout_ms = 10'000;
  // Start-up check: PRAGMA quick_check over the whole file up to this many pages (4 KiB each);
  // above it only the small tables are checked (store::QuickCheck), so a start stays bounded.
  // quick_check read ~150 MB/s here (18.6 s for a 2.7 GB log of 10M tokens): 256 MiB ~ 2 s.
  std::int64_t startup_check_max_pages = 65'536;  // 256 MiB
  // Called on the writer thread after every transaction (metrics): the tokens it held, how long
  // it took and whether it committed. Keep it cheap.
  std::function<void(std::size_t tokens, std::chrono::nanoseconds took, bool ok)> on_commit;
};

// The head of the log: RFC 9162 tree size and root hash over the committed leaves.
struct LogHead {
  std::uint64_t size = 0;
  Hash root{};
};

struct TokenLogStats {
  std::uint64_t size = 0;     // records committed
  std::uint64_t commits = 0;  // transactions
  std::size_t queued = 0;     // records waiting for the writer now
  std::string last_error;     // empty when the last commit succeeded
  // The last transaction that held tokens failed (with this error): tokens are being refused.
  // Cleared by the next token commit that succeeds, or by a Probe that shows a token batch would
  // now commit (a full disk that was freed, a trigger that was dropped).
  bool last_token_commit_ok = true;
  std::string last_token_error;
  // Sticky until restart: the writer thread stopped on an exception (every Append fails at once),
  // or the database or its WAL was deleted or replaced under tsad (store::LogFiles).
  std::string writer_failed;
  std::string file_problem;
  std::uint64_t append_timeouts = 0;  // Appends that gave up after append_timeout_ms
  std::string checkpoint_error;       // of the last WAL checkpoint (WalCheckpointer); empty when it worked
  // The outcome of TokenLogOptions::writer_nice: empty when applied (or not asked for), else why not.
  std::string writer_priority_error;
  std::string index_error;  // of the last serial-index write (tiles layout); empty when it worked
};

class TokenLog {
 public:
  // Opens (creating and migrating) the database and starts the writer thread. Refuses (with a
  // one-line reason) when the database's directory does not exist, when another process holds
  // the log (store::LogLock), when SQLite's quick_check finds damage, or when the stored Merkle
  // tree does not give the root of the latest checkpoint.
  static Result<std::unique_ptr<TokenLog>> Open(const TokenLogOptions& options);
  ~TokenLog();  // stops the writer after draining what is queued

  // Claims a fresh serial space (store::ClaimSerialEpoch) through the writer's connection.
  Result<std::uint64_t> ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us);

  // Appends and waits for the commit, at most options.append_timeout_ms. Thread-safe. On failure
  // the token must not be sent: nothing of it is stored, except after a timeout, when the writer
  // may still commit it.
  Status Append(TokenRecord record);

  // The asynchronous form (the HTTP server's): queues the record and returns at once. `done` runs
  // exactly once with the outcome: on the writer thread after the commit (keep it short: post the
  // continuation elsewhere), or on the caller's thread when the log refuses the record at once.
  // It has no timeout of its own: a caller that cannot wait longer than append_timeout_ms arms
  // its own timer, and must then not send the token (a late commit of an unsent token is harmless).
  void AppendAsync(TokenRecord record, std::function<void(Status)> done);

  // A token is being signed and will be appended soon (or its signing fails). The issuer takes
  // one before signing and hands it to AppendAsync, which ends it in the same step that queues
  // the token. While one is out, a commit of few tokens may wait up to gather_us for it when
  // signing takes longer than a commit (see GatherLocked), so that CPU-bound signing (RSA) does
  // not pay a commit per token. Movable RAII: one that is dropped is withdrawn.
  class Announcement {
   public:
    Announcement() = default;
    Announcement(TokenLog* log, std::chrono::steady_clock::time_point start) : log_(log), start_(start) {}
    Announcement(Announcement&& other) noexcept : log_(std::exchange(other.log_, nullptr)), start_(other.start_) {}
    Announcement& operator=(Announcement&&) = delete;
    Announcement(const Announcement&) = delete;
    Announcement& operator=(const Announcement&) = delete;
    ~Announcement() {
      if (log_ != nullptr) log_->Withdraw(start_);
    }
    // For AppendAsync: disarms it and gives its start (nullopt: it was not taken from a log).
    std::optional<std::chrono::steady_clock::time_point> Release() {
      return std::exchange(log_, nullptr) != nullptr ? std::optional(start_) : std::nullopt;
    }

   private:
    TokenLog* log_ = nullptr;
    std::chrono::steady_clock::time_point start_;
  };
  Announcement Announce();
  void AppendAsync(TokenRecord record, std::function<void(Status)> done, Announcement announced);  // ends it
  int append_timeout_ms() const { return options_.append_timeout_ms; }

  // A real write through the writer (updates meta.health_probe), bounded by timeout_ms. Fails
  // while the writer has stopped, while the files' identity is wrong, and while the last token
  // commit failed unless this probe shows that a token batch would now commit (it inserts a token
  // row and rolls it back, and writes as many bytes as the failed batch held).
  Status Probe(int timeout_ms);

  // Runs `write` in a transaction of its own (checkpoints, anchor attempts, cosignatures,
  // certificate events), on the caller's thread over a connection kept for these writes, under
  // the lock every SQLite write of the log takes: tsad never meets SQLITE_BUSY from itself, and
  // the tokens queued for the writer never wait behind it. Blocks until committed.
  Status Write(std::function<Status(store::LogStore&)> write);

  // Runs `read` on a separate read-only connection (WAL: never blocks the writer). Serialised.
  Status Read(const std::function<Status(store::LogStore&)>& read);

  // The committed head (size and root), from memory.
  LogHead Head() const;

  // The latest genTime ever recorded (store::MaxGenTimeUs at Open, then every committed token),
  // 0 for an empty log: the issuer's clock gate starts above it.
  Result<std::int64_t> LastGenTimeUs() const;

  // True when Open created the database file (a new, empty audit log).
  bool created() const { return created_; }
  // The layout Open chose (TokenLogOptions::layout).
  store::LogLayout layout() const { return tiles_ ? store::LogLayout::kTiles : store::LogLayout::kSqlite; }

  // The perfect-subtree reader over a log store (for proofs and verifiers).
  static NodeReader Nodes(store::LogStore& store);

  TokenLogStats Stats() const;

 private:
  struct Pending;
  struct Opened;
  explicit TokenLog(Opened opened);
  static Status CheckAgainstLatestCheckpoint(store::LogStore& store, const std::string& path, std::uint64_t size);
  void Run(std::stop_token stop);
  void RunLoop(std::stop_token& stop, std::vector<std::shared_ptr<Pending>>& batch);
  void FailWriter(std::vector<std::shared_ptr<Pending>>& batch, const std::string& why);
  void RecordOutcome(const std::vector<std::shared_ptr<Pending>>& batch, const Status& st);
  Status Commit(std::vector<std::shared_ptr<Pending>>& batch);
  Status CommitChecked(store::Transaction& tx);
  Status CheckFiles();
  Status InsertToken(std::uint64_t index, const Pending& p);
  struct LayoutChoice {
    store::LogLayout layout = store::LogLayout::kSqlite;
    bool new_leaves = false;  // no leaves and no recorded layout yet: a tiles log creates <db>.tiles/
  };
  static Result<LayoutChoice> ChooseLayout(store::Database& db, const TokenLogOptions& options);
  static Result<std::unique_ptr<store::LogStore>> OpenTiles(store::Database& db, const std::string& path, bool new_leaves,
                                                            std::shared_ptr<store::TileFiles>& tiles,
                                                            std::shared_ptr<store::IndexTail>& unindexed);
  Status WriteProbe(const Pending& p, std::uint64_t next_index);
  Status Submit(const std::shared_ptr<Pending>& pending, int timeout_ms);  // Enqueue, then wait
  Status Enqueue(const std::shared_ptr<Pending>& pending);
  Status RefusalLocked() const;  // under mutex_: why nothing can be written now
  static std::shared_ptr<Pending> TokenPending(TokenRecord record);
  void GatherLocked(std::unique_lock<std::mutex>& lock, std::stop_token& stop);
  std::size_t TokenRoomLocked() const;                                      // tokens the next batch may take (mutex_ held)
  void Withdraw(std::chrono::steady_clock::time_point start);               // an Announcement ends unused
  void EndAnnouncementLocked(std::chrono::steady_clock::time_point start);  // under mutex_
  void RaiseWriterPriority();

  TokenLogOptions options_;
  store::LogLock lock_;  // first member: released after every connection has closed
  bool created_ = false;
  std::mutex files_mutex_;
  store::LogFiles files_;                          // guarded by files_mutex_
  std::unique_ptr<store::Database> db_;            // used only by the writer thread after Open
  std::unique_ptr<store::LogStore> store_;         // over db_: writer thread only
  std::unique_ptr<WalCheckpointer> checkpointer_;  // null: SQLite's automatic checkpoints
  // The WAL's size after the last commit of the writer's or the index writer's connection (set
  // by their commit hooks, read by the writer).
  std::shared_ptr<std::atomic<int>> wal_frames_;
  // Held around every SQLite transaction of the writer and of the index writer (IndexWriter).
  std::shared_ptr<std::mutex> sql_write_;
  std::unique_ptr<store::Database> side_db_;     // Write's connection: guarded by sql_write_
  std::unique_ptr<store::LogStore> side_store_;  // over side_db_: guarded by sql_write_
  std::mutex read_mutex_;
  std::unique_ptr<store::Database> reader_;        // guarded by read_mutex_
  std::unique_ptr<store::LogStore> reader_store_;  // over reader_: guarded by read_mutex_
  // The tiles layout (null with the SQLite one): shared by the writer's store and the reader's.
  std::shared_ptr<store::TileFiles> tiles_;
  std::shared_ptr<store::IndexTail> unindexed_;
  std::unique_ptr<IndexWriter> indexer_;  // the tiles layout's serial index (null with SQLite)

  mutable std::mutex mutex_;
  std::condition_variable_any wake_writer_;
  std::deque<std::shared_ptr<Pending>> queue_;  // guarded by mutex_
  TokenLogStats stats_;                         // guarded by mutex_
  bool stopping_ = false;                       // guarded by mutex_
  bool writer_started_ = false;                 // guarded by mutex_
  std::condition_variable writer_started_cv_;
  bool gathering_ = false;         // guarded by mutex_: the writer waits for the queue to fill
  std::size_t gather_target_ = 0;  // guarded by mutex_: the queue size that ends the wait
  double peak_queued_ = 0;         // writer thread only: decaying maximum of tokens queued at once
  // Announcements are counted without mutex_ (two atomic operations per token on the I/O
  // threads); Withdraw takes mutex_ only to wake a writer that waits for them.
  std::atomic<std::size_t> announced_{0};           // tokens being signed (Announcement)
  std::atomic<double> sign_us_{0};                  // moving average of an announcement's time
  std::atomic<bool> waiting_for_announced_{false};  // set by the writer under mutex_
  double commit_us_ = 0;                            // writer thread only: moving average of a token commit's time
  MerkleFrontier frontier_;                         // guarded by mutex_; the committed tree
  std::int64_t last_gen_time_us_ = 0;               // guarded by mutex_
  std::size_t failed_batch_bytes_ = 0;              // guarded by mutex_: token bytes of the last failed batch
  std::jthread writer_;
};

}  // namespace tsa::audit
