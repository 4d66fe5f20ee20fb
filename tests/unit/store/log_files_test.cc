// Tests for src/store/log_files.cc: the lock that keeps a second tsad off a database, the check
// of the database's directory, and the identity of the database and its WAL while tsad runs.
#include "tsa/store/log_files.h"

#include <gtest/gtest.h>

#include <string>

#include "../unit_test_helpers.h"
#include "tsa/store/database.h"

namespace tsa::store {
namespace {

TEST(LogLockTest, ASecondHolderIsRefusedAsBusyUntilTheFirstReleasesTheLock) {
  unit_test::TempDir dir;
  const std::string db = dir.Sub("tsa.db");
  {
    auto first = LogLock::Acquire(db);
    ASSERT_TRUE(first) << first.error().ToString();
    EXPECT_EQ(first->path(), db + ".lock");
    auto second = LogLock::Acquire(db);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind, ErrorKind::kBusy);
    EXPECT_NE(second.error().message.find("in use by another process"), std::string::npos) << second.error().message;
  }
  EXPECT_TRUE(LogLock::Acquire(db)) << "released with its holder";
}

TEST(RequireParentDirectoryTest, NamesTheMissingDirectory) {
  unit_test::TempDir dir;
  EXPECT_TRUE(RequireParentDirectory(dir.Sub("tsa.db")));
  const Status st = RequireParentDirectory(dir.Sub("dta/tsa.db"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(st.error().message.find(dir.Sub("dta")), std::string::npos) << st.error().message;
  EXPECT_FALSE(unit_test::fs::exists(dir.Sub("dta"))) << "never created";
}

class LogFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(path_, OpenOptions{});
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (x)"));
    ASSERT_TRUE(unit_test::fs::exists(path_ + "-wal"));
    ASSERT_TRUE(files_.Record());
    ASSERT_TRUE(files_.Check());
  }
  unit_test::TempDir dir_;
  std::string path_ = dir_.Sub("tsa.db");
  std::unique_ptr<Database> db_;
  LogFiles files_{path_};
};

TEST_F(LogFilesTest, CheckFailsOnceTheDatabaseIsDeleted) {
  unit_test::fs::remove(path_);
  const Status st = files_.Check();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kStorage);
  EXPECT_NE(st.error().message.find("was deleted"), std::string::npos) << st.error().message;
  // SQLite itself does not notice: it writes into the unlinked inode.
  EXPECT_TRUE(db_->Exec("INSERT INTO t VALUES (1)"));
}

TEST_F(LogFilesTest, CheckFailsOnceTheDatabaseIsReplacedByAnotherFile) {
  unit_test::fs::copy_file(path_, dir_.Sub("copy.db"));
  unit_test::fs::rename(dir_.Sub("copy.db"), path_);
  const Status st = files_.Check();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("was replaced"), std::string::npos) << st.error().message;
}

TEST_F(LogFilesTest, CheckFailsOnceTheWalIsDeleted) {
  unit_test::fs::remove(path_ + "-wal");
  const Status st = files_.Check();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("WAL"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace tsa::store
