// A thin RAII wrapper over one SQLite connection. The only code that includes <sqlite3.h> is
// src/store; other layers see these types. Every call checks its return code; BUSY/LOCKED map to
// ErrorKind::kBusy, other failures to kStorage.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tsa/core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tsa::store {

class Statement;

struct OpenOptions {
  bool read_only = false;
  bool create = true;
  // synchronous=FULL: a committed transaction survives power loss, not only a process crash.
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;
  // WAL pages before SQLite copies the WAL back into the database (a checkpoint, which rewrites
  // and fsyncs pages): larger means fewer, longer checkpoints.
  int wal_autocheckpoint_pages = 1000;
};

// Not thread-safe: one owner thread at a time (the store's writer, or a tool).
class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const OpenOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(const std::string& sql);
  Result<Statement> Prepare(const std::string& sql);
  std::int64_t LastInsertRowId() const;
  const std::string& path() const { return path_; }

  // WAL checkpoints (https://sqlite.org/wal.html#checkpointing). OnWalCommit: `hook` runs on the
  // committing thread after every commit on this connection, with the number of frames now in the
  // WAL; what it captures must outlive this Database. PassiveCheckpoint copies what it can of the
  // WAL back into the database without waiting for (or blocking) the writer or readers, and
  // returns the frames left in the WAL that were not copied.
  void OnWalCommit(std::function<void(int frames)> hook);
  Result<int> PassiveCheckpoint();

  // Schema version in PRAGMA user_version.
  Result<int> UserVersion();
  Status SetUserVersion(int version);

  sqlite3* handle() const { return db_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::function<void(int)> wal_hook_;
};

// A prepared statement. Bind indexes are 1-based as in SQLite.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, const std::string& text);
  Statement& BindBlob(int index, std::span<const std::uint8_t> blob);
  Statement& BindNull(int index);

  // Runs one step: true when a row is available, false when done.
  Result<bool> Step();
  // Step to completion of a statement without rows.
  Status Run();
  Status Reset();

  std::int64_t ColumnInt(int index) const;
  std::string ColumnText(int index) const;
  std::vector<std::uint8_t> ColumnBlob(int index) const;
  bool ColumnIsNull(int index) const;

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Error Fail(int rc, const char* what) const;
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  int bind_rc_ = 0;  // first bind failure, reported by Step
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace tsa::store
