// tlog-tiles path encoding (c2sp.org/tlog-tiles, "Merkle tree tiles"): three-digit groups with
// "x" on all but the last, ".p/<W>" for partial tiles, one spelling per tile.
#include "tsa/audit/tile_path.h"

#include <gtest/gtest.h>

namespace tsa::audit {
namespace {

TEST(TilePathTest, EncodesIndexesAsTheSpecExamples) {
  EXPECT_EQ(TilePath(TileId{false, 0, 1234067, 256}), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath(TileId{false, 1, 0, 256}), "tile/1/000");
  EXPECT_EQ(TilePath(TileId{true, 0, 1234067, 8}), "tile/entries/x001/x234/067.p/8");
}

TEST(TilePathTest, ParsesWhatItWrites) {
  for (const TileId& t : {TileId{false, 0, 1234067, 256}, TileId{false, 2, 999, 255}, TileId{true, 0, 1000, 1}}) {
    const std::string path = TilePath(t).substr(5);
    auto parsed = ParseTilePath(path);
    ASSERT_TRUE(parsed) << path;
    EXPECT_EQ(parsed->entries, t.entries);
    EXPECT_EQ(parsed->level, t.level);
    EXPECT_EQ(parsed->index, t.index);
    EXPECT_EQ(parsed->width, t.width);
  }
}

TEST(TilePathTest, RejectsNonCanonicalPaths) {
  for (const char* bad : {"0/1", "0/0001", "0/x000/001", "0/001/002", "0/001.p/0", "0/001.p/256", "0/001.p/07", "a/000",
                          "entries", "0/", "00/000", "0/x001", "0/001.p/"}) {
    EXPECT_FALSE(ParseTilePath(bad)) << bad;
  }
}

}  // namespace
}  // namespace tsa::audit
