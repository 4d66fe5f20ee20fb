// Tests for the tiles layout of src/audit/token_log.cc (AUDIT_CHAIN.md "On-disk layout: tiles"):
// appends give the RFC 9162 root over entry bundles and hash tiles, a lookup by serial works
// before the index is written, a reopen continues the same tree, a lost hash tile is rebuilt at
// start-up, --store-token-hashes-only is refused for this layout, and the serial index is written
// by its own thread (IndexWriter): tokens commit while it cannot write, and closing indexes all.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/tiles.h"
#include "tsa/audit/token_log.h"
#include "tsa/store/database.h"

namespace tsa::audit {
namespace {

using Bytes = std::vector<std::uint8_t>;

TokenRecord Record(std::uint64_t i) {
  TokenRecord r;
  r.serial_hex = "0A" + std::to_string(1000 + i);
  r.gen_time_us = 1'795'599'086'000'000 + static_cast<std::int64_t>(i);
  r.policy = unit_test::kDefaultPolicy;
  r.hash_oid = unit_test::kSha256Oid;
  r.digest = Bytes(32, static_cast<std::uint8_t>(i));
  r.token_der = Bytes(100 + i % 13, static_cast<std::uint8_t>(i * 7));
  r.token_der.insert(r.token_der.end(), r.serial_hex.begin(), r.serial_hex.end());
  return r;
}

std::unique_ptr<TokenLog> OpenTiles(const std::string& path, bool keep_token = true, std::size_t index_batch = 16384,
                                    int index_interval_ms = 1000) {
  TokenLogOptions options;
  options.path = path;
  options.index_batch = index_batch;
  options.index_interval_ms = index_interval_ms;
  options.layout = store::LogLayout::kTiles;
  options.keep_token = keep_token;
  options.synchronous_full = false;
  auto log = TokenLog::Open(options);
  EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
  return log ? std::move(*log) : nullptr;
}

Hash RootOf(std::uint64_t n) {
  MerkleFrontier tree;
  for (std::uint64_t i = 0; i < n; ++i) tree.Append(LeafHash(Record(i).token_der));
  return tree.Root();
}

std::int64_t IndexRows(const std::string& db_path) {
  auto db = store::Database::Open(db_path, store::OpenOptions{});
  EXPECT_TRUE(db);
  if (!db) return -1;
  auto st = (*db)->Prepare("SELECT COUNT(*) FROM leaf_index");
  EXPECT_TRUE(st && *st->Step());
  return st ? st->ColumnInt(0) : -1;
}

Bytes ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(TokenLogTilesTest, AppendsGiveTheRootOverBundlesAndTiles) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  {
    auto log = OpenTiles(db);
    ASSERT_NE(log, nullptr);
    for (std::uint64_t i = 0; i < 600; ++i) ASSERT_TRUE(log->Append(Record(i)));
    EXPECT_EQ(log->Head().size, 600u);
    EXPECT_EQ(log->Head().root, RootOf(600));
    // Found through the leaves waiting for the index, then by a leaf in a full bundle.
    ASSERT_TRUE(log->Read([](store::LogStore& store) -> Status {
      TSA_ASSIGN_OR_RETURN(auto leaf, store.FindLeafBySerial(Record(599).serial_hex));
      EXPECT_TRUE(leaf && leaf->index == 599 && leaf->token == Record(599).token_der);
      TSA_ASSIGN_OR_RETURN(auto early, store.FindLeafBySerial("a1003"));
      EXPECT_TRUE(early && early->index == 3);
      TSA_ASSIGN_OR_RETURN(auto tile, ReadTile(store, TileId{false, 0, 1, 256}, 600));
      // The tile writer thread puts the full tile on disk shortly after the commit that filled it.
      const std::string file = store::TileDirectoryFor(store.where()) + "/tile/0/001";
      for (int i = 0; i < 500 && !unit_test::fs::exists(file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      EXPECT_EQ(tile, ReadAll(file));
      return Ok();
    }));
  }
  EXPECT_TRUE(unit_test::fs::exists(db + ".tiles/tile/entries/001"));
  EXPECT_FALSE(unit_test::fs::exists(db + ".tiles/tile/entries/002"));
  auto log = OpenTiles(db);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Head().size, 600u);
  EXPECT_EQ(log->Head().root, RootOf(600)) << "the tree is rebuilt from the tiles and the tail";
  ASSERT_TRUE(log->Append(Record(600)));
  EXPECT_EQ(log->Head().root, RootOf(601));
}

TEST(TokenLogTilesTest, ALostHashTileIsRebuiltAtStart) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  {
    auto log = OpenTiles(db);
    ASSERT_NE(log, nullptr);
    for (std::uint64_t i = 0; i < 520; ++i) ASSERT_TRUE(log->Append(Record(i)));
  }
  const std::string tile = db + ".tiles/tile/0/001";
  const Bytes original = ReadAll(tile);
  ASSERT_EQ(original.size(), 256u * 32);
  unit_test::fs::remove(tile);  // as a crash between the bundle's rename and the tile's write
  auto log = OpenTiles(db);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(ReadAll(tile), original);
  EXPECT_EQ(log->Head().root, RootOf(520));
}

TEST(TokenLogTilesTest, HashesOnlyIsRefusedForTiles) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("tsa.db");
  options.layout = store::LogLayout::kTiles;
  options.keep_token = false;
  auto log = TokenLog::Open(options);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("--store-token-hashes-only"), std::string::npos) << log.error().message;
}

// The index used to be written on the log writer: a second's rows (~40 ms at full load) held every
// token behind them, and a held SQLite lock held the tokens too. Now only the index waits.
TEST(TokenLogTilesTest, TokensCommitWhileTheIndexCannotBeWritten) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  auto log = OpenTiles(db, true, /*index_batch=*/4, /*index_interval_ms=*/50);
  ASSERT_NE(log, nullptr);
  auto other = store::Database::Open(db, store::OpenOptions{});
  ASSERT_TRUE(other);
  ASSERT_TRUE((*other)->Exec("BEGIN IMMEDIATE"));  // an operator's sqlite3 shell, a backup
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < 40; ++i) ASSERT_TRUE(log->Append(Record(i)));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(1500)) << "the tokens waited for the index";
  ASSERT_TRUE(log->Read([](store::LogStore& store) -> Status {
    TSA_ASSIGN_OR_RETURN(auto leaf, store.FindLeafBySerial(Record(39).serial_hex));
    EXPECT_TRUE(leaf && leaf->index == 39) << "found among the rows not yet indexed";
    return Ok();
  }));
  ASSERT_TRUE((*other)->Exec("COMMIT"));
  other->reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (IndexRows(db) < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(IndexRows(db), 40) << "the index catches up once the lock is released";
  EXPECT_EQ(log->Stats().index_error, "");
}

TEST(TokenLogTilesTest, ClosingTheLogIndexesEveryLeaf) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  {
    auto log = OpenTiles(db, true, /*index_batch=*/100000, /*index_interval_ms=*/600000);
    ASSERT_NE(log, nullptr);
    for (std::uint64_t i = 0; i < 300; ++i) ASSERT_TRUE(log->Append(Record(i)));
    EXPECT_EQ(IndexRows(db), 0) << "neither the batch nor the interval was reached";
  }
  EXPECT_EQ(IndexRows(db), 300);
}

}  // namespace
}  // namespace tsa::audit
