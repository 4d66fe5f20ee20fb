// Full tiles on disk beyond the tree size (tsa-audit-verify on the tiles layout): entry bundles
// and hash tiles past the size are listed, the tree's own tiles, partial tiles and temporary
// files are not.
#include "tsa/store/stray_tiles.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../unit_test_helpers.h"

namespace tsa::store {
namespace {

void Touch(const std::string& dir, const std::string& relative) {
  const std::filesystem::path p = std::filesystem::path(dir) / relative;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

TEST(StrayTilesTest, ListsFullTilesBeyondTheTreeSize) {
  unit_test::TempDir tmp;
  const std::string dir = tmp.Sub("db.tiles");
  for (const char* f : {"tile/entries/000", "tile/entries/001", "tile/0/000", "tile/0/001",       // a tree of 512 leaves
                        "tile/entries/002", "tile/0/002", "tile/1/000", "tile/entries/x001/000",  // beyond it
                        "tile/entries/003.p/5", "tile/0/003.tmp", "tile/notes"}) {                // not full tiles
    Touch(dir, f);
  }
  auto stray = StrayTiles(dir, 512, 100);
  ASSERT_TRUE(stray) << stray.error().message;
  ASSERT_EQ(stray->size(), 4u);
  EXPECT_EQ((*stray)[0].path, "tile/0/002");
  EXPECT_EQ((*stray)[0].level, 0);
  EXPECT_EQ((*stray)[0].index, 512);
  EXPECT_EQ((*stray)[1].path, "tile/entries/002");
  EXPECT_EQ((*stray)[2].path, "tile/entries/x001/000");
  EXPECT_EQ((*stray)[2].index, 1000 * 256);
  EXPECT_EQ((*stray)[3].path, "tile/1/000");
  EXPECT_EQ((*stray)[3].level, 8);
  EXPECT_EQ(StrayTiles(dir, 512, 2)->size(), 2u);
  // With 65536 leaves, every one of them is the tree's (level-1 tile 0 is full at 256 × 256).
  EXPECT_TRUE(StrayTiles(dir, 1000 * 256 + 256, 100)->empty());
  auto absent = StrayTiles(tmp.Sub("absent.tiles"), 0, 100);
  ASSERT_TRUE(absent) << absent.error().message;
  EXPECT_TRUE(absent->empty());
}

}  // namespace
}  // namespace tsa::store
