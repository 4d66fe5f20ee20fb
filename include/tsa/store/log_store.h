// The storage seam of the audit log: every read and write of the token log, its Merkle nodes,
// checkpoints and anchor attempts goes through LogStore. audit/ and service/ hold no SQL; the
// SQLite store (SqliteLogStore, sqlite_log_store.h) is the embedded implementation, and the
// interface is what a shared backend (PostgreSQL, object storage) would implement.
// AUDIT_CHAIN.md documents what each record holds.
//
// Rows carry the stored values as they are (a negative size, a short hash, a missing reply):
// the verifiers report damage instead of the store hiding it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::store {

// A change of the TSA certificate: "start" (recorded only when it differs from the last row),
// "reload" (SIGHUP) or "recovered" (the key re-opened after a failure).
struct CertificateEvent {
  std::int64_t at_us = 0;
  std::string event;
  std::string cert_sha256;  // hex, as in ESSCertIDv2
  std::string subject;
  std::string cert_pem;
};

using Bytes = std::vector<std::uint8_t>;

// One leaf of the log.
struct TokenRow {
  std::int64_t index = 0;
  std::string serial;  // hex of the INTEGER content octets, as the issuer spelled it
  std::int64_t gen_time_us = 0;
  std::string policy;
  std::string hash_oid;
  Bytes digest;
  std::optional<Bytes> token;  // nullopt with --store-token-hashes-only
  Bytes token_sha256;
  Bytes leaf_hash;  // RFC 9162 §2.1.1 SHA-256(0x00 || token)
  // The tiles layout (TiledLogStore): serial and gen_time_us come from the serial index (empty
  // serial: not indexed yet), policy, hash_oid, digest and token_sha256 are not stored (the token
  // holds them), and leaf_hash is the level-0 hash tile's (or the index's; empty when neither has it).
  bool tiles = false;
};

// One leaf of the serial index (table leaf_index, the tiles layout), written off the hot path.
struct LeafIndexRow {
  std::int64_t index = 0;
  std::string serial;
  std::int64_t gen_time_us = 0;
  Bytes leaf_hash;
};

// One leaf as the proof builders need it.
struct LeafRow {
  std::int64_t index = 0;
  std::string serial;
  Bytes leaf_hash;  // 32 bytes when intact
  std::optional<Bytes> token;
};

// COUNT of the leaves and one past the highest index: equal when the indexes have no gaps.
struct LogExtent {
  std::uint64_t rows = 0;
  std::uint64_t next_index = 0;
};

struct CheckpointRow {
  std::int64_t id = 0;  // assigned by InsertCheckpoint, increasing
  std::int64_t tree_size = 0;
  Bytes root_hash;
  std::string checkpoint;  // the signed text
  Bytes tsa_token;         // tsad's own token over the text
  std::string tsa_serial;
  std::int64_t tsa_gen_time_us = 0;
  std::int64_t created_at_us = 0;
};

// A C2SP tlog-checkpoint signed note (c2sp.org/tlog-checkpoint), one per tree size.
struct SignedCheckpointRow {
  std::int64_t tree_size = 0;
  Bytes root_hash;
  std::string note;  // the signed note, as served at GET /log/checkpoint
  std::int64_t created_at_us = 0;
};

// A witness cosignature (c2sp.org/tlog-cosignature) on the signed checkpoint of one tree size,
// verified before it is stored (audit/witness_worker.h).
struct CosignatureRow {
  std::string witness;  // the witness's key name
  std::int64_t key_id = 0;
  std::int64_t tree_size = 0;
  std::int64_t timestamp = 0;  // the cosignature's, POSIX seconds
  std::string line;            // the signature line as served, with its final "\n"
  std::int64_t received_at_us = 0;
};

struct AnchorAttemptRow {
  std::int64_t id = 0;  // assigned by InsertAnchorAttempt, increasing
  std::int64_t checkpoint_id = 0;
  std::string tsa_url;
  std::int64_t attempted_at_us = 0;
  bool ok = false;
  std::string error;           // when not ok
  std::optional<Bytes> nonce;  // of the request
  Bytes reply;                 // the external TimeStampResp, when ok
  std::int64_t ext_gen_time_us = 0;
  std::string ext_serial;
};

