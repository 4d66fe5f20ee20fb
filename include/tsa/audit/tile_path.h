// tlog-tiles paths (c2sp.org/tlog-tiles): "tile/<L>/<N>[.p/<W>]" for hash tiles and
// "tile/entries/<N>[.p/<W>]" for entry bundles. <N> is written in groups of three decimal digits,
// every group but the last prefixed with "x" (1234067 -> "x001/x234/067"); <W> is 1..255 for a
// partial tile. Tiles have height 8: 256 hashes (or entries) when full.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tsa::audit {

inline constexpr int kTileHeight = 8;
inline constexpr std::uint64_t kTileWidth = 256;

struct TileId {
  bool entries = false;  // an entry bundle, else a hash tile
  int level = 0;         // hash tiles: L (tree level 8·L)
  std::uint64_t index = 0;
  std::uint64_t width = kTileWidth;  // < 256: a partial tile
  bool partial() const { return width < kTileWidth; }
};

// The path below "tile/" ("0/x001/234.p/7", "entries/000"); nullopt when not canonical.
std::optional<TileId> ParseTilePath(const std::string& path);
std::string TilePath(const TileId& tile);  // the inverse, with the "tile/" prefix

}  // namespace tsa::audit
