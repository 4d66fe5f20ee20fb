#include "tsa/audit/tile_path.h"

#include <cstdio>
#include <vector>

namespace tsa::audit {
namespace {

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t slash; (slash = s.find('/', start)) != std::string::npos; start = slash + 1) {
    parts.push_back(s.substr(start, slash - start));
  }
  parts.push_back(s.substr(start));
  return parts;
}

bool AllDigits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

std::string EncodeIndex(std::uint64_t n) {
  std::string out;
  char group[8];
  std::snprintf(group, sizeof(group), "%03u", static_cast<unsigned>(n % 1000));
  out = group;
  for (n /= 1000; n > 0; n /= 1000) {
    std::snprintf(group, sizeof(group), "x%03u/", static_cast<unsigned>(n % 1000));
    out.insert(0, group);
  }
  return out;
}

}  // namespace

std::optional<TileId> ParseTilePath(const std::string& path) {
  std::vector<std::string> parts = Split(path);
  if (parts.size() < 2) return std::nullopt;
  TileId tile;
  if (parts[0] == "entries") {
    tile.entries = true;
  } else if (parts[0].size() == 1 && AllDigits(parts[0])) {
    tile.level = parts[0][0] - '0';  // tlog-tiles: L is at most 63/8, one digit
  } else {
    return std::nullopt;
  }
  // A partial tile ends in ".p/<W>": the last index group carries ".p".
  std::size_t last = parts.size();
  if (parts.size() >= 3 && parts[parts.size() - 2].size() > 2 &&
      parts[parts.size() - 2].compare(parts[parts.size() - 2].size() - 2, 2, ".p") == 0) {
    const std::string& w = parts.back();
    if (!AllDigits(w) || w.size() > 3 || w[0] == '0') return std::nullopt;
    tile.width = std::stoul(w);
    if (tile.width >= kTileWidth) return std::nullopt;
    parts[parts.size() - 2].resize(parts[parts.size() - 2].size() - 2);
    last = parts.size() - 1;
  }
  for (std::size_t i = 1; i < last; ++i) {
    std::string group = parts[i];
    const bool final = i + 1 == last;
    if (!final) {
      if (group.empty() || group[0] != 'x') return std::nullopt;
      group.erase(0, 1);
    }
    if (group.size() != 3 || !AllDigits(group)) return std::nullopt;
    if (tile.index > (UINT64_MAX - 999) / 1000) return std::nullopt;
    tile.index = tile.index * 1000 + std::stoul(group);
  }
  if (TilePath(tile) != "tile/" + path) return std::nullopt;  // one spelling per tile (no "x000/")
  return tile;
}

std::string TilePath(const TileId& tile) {
  std::string out = "tile/" + (tile.entries ? std::string("entries") : std::to_string(tile.level)) + "/" +
                    EncodeIndex(tile.index);
  if (tile.partial()) out += ".p/" + std::to_string(tile.width);
  return out;
}

}  // namespace tsa::audit
