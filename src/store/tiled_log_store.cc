#include "tsa/store/tiled_log_store.h"

#include <algorithm>

#include "tsa/store/log_queries.h"
#include "tsa/store/stray_tiles.h"

namespace tsa::store {
namespace {

Bytes ToBytes(const TileHash& h) { return Bytes(h.begin(), h.end()); }

LeafIndexRow ReadIndexRow(const Statement& st) {
  return LeafIndexRow{st.ColumnInt(0), st.ColumnText(1), st.ColumnInt(2), st.ColumnBlob(3)};
}

constexpr char kIndexColumns[] = "SELECT idx, serial, gen_time_us, leaf_hash FROM leaf_index ";

// The leaves in index order, a bundle in memory at a time, joined with the serial index (rows
// in leaf_index, then those still in memory).
class TiledTokenCursor final : public Cursor<TokenRow> {
 public:
  TiledTokenCursor(TileFiles& tiles, std::uint64_t size, Statement index, std::vector<LeafIndexRow> unindexed,
                   std::uint64_t hashed)
      : tiles_(tiles), size_(size), index_(std::move(index)), unindexed_(std::move(unindexed)), hashed_(hashed) {}

  Result<std::optional<TokenRow>> Next() override {
    if (next_ >= size_) return std::optional<TokenRow>();
    if (next_ - loaded_first_ >= entries_.size()) TSA_TRY(Load());
    const std::uint64_t pos = next_ - loaded_first_;
    TokenRow row;
    row.tiles = true;
    row.index = static_cast<std::int64_t>(next_);
    row.token = std::move(entries_[pos]);
    if (pos < hashes_.size()) row.leaf_hash = ToBytes(hashes_[pos]);
    TSA_ASSIGN_OR_RETURN(auto indexed, IndexRow(next_));
    if (indexed) {
      row.serial = indexed->serial;
      row.gen_time_us = indexed->gen_time_us;
      if (row.leaf_hash.empty()) row.leaf_hash = indexed->leaf_hash;
    }
    next_ += 1;
    return std::optional<TokenRow>(std::move(row));
  }

 private:
  Status Load() {
    loaded_first_ = next_;
    const std::uint64_t count = std::min<std::uint64_t>(kTileEntries - next_ % kTileEntries, size_ - next_);
    TSA_ASSIGN_OR_RETURN(entries_, tiles_.Entries(next_, count));
    // The level-0 hashes kept on disk (a full tile); the tail's exist only in tsad's memory.
    hashes_.clear();
    if (next_ + count <= hashed_) {
      TSA_ASSIGN_OR_RETURN(hashes_, tiles_.HashRange(0, next_, count));
    }
    return Ok();
  }

  Result<std::optional<LeafIndexRow>> IndexRow(std::uint64_t idx) {
    const auto want = static_cast<std::int64_t>(idx);
    while (!index_done_ && (!index_row_ || index_row_->index < want)) {
      TSA_ASSIGN_OR_RETURN(bool row, index_.Step());
      if (!row) {
        index_done_ = true;
        index_row_.reset();
      } else {
        index_row_ = ReadIndexRow(index_);
      }
    }
    if (index_row_ && index_row_->index == want) return std::optional<LeafIndexRow>(*index_row_);
    for (const auto& r : unindexed_) {
      if (r.index == want) return std::optional<LeafIndexRow>(r);
    }
    return std::optional<LeafIndexRow>();
  }

  TileFiles& tiles_;
  std::uint64_t size_;
  Statement index_;
  std::vector<LeafIndexRow> unindexed_;
  std::uint64_t hashed_;  // leaves whose level-0 hash is in a full tile file
  std::uint64_t next_ = 0;
  std::uint64_t loaded_first_ = 0;
  std::vector<std::vector<std::uint8_t>> entries_;
  std::vector<TileHash> hashes_;
  std::optional<LeafIndexRow> index_row_;
  bool index_done_ = false;
};

// The hashes of full tiles of tree level 8·tile_level, in order; a missing or short tile is skipped
// (the verifier reports its nodes as missing).
class TileLevelCursor final : public Cursor<NodeRow> {
 public:
  TileLevelCursor(TileFiles& tiles, int tile_level, std::uint64_t full_tiles)
      : tiles_(tiles), level_(tile_level), full_(full_tiles) {}
  Result<std::optional<NodeRow>> Next() override {
    while (pos_ >= hashes_.size()) {
      if (tile_ >= full_) return std::optional<NodeRow>();
      TSA_ASSIGN_OR_RETURN(auto bytes, tiles_.ReadFullHashTile(level_, tile_));
      hashes_.clear();
      pos_ = 0;
      first_ = tile_ * kTileEntries;
      tile_ += 1;
      if (!bytes || bytes->size() != kTileEntries * kTileHashSize) continue;
      for (std::size_t i = 0; i < kTileEntries; ++i) {
        hashes_.emplace_back(bytes->begin() + static_cast<std::ptrdiff_t>(i * kTileHashSize),
                             bytes->begin() + static_cast<std::ptrdiff_t>((i + 1) * kTileHashSize));
      }
    }
    NodeRow row{static_cast<std::int64_t>(first_ + pos_), std::move(hashes_[pos_])};
    pos_ += 1;
    return std::optional<NodeRow>(std::move(row));
  }

