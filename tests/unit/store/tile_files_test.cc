// Tests for src/store/tile_files.cc: the tiles layout's files (c2sp.org/tlog-tiles): the path
// encoding, entries appended to the tail and moved into a full bundle at 256, full hash tiles
// written once, a torn tail entry cut off at the next open, a rollback that leaves nothing, and a
// directory replaced under the writer noticed.
#include "tsa/store/tile_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"

namespace tsa::store {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes Entry(std::uint64_t i) {
  Bytes e(40 + i % 7, static_cast<std::uint8_t>(i));
  e[0] = 0x30;
  e[1] = static_cast<std::uint8_t>(i >> 8);
  return e;
}

TileHash HashOf(std::uint64_t i, std::uint8_t level = 0) {
  TileHash h{};
  h.fill(level);
  h[0] = static_cast<std::uint8_t>(i);
  h[1] = static_cast<std::uint8_t>(i >> 8);
  return h;
}

// Appends leaves [from, to) with their level-0 hashes, committing every `batch`.
void Append(TileFiles& tiles, std::uint64_t from, std::uint64_t to, std::uint64_t batch = 50) {
  for (std::uint64_t i = from; i < to; ++i) {
    ASSERT_TRUE(tiles.AppendEntry(Entry(i)));
    tiles.AppendTileHash(0, HashOf(i));
    if ((i + 1 - from) % batch == 0) {
      ASSERT_TRUE(tiles.Commit());
    }
  }
  ASSERT_TRUE(tiles.Commit());
}

TEST(TileIndexPathTest, FollowsTheC2spEncoding) {
  EXPECT_EQ(TileIndexPath(0), "000");
  EXPECT_EQ(TileIndexPath(7), "007");
  EXPECT_EQ(TileIndexPath(1000), "x001/000");
  EXPECT_EQ(TileIndexPath(1234067), "x001/x234/067");
}

TEST(TileFilesTest, EntriesCrossABundleAndReadBackInOrder) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("log.tiles"), true, true);
  ASSERT_TRUE(tiles) << tiles.error().ToString();
  Append(**tiles, 0, 300);
  EXPECT_EQ((*tiles)->size(), 300u);
  EXPECT_TRUE(unit_test::fs::exists(dir.Sub("log.tiles/tile/entries/000")));
  EXPECT_FALSE(unit_test::fs::exists(dir.Sub("log.tiles/tile/entries/001")));
  auto bundle = (*tiles)->ReadFullBundle(0);
  ASSERT_TRUE(bundle && *bundle);
  std::size_t expected = 0;
  for (std::uint64_t i = 0; i < 256; ++i) expected += 2 + Entry(i).size();
  EXPECT_EQ((*bundle)->size(), expected) << "256 × (uint16 length ‖ entry)";
  auto entries = (*tiles)->Entries(250, 20);
  ASSERT_TRUE(entries) << entries.error().ToString();
  ASSERT_EQ(entries->size(), 20u);
  for (std::uint64_t i = 0; i < 20; ++i) EXPECT_EQ((*entries)[i], Entry(250 + i));
  EXPECT_FALSE((*tiles)->Entries(290, 20)) << "past the end";
}

// `tsad --db audit.db`: the tile directory's parent is the empty path (once a stack overflow).
TEST(TileFilesTest, ARelativeDirectoryInTheWorkingDirectoryIsCreated) {
  unit_test::TempDir dir;
  const auto previous = unit_test::fs::current_path();
  unit_test::fs::current_path(dir.path());
  auto tiles = TileFiles::Open("audit.db.tiles", true, true);
  const bool opened = static_cast<bool>(tiles);
  if (opened) Append(**tiles, 0, 260);
  unit_test::fs::current_path(previous);
  ASSERT_TRUE(opened) << tiles.error().ToString();
  EXPECT_TRUE(unit_test::fs::exists(dir.Sub("audit.db.tiles/tile/entries/000")));
}

TEST(TileFilesTest, AFullHashTileIsWrittenOnceAndThePartialOneStaysInMemory) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("t"), true, true);
  ASSERT_TRUE(tiles);
  Append(**tiles, 0, 260, 256);
  auto tile = (*tiles)->ReadFullHashTile(0, 0);
  ASSERT_TRUE(tile && *tile);
  ASSERT_EQ((*tile)->size(), 256u * 32);
  const auto last = HashOf(255);  // one object: begin() and end() of two temporaries are no range (ASan)
  EXPECT_TRUE(std::equal(last.begin(), last.end(), (*tile)->begin() + 255 * 32));
  EXPECT_FALSE(unit_test::fs::exists(dir.Sub("t/tile/0/001")));
  EXPECT_EQ((*tiles)->PartialHashCount(0), 4u);
  auto h = (*tiles)->Hash(0, 258);
  ASSERT_TRUE(h && *h);
  EXPECT_EQ(**h, HashOf(258));
  auto range = (*tiles)->HashRange(0, 250, 20);
  ASSERT_TRUE(range);
  EXPECT_EQ(range->size(), 10u) << "6 from the file, 4 from memory";
}

