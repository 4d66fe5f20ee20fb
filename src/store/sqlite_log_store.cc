#include "tsa/store/sqlite_log_store.h"

#include <algorithm>

#include "tsa/store/log_queries.h"
#include "tsa/store/schema.h"

namespace tsa::store {
namespace {

constexpr char kCheckpointColumns[] =
    "SELECT c.id, c.tree_size, c.root_hash, c.checkpoint, c.tsa_token, c.tsa_serial, c.tsa_gen_time_us, c.created_at_us "
    "FROM checkpoints c ";
constexpr char kAnchorColumns[] =
    "SELECT id, checkpoint_id, tsa_url, attempted_at_us, ok, error, nonce, reply, ext_gen_time_us, ext_serial "
    "FROM anchor_attempts ";
constexpr char kTokenColumns[] =
    "SELECT idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash FROM tokens ";
// A checkpoint with at least one successful anchor.
constexpr char kAnchored[] = "EXISTS (SELECT 1 FROM anchor_attempts a WHERE a.checkpoint_id = c.id AND a.ok = 1)";

constexpr const char* kSignedCheckpointColumns = "SELECT tree_size, root_hash, note, created_at_us FROM log_checkpoints ";

SignedCheckpointRow ReadSignedCheckpoint(const Statement& st) {
  return SignedCheckpointRow{st.ColumnInt(0), st.ColumnBlob(1), st.ColumnText(2), st.ColumnInt(3)};
}

CheckpointRow ReadCheckpoint(const Statement& st) {
  return CheckpointRow{st.ColumnInt(0),  st.ColumnInt(1),  st.ColumnBlob(2), st.ColumnText(3),
                       st.ColumnBlob(4), st.ColumnText(5), st.ColumnInt(6),  st.ColumnInt(7)};
}

AnchorAttemptRow ReadAnchor(const Statement& st) {
  AnchorAttemptRow r;
  r.id = st.ColumnInt(0);
  r.checkpoint_id = st.ColumnInt(1);
  r.tsa_url = st.ColumnText(2);
  r.attempted_at_us = st.ColumnInt(3);
  r.ok = st.ColumnInt(4) == 1;
  r.error = st.ColumnText(5);
  if (!st.ColumnIsNull(6)) r.nonce = st.ColumnBlob(6);
  r.reply = st.ColumnBlob(7);
  r.ext_gen_time_us = st.ColumnInt(8);
  r.ext_serial = st.ColumnText(9);
  return r;
}

TokenRow ReadToken(const Statement& st) {
  TokenRow r;
  r.index = st.ColumnInt(0);
  r.serial = st.ColumnText(1);
  r.gen_time_us = st.ColumnInt(2);
  r.policy = st.ColumnText(3);
  r.hash_oid = st.ColumnText(4);
  r.digest = st.ColumnBlob(5);
  if (!st.ColumnIsNull(6)) r.token = st.ColumnBlob(6);
  r.token_sha256 = st.ColumnBlob(7);
  r.leaf_hash = st.ColumnBlob(8);
  return r;
}

template <typename Row>
Result<std::vector<Row>> AllRows(Statement& st, Row (*read)(const Statement&)) {
  std::vector<Row> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return rows;
    rows.push_back(read(st));
  }
}

template <typename Row>
Result<std::optional<Row>> FirstRow(Statement& st, Row (*read)(const Statement&)) {
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<Row>();
  return std::optional<Row>(read(st));
}

Result<std::int64_t> SingleInt(Database& db, const char* sql) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? st.ColumnInt(0) : 0;
}

template <typename Row>
class StatementCursor final : public Cursor<Row> {
 public:
  StatementCursor(Statement st, Row (*read)(const Statement&)) : st_(std::move(st)), read_(read) {}
  Result<std::optional<Row>> Next() override { return FirstRow(st_, read_); }

 private:
  Statement st_;
  Row (*read_)(const Statement&);
};

NodeRow ReadNode(const Statement& st) { return NodeRow{st.ColumnInt(0), st.ColumnBlob(1)}; }

}  // namespace

Result<Statement*> SqliteLogStore::Cached(std::optional<Statement>& slot, const char* sql) {
  if (!slot) {
    TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(sql));
    slot.emplace(std::move(st));
  }
  TSA_TRY(slot->Reset());
  return &*slot;
}

