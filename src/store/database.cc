#include "tsa/store/database.h"

#include <sqlite3.h>

namespace tsa::store {
namespace {

Error SqliteError(sqlite3* db, int rc, const std::string& what) {
  const int primary = rc & 0xff;
  const ErrorKind kind = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorKind::kBusy : ErrorKind::kStorage;
  std::string msg = what + ": " + sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) msg += " (" + std::string(sqlite3_errmsg(db)) + ")";
  return MakeError(kind, msg);
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const OpenOptions& options) {
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
  flags |= SQLITE_OPEN_NOMUTEX;  // one owner thread per connection
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path));  // NOLINT: private constructor of a factory
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "cannot open database " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (!options.read_only) {
    // WAL: readers (tools, health checks) never block the writer.
    TSA_TRY(db->Exec("PRAGMA journal_mode=WAL"));
    TSA_TRY(db->Exec(options.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    TSA_TRY(db->Exec("PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages)));
  }
  TSA_TRY(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    const int primary = rc & 0xff;
    return MakeError((primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorKind::kBusy : ErrorKind::kStorage,
                     "SQL failed on " + path_ + ": " + msg);
  }
  return Ok();
}

Result<Statement> Database::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "cannot prepare SQL");
  return Statement(stmt, db_);
}

std::int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

void Database::OnWalCommit(std::function<void(int frames)> hook) {
  wal_hook_ = std::move(hook);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<Database*>(self)->wal_hook_(frames);
        return SQLITE_OK;
      },
      this);
}

Result<int> Database::PassiveCheckpoint() {
  int frames = 0;
  int copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "WAL checkpoint of " + path_);
  return frames < 0 || copied < 0 ? 0 : frames - copied;
}

Result<int> Database::UserVersion() {
  TSA_ASSIGN_OR_RETURN(Statement st, Prepare("PRAGMA user_version"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.ColumnInt(0)) : 0;
}

Status Database::SetUserVersion(int version) { return Exec("PRAGMA user_version=" + std::to_string(version)); }

Statement::Statement(Statement&& other) noexcept : stmt_(other.stmt_), db_(other.db_), bind_rc_(other.bind_rc_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    db_ = other.db_;
    bind_rc_ = other.bind_rc_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Error Statement::Fail(int rc, const char* what) const { return SqliteError(db_, rc, what); }

Statement& Statement::Bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, const std::string& text) {
  const int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindBlob(int index, std::span<const std::uint8_t> blob) {
  // A zero-length blob is stored as an empty BLOB, not NULL.
  static const std::uint8_t kEmpty = 0;
  const int rc = sqlite3_bind_blob(stmt_, index, blob.empty() ? &kEmpty : blob.data(), static_cast<int>(blob.size()),
                                   SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Statement& Statement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != 0) return Fail(bind_rc_, "cannot bind SQL parameter");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Fail(rc, "SQL step failed");
}

Status Statement::Run() {
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Ok();
  }
}

Status Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = 0;
  return Ok();
}

std::int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::ColumnText(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
              : std::string();
}

std::vector<std::uint8_t> Statement::ColumnBlob(int index) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, index));
  const int len = sqlite3_column_bytes(stmt_, index);
  return data ? std::vector<std::uint8_t>(data, data + len) : std::vector<std::uint8_t>();
}

bool Statement::ColumnIsNull(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

Result<Transaction> Transaction::Begin(Database& db) {
  TSA_TRY(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  Database* db = db_;
  db_ = nullptr;
  Status st = db->Exec("COMMIT");
  if (!st) (void)db->Exec("ROLLBACK");  // a failed COMMIT can leave the transaction open
  return st;
}

}  // namespace tsa::store