 private:
  TileFiles& tiles_;
  int level_;
  std::uint64_t full_;
  std::uint64_t tile_ = 0;
  std::uint64_t first_ = 0;
  std::size_t pos_ = 0;
  std::vector<Bytes> hashes_;
};

class EmptyNodeCursor final : public Cursor<NodeRow> {
 public:
  Result<std::optional<NodeRow>> Next() override { return std::optional<NodeRow>(); }
};

}  // namespace

void IndexTail::Add(std::vector<LeafIndexRow> rows) {
  std::lock_guard lock(mutex_);
  rows_.insert(rows_.end(), std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
}

std::vector<LeafIndexRow> IndexTail::Snapshot() const {
  std::lock_guard lock(mutex_);
  return rows_;
}

std::vector<LeafIndexRow> IndexTail::Front(std::size_t rows) const {
  std::lock_guard lock(mutex_);
  return {rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(std::min(rows, rows_.size()))};
}

void IndexTail::DropFront(std::size_t rows) {
  std::lock_guard lock(mutex_);
  rows_.erase(rows_.begin(), rows_.begin() + static_cast<std::ptrdiff_t>(std::min(rows, rows_.size())));
}

std::size_t IndexTail::size() const {
  std::lock_guard lock(mutex_);
  return rows_.size();
}

std::optional<LeafIndexRow> IndexTail::FindSerial(const std::string& key) const {
  std::lock_guard lock(mutex_);
  for (const auto& r : rows_) {
    if (SerialIndexKey(r.serial) == key) return r;
  }
  return std::nullopt;
}

std::optional<LeafIndexRow> IndexTail::FindLeafHash(const Bytes& leaf_hash) const {
  std::lock_guard lock(mutex_);
  for (const auto& r : rows_) {
    if (r.leaf_hash == leaf_hash) return r;
  }
  return std::nullopt;
}

std::int64_t IndexTail::MaxGenTimeUs() const {
  std::lock_guard lock(mutex_);
  std::int64_t out = 0;
  for (const auto& r : rows_) out = std::max(out, r.gen_time_us);
  return out;
}

Status TiledLogStore::CheckIsAuditLog() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                                 "('leaf_index', 'checkpoints', 'anchor_attempts')"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row || st.ColumnInt(0) != 3) return MakeError(ErrorKind::kInvalidArgument, db_.path() + " is not a tsad audit database");
  return Ok();
}

Result<LogExtent> TiledLogStore::Extent() {
  const std::uint64_t size = tiles_->size();
  return LogExtent{size, size};
}

Status TiledLogStore::AppendToken(const TokenRow& row) {
  if (!row.token)
    return MakeError(ErrorKind::kInvalidArgument, "the tiles layout stores every token (no --store-token-hashes-only)");
  TSA_TRY(tiles_->AppendEntry(*row.token));
  batch_.push_back(LeafIndexRow{row.index, row.serial, row.gen_time_us, row.leaf_hash});
  return Ok();
}

// Tiles keep the hashes of every 8th tree level (c2sp.org/tlog-tiles); the others are derived.
Status TiledLogStore::AppendNode(int level, std::uint64_t /*index*/, const Bytes& hash) {
  if (level % 8 != 0) return Ok();
  if (hash.size() != kTileHashSize) return MakeError(ErrorKind::kInvalidArgument, "a tile hash must be 32 bytes");
  TileHash h{};
  std::copy(hash.begin(), hash.end(), h.begin());
  tiles_->AppendTileHash(level / 8, h);
  return Ok();
}