Status SqliteLogStore::CheckIsAuditLog() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT name FROM sqlite_master WHERE type = 'table'"));
  std::vector<std::string> have;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    have.push_back(st.ColumnText(0));
  }
  for (const char* need : {"tokens", "merkle_nodes", "checkpoints", "anchor_attempts"}) {
    if (std::find(have.begin(), have.end(), need) == have.end()) {
      return MakeError(ErrorKind::kInvalidArgument, db_.path() + " is not a tsad audit database (no table " + need + ")");
    }
  }
  return Ok();
}

Result<LogExtent> SqliteLogStore::Extent() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT COUNT(*), COALESCE(MAX(idx) + 1, 0) FROM tokens"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return LogExtent{};
  return LogExtent{static_cast<std::uint64_t>(std::max<std::int64_t>(0, st.ColumnInt(0))),
                   static_cast<std::uint64_t>(std::max<std::int64_t>(0, st.ColumnInt(1)))};
}

Status SqliteLogStore::AppendToken(const TokenRow& r) {
  TSA_ASSIGN_OR_RETURN(
      Statement * st,
      Cached(insert_token_,
             "INSERT INTO tokens (idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st->Bind(1, r.index).Bind(2, r.serial).Bind(3, r.gen_time_us).Bind(4, r.policy).Bind(5, r.hash_oid);
  st->BindBlob(6, r.digest);
  if (r.token) {
    st->BindBlob(7, *r.token);
  } else {
    st->BindNull(7);
  }
  st->BindBlob(8, r.token_sha256).BindBlob(9, r.leaf_hash);
  return st->Run();
}

Status SqliteLogStore::AppendNode(int level, std::uint64_t index, const Bytes& hash) {
  TSA_ASSIGN_OR_RETURN(Statement * st, Cached(insert_node_, "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)"));
  st->Bind(1, static_cast<std::int64_t>(level)).Bind(2, static_cast<std::int64_t>(index)).BindBlob(3, hash);
  return st->Run();
}

// Inserted in a savepoint, then rolled back: never a leaf.
Status SqliteLogStore::TryAppendToken(const TokenRow& row) {
  TSA_TRY(db_.Exec("SAVEPOINT probe_token"));
  Status inserted = AppendToken(row);
  TSA_TRY(db_.Exec("ROLLBACK TO probe_token"));
  TSA_TRY(db_.Exec("RELEASE probe_token"));
  return inserted;
}

Result<std::optional<Bytes>> SqliteLogStore::Node(int level, std::uint64_t index) {
  TSA_ASSIGN_OR_RETURN(Statement * st, Cached(select_node_, "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?"));
  st->Bind(1, static_cast<std::int64_t>(level)).Bind(2, static_cast<std::int64_t>(index));
  TSA_ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<Bytes> hash;
  if (row) hash = st->ColumnBlob(0);
  // Reset now, not at the next call: a statement left on its row keeps a read transaction open
  // on an old snapshot, and this connection's next write would then fail as busy once another
  // connection of the log (TokenLog::Write's) has committed.
  TSA_TRY(st->Reset());
  return hash;
}

Result<std::optional<LeafRow>> SqliteLogStore::FindLeafBySerial(const std::string& hex) {
  return store::FindLeafBySerial(db_, hex);
}

Result<std::optional<LeafRow>> SqliteLogStore::FindLeafByHash(const Bytes& leaf_hash) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare("SELECT idx, serial, leaf_hash, token FROM tokens WHERE leaf_hash = ? ORDER BY idx LIMIT 1"));
  st.BindBlob(1, leaf_hash);
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LeafRow>();
  LeafRow r{st.ColumnInt(0), st.ColumnText(1), st.ColumnBlob(2), std::nullopt};
  if (!st.ColumnIsNull(3)) r.token = st.ColumnBlob(3);
  return std::optional<LeafRow>(std::move(r));
}

