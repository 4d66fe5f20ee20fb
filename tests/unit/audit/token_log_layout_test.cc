// Tests for the layout TokenLog::Open chooses (AUDIT_CHAIN.md "Choosing the layout"): a new log is
// tiles by default and sqlite when it keeps only hashes; an existing sqlite-layout log keeps its
// layout unless tiles is asked for explicitly, which moves it; a named layout is taken by a new
// log; tiles with hashes-only is refused for a new log; an empty log of an earlier release (no
// recorded layout) counts as new.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/audit/token_log.h"
#include "tsa/store/database.h"
#include "tsa/store/schema.h"

namespace tsa::audit {
namespace {

using Bytes = std::vector<std::uint8_t>;
using store::LogLayout;

TokenRecord Record(std::uint64_t i) {
  TokenRecord r;
  r.serial_hex = "0B" + std::to_string(2000 + i);
  r.gen_time_us = 1'795'599'086'000'000 + static_cast<std::int64_t>(i);
  r.policy = unit_test::kDefaultPolicy;
  r.hash_oid = unit_test::kSha256Oid;
  r.digest = Bytes(32, static_cast<std::uint8_t>(i));
  r.token_der = Bytes(90, static_cast<std::uint8_t>(i * 5));
  r.token_der.insert(r.token_der.end(), r.serial_hex.begin(), r.serial_hex.end());
  return r;
}

Result<std::unique_ptr<TokenLog>> Open(const std::string& path, std::optional<LogLayout> layout, bool keep_token = true) {
  TokenLogOptions options;
  options.path = path;
  options.layout = layout;
  options.keep_token = keep_token;
  options.synchronous_full = false;
  return TokenLog::Open(options);
}

// The layout recorded in the database and the token rows it holds, read after the log closed.
struct OnDisk {
  std::optional<LogLayout> recorded;
  std::int64_t token_rows = -1;
};
OnDisk Inspect(const std::string& path) {
  OnDisk out;
  auto db = store::Database::Open(path, store::OpenOptions{});
  EXPECT_TRUE(db) << db.error().ToString();
  if (!db) return out;
  auto recorded = store::StoredLayout(**db);
  EXPECT_TRUE(recorded);
  if (recorded) out.recorded = *recorded;
  auto st = (*db)->Prepare("SELECT COUNT(*) FROM tokens");
  if (st && *st->Step()) out.token_rows = st->ColumnInt(0);
  return out;
}

// Appends `n` records to a new log in `layout` and closes it.
void Fill(const std::string& path, std::optional<LogLayout> layout, std::uint64_t n, bool keep_token = true) {
  auto log = Open(path, layout, keep_token);
  ASSERT_TRUE(log) << log.error().ToString();
  for (std::uint64_t i = 0; i < n; ++i) ASSERT_TRUE((*log)->Append(Record(i)));
}

TEST(TokenLogLayoutTest, ANewLogIsTilesByDefault) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  {
    auto log = Open(db, std::nullopt);
    ASSERT_TRUE(log) << log.error().ToString();
    EXPECT_EQ((*log)->layout(), LogLayout::kTiles);
    ASSERT_TRUE((*log)->Append(Record(0)));
  }
  EXPECT_TRUE(unit_test::fs::exists(db + ".tiles/entries.tail"));
  const OnDisk disk = Inspect(db);
  EXPECT_EQ(disk.recorded, LogLayout::kTiles);
  EXPECT_EQ(disk.token_rows, 0);
}

TEST(TokenLogLayoutTest, ANewHashesOnlyLogIsSqliteByDefault) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  {
    auto log = Open(db, std::nullopt, /*keep_token=*/false);
    ASSERT_TRUE(log) << log.error().ToString();
    EXPECT_EQ((*log)->layout(), LogLayout::kSqlite);
    ASSERT_TRUE((*log)->Append(Record(0)));
  }
  EXPECT_FALSE(unit_test::fs::exists(db + ".tiles"));
  const OnDisk disk = Inspect(db);
  EXPECT_EQ(disk.recorded, LogLayout::kSqlite);
  EXPECT_EQ(disk.token_rows, 1);
}

