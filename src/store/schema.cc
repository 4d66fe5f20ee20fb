#include "tsa/store/schema.h"

#include <algorithm>
#include <string>

namespace tsa::store {
namespace {

// Version 1. tokens.idx is the 0-based leaf index of the audit log (RFC 9162 §2.1 leaves).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS serial_epochs (
  instance      INTEGER NOT NULL,
  epoch_us      INTEGER NOT NULL,
  claimed_at_us INTEGER NOT NULL,
  PRIMARY KEY (instance, epoch_us)
);
CREATE TABLE IF NOT EXISTS tokens (
  idx          INTEGER PRIMARY KEY,
  serial       TEXT    NOT NULL UNIQUE,
  gen_time_us  INTEGER NOT NULL,
  policy       TEXT    NOT NULL,
  hash_oid     TEXT    NOT NULL,
  digest       BLOB    NOT NULL,
  token        BLOB,
  token_sha256 BLOB    NOT NULL,
  leaf_hash    BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_gen_time ON tokens (gen_time_us);
-- Every perfect subtree of the RFC 9162 tree: node (level, idx) covers leaves [idx*2^level, (idx+1)*2^level).
CREATE TABLE IF NOT EXISTS merkle_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
-- A checkpoint (tree size, root) and tsad's own token over SHA-256(checkpoint text).
CREATE TABLE IF NOT EXISTS checkpoints (
  id              INTEGER PRIMARY KEY,
  tree_size       INTEGER NOT NULL,
  root_hash       BLOB    NOT NULL,
  checkpoint      TEXT    NOT NULL,
  tsa_token       BLOB    NOT NULL,
  tsa_serial      TEXT    NOT NULL,
  tsa_gen_time_us INTEGER NOT NULL,
  created_at_us   INTEGER NOT NULL
);
-- Each request to an external TSA for a checkpoint's token: the verified reply, or the error.
CREATE TABLE IF NOT EXISTS anchor_attempts (
  id              INTEGER PRIMARY KEY,
  checkpoint_id   INTEGER NOT NULL REFERENCES checkpoints (id),
  tsa_url         TEXT    NOT NULL,
  attempted_at_us INTEGER NOT NULL,
  ok              INTEGER NOT NULL,
  error           TEXT,
  nonce           BLOB,
  reply           BLOB,
  ext_gen_time_us INTEGER,
  ext_serial      TEXT
);
CREATE INDEX IF NOT EXISTS anchor_attempts_checkpoint ON anchor_attempts (checkpoint_id);
)sql";

// Version 2: lookups that an unauthenticated client can trigger, or that run at every start, use
// indexes. GET /audit/proof?serial= finds a serial in any spelling through an expression index
// (https://sqlite.org/expridx.html) on its digits without leading zeros: the log stays
// append-only (no row is rewritten), and rows written by any earlier tsad, in the fixed 34-digit
// form or the minimal one, are found alike. MAX(tsa_gen_time_us) seeds the clock gate; tree_size
// finds the checkpoint that covers a leaf.
constexpr const char* kSchemaV2 = R"sql(
CREATE INDEX IF NOT EXISTS tokens_serial_digits ON tokens (ltrim(lower(serial), '0'));
CREATE INDEX IF NOT EXISTS checkpoints_tsa_gen_time ON checkpoints (tsa_gen_time_us);
CREATE INDEX IF NOT EXISTS checkpoints_tree_size ON checkpoints (tree_size);
)sql";

// Version 3: each TSA certificate tsad started or reloaded with, in order (README "Reload and
// rollover"): a log that spans a rollover names every certificate its tokens were signed with.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS tsa_certificates (
  id          INTEGER PRIMARY KEY,
  at_us       INTEGER NOT NULL,
  event       TEXT    NOT NULL,
  cert_sha256 TEXT    NOT NULL,
  subject     TEXT    NOT NULL,
  cert_pem    TEXT    NOT NULL
);
)sql";

// Version 4: C2SP tlog-checkpoint signed notes (AUDIT_CHAIN.md "C2SP checkpoints"), published
// about every second while the log grows; the tree size is the key, so one size has one root.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS log_checkpoints (
  tree_size     INTEGER PRIMARY KEY,
  root_hash     BLOB    NOT NULL,
  note          TEXT    NOT NULL,
  created_at_us INTEGER NOT NULL
);
)sql";

// Version 5: the tiles layout keeps the leaves in entry bundles beside the database (store/
// tile_files.h); what lookups need is indexed here, written off the hot path in batches: serial
// (GET /audit/proof?serial=, through the same expression as tokens_serial_digits) and genTime (the
// clock gate's start). The leaf hash is not indexed: random keys would rewrite pages all over the
// index at every batch, and a proof for a token file finds it by serial first (a scan remains
// only for a token whose serial is not in the log, in the offline tsa-audit).
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE IF NOT EXISTS leaf_index (
  idx         INTEGER PRIMARY KEY,
  serial      TEXT    NOT NULL,
  gen_time_us INTEGER NOT NULL,
  leaf_hash   BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS leaf_index_serial_digits ON leaf_index (ltrim(lower(serial), '0'));
CREATE INDEX IF NOT EXISTS leaf_index_gen_time ON leaf_index (gen_time_us);
)sql";