Result<std::vector<LeafRow>> SqliteLogStore::LeafRange(std::uint64_t first, std::uint64_t count) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare("SELECT idx, serial, leaf_hash, token FROM tokens WHERE idx >= ? AND idx < ? ORDER BY idx"));
  st.Bind(1, static_cast<std::int64_t>(first)).Bind(2, static_cast<std::int64_t>(first + count));
  std::vector<LeafRow> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    LeafRow r{st.ColumnInt(0), st.ColumnText(1), st.ColumnBlob(2), std::nullopt};
    if (!st.ColumnIsNull(3)) r.token = st.ColumnBlob(3);
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<NodeRow>> SqliteLogStore::NodeRange(int level, std::uint64_t first, std::uint64_t count) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare("SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"));
  st.Bind(1, static_cast<std::int64_t>(level)).Bind(2, static_cast<std::int64_t>(first));
  st.Bind(3, static_cast<std::int64_t>(first + count));
  std::vector<NodeRow> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    rows.push_back(NodeRow{st.ColumnInt(0), st.ColumnBlob(1)});
  }
  return rows;
}

Result<std::int64_t> SqliteLogStore::MaxGenTimeUs() { return store::MaxGenTimeUs(db_); }

Result<TokenTotals> SqliteLogStore::Totals() {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare("SELECT COUNT(*), COUNT(token), MIN(gen_time_us), MAX(gen_time_us) FROM tokens"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  TokenTotals t;
  if (!row) return t;
  t.tokens = static_cast<std::uint64_t>(st.ColumnInt(0));
  t.tokens_stored = static_cast<std::uint64_t>(st.ColumnInt(1));
  if (!st.ColumnIsNull(2)) t.first_gen_time_us = st.ColumnInt(2);
  if (!st.ColumnIsNull(3)) t.last_gen_time_us = st.ColumnInt(3);
  return t;
}

Result<std::int64_t> SqliteLogStore::InsertCheckpoint(const CheckpointRow& r) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare("INSERT INTO checkpoints (tree_size, root_hash, checkpoint, tsa_token, tsa_serial, "
                                   "tsa_gen_time_us, created_at_us) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.Bind(1, r.tree_size).BindBlob(2, r.root_hash).Bind(3, r.checkpoint).BindBlob(4, r.tsa_token);
  st.Bind(5, r.tsa_serial).Bind(6, r.tsa_gen_time_us).Bind(7, r.created_at_us);
  TSA_TRY(st.Run());
  return db_.LastInsertRowId();
}

Result<std::optional<CheckpointRow>> SqliteLogStore::LatestCheckpoint() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kCheckpointColumns) + "ORDER BY c.id DESC LIMIT 1"));
  return FirstRow(st, ReadCheckpoint);
}

Result<std::vector<CheckpointRow>> SqliteLogStore::Checkpoints() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kCheckpointColumns) + "ORDER BY c.id"));
  return AllRows(st, ReadCheckpoint);
}

Result<std::uint64_t> SqliteLogStore::CheckpointCount() {
  TSA_ASSIGN_OR_RETURN(std::int64_t n, SingleInt(db_, "SELECT COUNT(*) FROM checkpoints"));
  return static_cast<std::uint64_t>(n);
}

Status SqliteLogStore::InsertSignedCheckpoint(const SignedCheckpointRow& r) {
  // Never two notes for one size with different roots (tlog-checkpoint: a log that signs two
  // roots for one size has forked); the same root again is a no-op.
  TSA_ASSIGN_OR_RETURN(Statement old, db_.Prepare("SELECT root_hash FROM log_checkpoints WHERE tree_size = ?"));
  old.Bind(1, r.tree_size);
  TSA_ASSIGN_OR_RETURN(bool exists, old.Step());
  if (exists) {
    if (old.ColumnBlob(0) == r.root_hash) return Ok();
    return MakeError(ErrorKind::kInvalidArgument,
                     "a signed checkpoint of size " + std::to_string(r.tree_size) + " with another root is already stored");
  }
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("INSERT INTO log_checkpoints (tree_size, root_hash, note, created_at_us) "
                                                 "VALUES (?, ?, ?, ?)"));
  st.Bind(1, r.tree_size).BindBlob(2, r.root_hash).Bind(3, r.note).Bind(4, r.created_at_us);
  return st.Run();
}

