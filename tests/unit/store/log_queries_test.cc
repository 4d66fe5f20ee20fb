// Tests for src/store/log_queries.cc: the serial lookup goes through an index whatever the
// spelling (GET /audit/proof is unauthenticated), the latest genTime covers tokens and
// checkpoints, and quick_check finds a damaged file.
#include "tsa/store/log_queries.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "../unit_test_helpers.h"
#include "tsa/store/database.h"
#include "tsa/store/schema.h"

namespace tsa::store {
namespace {

std::unique_ptr<Database> OpenMigrated(const std::string& path) {
  auto db = Database::Open(path, OpenOptions{});
  EXPECT_TRUE(db) << (db ? "" : db.error().ToString());
  if (!db) return nullptr;
  EXPECT_TRUE(Migrate(**db));
  return std::move(*db);
}

void InsertToken(Database& db, std::int64_t idx, const std::string& serial, std::int64_t gen_time_us) {
  auto st = db.Prepare(
      "INSERT INTO tokens (idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash) "
      "VALUES (?, ?, ?, '1.2', '2.16', x'00', x'3003', x'11', ?)");
  ASSERT_TRUE(st) << st.error().ToString();
  st->Bind(1, idx)
      .Bind(2, serial)
      .Bind(3, gen_time_us)
      .BindBlob(4, std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(idx)));
  ASSERT_TRUE(st->Run());
}

void InsertCheckpoint(Database& db, std::int64_t tree_size, std::int64_t tsa_gen_time_us) {
  auto st = db.Prepare(
      "INSERT INTO checkpoints (tree_size, root_hash, checkpoint, tsa_token, tsa_serial, tsa_gen_time_us, created_at_us) "
      "VALUES (?, x'00', 'text', x'30', '01', ?, 0)");
  ASSERT_TRUE(st) << st.error().ToString();
  st->Bind(1, tree_size).Bind(2, tsa_gen_time_us);
  ASSERT_TRUE(st->Run());
}

std::string QueryPlan(Database& db, const std::string& sql) {
  auto st = db.Prepare("EXPLAIN QUERY PLAN " + sql);
  EXPECT_TRUE(st) << (st ? "" : st.error().ToString());
  std::string plan;
  while (st && *st->Step()) plan += st->ColumnText(3) + "\n";
  return plan;
}

TEST(SerialIndexKeyTest, LowerCaseDigitsWithoutLeadingZeros) {
  EXPECT_EQ(SerialIndexKey("00AbC0"), "abc0");
  EXPECT_EQ(SerialIndexKey("0000000000000000000000000000000001"), "1");
  EXPECT_FALSE(SerialIndexKey("000"));
  EXPECT_FALSE(SerialIndexKey(""));
  EXPECT_FALSE(SerialIndexKey("12g4"));
  EXPECT_FALSE(SerialIndexKey("' OR 1=1 --"));
}

TEST(FindLeafBySerialTest, FindsARowInAnySpellingOfItsNumber) {
  unit_test::TempDir dir;
  auto db = OpenMigrated(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  InsertToken(*db, 0, "00000000000000000000000000000000ab", 1);  // the fixed 34-digit form
  InsertToken(*db, 1, "00c1", 2);                                // the minimal DER form
  for (const std::string spelling : {"ab", "AB", "00ab", "0000000000000000000000000000000000000000AB"}) {
    auto found = FindLeafBySerial(*db, spelling);
    ASSERT_TRUE(found) << found.error().ToString();
    ASSERT_TRUE(found->has_value()) << spelling;
    EXPECT_EQ((*found)->index, 0) << spelling;
  }
  auto c1 = FindLeafBySerial(*db, "C1");
  ASSERT_TRUE(c1 && c1->has_value());
  EXPECT_EQ((*c1)->index, 1);
  EXPECT_EQ((*c1)->serial, "00c1");
  EXPECT_EQ((*c1)->leaf_hash, std::vector<std::uint8_t>(32, 1));
  auto missing = FindLeafBySerial(*db, "abc");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  auto bad = FindLeafBySerial(*db, "xyz");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
}

// Issue 8 item 12: the lookup was `ltrim(lower(serial), '0') = ?` without an index, a full scan
// of the log (0.29 s at 300k rows) under the read mutex for any unknown serial.
TEST(FindLeafBySerialTest, TheLookupSearchesTheSerialIndexInsteadOfScanningTheLog) {
  unit_test::TempDir dir;
  auto db = OpenMigrated(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  const std::string plan = QueryPlan(*db, kFindLeafBySerialSql);
  EXPECT_NE(plan.find("USING INDEX tokens_serial_digits"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("SCAN"), std::string::npos) << plan;
}

TEST(MaxGenTimeUsTest, IsZeroForAnEmptyLogThenTheLatestOfTokensAndCheckpoints) {
  unit_test::TempDir dir;
  auto db = OpenMigrated(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*MaxGenTimeUs(*db), 0);
  InsertToken(*db, 0, "01", 5'000);
  InsertToken(*db, 1, "02", 4'000);  // genTime order is not index order after a restore
  EXPECT_EQ(*MaxGenTimeUs(*db), 5'000);
  InsertCheckpoint(*db, 2, 7'000);
  EXPECT_EQ(*MaxGenTimeUs(*db), 7'000);
  InsertToken(*db, 2, "03", 9'000);
  EXPECT_EQ(*MaxGenTimeUs(*db), 9'000);
  for (const char* sql : {"SELECT MAX(gen_time_us) FROM tokens", "SELECT MAX(tsa_gen_time_us) FROM checkpoints"}) {
    const std::string plan = QueryPlan(*db, sql);
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << sql << ": " << plan;
  }
}

TEST(LatestCheckpointTest, IsTheHighestIdOrNothing) {
  unit_test::TempDir dir;
  auto db = OpenMigrated(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  auto none = LatestCheckpoint(*db);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  InsertCheckpoint(*db, 3, 1);
  InsertCheckpoint(*db, 8, 2);
  auto latest = LatestCheckpoint(*db);
  ASSERT_TRUE(latest && latest->has_value());
  EXPECT_EQ((*latest)->tree_size, 8u);
  EXPECT_EQ((*latest)->root_hash, std::vector<std::uint8_t>{0x00});
}

// Writes 4 KiB of random bytes at `offset` (as a failing disk or a stray write would).
void Scribble(const std::string& path, std::streamoff offset) {
  std::mt19937 rng(8);
  std::string junk(4096, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f);
  f.seekp(offset);
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

TEST(QuickCheckTest, PassesOnAnIntactDatabaseAndNamesTheDamageOfAScribbledOne) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  {
    auto db = OpenMigrated(path);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Exec("BEGIN"));
    for (int i = 0; i < 400; ++i) InsertToken(*db, i, std::to_string(1000 + i), i);
    ASSERT_TRUE(db->Exec("COMMIT"));
    EXPECT_TRUE(QuickCheck(*db, 1'000'000));
  }  // closing the last connection checkpoints the WAL into the file
  ASSERT_GT(unit_test::fs::file_size(path), 20u * 4096u);
  Scribble(path, 10 * 4096);
  auto db = Database::Open(path, OpenOptions{});
  ASSERT_TRUE(db) << db.error().ToString();
  const Status st = QuickCheck(**db, 1'000'000);
  ASSERT_FALSE(st) << "4 KiB of random bytes in page 11 went unnoticed";
  EXPECT_EQ(st.error().kind, ErrorKind::kStorage);
  EXPECT_NE(st.error().message.find("is damaged"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace tsa::store