Status TiledLogStore::TryAppendToken(const TokenRow& row) {
  return tiles_->ProbeWrite((row.token ? row.token->size() : 0) + 2 + kTileHashSize);
}

// The caller checks the files' identity just before (TokenLog::CheckFiles: the database, its WAL
// and TileFiles::CheckIdentity), once per batch.
Status TiledLogStore::CommitAppends() {
  if (Status st = tiles_->Commit(); !st) {
    batch_.clear();
    return st;
  }
  unindexed_->Add(std::move(batch_));
  batch_.clear();
  return Ok();
}

void TiledLogStore::RollbackAppends() {
  tiles_->Rollback();
  batch_.clear();
}

bool TiledLogStore::Keeps(int level, std::uint64_t index, std::uint64_t size) const {
  if (level % 8 != 0 || level > 56) return false;
  // Only full tiles are files; the partial ones live in tsad's memory.
  return (index / kTileEntries + 1) * kTileEntries <= (size >> level);
}

Result<std::optional<Bytes>> TiledLogStore::Node(int level, std::uint64_t index) {
  if (level % 8 != 0) return std::optional<Bytes>();
  TSA_ASSIGN_OR_RETURN(auto hash, tiles_->Hash(level / 8, index));
  if (!hash) return std::optional<Bytes>();
  return std::optional<Bytes>(ToBytes(*hash));
}

Result<std::optional<LeafRow>> TiledLogStore::Leaf(const LeafIndexRow& row) {
  LeafRow leaf{row.index, row.serial, row.leaf_hash, std::nullopt};
  if (row.index < 0 || static_cast<std::uint64_t>(row.index) >= tiles_->size()) return std::optional<LeafRow>(leaf);
  TSA_ASSIGN_OR_RETURN(auto entries, tiles_->Entries(static_cast<std::uint64_t>(row.index), 1));
  leaf.token = std::move(entries.front());
  return std::optional<LeafRow>(std::move(leaf));
}

// The rows still in memory are looked at first: a row leaves memory only after its insert into
// leaf_index has committed, so one of the two always has it.
Result<std::optional<LeafRow>> TiledLogStore::FindLeafBySerial(const std::string& hex) {
  const auto key = SerialIndexKey(hex);
  if (!key) return MakeError(ErrorKind::kInvalidArgument, "the serial must be a positive hex number: " + hex);
  if (auto row = unindexed_->FindSerial(*key)) return Leaf(*row);
  TSA_ASSIGN_OR_RETURN(Statement st,
                       db_.Prepare(std::string(kIndexColumns) + "WHERE ltrim(lower(serial), '0') = ? ORDER BY idx LIMIT 1"));
  st.Bind(1, *key);
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LeafRow>();
  return Leaf(ReadIndexRow(st));
}

Result<std::optional<LeafRow>> TiledLogStore::FindLeafByHash(const Bytes& leaf_hash) {
  if (auto row = unindexed_->FindLeafHash(leaf_hash)) return Leaf(*row);
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kIndexColumns) + "WHERE leaf_hash = ? ORDER BY idx LIMIT 1"));
  st.BindBlob(1, leaf_hash);
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<LeafRow>();
  return Leaf(ReadIndexRow(st));
}

Result<std::vector<LeafRow>> TiledLogStore::LeafRange(std::uint64_t first, std::uint64_t count) {
  const std::uint64_t size = tiles_->size();
  if (first >= size) return std::vector<LeafRow>();
  count = std::min(count, size - first);
  TSA_ASSIGN_OR_RETURN(auto entries, tiles_->Entries(first, count));
  TSA_ASSIGN_OR_RETURN(auto hashes, tiles_->HashRange(0, first, count));
  std::vector<LeafRow> rows;
  for (std::uint64_t i = 0; i < entries.size(); ++i) {
    rows.push_back(LeafRow{static_cast<std::int64_t>(first + i), "", i < hashes.size() ? ToBytes(hashes[i]) : Bytes(),
                           std::move(entries[i])});
  }
  return rows;
}

Result<std::vector<NodeRow>> TiledLogStore::NodeRange(int level, std::uint64_t first, std::uint64_t count) {
  std::vector<NodeRow> rows;
  if (level % 8 != 0) return rows;
  TSA_ASSIGN_OR_RETURN(auto hashes, tiles_->HashRange(level / 8, first, count));
  for (std::size_t i = 0; i < hashes.size(); ++i)
    rows.push_back(NodeRow{static_cast<std::int64_t>(first + i), ToBytes(hashes[i])});
  return rows;
}