Result<std::optional<SignedCheckpointRow>> SqliteLogStore::LatestSignedCheckpoint() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kSignedCheckpointColumns) + "ORDER BY tree_size DESC LIMIT 1"));
  return FirstRow(st, ReadSignedCheckpoint);
}

Result<std::optional<SignedCheckpointRow>> SqliteLogStore::SignedCheckpointCovering(std::uint64_t index) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare(std::string(kSignedCheckpointColumns) + "WHERE tree_size > ? ORDER BY tree_size LIMIT 1"));
  st.Bind(1, static_cast<std::int64_t>(index));
  return FirstRow(st, ReadSignedCheckpoint);
}

Status SqliteLogStore::InsertCosignature(const CosignatureRow& r) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("INSERT OR REPLACE INTO witness_cosignatures (witness, key_id, tree_size, "
                                                 "timestamp, line, received_at_us) VALUES (?, ?, ?, ?, ?, ?)"));
  st.Bind(1, r.witness).Bind(2, r.key_id).Bind(3, r.tree_size).Bind(4, r.timestamp).Bind(5, r.line).Bind(6, r.received_at_us);
  return st.Run();
}

Result<std::vector<CosignatureRow>> SqliteLogStore::Cosignatures(std::uint64_t tree_size) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT witness, key_id, tree_size, timestamp, line, received_at_us "
                                                 "FROM witness_cosignatures WHERE tree_size = ? ORDER BY witness, key_id"));
  st.Bind(1, static_cast<std::int64_t>(tree_size));
  std::vector<CosignatureRow> out;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back({st.ColumnText(0), st.ColumnInt(1), st.ColumnInt(2), st.ColumnInt(3), st.ColumnText(4), st.ColumnInt(5)});
  }
  return out;
}

Result<std::uint64_t> SqliteLogStore::LatestCosignedSize(const std::string& witness, std::int64_t key_id) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT COALESCE(MAX(tree_size), 0) FROM witness_cosignatures "
                                                 "WHERE witness = ? AND key_id = ?"));
  st.Bind(1, witness).Bind(2, key_id);
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, row ? st.ColumnInt(0) : 0));
}

Result<std::optional<CheckpointRow>> SqliteLogStore::CoveringCheckpoint(std::uint64_t index, bool anchored) {
  const std::string sql = std::string(kCheckpointColumns) + "WHERE c.tree_size > ? " +
                          (anchored ? std::string("AND ") + kAnchored + " ORDER BY c.tree_size, c.id LIMIT 1"
                                    : std::string("ORDER BY c.tree_size DESC, c.id DESC LIMIT 1"));
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(sql));
  st.Bind(1, static_cast<std::int64_t>(index));
  return FirstRow(st, ReadCheckpoint);
}

Result<std::uint64_t> SqliteLogStore::MaxAnchoredTreeSize() {
  const std::string sql = std::string("SELECT COALESCE(MAX(c.tree_size), 0) FROM checkpoints c WHERE ") + kAnchored;
  TSA_ASSIGN_OR_RETURN(std::int64_t n, SingleInt(db_, sql.c_str()));
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, n));
}

Status SqliteLogStore::InsertAnchorAttempt(const AnchorAttemptRow& r) {
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare("INSERT INTO anchor_attempts (checkpoint_id, tsa_url, attempted_at_us, ok, error, "
                                   "nonce, reply, ext_gen_time_us, ext_serial) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st.Bind(1, r.checkpoint_id).Bind(2, r.tsa_url).Bind(3, r.attempted_at_us).Bind(4, static_cast<std::int64_t>(r.ok ? 1 : 0));
  if (r.nonce) {
    st.BindBlob(6, *r.nonce);
  } else {
    st.BindNull(6);
  }
  if (r.ok) {
    st.BindNull(5).BindBlob(7, r.reply).Bind(8, r.ext_gen_time_us).Bind(9, r.ext_serial);
  } else {
    st.Bind(5, r.error).BindNull(7).BindNull(8).BindNull(9);
  }
  return st.Run();
}

Result<std::vector<AnchorAttemptRow>> SqliteLogStore::AnchorAttempts(std::int64_t checkpoint_id, bool ok_only) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kAnchorColumns) + "WHERE checkpoint_id = ? " +
                                                 (ok_only ? "AND ok = 1 " : "") + "ORDER BY id"));
  st.Bind(1, checkpoint_id);
  return AllRows(st, ReadAnchor);
}

