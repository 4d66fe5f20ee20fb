#include "tsa/verify/tile_reader.h"

#include <algorithm>

#include "tsa/audit/tile_path.h"

namespace tsa::verify {
namespace {

using audit::kTileHeight;
using audit::kTileWidth;

Error Damaged(const std::string& what) { return MakeError(ErrorKind::kInvalidArgument, what); }

// Nodes of tree level `level` complete in a tree of `size` leaves.
std::uint64_t NodesAt(std::uint64_t size, int level) { return level >= 64 ? 0 : size >> level; }

// tlog-tiles entry bundle: big-endian uint16 length, then the entry; exactly `width` entries
// from the start (a full bundle read for a partial one has more; they are not needed).
Result<std::vector<std::vector<std::uint8_t>>> SplitBundle(const std::vector<std::uint8_t>& bundle, std::uint64_t width,
                                                           bool exact, const std::string& path) {
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t at = 0;
  while (out.size() < width) {
    if (bundle.size() - at < 2)
      return Damaged(path + " holds " + std::to_string(out.size()) + " entries, not " + std::to_string(width));
    const std::size_t len = (std::size_t{bundle[at]} << 8) | bundle[at + 1];
    if (bundle.size() - at - 2 < len) return Damaged(path + ": entry " + std::to_string(out.size()) + " is truncated");
    out.emplace_back(bundle.begin() + static_cast<std::ptrdiff_t>(at + 2),
                     bundle.begin() + static_cast<std::ptrdiff_t>(at + 2 + len));
    at += 2 + len;
  }
  if (exact && at != bundle.size()) return Damaged(path + " has bytes after its " + std::to_string(width) + " entries");
  return out;
}

}  // namespace

std::uint64_t TileReader::TileWidth(std::uint64_t count, std::uint64_t index) {
  if (index > count / kTileWidth) return 0;
  return std::min<std::uint64_t>(kTileWidth, count - index * kTileWidth);
}

Result<TileReader::Fetched> TileReader::FetchSized(bool entries, int tile_level, std::uint64_t index, std::uint64_t width) {
  audit::TileId id{entries, tile_level, index, width};
  auto body = fetch_(audit::TilePath(id));
  if (!body && body.error().kind == ErrorKind::kNotFound && id.partial()) {
    // tlog-tiles §Partial Tiles: a log may delete a partial tile once the full one exists.
    id.width = kTileWidth;
    body = fetch_(audit::TilePath(id));
    if (body) return Fetched{std::move(*body), true};
  }
  if (!body) return body.error();
  return Fetched{std::move(*body), !id.partial()};
}

Result<const std::vector<audit::Hash>*> TileReader::Tile(int tile_level, std::uint64_t index) {
  if (auto it = tiles_.find({tile_level, index}); it != tiles_.end()) return &it->second;
  const std::uint64_t width = TileWidth(NodesAt(tree_size_, tile_level * kTileHeight), index);
  const std::string path = audit::TilePath({false, tile_level, index, width});
  if (width == 0) return MakeError(ErrorKind::kInternal, path + " is beyond the tree of size " + std::to_string(tree_size_));
  TSA_ASSIGN_OR_RETURN(Fetched got, FetchSized(false, tile_level, index, width));
  ++tiles_fetched_;
  const std::uint64_t expected = (got.full ? kTileWidth : width) * 32;
  if (got.body.size() != expected) {
    return Damaged(path + " is " + std::to_string(got.body.size()) + " bytes, not " + std::to_string(expected));
  }
  std::vector<audit::Hash> hashes(width);
  for (std::uint64_t i = 0; i < width; ++i) {
    std::copy_n(got.body.begin() + static_cast<std::ptrdiff_t>(i * 32), 32, hashes[i].begin());
  }
  return &tiles_.emplace(std::make_pair(tile_level, index), std::move(hashes)).first->second;
}

Result<audit::Hash> TileReader::Node(int level, std::uint64_t index) {
  if (level < 0 || level >= 64) return MakeError(ErrorKind::kInternal, "no tree level " + std::to_string(level));
  const int tile_level = level / kTileHeight;
  const int height = level % kTileHeight;  // levels to rehash above the tile's row
  const std::uint64_t first = index << height, count = std::uint64_t{1} << height;
  if ((first >> height) != index || NodesAt(tree_size_, tile_level * kTileHeight) < first + count) {
    return MakeError(ErrorKind::kInternal, "node " + std::to_string(level) + "/" + std::to_string(index) +
                                               " is not complete in a tree of size " + std::to_string(tree_size_));
  }
  TSA_ASSIGN_OR_RETURN(const std::vector<audit::Hash>* tile, Tile(tile_level, first / kTileWidth));
  const std::size_t offset = first % kTileWidth;
  std::vector<audit::Hash> row(tile->begin() + static_cast<std::ptrdiff_t>(offset),
                               tile->begin() + static_cast<std::ptrdiff_t>(offset + count));
  for (; row.size() > 1; row.resize(row.size() / 2)) {
    for (std::size_t i = 0; i < row.size() / 2; ++i) row[i] = audit::NodeHash(row[2 * i], row[2 * i + 1]);
  }
  return row.front();
}

Result<std::vector<std::vector<std::uint8_t>>> TileReader::Entries(std::uint64_t index) {
  const std::uint64_t width = TileWidth(tree_size_, index);
  const std::string path = audit::TilePath({true, 0, index, width});
  if (width == 0) return MakeError(ErrorKind::kInternal, path + " is beyond the tree of size " + std::to_string(tree_size_));
  TSA_ASSIGN_OR_RETURN(Fetched got, FetchSized(true, 0, index, width));
  ++bundles_fetched_;
  // A full bundle standing in for a partial one carries later entries too; only the first
  // `width` belong to this tree.
  return SplitBundle(got.body, width, /*exact=*/width == kTileWidth || !got.full, path);
}

}  // namespace tsa::verify