// The full hash tile is derived data: the commit publishes it from memory and the tile writer
// thread puts it on disk (off the tokens' path); FlushHashTiles waits for it.
TEST(TileFilesTest, AFullHashTileIsReadableAtOnceAndOnDiskAfterTheTileWriter) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("t"), true, true);
  ASSERT_TRUE(tiles);
  Append(**tiles, 0, 256, 256);
  auto tile = (*tiles)->ReadFullHashTile(0, 0);
  ASSERT_TRUE(tile && *tile) << "readable from memory or the file, whichever is first";
  ASSERT_TRUE((*tiles)->FlushHashTiles());
  std::ifstream in(dir.Sub("t/tile/0/000"), std::ios::binary);
  const Bytes on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, **tile);
  EXPECT_FALSE(unit_test::fs::exists(dir.Sub("t/tile/0/000.tmp")));
}

TEST(TileFilesTest, ClosingWritesTheQueuedHashTiles) {
  unit_test::TempDir dir;
  {
    auto tiles = TileFiles::Open(dir.Sub("t"), true, true);
    ASSERT_TRUE(tiles);
    Append(**tiles, 0, 512, 256);
  }
  EXPECT_EQ(unit_test::fs::file_size(dir.Sub("t/tile/0/000")), 256u * 32);
  EXPECT_EQ(unit_test::fs::file_size(dir.Sub("t/tile/0/001")), 256u * 32);
}

// A tile the writer thread cannot write fails every later commit (fail closed: the log would
// otherwise go on without a tile that a crash could no longer rebuild), and stays readable.
TEST(TileFilesTest, AFailedHashTileWriteFailsTheNextCommits) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("t"), true, true);
  ASSERT_TRUE(tiles);
  Append(**tiles, 0, 10);
  // tile/0 becomes a plain file: the tile writer's open of tile/0/000.tmp fails (ENOTDIR).
  std::ofstream(dir.Sub("t/tile/0")) << "not a directory";
  Append(**tiles, 10, 256, 246);
  const Status flushed = (*tiles)->FlushHashTiles();
  ASSERT_FALSE(flushed);
  EXPECT_NE(flushed.error().message.find("hash tile writer stopped"), std::string::npos) << flushed.error().message;
  auto tile = (*tiles)->ReadFullHashTile(0, 0);
  ASSERT_TRUE(tile && *tile) << "still served from memory";
  ASSERT_TRUE((*tiles)->AppendEntry(Entry(256)));
  (*tiles)->AppendTileHash(0, HashOf(256));
  const Status next = (*tiles)->Commit();
  ASSERT_FALSE(next);
  EXPECT_NE(next.error().message.find("restart tsad"), std::string::npos) << next.error().message;
  EXPECT_EQ((*tiles)->size(), 256u);
}

// A full tail is replaced by the prepared entries.next (two renames, no directory fsync on the
// tokens' path). A crash before the renames reached the disk leaves the full tail and entries.next
// with the newest entries; one after the first leaves the bundle and entries.next. The next
// writable open finishes the rotation either way; a reader refuses until then.
TEST(TileFilesTest, AnInterruptedRotationIsFinishedAtTheNextOpen) {
  for (const bool bundle_renamed : {false, true}) {
    SCOPED_TRACE(bundle_renamed ? "bundle renamed" : "neither rename");
    unit_test::TempDir dir;
    const std::string path = dir.Sub("t");
    {
      auto tiles = TileFiles::Open(path, true, true);
      ASSERT_TRUE(tiles);
      Append(**tiles, 0, 270, 256);
    }
    EXPECT_TRUE(unit_test::fs::exists(path + "/entries.next")) << "prepared for the next rotation";
    unit_test::fs::rename(path + "/entries.tail", path + "/entries.next");
    if (!bundle_renamed) unit_test::fs::rename(path + "/tile/entries/000", path + "/entries.tail");
    auto reader = TileFiles::Open(path, false, false);
    ASSERT_FALSE(reader);
    EXPECT_NE(reader.error().message.find("rotation was interrupted"), std::string::npos) << reader.error().message;
    {
      auto tiles = TileFiles::Open(path, false, true);
      ASSERT_TRUE(tiles) << tiles.error().ToString();
      EXPECT_EQ((*tiles)->size(), 270u);
      auto entries = (*tiles)->Entries(250, 20);
      ASSERT_TRUE(entries) << entries.error().ToString();
      for (std::uint64_t i = 0; i < 20; ++i) EXPECT_EQ((*entries)[i], Entry(250 + i));
      Append(**tiles, 270, 520, 100);
    }
    auto reopened = TileFiles::Open(path, false, false);
    ASSERT_TRUE(reopened) << reopened.error().ToString();
    EXPECT_EQ((*reopened)->size(), 520u);
    auto all = (*reopened)->Entries(0, 520);
    ASSERT_TRUE(all) << all.error().ToString();
    for (std::uint64_t i = 0; i < 520; ++i) EXPECT_EQ((*all)[i], Entry(i));
  }
}

