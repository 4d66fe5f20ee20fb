// Reads a tlog-tiles log (c2sp.org/tlog-tiles) of one signed tree size through a fetcher: the
// hash tiles and the entry bundles, with the checks on their shape (widths, lengths) that need no
// root. Nothing here says the bytes are the log's: LogMonitor (log_monitor.h) proves that by
// rebuilding the signed root from them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tsa/audit/merkle.h"
#include "tsa/core/result.h"

namespace tsa::verify {

// Fetches one resource below the log's prefix ("checkpoint", "tile/0/x001/234.p/7",
// "tile/entries/000"): its body on HTTP 200, kNotFound on 404, kIo or kUnavailable when it cannot
// be fetched (transport, any other status, over the size cap).
using LogFetcher = std::function<Result<std::vector<std::uint8_t>>(const std::string& path)>;

// Largest bodies a fetcher needs to accept: a full hash tile, and a full entry bundle of 256
// entries of at most 65535 bytes, each behind a 2-byte length.
inline constexpr std::size_t kMaxTileBytes = std::size_t{256} * 32;
inline constexpr std::size_t kMaxEntryBundleBytes = std::size_t{256} * (2 + 65535);

// Not thread-safe; one per run. Errors: what the fetcher returned (unavailable), kInvalidArgument
// for a resource of the wrong shape (a tile of the wrong length, a bundle that does not split
// into its entries: the served data is damaged), kInternal for a node outside the tree.
class TileReader {
 public:
  TileReader(LogFetcher fetch, std::uint64_t tree_size) : fetch_(std::move(fetch)), tree_size_(tree_size) {}

  // The hash of the perfect subtree of `level` (tree level, 0 = leaves) and `index`, from the
  // bottom row of its tile (tlog-tiles: the levels between tile rows are rehashed).
  Result<audit::Hash> Node(int level, std::uint64_t index);
  audit::NodeReader AsNodeReader() {
    return [this](int level, std::uint64_t index) { return Node(level, index); };
  }

  // The hashes of tile (tile_level, index) as this tree size has it: full (256), or the rightmost
  // partial tile of width floor(size / 256^L) mod 256. A partial tile the log no longer serves
  // (404) is read from the full one, as tlog-tiles allows; a full tile may come from any cache.
  Result<const std::vector<audit::Hash>*> Tile(int tile_level, std::uint64_t index);
  bool HasTile(int tile_level, std::uint64_t index) const { return tiles_.contains({tile_level, index}); }
  // Drops a cached tile (the entry scan keeps memory flat on large logs).
  void Forget(int tile_level, std::uint64_t index) { tiles_.erase({tile_level, index}); }

  // The entries of bundle `index` (DER of each TimeStampToken), as many as the tree holds there.
  Result<std::vector<std::vector<std::uint8_t>>> Entries(std::uint64_t index);

  std::uint64_t tree_size() const { return tree_size_; }
  std::uint64_t tiles_fetched() const { return tiles_fetched_; }
  std::uint64_t bundles_fetched() const { return bundles_fetched_; }

  // How many hashes (entries) tile `index` of a level holding `count` nodes has: 256, a partial
  // width, or 0 when the tile is beyond the tree.
  static std::uint64_t TileWidth(std::uint64_t count, std::uint64_t index);

 private:
  struct Fetched {
    std::vector<std::uint8_t> body;
    bool full = false;  // a full tile or bundle (256), also when it stands in for a partial one
  };
  // Fetches a tile or bundle at this tree's width, falling back to the full one for a partial.
  Result<Fetched> FetchSized(bool entries, int tile_level, std::uint64_t index, std::uint64_t width);

  LogFetcher fetch_;
  std::uint64_t tree_size_;
  std::map<std::pair<int, std::uint64_t>, std::vector<audit::Hash>> tiles_;
  std::uint64_t tiles_fetched_ = 0, bundles_fetched_ = 0;
};

}  // namespace tsa::verify
