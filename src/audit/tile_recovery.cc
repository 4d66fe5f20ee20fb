#include "tsa/audit/tile_recovery.h"

#include <algorithm>
#include <string>

#include "tsa/audit/merkle.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/store/schema.h"
#include "tsa/store/sqlite_log_store.h"
#include "tsa/store/tiled_log_store.h"

namespace tsa::audit {
namespace {

using store::kTileEntries;
using store::kTileHashSize;
using store::TileHash;

// RFC 9162 §2.1.1: the root of a perfect subtree from its 2^k leaves (here: the 256 hashes of a tile).
TileHash PerfectRoot(std::vector<TileHash> level) {
  while (level.size() > 1) {
    std::vector<TileHash> up;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) up.push_back(NodeHash(level[i], level[i + 1]));
    level = std::move(up);
  }
  return level.front();
}

Result<std::vector<TileHash>> FullTileHashes(store::TileFiles& tiles, int tile_level, std::uint64_t n) {
  TSA_ASSIGN_OR_RETURN(auto hashes, tiles.HashRange(tile_level, n * kTileEntries, kTileEntries));
  if (hashes.size() != kTileEntries) {
    return MakeError(ErrorKind::kStorage, "the hash tile " + std::to_string(tile_level) + "/" + store::TileIndexPath(n) + " in " +
                                              tiles.dir() + " is missing or short: run tsa-audit-verify");
  }
  return hashes;
}

// The hashes [first, first + count) of tree level 8·tile_level, computed from the level below.
Result<std::vector<TileHash>> Recompute(store::TileFiles& tiles, int tile_level, std::uint64_t first, std::uint64_t count) {
  std::vector<TileHash> out;
  if (tile_level == 0) {
    TSA_ASSIGN_OR_RETURN(auto entries, tiles.Entries(first, count));
    for (const auto& e : entries) out.push_back(LeafHash(e));
    return out;
  }
  for (std::uint64_t j = first; j < first + count; ++j) {
    TSA_ASSIGN_OR_RETURN(auto below, FullTileHashes(tiles, tile_level - 1, j));
    out.push_back(PerfectRoot(std::move(below)));
  }
  return out;
}

}  // namespace

Status RecoverHashTiles(store::TileFiles& tiles, bool repair) {
  const std::uint64_t size = tiles.size();
  for (int level = 0; level < 8 && (size >> (8 * level)) > 0; ++level) {
    const std::uint64_t count = size >> (8 * level);
    const std::uint64_t full = count / kTileEntries;
    if (full > 0) {
      TSA_ASSIGN_OR_RETURN(auto last, tiles.ReadFullHashTile(level, full - 1));
      if (repair && (!last || last->size() != kTileEntries * kTileHashSize)) {
        TSA_ASSIGN_OR_RETURN(auto hashes, Recompute(tiles, level, (full - 1) * kTileEntries, kTileEntries));
        std::vector<std::uint8_t> bytes;
        for (const auto& h : hashes) bytes.insert(bytes.end(), h.begin(), h.end());
        TSA_TRY(tiles.WriteHashTile(level, full - 1, bytes));
      }
    }
    TSA_ASSIGN_OR_RETURN(auto partial, Recompute(tiles, level, full * kTileEntries, count % kTileEntries));
    tiles.SetPartialHashes(level, std::move(partial));
  }
  return Ok();
}

Result<std::vector<store::LeafIndexRow>> IndexRowsFromEntries(store::TileFiles& tiles, std::uint64_t from) {
  std::vector<store::LeafIndexRow> rows;
  const std::uint64_t size = tiles.size();
  for (std::uint64_t first = from; first < size;) {
    const std::uint64_t count = std::min<std::uint64_t>(kTileEntries - first % kTileEntries, size - first);
    TSA_ASSIGN_OR_RETURN(auto entries, tiles.Entries(first, count));
    for (std::uint64_t i = 0; i < entries.size(); ++i) {
      auto info = crypto::DescribeResponse(entries[i]);
      if (!info || !info->token) {
        return MakeError(ErrorKind::kStorage, "leaf " + std::to_string(first + i) + " in " + tiles.dir() +
                                                  " is not a time-stamp token: run tsa-audit-verify");
      }
      const Hash leaf = LeafHash(entries[i]);
      rows.push_back(store::LeafIndexRow{static_cast<std::int64_t>(first + i), info->token->serial_hex, info->token->gen_time_us,
                                         std::vector<std::uint8_t>(leaf.begin(), leaf.end())});
    }
    first += count;
  }
  return rows;
}

Result<std::unique_ptr<store::LogStore>> OpenLogForReading(store::Database& db) {
  auto layout = store::StoredLayout(db);
  if (!layout || !*layout || **layout == store::LogLayout::kSqlite) {
    return std::unique_ptr<store::LogStore>(std::make_unique<store::SqliteLogStore>(db));
  }
  const std::string dir = store::TileDirectoryFor(db.path());
  auto tiles = store::TileFiles::Open(dir, /*create=*/false, /*writable=*/false);
  if (!tiles && tiles.error().kind == ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kStorage,
                     "the audit log " + db.path() + " keeps its leaves in " + dir + ", which does not exist");
  }
  if (!tiles) return tiles.error();
  std::shared_ptr<store::TileFiles> shared = std::move(*tiles);
  // Damage is for the verifier to report leaf by leaf: a partial tile that cannot be rebuilt stays empty.
  (void)RecoverHashTiles(*shared, /*repair=*/false);
  auto unindexed = std::make_shared<store::IndexTail>();
  auto log = std::make_unique<store::TiledLogStore>(db, shared, unindexed);
  if (auto indexed = log->IndexedLeaves(); indexed && *indexed < shared->size()) {
    if (auto rows = IndexRowsFromEntries(*shared, *indexed)) unindexed->Add(std::move(*rows));
  }
  return std::unique_ptr<store::LogStore>(std::move(log));
}

}  // namespace tsa::audit