TEST(TileFilesTest, EntriesInBothTheTailAndEntriesNextAreRefused) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("t");
  {
    auto tiles = TileFiles::Open(path, true, true);
    ASSERT_TRUE(tiles);
    Append(**tiles, 0, 20);
  }
  unit_test::fs::copy_file(path + "/entries.tail", path + "/entries.next", unit_test::fs::copy_options::overwrite_existing);
  auto tiles = TileFiles::Open(path, false, true);
  ASSERT_FALSE(tiles);
  EXPECT_NE(tiles.error().message.find("inconsistent"), std::string::npos) << tiles.error().message;
}

TEST(TileFilesTest, ATornTailEntryIsCutOffAtTheNextOpen) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("t");
  {
    auto tiles = TileFiles::Open(path, true, true);
    ASSERT_TRUE(tiles);
    Append(**tiles, 0, 10);
  }
  const auto length = unit_test::fs::file_size(path + "/entries.tail");
  {
    std::ofstream tail(path + "/entries.tail", std::ios::binary | std::ios::app);
    tail << '\x01' << '\x00' << "half an entry";  // announces 256 bytes, holds 13
  }
  auto read_only = TileFiles::Open(path, false, false);
  ASSERT_TRUE(read_only);
  EXPECT_EQ((*read_only)->size(), 10u);
  EXPECT_EQ(unit_test::fs::file_size(path + "/entries.tail"), length + 15) << "a reader changes nothing";
  auto tiles = TileFiles::Open(path, false, true);
  ASSERT_TRUE(tiles);
  EXPECT_EQ((*tiles)->size(), 10u);
  EXPECT_EQ((*tiles)->truncated_bytes(), 15u);
  EXPECT_EQ(unit_test::fs::file_size(path + "/entries.tail"), length);
  Append(**tiles, 10, 12);
  auto entries = (*tiles)->Entries(9, 3);
  ASSERT_TRUE(entries);
  EXPECT_EQ((*entries)[1], Entry(10)) << "appends continue right after the last whole entry";
}

TEST(TileFilesTest, AFullTailLeftByACrashBeforeItsRenameBecomesABundleAtOpen) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("t");
  unit_test::fs::create_directories(path + "/tile");
  {
    std::ofstream tail(path + "/entries.tail", std::ios::binary);
    for (std::uint64_t i = 0; i < 256; ++i) {
      const Bytes e = Entry(i);
      tail.put(static_cast<char>(e.size() >> 8)).put(static_cast<char>(e.size()));
      tail.write(reinterpret_cast<const char*>(e.data()), static_cast<std::streamsize>(e.size()));
    }
  }
  auto tiles = TileFiles::Open(path, false, true);
  ASSERT_TRUE(tiles) << tiles.error().ToString();
  EXPECT_EQ((*tiles)->size(), 256u);
  EXPECT_TRUE(unit_test::fs::exists(path + "/tile/entries/000"));
  EXPECT_EQ(unit_test::fs::file_size(path + "/entries.tail"), 0u);
}

TEST(TileFilesTest, RollbackLeavesTheTailAsCommitted) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("t"), true, true);
  ASSERT_TRUE(tiles);
  Append(**tiles, 0, 5);
  ASSERT_TRUE((*tiles)->AppendEntry(Entry(5)));
  (*tiles)->Rollback();
  ASSERT_TRUE((*tiles)->Commit());
  EXPECT_EQ((*tiles)->size(), 5u);
  EXPECT_FALSE((*tiles)->AppendEntry(Bytes())) << "an empty entry cannot be told from a torn one";
  EXPECT_FALSE((*tiles)->AppendEntry(Bytes(70000, 1))) << "the length is a uint16";
}

TEST(TileFilesTest, AReplacedDirectoryIsNoticed) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("t"), true, true);
  ASSERT_TRUE(tiles);
  EXPECT_TRUE((*tiles)->CheckIdentity());
  unit_test::fs::rename(dir.Sub("t"), dir.Sub("moved"));
  unit_test::fs::create_directories(dir.Sub("t/tile"));
  std::ofstream(dir.Sub("t/entries.tail")).put('x');
  const Status st = (*tiles)->CheckIdentity();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kStorage);
}

TEST(TileFilesTest, AMissingDirectoryIsNotCreatedWhenNotAskedTo) {
  unit_test::TempDir dir;
  auto tiles = TileFiles::Open(dir.Sub("none"), false, true);
  ASSERT_FALSE(tiles);
  EXPECT_EQ(tiles.error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(unit_test::fs::exists(dir.Sub("none")));
}

}  // namespace
}  // namespace tsa::store
