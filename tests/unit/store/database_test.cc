// Tests for src/store/database.cc: the SQLite wrapper (open, statements, transactions, error kinds).
#include "tsa/store/database.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../unit_test_helpers.h"

namespace tsa::store {
namespace {

std::unique_ptr<Database> OpenDb(const std::string& path, OpenOptions options = {}) {
  auto db = Database::Open(path, options);
  EXPECT_TRUE(db) << (db ? "" : db.error().ToString());
  return db ? std::move(*db) : nullptr;
}

std::int64_t Count(Database& db, const std::string& table) {
  auto st = db.Prepare("SELECT COUNT(*) FROM " + table);
  EXPECT_TRUE(st);
  EXPECT_TRUE(*st->Step());
  return st->ColumnInt(0);
}

TEST(DatabaseTest, OpensInWalModeAndRoundTripsValues) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("t.db"));
  ASSERT_NE(db, nullptr);
  {
    auto mode = db->Prepare("PRAGMA journal_mode");
    ASSERT_TRUE(mode);
    ASSERT_TRUE(*mode->Step());
    EXPECT_EQ(mode->ColumnText(0), "wal");
  }
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n BLOB)"));
  auto ins = db->Prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins);
  const std::vector<std::uint8_t> blob = {0, 1, 2, 255};
  ins->Bind(1, std::int64_t{-42}).Bind(2, std::string("h\0i", 3)).BindBlob(3, blob).BindNull(4);
  ASSERT_TRUE(ins->Run());
  EXPECT_EQ(db->LastInsertRowId(), 1);
  auto sel = db->Prepare("SELECT i, s, b, n FROM t");
  ASSERT_TRUE(sel);
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt(0), -42);
  EXPECT_EQ(sel->ColumnText(1), std::string("h\0i", 3));
  EXPECT_EQ(sel->ColumnBlob(2), blob);
  EXPECT_TRUE(sel->ColumnIsNull(3));
  EXPECT_FALSE(*sel->Step());
}

TEST(DatabaseTest, AnEmptyBlobIsStoredAsABlobNotNull) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("t.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (b BLOB NOT NULL)"));
  auto ins = db->Prepare("INSERT INTO t VALUES (?)");
  ASSERT_TRUE(ins);
  ins->BindBlob(1, std::span<const std::uint8_t>());
  ASSERT_TRUE(ins->Run());
  auto sel = db->Prepare("SELECT typeof(b), length(b) FROM t");
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnText(0), "blob");
  EXPECT_EQ(sel->ColumnInt(1), 0);
}

TEST(DatabaseTest, StatementsCanBeResetAndReused) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("t.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER)"));
  auto ins = db->Prepare("INSERT INTO t VALUES (?)");
  ASSERT_TRUE(ins);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(ins->Reset());
    ins->Bind(1, std::int64_t{i});
    ASSERT_TRUE(ins->Run());
  }
  EXPECT_EQ(Count(*db, "t"), 5);
}

TEST(DatabaseTest, SqlErrorsAreStorageErrors) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("t.db"));
  ASSERT_NE(db, nullptr);
  const Status st = db->Exec("THIS IS NOT SQL");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kStorage);
  auto prep = db->Prepare("SELECT * FROM no_such_table");
  ASSERT_FALSE(prep);
  EXPECT_EQ(prep.error().kind, ErrorKind::kStorage);
  ASSERT_TRUE(db->Exec("CREATE TABLE u (k TEXT UNIQUE)"));
  ASSERT_TRUE(db->Exec("INSERT INTO u VALUES ('a')"));
  auto dup = db->Prepare("INSERT INTO u VALUES ('a')");
  ASSERT_TRUE(dup);
  const Status run = dup->Run();
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().kind, ErrorKind::kStorage);
}

TEST(DatabaseTest, ALockedDatabaseIsABusyError) {
  unit_test::TempDir dir;
  auto a = OpenDb(dir.Sub("t.db"));
  OpenOptions quick;
  quick.busy_timeout_ms = 50;
  auto b = OpenDb(dir.Sub("t.db"), quick);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Exec("BEGIN IMMEDIATE"));
  const Status st = b->Exec("BEGIN IMMEDIATE");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kBusy);
  ASSERT_TRUE(a->Exec("COMMIT"));
}

TEST(DatabaseTest, OpeningAMissingFileWithoutCreateFails) {
  unit_test::TempDir dir;
  OpenOptions no_create;
  no_create.create = false;
  auto db = Database::Open(dir.Sub("missing.db"), no_create);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().kind, ErrorKind::kStorage);
}

TEST(TransactionTest, RollsBackUnlessCommitted) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("t.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER)"));
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)"));
  }
  EXPECT_EQ(Count(*db, "t"), 0);
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)"));
    ASSERT_TRUE(tx->Commit());
  }
  EXPECT_EQ(Count(*db, "t"), 1);
}

TEST(DatabaseTest, UserVersionRoundTrips) {
  unit_test::TempDir dir;
  auto db = OpenDb(dir.Sub("t.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(*db->UserVersion(), 0);
  ASSERT_TRUE(db->SetUserVersion(7));
  EXPECT_EQ(*db->UserVersion(), 7);
  EXPECT_EQ(db->path(), dir.Sub("t.db"));
}

}  // namespace
}  // namespace tsa::store