// Version 6: witness cosignatures (c2sp.org/tlog-witness, AUDIT_CHAIN.md "Witnesses"), verified
// before they are stored, one per witness key and checkpoint size; GET /log/checkpoint appends
// those of the latest size.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE IF NOT EXISTS witness_cosignatures (
  witness        TEXT    NOT NULL,
  key_id         INTEGER NOT NULL,
  tree_size      INTEGER NOT NULL,
  timestamp      INTEGER NOT NULL,
  line           TEXT    NOT NULL,
  received_at_us INTEGER NOT NULL,
  PRIMARY KEY (witness, key_id, tree_size)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS witness_cosignatures_size ON witness_cosignatures (tree_size);
)sql";

}  // namespace

Result<std::optional<LogLayout>> StoredLayout(Database& db) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT value FROM meta WHERE key = 'log_layout'"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LogLayout>();
  const std::string value = st.ColumnText(0);
  if (value == "tiles") return std::optional<LogLayout>(LogLayout::kTiles);
  if (value == "sqlite") return std::optional<LogLayout>(LogLayout::kSqlite);
  return MakeError(ErrorKind::kStorage, "database " + db.path() + " names an unknown log layout \"" + value + "\"");
}

Status SetStoredLayout(Database& db, LogLayout layout) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare("INSERT INTO meta (key, value) VALUES ('log_layout', ?) "
                                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  st.Bind(1, std::string(layout == LogLayout::kTiles ? "tiles" : "sqlite"));
  return st.Run();
}

Result<bool> HasTokenRows(Database& db) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT EXISTS (SELECT 1 FROM tokens)"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && st.ColumnInt(0) == 1;
}

Result<bool> HasHashOnlyRows(Database& db) {
  TSA_ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT EXISTS (SELECT 1 FROM tokens WHERE token IS NULL)"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return row && st.ColumnInt(0) == 1;
}

Status MoveTokenRowsToLeafIndex(Database& db) {
  TSA_TRY(
      db.Exec("INSERT OR REPLACE INTO leaf_index (idx, serial, gen_time_us, leaf_hash) "
              "SELECT idx, serial, gen_time_us, leaf_hash FROM tokens ORDER BY idx"));
  TSA_TRY(db.Exec("DELETE FROM tokens"));
  return db.Exec("DELETE FROM merkle_nodes");
}

Status Migrate(Database& db) {
  TSA_ASSIGN_OR_RETURN(int version, db.UserVersion());
  if (version > kSchemaVersion) {
    return MakeError(ErrorKind::kStorage, "database " + db.path() + " has schema version " + std::to_string(version) +
                                              ", newer than this tsad understands (" + std::to_string(kSchemaVersion) + ")");
  }
  if (version == kSchemaVersion) return Ok();
  TSA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
  if (version < 1) TSA_TRY(db.Exec(kSchemaV1));
  if (version < 2) TSA_TRY(db.Exec(kSchemaV2));
  if (version < 3) TSA_TRY(db.Exec(kSchemaV3));
  if (version < 4) TSA_TRY(db.Exec(kSchemaV4));
  if (version < 5) TSA_TRY(db.Exec(kSchemaV5));
  if (version < 6) TSA_TRY(db.Exec(kSchemaV6));
  TSA_TRY(db.SetUserVersion(kSchemaVersion));
  return tx.Commit();
}

Result<std::uint64_t> ClaimSerialEpoch(Database& db, std::uint16_t instance, std::int64_t now_us) {
  TSA_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
  TSA_ASSIGN_OR_RETURN(Statement max, db.Prepare("SELECT COALESCE(MAX(epoch_us), 0) FROM serial_epochs WHERE instance = ?"));
  max.Bind(1, static_cast<std::int64_t>(instance));
  TSA_ASSIGN_OR_RETURN(bool row, max.Step());
  const std::int64_t last = row ? max.ColumnInt(0) : 0;
  const std::int64_t epoch = std::max(now_us, last + 1);
  TSA_ASSIGN_OR_RETURN(Statement ins,
                       db.Prepare("INSERT INTO serial_epochs (instance, epoch_us, claimed_at_us) VALUES (?, ?, ?)"));
  ins.Bind(1, static_cast<std::int64_t>(instance)).Bind(2, epoch).Bind(3, now_us);
  TSA_TRY(ins.Run());
  TSA_TRY(tx.Commit());
  return static_cast<std::uint64_t>(epoch);
}

Status RecordCertificateEvent(Database& db, const CertificateEvent& e) {
  // The same certificate as the latest row after a restart is no change: nothing is recorded.
  TSA_ASSIGN_OR_RETURN(Statement last, db.Prepare("SELECT cert_sha256 FROM tsa_certificates ORDER BY id DESC LIMIT 1"));
  TSA_ASSIGN_OR_RETURN(bool row, last.Step());
  if (row && last.ColumnText(0) == e.cert_sha256 && e.event == "start") return Ok();
  TSA_ASSIGN_OR_RETURN(Statement ins, db.Prepare("INSERT INTO tsa_certificates (at_us, event, cert_sha256, subject, cert_pem) "
                                                 "VALUES (?, ?, ?, ?, ?)"));
  ins.Bind(1, e.at_us).Bind(2, e.event).Bind(3, e.cert_sha256).Bind(4, e.subject).Bind(5, e.cert_pem);
  return ins.Run();
}

Result<std::vector<CertificateEvent>> CertificateEvents(Database& db) {
  TSA_ASSIGN_OR_RETURN(Statement q,
                       db.Prepare("SELECT at_us, event, cert_sha256, subject, cert_pem FROM tsa_certificates ORDER BY id"));
  std::vector<CertificateEvent> out;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.ColumnInt(0), q.ColumnText(1), q.ColumnText(2), q.ColumnText(3), q.ColumnText(4)});
  }
  return out;
}

}  // namespace tsa::store
