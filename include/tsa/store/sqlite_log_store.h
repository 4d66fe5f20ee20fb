// LogStore over one SQLite connection (the schema of schema.h). The connection stays the
// caller's: the token log's writer wraps its batches in store::Transaction around these calls,
// and readers use a read-only connection of their own.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tsa/store/database.h"
#include "tsa/store/log_store.h"

namespace tsa::store {

class SqliteLogStore final : public LogStore {
 public:
  explicit SqliteLogStore(Database& db) : db_(db) {}

  const std::string& where() const override { return db_.path(); }
  Status CheckIsAuditLog() override;

  Result<LogExtent> Extent() override;
  Status AppendToken(const TokenRow& row) override;
  Status AppendNode(int level, std::uint64_t index, const Bytes& hash) override;
  Status TryAppendToken(const TokenRow& row) override;
  Result<std::optional<Bytes>> Node(int level, std::uint64_t index) override;
  Result<std::optional<LeafRow>> FindLeafBySerial(const std::string& hex) override;
  Result<std::optional<LeafRow>> FindLeafByHash(const Bytes& leaf_hash) override;
  Result<std::int64_t> MaxGenTimeUs() override;
  Result<TokenTotals> Totals() override;
  Status RecordCertificateEvent(const CertificateEvent& event) override;
  Result<std::vector<CertificateEvent>> CertificateEvents() override;

  Result<std::int64_t> InsertCheckpoint(const CheckpointRow& row) override;
  Result<std::optional<CheckpointRow>> LatestCheckpoint() override;
  Result<std::vector<CheckpointRow>> Checkpoints() override;
  Result<std::uint64_t> CheckpointCount() override;
  Result<std::optional<CheckpointRow>> CoveringCheckpoint(std::uint64_t index, bool anchored) override;
  Result<std::vector<LeafRow>> LeafRange(std::uint64_t first, std::uint64_t count) override;
  Result<std::vector<NodeRow>> NodeRange(int level, std::uint64_t first, std::uint64_t count) override;
  Status InsertSignedCheckpoint(const SignedCheckpointRow& row) override;
  Result<std::optional<SignedCheckpointRow>> LatestSignedCheckpoint() override;
  Result<std::optional<SignedCheckpointRow>> SignedCheckpointCovering(std::uint64_t index) override;
  Status InsertCosignature(const CosignatureRow& row) override;
  Result<std::vector<CosignatureRow>> Cosignatures(std::uint64_t tree_size) override;
  Result<std::uint64_t> LatestCosignedSize(const std::string& witness, std::int64_t key_id) override;
  Result<std::uint64_t> MaxAnchoredTreeSize() override;

  Status InsertAnchorAttempt(const AnchorAttemptRow& row) override;
  Result<std::vector<AnchorAttemptRow>> AnchorAttempts(std::int64_t checkpoint_id, bool ok_only) override;
  Result<std::vector<AnchorAttemptRow>> OrphanAnchorAttempts() override;
  Result<std::optional<AnchorAttemptRow>> LastAnchorAttempt() override;
  Result<std::optional<std::int64_t>> LastAnchorSuccessUs() override;
  Result<std::vector<AnchorUrlTotals>> AnchorTotalsByUrl() override;

  Result<std::uint64_t> ClaimSerialEpoch(std::uint16_t instance, std::int64_t now_us) override;
  Status WriteHealthProbe(const std::string& value) override;

  Result<std::unique_ptr<Cursor<TokenRow>>> ScanTokens() override;
  Result<std::unique_ptr<Cursor<NodeRow>>> ScanLevel(int level) override;
  Result<std::vector<DuplicateSerial>> DuplicateSerials(std::size_t limit) override;
  Result<std::vector<NodePosition>> StrayNodes(std::uint64_t size, std::size_t limit) override;

 private:
  // Prepared once and reused (the hot path's statements).
  Result<Statement*> Cached(std::optional<Statement>& slot, const char* sql);

  Database& db_;
  std::optional<Statement> insert_token_;
  std::optional<Statement> insert_node_;
  std::optional<Statement> select_node_;
};

}  // namespace tsa::store