TEST(TokenLogLayoutTest, ANewLogTakesTheLayoutAskedFor) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  Fill(db, LogLayout::kSqlite, 3);
  EXPECT_FALSE(unit_test::fs::exists(db + ".tiles"));
  EXPECT_EQ(Inspect(db).recorded, LogLayout::kSqlite);
  EXPECT_EQ(Inspect(db).token_rows, 3);
}

TEST(TokenLogLayoutTest, TilesAskedForWithHashesOnlyRefusesANewLog) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  auto log = Open(db, LogLayout::kTiles, /*keep_token=*/false);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(log.error().message.find("--log-layout tiles"), std::string::npos) << log.error().message;
  EXPECT_NE(log.error().message.find("--store-token-hashes-only"), std::string::npos) << log.error().message;
  EXPECT_FALSE(unit_test::fs::exists(db + ".tiles"));
}

TEST(TokenLogLayoutTest, AnExistingSqliteLogKeepsItsLayoutByDefault) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  Fill(db, LogLayout::kSqlite, 5);
  {
    auto log = Open(db, std::nullopt);
    ASSERT_TRUE(log) << log.error().ToString();
    EXPECT_EQ((*log)->layout(), LogLayout::kSqlite);
    EXPECT_EQ((*log)->Head().size, 5u);
    ASSERT_TRUE((*log)->Append(Record(5)));
  }
  EXPECT_FALSE(unit_test::fs::exists(db + ".tiles"));
  EXPECT_EQ(Inspect(db).token_rows, 6);
}

TEST(TokenLogLayoutTest, TilesAskedForMovesAnExistingSqliteLog) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  Fill(db, LogLayout::kSqlite, 5);
  Hash root{};
  {
    auto before = Open(db, std::nullopt);
    ASSERT_TRUE(before) << before.error().ToString();
    root = (*before)->Head().root;
  }
  {
    auto log = Open(db, LogLayout::kTiles);
    ASSERT_TRUE(log) << log.error().ToString();
    EXPECT_EQ((*log)->layout(), LogLayout::kTiles);
    EXPECT_EQ((*log)->Head().size, 5u);
    EXPECT_EQ((*log)->Head().root, root);
  }
  const OnDisk disk = Inspect(db);
  EXPECT_EQ(disk.recorded, LogLayout::kTiles);
  EXPECT_EQ(disk.token_rows, 0) << "the rows moved to the entry bundle";
  // A tiles log stays tiles, whatever is asked for.
  auto again = Open(db, LogLayout::kSqlite);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ((*again)->layout(), LogLayout::kTiles);
}

TEST(TokenLogLayoutTest, AnExistingTilesLogRefusesHashesOnly) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  Fill(db, std::nullopt, 2);
  auto log = Open(db, std::nullopt, /*keep_token=*/false);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("keeps its leaves as tiles"), std::string::npos) << log.error().message;
}

// The previous release recorded no layout; an empty log of it (started, never issued) has nothing
// to keep and becomes tiles, creating the tile directory instead of asking for a backup of it.
TEST(TokenLogLayoutTest, AnEmptyLogWithoutARecordedLayoutCountsAsNew) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  Fill(db, LogLayout::kSqlite, 0);
  {
    auto raw = store::Database::Open(db, store::OpenOptions{});
    ASSERT_TRUE(raw) << raw.error().ToString();
    ASSERT_TRUE((*raw)->Exec("DELETE FROM meta WHERE key = 'log_layout'"));
  }
  {
    auto log = Open(db, std::nullopt);
    ASSERT_TRUE(log) << log.error().ToString();
    EXPECT_EQ((*log)->layout(), LogLayout::kTiles);
    ASSERT_TRUE((*log)->Append(Record(0)));
  }
  EXPECT_EQ(Inspect(db).recorded, LogLayout::kTiles);
  EXPECT_TRUE(unit_test::fs::exists(db + ".tiles/entries.tail"));
}

}  // namespace
}  // namespace tsa::audit
