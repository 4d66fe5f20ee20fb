#include "tsa/audit/log_migration.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"
#include "tsa/store/schema.h"
#include "tsa/store/sqlite_log_store.h"
#include "tsa/store/tile_files.h"

namespace tsa::audit {
namespace {

constexpr char kMarker[] = "MIGRATING";

Error Refuse(const store::Database& db, const std::string& why) {
  return MakeError(ErrorKind::kStorage, "cannot move the audit log " + db.path() + " to the tiles layout: " + why +
                                            " (it stays in the SQLite layout; run tsa-audit-verify)");
}

// Removes what an interrupted migration left: the directory being built, or the renamed one
// that still carries the marker (the database was not switched over yet).
Status RemoveLeftovers(const std::string& building, const std::string& target) {
  std::error_code ec;
  std::filesystem::remove_all(building, ec);
  if (ec) return MakeError(ErrorKind::kStorage, "cannot remove " + building + ": " + ec.message());
  if (!std::filesystem::exists(target)) return Ok();
  if (!std::filesystem::exists(target + "/" + kMarker)) {
    return MakeError(ErrorKind::kStorage, target + " exists but the database " + "is in the SQLite layout: move " + target +
                                              " away (it is not this log's)");
  }
  std::filesystem::remove_all(target, ec);
  if (ec) return MakeError(ErrorKind::kStorage, "cannot remove " + target + ": " + ec.message());
  return Ok();
}

Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return MakeError(ErrorKind::kStorage, "cannot open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Ok() : MakeError(ErrorKind::kStorage, "cannot fsync " + dir);
}

// Writes every leaf (and the level-8·k nodes it completes) into `tiles`; returns the root.
Result<Hash> ExportLeaves(store::Database& db, store::SqliteLogStore& old, store::TileFiles& tiles) {
  TSA_ASSIGN_OR_RETURN(auto rows, old.ScanTokens());
  MerkleFrontier tree;
  while (true) {
    TSA_ASSIGN_OR_RETURN(auto row, rows->Next());
    if (!row) break;
    if (row->index != static_cast<std::int64_t>(tree.size()))
      return Refuse(db, "leaf " + std::to_string(tree.size()) + " is missing");
    if (!row->token) return Refuse(db, "leaf " + std::to_string(row->index) + " keeps only the token's hash");
    const Hash leaf = LeafHash(*row->token);
    if (row->leaf_hash != std::vector<std::uint8_t>(leaf.begin(), leaf.end())) {
      return Refuse(db, "leaf " + std::to_string(row->index) + "'s leaf_hash is not the hash of its token");
    }
    TSA_TRY(tiles.AppendEntry(*row->token));
    for (const auto& node : tree.Append(leaf)) {
      if (node.level % 8 == 0) tiles.AppendTileHash(node.level / 8, node.hash);
    }
    if (tree.size() % 4096 == 0) TSA_TRY(tiles.Commit());
  }
  TSA_TRY(tiles.Commit());
  TSA_ASSIGN_OR_RETURN(Hash stored_root, RootHash(TokenLog::Nodes(old), tree.size()));
  if (stored_root != tree.Root()) return Refuse(db, "the stored Merkle tree does not match its leaves");
  return tree.Root();
}

}  // namespace

Status MigrateToTiles(store::Database& db) {
  const std::string target = store::TileDirectoryFor(db.path());
  const std::string building = target + ".migrating";
  TSA_TRY(RemoveLeftovers(building, target));
  {
    TSA_ASSIGN_OR_RETURN(auto tiles, store::TileFiles::Open(building, /*create=*/true, /*writable=*/true));
    std::ofstream(building + "/" + kMarker) << "tsad is moving " << db.path() << " to the tiles layout\n";
    store::SqliteLogStore old(db);
    TSA_ASSIGN_OR_RETURN(Hash root, ExportLeaves(db, old, *tiles));
    (void)root;
  }
  if (::rename(building.c_str(), target.c_str()) != 0) return MakeError(ErrorKind::kStorage, "cannot rename " + building);
  TSA_TRY(SyncDirectory(std::filesystem::path(target).parent_path().empty()
                            ? std::string(".")
                            : std::filesystem::path(target).parent_path().string()));
  TSA_ASSIGN_OR_RETURN(store::Transaction tx, store::Transaction::Begin(db));
  TSA_TRY(store::MoveTokenRowsToLeafIndex(db));
  TSA_TRY(store::SetStoredLayout(db, store::LogLayout::kTiles));
  TSA_TRY(tx.Commit());
  std::filesystem::remove(target + "/" + kMarker);
  return SyncDirectory(target);
}

}  // namespace tsa::audit