struct TokenTotals {
  std::uint64_t tokens = 0;
  std::uint64_t tokens_stored = 0;  // with the token DER
  std::optional<std::int64_t> first_gen_time_us, last_gen_time_us;
};

struct AnchorUrlTotals {
  std::string tsa_url;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
};

// A stored Merkle node out of place (see LogStore::StrayNodes).
struct NodePosition {
  std::int64_t level = 0;
  std::int64_t index = 0;
  std::string path{};  // the tiles layout: the stray file, relative to <db>.tiles (stray_tiles.h)
};

// A serial stored more than once, with the index of its second leaf.
struct DuplicateSerial {
  std::string serial;
  std::int64_t second_index = 0;
};

// Streams rows in index order, one in memory at a time. nullopt at the end.
template <typename Row>
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual Result<std::optional<Row>> Next() = 0;
};

struct NodeRow {
  std::int64_t index = 0;
  Bytes hash;
};

// Not thread-safe: one owner at a time (the writer thread, a reader under a mutex, a tool).
class LogStore {
 public:
  virtual ~LogStore() = default;

  // Where the log is, for messages ("the audit log <where> ...").
  virtual const std::string& where() const = 0;
  // kInvalidArgument when this is not a tsad audit log at all (a tool pointed at another file).
  virtual Status CheckIsAuditLog() = 0;

  // --- leaves and the tree (written by the token log's writer inside its batch) ---
  virtual Result<LogExtent> Extent() = 0;
  virtual Status AppendToken(const TokenRow& row) = 0;
  virtual Status AppendNode(int level, std::uint64_t index, const Bytes& hash) = 0;
  // Whether a leaf would be accepted now (a full disk, a broken table): written and undone.
  virtual Status TryAppendToken(const TokenRow& row) = 0;
  // The stored hash of the perfect subtree (level, index); nullopt when missing.
  virtual Result<std::optional<Bytes>> Node(int level, std::uint64_t index) = 0;
  // The leaf whose serial equals `hex` as a number (any case, leading zeros): O(log n).
  // kInvalidArgument when `hex` is not a positive hex number.
  virtual Result<std::optional<LeafRow>> FindLeafBySerial(const std::string& hex) = 0;
  virtual Result<std::optional<LeafRow>> FindLeafByHash(const Bytes& leaf_hash) = 0;
  // For tlog-tiles: the leaves [first, first + count) and the stored nodes (level, [first,
  // first + count)), by index; missing ones are simply absent (the caller checks the count).
  virtual Result<std::vector<LeafRow>> LeafRange(std::uint64_t first, std::uint64_t count) = 0;
  virtual Result<std::vector<NodeRow>> NodeRange(int level, std::uint64_t first, std::uint64_t count) = 0;
  // The latest genTime ever recorded, of a leaf or of a checkpoint token; 0 for an empty log.
  virtual Result<std::int64_t> MaxGenTimeUs() = 0;
  virtual Result<TokenTotals> Totals() = 0;
  // The TSA certificates the log has seen, in order (table tsa_certificates, AUDIT_CHAIN.md).
  virtual Status RecordCertificateEvent(const CertificateEvent& event) = 0;
  virtual Result<std::vector<CertificateEvent>> CertificateEvents() = 0;

  // --- checkpoints ---
  virtual Result<std::int64_t> InsertCheckpoint(const CheckpointRow& row) = 0;  // the new id
  virtual Result<std::optional<CheckpointRow>> LatestCheckpoint() = 0;          // highest id
  virtual Result<std::vector<CheckpointRow>> Checkpoints() = 0;                 // by id
  virtual Result<std::uint64_t> CheckpointCount() = 0;
  // The checkpoint covering leaf `index` (tree_size > index): with `anchored`, the smallest one
  // with a successful anchor; without, the largest.
  virtual Result<std::optional<CheckpointRow>> CoveringCheckpoint(std::uint64_t index, bool anchored) = 0;
  // Tree size of the largest checkpoint with a successful anchor, 0 without.
  virtual Result<std::uint64_t> MaxAnchoredTreeSize() = 0;

