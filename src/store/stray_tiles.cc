#include "tsa/store/stray_tiles.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <tuple>

#include "tsa/store/tile_files.h"

namespace tsa::store {
namespace {

// "x001/x234/067" (already split) -> 1234067; nullopt unless every group is three digits and all
// but the last carry the "x" (c2sp.org/tlog-tiles path encoding; TileIndexPath is the inverse).
std::optional<std::uint64_t> ParseTileIndex(const std::vector<std::string>& groups) {
  if (groups.empty() || groups.size() > 7) return std::nullopt;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    std::string g = groups[i];
    const bool last = i + 1 == groups.size();
    if (!last) {
      if (g.empty() || g[0] != 'x') return std::nullopt;
      g.erase(0, 1);
    }
    if (g.size() != 3 || !std::all_of(g.begin(), g.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    n = n * 1000 + static_cast<std::uint64_t>(std::stoul(g));
  }
  return n;
}

// "entries/x001/002" -> (level 0, bundle 1002, entries); "1/000" -> (level 8, tile 0).
struct TileName {
  bool entries = false;
  int tile_level = 0;
  std::uint64_t n = 0;
};
std::optional<TileName> ParseTileName(const std::filesystem::path& relative) {
  std::vector<std::string> parts;
  for (const auto& p : relative) parts.push_back(p.string());
  if (parts.size() < 2) return std::nullopt;
  TileName name;
  if (parts[0] == "entries") {
    name.entries = true;
  } else if (parts[0].size() == 1 && parts[0][0] >= '0' && parts[0][0] <= '7') {
    name.tile_level = parts[0][0] - '0';
  } else {
    return std::nullopt;
  }
  auto n = ParseTileIndex(std::vector<std::string>(parts.begin() + 1, parts.end()));
  if (!n) return std::nullopt;
  name.n = *n;
  return name;
}

}  // namespace

Result<std::vector<NodePosition>> StrayTiles(const std::string& tiles_dir, std::uint64_t size, std::size_t limit) {
  const std::filesystem::path root = std::filesystem::path(tiles_dir) / "tile";
  std::vector<NodePosition> out;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return out;  // no tile/ at all: nothing stray (Open checks it)
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const auto name = ParseTileName(it->path().lexically_relative(root));
    if (!name) continue;
    const int level = name->entries ? 0 : 8 * name->tile_level;
    if ((name->n + 1) * kTileEntries <= (size >> level)) continue;
    out.push_back(NodePosition{level, static_cast<std::int64_t>(name->n * kTileEntries),
                               it->path().lexically_relative(tiles_dir).string()});
  }
  if (ec) return MakeError(ErrorKind::kIo, "cannot list " + root.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const NodePosition& a, const NodePosition& b) {
    return std::tie(a.level, a.index, a.path) < std::tie(b.level, b.index, b.path);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace tsa::store
