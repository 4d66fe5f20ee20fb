// LogStore of the tiles layout (AUDIT_CHAIN.md "On-disk layout"): the leaves are entry bundles and
// the Merkle tree hash tiles in files (TileFiles), everything else stays in SQLite (checkpoints,
// anchors, serial epochs, certificate events, the health probe) through a SqliteLogStore, and the
// serial index (table leaf_index) is written off the hot path: leaves committed but not yet indexed
// wait in an IndexTail shared with the readers, so a proof by serial works at once.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tsa/store/database.h"
#include "tsa/store/sqlite_log_store.h"
#include "tsa/store/tile_files.h"

namespace tsa::store {

// Committed leaves not yet in leaf_index, shared by the writer's store and the readers'.
class IndexTail {
 public:
  void Add(std::vector<LeafIndexRow> rows);
  std::vector<LeafIndexRow> Snapshot() const;
  std::vector<LeafIndexRow> Front(std::size_t rows) const;  // the oldest `rows` (fewer when fewer wait)
  void DropFront(std::size_t rows);
  std::size_t size() const;
  std::optional<LeafIndexRow> FindSerial(const std::string& key) const;  // key: SerialIndexKey
  std::optional<LeafIndexRow> FindLeafHash(const Bytes& leaf_hash) const;
  std::int64_t MaxGenTimeUs() const;

 private:
  mutable std::mutex mutex_;
  std::vector<LeafIndexRow> rows_;
};

class TiledLogStore final : public LogStore {
 public:
  TiledLogStore(Database& db, std::shared_ptr<TileFiles> tiles, std::shared_ptr<IndexTail> unindexed)
      : db_(db), sql_(db), tiles_(std::move(tiles)), unindexed_(std::move(unindexed)) {}

  const std::string& where() const override { return db_.path(); }
  Status CheckIsAuditLog() override;

  Result<LogExtent> Extent() override;
  Status AppendToken(const TokenRow& row) override;
  Status AppendNode(int level, std::uint64_t index, const Bytes& hash) override;
  Status TryAppendToken(const TokenRow& row) override;
  Result<std::optional<Bytes>> Node(int level, std::uint64_t index) override;
  Result<std::optional<LeafRow>> FindLeafBySerial(const std::string& hex) override;
  Result<std::optional<LeafRow>> FindLeafByHash(const Bytes& leaf_hash) override;
  Result<std::vector<LeafRow>> LeafRange(std::uint64_t first, std::uint64_t count) override;
  Result<std::vector<NodeRow>> NodeRange(int level, std::uint64_t first, std::uint64_t count) override;
  Result<std::int64_t> MaxGenTimeUs() override;
  Result<TokenTotals> Totals() override;
  Status RecordCertificateEvent(const CertificateEvent& e) override { return sql_.RecordCertificateEvent(e); }
  Result<std::vector<CertificateEvent>> CertificateEvents() override { return sql_.CertificateEvents(); }

  Result<std::int64_t> InsertCheckpoint(const CheckpointRow& row) override { return sql_.InsertCheckpoint(row); }
  Result<std::optional<CheckpointRow>> LatestCheckpoint() override { return sql_.LatestCheckpoint(); }
  Result<std::vector<CheckpointRow>> Checkpoints() override { return sql_.Checkpoints(); }
  Result<std::uint64_t> CheckpointCount() override { return sql_.CheckpointCount(); }
  Result<std::optional<CheckpointRow>> CoveringCheckpoint(std::uint64_t index, bool anchored) override {
    return sql_.CoveringCheckpoint(index, anchored);
  }
  Result<std::uint64_t> MaxAnchoredTreeSize() override { return sql_.MaxAnchoredTreeSize(); }
  Status InsertSignedCheckpoint(const SignedCheckpointRow& row) override { return sql_.InsertSignedCheckpoint(row); }
  Result<std::optional<SignedCheckpointRow>> LatestSignedCheckpoint() override { return sql_.LatestSignedCheckpoint(); }
  Result<std::optional<SignedCheckpointRow>> SignedCheckpointCovering(std::uint64_t index) override {
    return sql_.SignedCheckpointCovering(index);
  }

  Status InsertCosignature(const CosignatureRow& row) override { return sql_.InsertCosignature(row); }
  Result<std::vector<CosignatureRow>> Cosignatures(std::uint64_t tree_size) override { return sql_.Cosignatures(tree_size); }
  Result<std::uint64_t> LatestCosignedSize(const std::string& witness, std::int64_t key_id) override {
    return sql_.LatestCosignedSize(witness, key_id);
  }

  Status InsertAnchorAttempt(const AnchorAttemptRow& row) override { return sql_.InsertAnchorAttempt(row); }
  Result<std::vector<AnchorAttemptRow>> AnchorAttempts(std::int64_t checkpoint_id, bool ok_only) override {
    return sql_.AnchorAttempts(checkpoint_id, ok_only);
  }
  Result<std::vector<AnchorAttemptRow>> OrphanAnchorAttempts() override { return sql_.OrphanAnchorAttempts(); }
  Result<std::optional<AnchorAttemptRow>> LastAnchorAttempt() override { return sql_.LastAnchorAttempt(); }
  Result<std::optional<std::int64_t>> LastAnchorSuccessUs() override { return sql_.LastAnchorSuccessUs(); }
  Result<std::vector<AnchorUrlTotals>> AnchorTotalsByUrl() override { return sql_.AnchorTotalsByUrl(); }

  Result<std::uint64_t> ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us) override {
    return sql_.ClaimSerialEpoch(instance, now_us);
  }
  Status WriteHealthProbe(const std::string& value) override { return sql_.WriteHealthProbe(value); }

  bool Keeps(int level, std::uint64_t index, std::uint64_t size) const override;
  bool Derives(int level) const override { return level % 8 != 0; }
  Status CommitAppends() override;
  void RollbackAppends() override;
  Result<std::size_t> WriteIndex(std::size_t max_rows) override;
  void IndexWritten(std::size_t rows) override { unindexed_->DropFront(rows); }
  std::size_t UnindexedLeaves() const override { return unindexed_->size(); }
  Result<std::optional<Bytes>> FullTile(bool entries, int level, std::uint64_t n) override;

  Result<std::unique_ptr<Cursor<TokenRow>>> ScanTokens() override;
  Result<std::unique_ptr<Cursor<NodeRow>>> ScanLevel(int level) override;
  Result<std::vector<DuplicateSerial>> DuplicateSerials(std::size_t limit) override;
  Result<std::vector<NodePosition>> StrayNodes(std::uint64_t size, std::size_t limit) override;

  // The highest index in leaf_index plus one (0 when empty): where the start-up catch-up begins.
  Result<std::uint64_t> IndexedLeaves();
  // Inserts rows into leaf_index (inside the caller's transaction): the start-up catch-up.
  Status InsertIndexRows(const std::vector<LeafIndexRow>& rows);
  TileFiles& tiles() { return *tiles_; }

 private:
  Result<std::optional<LeafRow>> Leaf(const LeafIndexRow& row);

  Database& db_;
  SqliteLogStore sql_;
  std::shared_ptr<TileFiles> tiles_;
  std::shared_ptr<IndexTail> unindexed_;
  std::vector<LeafIndexRow> batch_;  // writer: the rows of the batch being appended
};

}  // namespace tsa::store
