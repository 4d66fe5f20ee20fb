#include "tsa/audit/tiles.h"

#include <string>

namespace tsa::audit {
namespace {

// How many nodes of tree level `level` are complete in a tree of `size` leaves.
std::uint64_t NodesAtLevel(std::uint64_t size, int level) { return level >= 64 ? 0 : size >> level; }

Result<std::vector<std::uint8_t>> HashTile(store::LogStore& store, const TileId& tile, std::uint64_t first) {
  TSA_ASSIGN_OR_RETURN(auto nodes, store.NodeRange(tile.level * kTileHeight, first, tile.width));
  std::vector<std::uint8_t> out;
  out.reserve(tile.width * 32);
  for (std::uint64_t i = 0; i < tile.width; ++i) {
    if (i >= nodes.size() || nodes[i].index != static_cast<std::int64_t>(first + i) || nodes[i].hash.size() != 32) {
      return MakeError(ErrorKind::kStorage, "the log lacks node " + std::to_string(first + i) + " of level " +
                                                std::to_string(tile.level * kTileHeight));
    }
    out.insert(out.end(), nodes[i].hash.begin(), nodes[i].hash.end());
  }
  return out;
}

Result<std::vector<std::uint8_t>> EntryBundle(store::LogStore& store, const TileId& tile, std::uint64_t first) {
  TSA_ASSIGN_OR_RETURN(auto leaves, store.LeafRange(first, tile.width));
  std::vector<std::uint8_t> out;
  for (std::uint64_t i = 0; i < tile.width; ++i) {
    if (i >= leaves.size() || leaves[i].index != static_cast<std::int64_t>(first + i)) {
      return MakeError(ErrorKind::kStorage, "the log lacks leaf " + std::to_string(first + i));
    }
    if (!leaves[i].token) {
      return MakeError(ErrorKind::kUnavailable, "this log keeps only token hashes (--store-token-hashes-only): no entry bundles");
    }
    const auto& der = *leaves[i].token;
    if (der.size() > 0xffff) {  // tlog-tiles entries carry a uint16 length
      return MakeError(ErrorKind::kUnavailable, "leaf " + std::to_string(first + i) + " is over 65535 bytes: no entry bundle");
    }
    out.push_back(static_cast<std::uint8_t>(der.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(der.size()));
    out.insert(out.end(), der.begin(), der.end());
  }
  return out;
}

}  // namespace

Result<std::vector<std::uint8_t>> ReadTile(store::LogStore& store, const TileId& tile, std::uint64_t tree_size) {
  if (tile.index > (UINT64_MAX / kTileWidth) - 1) return MakeError(ErrorKind::kNotFound, "no such tile");
  const std::uint64_t first = tile.index * kTileWidth;
  const std::uint64_t available = tile.entries ? tree_size : NodesAtLevel(tree_size, tile.level * kTileHeight);
  if (available < first || available - first < tile.width) {
    return MakeError(ErrorKind::kNotFound, "tile beyond the latest checkpoint (tree size " + std::to_string(tree_size) + ")");
  }
  // A full tile of the tiles layout is served as the file holds it (what a static server would).
  if (!tile.partial()) {
    TSA_ASSIGN_OR_RETURN(auto file, store.FullTile(tile.entries, tile.level, tile.index));
    if (file) return std::move(*file);
  }
  return tile.entries ? EntryBundle(store, tile, first) : HashTile(store, tile, first);
}

}  // namespace tsa::audit