Result<std::vector<AnchorAttemptRow>> SqliteLogStore::OrphanAnchorAttempts() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kAnchorColumns) +
                                                 "WHERE checkpoint_id NOT IN (SELECT id FROM checkpoints) ORDER BY id"));
  return AllRows(st, ReadAnchor);
}

Result<std::optional<AnchorAttemptRow>> SqliteLogStore::LastAnchorAttempt() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kAnchorColumns) + "ORDER BY attempted_at_us DESC, id DESC LIMIT 1"));
  return FirstRow(st, ReadAnchor);
}

Result<std::optional<std::int64_t>> SqliteLogStore::LastAnchorSuccessUs() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT MAX(attempted_at_us) FROM anchor_attempts WHERE ok = 1"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.ColumnIsNull(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(st.ColumnInt(0));
}

Result<std::vector<AnchorUrlTotals>> SqliteLogStore::AnchorTotalsByUrl() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT tsa_url, SUM(ok = 1), SUM(ok = 0) FROM anchor_attempts "
                                                 "GROUP BY tsa_url ORDER BY tsa_url"));
  return AllRows(
      st, +[](const Statement& s) {
        return AnchorUrlTotals{s.ColumnText(0), static_cast<std::uint64_t>(s.ColumnInt(1)),
                               static_cast<std::uint64_t>(s.ColumnInt(2))};
      });
}

Result<std::uint64_t> SqliteLogStore::ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us) {
  return store::ClaimSerialEpoch(db_, instance, now_us);
}

Status SqliteLogStore::WriteHealthProbe(const std::string& value) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("INSERT INTO meta (key, value) VALUES ('health_probe', ?) "
                                                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  st.Bind(1, value);
  return st.Run();
}

Result<std::unique_ptr<Cursor<TokenRow>>> SqliteLogStore::ScanTokens() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kTokenColumns) + "ORDER BY idx"));
  return std::unique_ptr<Cursor<TokenRow>>(std::make_unique<StatementCursor<TokenRow>>(std::move(st), ReadToken));
}

Result<std::unique_ptr<Cursor<NodeRow>>> SqliteLogStore::ScanLevel(int level) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT idx, hash FROM merkle_nodes WHERE level = ? ORDER BY idx"));
  st.Bind(1, static_cast<std::int64_t>(level));
  return std::unique_ptr<Cursor<NodeRow>>(std::make_unique<StatementCursor<NodeRow>>(std::move(st), ReadNode));
}

Result<std::vector<DuplicateSerial>> SqliteLogStore::DuplicateSerials(std::size_t limit) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT serial FROM tokens GROUP BY serial HAVING COUNT(*) > 1"));
  TSA_ASSIGN_OR_RETURN(Statement second, db_.Prepare("SELECT idx FROM tokens WHERE serial = ? ORDER BY idx LIMIT 1 OFFSET 1"));
  std::vector<DuplicateSerial> out;
  while (out.size() < limit) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    DuplicateSerial d{st.ColumnText(0), 0};
    TSA_TRY(second.Reset());
    second.Bind(1, d.serial);
    TSA_ASSIGN_OR_RETURN(bool found, second.Step());
    if (found) d.second_index = second.ColumnInt(0);
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<NodePosition>> SqliteLogStore::StrayNodes(std::uint64_t size, std::size_t limit) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT level, idx FROM merkle_nodes WHERE level < 0 OR level > 62 OR idx < 0 "
                                                 "OR ((idx + 1) << level) > ? ORDER BY level, idx LIMIT ?"));
  st.Bind(1, static_cast<std::int64_t>(size)).Bind(2, static_cast<std::int64_t>(limit));
  return AllRows(
      st, +[](const Statement& s) {
        return NodePosition{s.ColumnInt(0), s.ColumnInt(1)};
      });
}

Status SqliteLogStore::RecordCertificateEvent(const CertificateEvent& event) { return store::RecordCertificateEvent(db_, event); }

Result<std::vector<CertificateEvent>> SqliteLogStore::CertificateEvents() { return store::CertificateEvents(db_); }

}  // namespace tsa::store
