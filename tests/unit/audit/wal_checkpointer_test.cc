// Tests for src/audit/wal_checkpointer.cc: with SQLite's automatic checkpoints off, the background
// passes plus the writer's follow-up keep the WAL bounded (it restarts from its beginning) while
// the writer keeps committing, and the data stays readable.
#include "tsa/audit/wal_checkpointer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/store/database.h"

namespace tsa::audit {
namespace {

TEST(WalCheckpointerTest, TheWalRestartsWhileTheWriterKeepsCommitting) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("wal.db");
  store::OpenOptions open;
  open.synchronous_full = false;
  open.wal_autocheckpoint_pages = 0;  // as the token log's writer
  auto writer = store::Database::Open(path, open);
  ASSERT_TRUE(writer) << writer.error().ToString();
  ASSERT_TRUE((*writer)->Exec("CREATE TABLE t (x BLOB)"));
  int frames = 0;
  (*writer)->OnWalCommit([&frames](int f) { frames = f; });
  auto checkpointer = WalCheckpointer::Open(path, false, 20);
  ASSERT_TRUE(checkpointer) << checkpointer.error().ToString();

  // Commit until the WAL has restarted (its frame count fell) after a background pass. Without
  // the checkpointer the count only grows; the deadline only bounds a failing run.
  int most = 0;
  bool restarted = false;
  int rows = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!restarted && std::chrono::steady_clock::now() < deadline) {
    auto insert = (*writer)->Prepare("INSERT INTO t (x) VALUES (?)");
    ASSERT_TRUE(insert);
    insert->BindBlob(1, std::vector<std::uint8_t>(3000, static_cast<std::uint8_t>(rows)));
    ASSERT_TRUE(insert->Run());
    ++rows;
    (*checkpointer)->AfterCommit(**writer, frames);
    if (frames < most) restarted = true;
    most = std::max(most, frames);
    if (rows % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(restarted) << "WAL grew to " << most << " frames over " << rows << " commits";
  EXPECT_GE((*checkpointer)->passes(), 1u);
  EXPECT_EQ((*checkpointer)->last_error(), "");

  auto count = (*writer)->Prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count);
  ASSERT_TRUE(*count->Step());
  EXPECT_EQ(count->ColumnInt(0), rows);
}

TEST(WalCheckpointerTest, OpeningAMissingDatabaseFailsWithItsPath) {
  unit_test::TempDir dir;
  auto checkpointer = WalCheckpointer::Open(dir.Sub("missing.db"), false, 20);
  ASSERT_FALSE(checkpointer);
  EXPECT_NE(checkpointer.error().message.find("missing.db"), std::string::npos);
}

// Issue 8 item 11: an exception in the checkpointer thread called std::terminate on the whole TSA.
// Now the thread stops, says so in last_error (checkpoint_error in /health), and the writer's
// AfterCommit copies the WAL back itself, so the WAL still restarts.
TEST(WalCheckpointerTest, AThrowingPassStopsTheThreadAndTheWriterTakesOverTheCheckpoints) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("wal.db");
  store::OpenOptions open;
  open.synchronous_full = false;
  open.wal_autocheckpoint_pages = 0;
  auto writer = store::Database::Open(path, open);
  ASSERT_TRUE(writer) << writer.error().ToString();
  ASSERT_TRUE((*writer)->Exec("CREATE TABLE t (x BLOB)"));
  int frames = 0;
  (*writer)->OnWalCommit([&frames](int f) { frames = f; });
  std::atomic<int> calls{0};
  auto checkpointer = WalCheckpointer::Open(path, false, 20, [&calls](store::Database&) -> Result<int> {
    ++calls;
    throw std::runtime_error("injected");
  });
  ASSERT_TRUE(checkpointer) << checkpointer.error().ToString();

  int most = 0;
  bool restarted = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int rows = 0; !restarted && std::chrono::steady_clock::now() < deadline; ++rows) {
    auto insert = (*writer)->Prepare("INSERT INTO t (x) VALUES (?)");
    ASSERT_TRUE(insert);
    insert->BindBlob(1, std::vector<std::uint8_t>(3000, static_cast<std::uint8_t>(rows)));
    ASSERT_TRUE(insert->Run());
    (*checkpointer)->AfterCommit(**writer, frames);
    if (frames < most) restarted = true;
    most = std::max(most, frames);
    if (!(*checkpointer)->stopped()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(calls.load(), 1) << "the thread stopped after its first pass threw";
  EXPECT_TRUE((*checkpointer)->stopped());
  EXPECT_NE((*checkpointer)->last_error().find("stopped (injected)"), std::string::npos) << (*checkpointer)->last_error();
  EXPECT_TRUE(restarted) << "the writer did not take over: the WAL grew to " << most << " frames";
}

}  // namespace
}  // namespace tsa::audit