  // --- C2SP signed checkpoints ---
  // kInvalidArgument when a note for this size is already stored with another root.
  virtual Status InsertSignedCheckpoint(const SignedCheckpointRow& row) = 0;
  virtual Result<std::optional<SignedCheckpointRow>> LatestSignedCheckpoint() = 0;  // largest size
  // The smallest signed checkpoint with tree_size > index (one that contains leaf `index`).
  virtual Result<std::optional<SignedCheckpointRow>> SignedCheckpointCovering(std::uint64_t index) = 0;

  // --- witness cosignatures ---
  // One per witness key and tree size; a later one for the same size replaces it.
  virtual Status InsertCosignature(const CosignatureRow& row) = 0;
  // Of the signed checkpoint of this size, by witness name.
  virtual Result<std::vector<CosignatureRow>> Cosignatures(std::uint64_t tree_size) = 0;
  // The largest tree size this witness key cosigned; 0 when none.
  virtual Result<std::uint64_t> LatestCosignedSize(const std::string& witness, std::int64_t key_id) = 0;

  // --- anchor attempts ---
  virtual Status InsertAnchorAttempt(const AnchorAttemptRow& row) = 0;
  // Of one checkpoint, by id; `ok_only`: the successful ones.
  virtual Result<std::vector<AnchorAttemptRow>> AnchorAttempts(std::int64_t checkpoint_id, bool ok_only) = 0;
  // Attempts whose checkpoint does not exist (id and checkpoint_id only).
  virtual Result<std::vector<AnchorAttemptRow>> OrphanAnchorAttempts() = 0;
  virtual Result<std::optional<AnchorAttemptRow>> LastAnchorAttempt() = 0;
  virtual Result<std::optional<std::int64_t>> LastAnchorSuccessUs() = 0;
  virtual Result<std::vector<AnchorUrlTotals>> AnchorTotalsByUrl() = 0;  // by URL

  // --- serial epochs and health ---
  // Claims a fresh serial space for `instance` (core/serial.h), recorded durably before use.
  virtual Result<std::uint64_t> ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us) = 0;
  // A real small write (the health probe's).
  virtual Status WriteHealthProbe(const std::string& value) = 0;

  // --- the tiles layout (TiledLogStore, AUDIT_CHAIN.md "On-disk layout"); the SQLite layout keeps
  // the defaults ---
  // Whether the store keeps node (level, index) of a tree of `size` leaves; the others are derived
  // from the nearest kept level below (TokenLog::Nodes) and are not verified as stored.
  virtual bool Keeps(int level, std::uint64_t index, std::uint64_t size) const {
    (void)level, (void)index, (void)size;
    return true;
  }
  // Levels whose nodes Node() never returns: computed from level (level - level % 8).
  virtual bool Derives(int level) const {
    (void)level;
    return false;
  }
  // Makes the leaves and nodes appended since the last call durable (the tiles: one fdatasync
  // per batch), before the batch's SQLite transaction commits; Rollback forgets them.
  virtual Status CommitAppends() { return Ok(); }
  virtual void RollbackAppends() {}
  // The serial index: WriteIndex inserts up to `max_rows` of the committed leaves not yet indexed,
  // oldest first (inside the caller's transaction) and returns how many; IndexWritten(n) after
  // the commit drops them from memory.
  virtual Result<std::size_t> WriteIndex(std::size_t max_rows) {
    (void)max_rows;
    return std::size_t{0};
  }
  virtual void IndexWritten(std::size_t rows) { (void)rows; }
  virtual std::size_t UnindexedLeaves() const { return 0; }
  // A full tile exactly as stored (tiles layout: the file), nullopt when the store keeps none.
  virtual Result<std::optional<Bytes>> FullTile(bool entries, int level, std::uint64_t n) {
    (void)entries, (void)level, (void)n;
    return std::optional<Bytes>();
  }

  // --- full scans, for the offline verifier ---
  virtual Result<std::unique_ptr<Cursor<TokenRow>>> ScanTokens() = 0;         // by index
  virtual Result<std::unique_ptr<Cursor<NodeRow>>> ScanLevel(int level) = 0;  // by index
  virtual Result<std::vector<DuplicateSerial>> DuplicateSerials(std::size_t limit) = 0;
  // Nodes that no complete perfect subtree of a tree of `size` leaves accounts for.
  virtual Result<std::vector<NodePosition>> StrayNodes(std::uint64_t size, std::size_t limit) = 0;
};

}  // namespace tsa::store