Result<std::int64_t> TiledLogStore::MaxGenTimeUs() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT MAX((SELECT COALESCE(MAX(gen_time_us), 0) FROM leaf_index), "
                                                 "(SELECT COALESCE(MAX(tsa_gen_time_us), 0) FROM checkpoints))"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return std::max(row ? st.ColumnInt(0) : 0, unindexed_->MaxGenTimeUs());
}

Result<TokenTotals> TiledLogStore::Totals() {
  TokenTotals t;
  t.tokens = tiles_->size();
  t.tokens_stored = t.tokens;
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT MIN(gen_time_us), MAX(gen_time_us) FROM leaf_index"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (row && !st.ColumnIsNull(0)) t.first_gen_time_us = st.ColumnInt(0);
  if (row && !st.ColumnIsNull(1)) t.last_gen_time_us = st.ColumnInt(1);
  for (const auto& r : unindexed_->Snapshot()) {
    if (!t.first_gen_time_us || r.gen_time_us < *t.first_gen_time_us) t.first_gen_time_us = r.gen_time_us;
    if (!t.last_gen_time_us || r.gen_time_us > *t.last_gen_time_us) t.last_gen_time_us = r.gen_time_us;
  }
  return t;
}

Status TiledLogStore::InsertIndexRows(const std::vector<LeafIndexRow>& rows) {
  TSA_ASSIGN_OR_RETURN(
      Statement st, db_.Prepare("INSERT OR REPLACE INTO leaf_index (idx, serial, gen_time_us, leaf_hash) VALUES (?, ?, ?, ?)"));
  for (const auto& r : rows) {
    TSA_TRY(st.Reset());
    st.Bind(1, r.index).Bind(2, r.serial).Bind(3, r.gen_time_us).BindBlob(4, r.leaf_hash);
    TSA_TRY(st.Run());
  }
  return Ok();
}

Result<std::size_t> TiledLogStore::WriteIndex(std::size_t max_rows) {
  const std::vector<LeafIndexRow> rows = unindexed_->Front(max_rows);
  TSA_TRY(InsertIndexRows(rows));
  return rows.size();
}

Result<std::uint64_t> TiledLogStore::IndexedLeaves() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaf_index"));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, row ? st.ColumnInt(0) : 0));
}

Result<std::optional<Bytes>> TiledLogStore::FullTile(bool entries, int level, std::uint64_t n) {
  return entries ? tiles_->ReadFullBundle(n) : tiles_->ReadFullHashTile(level, n);
}

Result<std::unique_ptr<Cursor<TokenRow>>> TiledLogStore::ScanTokens() {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare(std::string(kIndexColumns) + "ORDER BY idx"));
  const std::uint64_t size = tiles_->size();
  const std::uint64_t hashed = size / kTileEntries * kTileEntries;
  return std::unique_ptr<Cursor<TokenRow>>(
      std::make_unique<TiledTokenCursor>(*tiles_, size, std::move(st), unindexed_->Snapshot(), hashed));
}

Result<std::unique_ptr<Cursor<NodeRow>>> TiledLogStore::ScanLevel(int level) {
  if (level % 8 != 0 || level > 56) return std::unique_ptr<Cursor<NodeRow>>(std::make_unique<EmptyNodeCursor>());
  const std::uint64_t full = (tiles_->size() >> level) / kTileEntries;
  return std::unique_ptr<Cursor<NodeRow>>(std::make_unique<TileLevelCursor>(*tiles_, level / 8, full));
}

Result<std::vector<DuplicateSerial>> TiledLogStore::DuplicateSerials(std::size_t limit) {
  TSA_ASSIGN_OR_RETURN(Statement st, db_.Prepare("SELECT serial, MAX(idx) FROM leaf_index GROUP BY ltrim(lower(serial), '0') "
                                                 "HAVING COUNT(*) > 1 LIMIT ?"));
  st.Bind(1, static_cast<std::int64_t>(limit));
  std::vector<DuplicateSerial> out;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    out.push_back(DuplicateSerial{st.ColumnText(0), st.ColumnInt(1)});
  }
  return out;
}

// The tree size is the bundles' own count; full tiles beyond it are found by listing tile/.
Result<std::vector<NodePosition>> TiledLogStore::StrayNodes(std::uint64_t size, std::size_t limit) {
  return StrayTiles(tiles_->dir(), size, limit);
}

}  // namespace tsa::store
