#include "tsa/store/log_queries.h"

#include <algorithm>

namespace tsa::store {
namespace {

Result<std::int64_t> SingleInt(Database& db, const std::string& sql) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt(0) : 0;
}

// Runs one quick_check pragma; its rows are "ok" or the problems found.
Status RunQuickCheck(Database& db, const std::string& pragma) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare(pragma));
  std::string problems;
  while (true) {
    auto row = st.Step();
    // A page too damaged to walk is an error of the pragma itself, not a row.
    if (!row) return MakeError(ErrorKind::kStorage, "the database " + db.path() + " is damaged (" + row.error().message + ")");
    if (!*row) break;
    const std::string line = st.ColumnText(0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (problems.empty()) return Ok();
  if (problems.size() > 200) problems = problems.substr(0, 200) + "...";
  return MakeError(ErrorKind::kStorage, "the database " + db.path() + " is damaged (" + problems + ")");
}

}  // namespace

std::optional<std::string> SerialIndexKey(const std::string& hex) {
  std::string digits;
  for (char c : hex) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    if (digits.empty() && c == '0') continue;
    digits.push_back(c);
  }
  if (digits.empty()) return std::nullopt;
  return digits;
}

Result<std::optional<LeafRow>> FindLeafBySerial(Database& db, const std::string& hex) {
  const auto key = SerialIndexKey(hex);
  if (!key) return MakeError(ErrorKind::kInvalidArgument, "the serial must be a positive hex number: " + hex);
  // The expression must be spelled exactly as in the index for SQLite to use it
  // (https://sqlite.org/expridx.html). Serials are unique as numbers, so at most one row matches.
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare(kFindLeafBySerialSql));
  st.Bind(1, *key);
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LeafRow>();
  LeafRow r;
  r.index = st.ColumnInt(0);
  r.serial = st.ColumnText(1);
  r.leaf_hash = st.ColumnBlob(2);
  if (!st.ColumnIsNull(3)) r.token = st.ColumnBlob(3);
  return std::optional<LeafRow>(std::move(r));
}

Result<std::int64_t> MaxGenTimeUs(Database& db) {
  // MAX over an indexed column is one index lookup (https://sqlite.org/optoverview.html#minmax).
  TSA_ASSIGN_OR_RETURN(std::int64_t tokens, SingleInt(db, "SELECT COALESCE(MAX(gen_time_us), 0) FROM tokens"));
  TSA_ASSIGN_OR_RETURN(std::int64_t checkpoints, SingleInt(db, "SELECT COALESCE(MAX(tsa_gen_time_us), 0) FROM checkpoints"));
  return std::max(tokens, checkpoints);
}

Result<std::optional<CheckpointHead>> LatestCheckpoint(Database& db) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("SELECT id, tree_size, root_hash, tsa_gen_time_us FROM checkpoints ORDER BY id DESC LIMIT 1"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<CheckpointHead>();
  if (st.ColumnInt(1) < 0)
    return MakeError(ErrorKind::kStorage, "checkpoint " + std::to_string(st.ColumnInt(0)) + " has a negative tree size");
  return std::optional<CheckpointHead>(
      CheckpointHead{st.ColumnInt(0), static_cast<std::uint64_t>(st.ColumnInt(1)), st.ColumnBlob(2), st.ColumnInt(3)});
}

Status QuickCheck(Database& db, std::int64_t max_pages) {
  TSA_ASSIGN_OR_RETURN(std::int64_t pages, SingleInt(db, "PRAGMA page_count"));
  if (pages <= max_pages) return RunQuickCheck(db, "PRAGMA quick_check(5)");
  // PRAGMA quick_check(TABLE) (SQLite 3.33+) checks one table and its indexes.
  for (const char* table : {"meta", "serial_epochs", "checkpoints", "anchor_attempts"}) {
    TSA_TRY(RunQuickCheck(db, std::string("PRAGMA quick_check(") + table + ")"));
  }
  return Ok();
}

}  // namespace tsa::store
