// Tests for src/audit/token_log.cc: the append-only token log with group commit (AUDIT_CHAIN.md):
// concurrent appends get consecutive leaf indexes, leaf hashes are RFC 9162 §2.1 leaves,
// ClaimSerialEpoch is strictly increasing, reopening continues the log, and a write that fails
// stores nothing and is reported to the caller. These tests open the log in the sqlite layout
// explicitly (several break or read its tokens table); token_log_tiles_test.cc and
// token_log_layout_test.cc cover the tiles layout, the default of a new log.
#include "tsa/audit/token_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/audit/merkle.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/streaming_hash.h"
#include "tsa/store/database.h"

namespace tsa::audit {
namespace {

using Bytes = std::vector<std::uint8_t>;

TokenRecord Record(const std::string& serial, std::uint8_t seed, std::size_t token_len = 64) {
  TokenRecord r;
  r.serial_hex = serial;
  r.gen_time_us = 1'795'599'086'000'000 + seed;
  r.policy = unit_test::kDefaultPolicy;
  r.hash_oid = unit_test::kSha256Oid;
  r.digest = Bytes(32, seed);
  r.token_der.resize(token_len);
  for (std::size_t i = 0; i < token_len; ++i) r.token_der[i] = static_cast<std::uint8_t>(seed * 31 + i);
  // Make each token unique even for equal seeds.
  r.token_der.insert(r.token_der.end(), serial.begin(), serial.end());
  return r;
}

Bytes Sha256(const Bytes& data) { return *crypto::Digest(core::HashAlgorithm::kSha256, data); }

Bytes ExpectedLeaf(const Bytes& token) {
  Bytes prefixed = {0x00};
  prefixed.insert(prefixed.end(), token.begin(), token.end());
  return Sha256(prefixed);
}

// MTH(D[lo:hi]) of RFC 9162 §2.1.1, computed naively from the leaf hashes.
Bytes ExpectedRoot(const std::vector<Bytes>& leaves, std::size_t lo, std::size_t hi) {
  if (hi - lo == 1) return leaves[lo];
  std::size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  Bytes node = {0x01};
  const Bytes left = ExpectedRoot(leaves, lo, lo + k);
  const Bytes right = ExpectedRoot(leaves, lo + k, hi);
  node.insert(node.end(), left.begin(), left.end());
  node.insert(node.end(), right.begin(), right.end());
  return Sha256(node);
}

std::unique_ptr<TokenLog> OpenLog(const std::string& path, bool keep_token = true) {
  TokenLogOptions options;
  options.path = path;
  options.layout = store::LogLayout::kSqlite;
  options.keep_token = keep_token;
  options.synchronous_full = false;  // tests do not need power-loss durability
  auto log = TokenLog::Open(options);
  EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
  return log ? std::move(*log) : nullptr;
}

std::unique_ptr<store::Database> SecondConnection(const std::string& path) {
  auto db = store::Database::Open(path, store::OpenOptions{});
  EXPECT_TRUE(db) << (db ? "" : db.error().ToString());
  return db ? std::move(*db) : nullptr;
}

std::int64_t TokenCount(store::Database& db) {
  auto st = db.Prepare("SELECT COUNT(*) FROM tokens");
  EXPECT_TRUE(st);
  EXPECT_TRUE(*st->Step());
  return st->ColumnInt(0);
}

struct Row {
  std::int64_t idx;
  std::string serial;
  std::int64_t gen_time_us;
  std::string policy, hash_oid;
  Bytes digest, token, token_sha256, leaf_hash;
  bool token_null;
};

std::vector<Row> Rows(store::Database& db) {
  std::vector<Row> rows;
  auto st = db.Prepare(
      "SELECT idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash FROM tokens ORDER BY idx");
  EXPECT_TRUE(st);
  while (true) {
    auto more = st->Step();
    EXPECT_TRUE(more);
    if (!more || !*more) break;
    rows.push_back(Row{st->ColumnInt(0), st->ColumnText(1), st->ColumnInt(2), st->ColumnText(3), st->ColumnText(4),
                       st->ColumnBlob(5), st->ColumnBlob(6), st->ColumnBlob(7), st->ColumnBlob(8), st->ColumnIsNull(6)});
  }
  return rows;
}

// Makes every insert into tokens fail, from another connection (as a full disk or a broken
// database would).
void BreakTokensTable(const std::string& path) {
  auto other = SecondConnection(path);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Exec("CREATE TRIGGER tokens_reject BEFORE INSERT ON tokens BEGIN SELECT RAISE(ABORT, 'x'); END;"));
}

void RepairTokensTable(const std::string& path) {
  auto other = SecondConnection(path);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Exec("DROP TRIGGER tokens_reject"));
}

TEST(TokenLogTest, OpenCreatesAnEmptyLogInATempFile) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Stats().size, 0U);
  EXPECT_TRUE(log->Stats().last_error.empty());
  EXPECT_TRUE(unit_test::fs::exists(dir.Sub("tsa.db")));
}

TEST(TokenLogTest, OpenFailsForAnUnwritablePath) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("no/such/dir/tsa.db");
  options.layout = store::LogLayout::kSqlite;
  auto log = TokenLog::Open(options);
  EXPECT_FALSE(log);
}

TEST(TokenLogTest, AppendStoresEveryColumn) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  const TokenRecord r = Record("00000000000000000000000000000000aa", 7);
  ASSERT_TRUE(log->Append(r));
  EXPECT_EQ(log->Stats().size, 1U);
  auto db = SecondConnection(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  const auto rows = Rows(*db);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].idx, 0);
  EXPECT_EQ(rows[0].serial, r.serial_hex);
  EXPECT_EQ(rows[0].gen_time_us, r.gen_time_us);
  EXPECT_EQ(rows[0].policy, r.policy);
  EXPECT_EQ(rows[0].hash_oid, r.hash_oid);
  EXPECT_EQ(rows[0].digest, r.digest);
  EXPECT_EQ(rows[0].token, r.token_der);
  EXPECT_EQ(rows[0].token_sha256, Sha256(r.token_der));
  EXPECT_EQ(rows[0].leaf_hash, ExpectedLeaf(r.token_der));
}

TEST(TokenLogTest, EightThreadsAppendingAHundredRecordsEachGetIndexesZeroTo799) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        char serial[35];
        std::snprintf(serial, sizeof(serial), "%016x%018x", static_cast<unsigned>(t), static_cast<unsigned>(i));
        if (!log->Append(Record(serial, static_cast<std::uint8_t>(t * kPerThread + i), 40 + static_cast<std::size_t>(i))))
          ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  const auto stats = log->Stats();
  EXPECT_EQ(stats.size, 800U);
  EXPECT_GE(stats.commits, 1U);
  EXPECT_LE(stats.commits, 800U);
  EXPECT_TRUE(stats.last_error.empty());

  auto db = SecondConnection(dir.Sub("tsa.db"));
  ASSERT_NE(db, nullptr);
  const auto rows = Rows(*db);
  ASSERT_EQ(rows.size(), 800U);
  std::set<std::string> serials;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].idx, static_cast<std::int64_t>(i));
    serials.insert(rows[i].serial);
    EXPECT_EQ(rows[i].leaf_hash, ExpectedLeaf(rows[i].token)) << "idx " << i;
    EXPECT_EQ(rows[i].token_sha256, Sha256(rows[i].token)) << "idx " << i;
  }
  EXPECT_EQ(serials.size(), 800U);
}

TEST(TokenLogTest, LeafHashIsSha256OfZeroByteAndToken) {
  const Bytes token = {0x30, 0x03, 0x02, 0x01, 0x01};
  const Hash leaf = LeafHash(token);
  EXPECT_EQ(Bytes(leaf.begin(), leaf.end()), ExpectedLeaf(token));
  EXPECT_NE(Bytes(leaf.begin(), leaf.end()), Sha256(token));
  // RFC 6962/9162: the leaf hash of the empty string.
  const Hash empty = LeafHash(Bytes{});
  EXPECT_EQ(core::ToHex(Bytes(empty.begin(), empty.end())), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
}

TEST(TokenLogTest, HeadIsTheRfc9162RootOfTheCommittedLeavesAndSurvivesReopening) {
  unit_test::TempDir dir;
  std::vector<Bytes> leaves;
  LogHead head_before;
  {
    auto log = OpenLog(dir.Sub("tsa.db"));
    ASSERT_NE(log, nullptr);
    const LogHead empty = log->Head();
    EXPECT_EQ(empty.size, 0U);
    EXPECT_EQ(Bytes(empty.root.begin(), empty.root.end()), Sha256(Bytes{})) << "MTH of the empty tree";
    for (int i = 0; i < 13; ++i) {
      const TokenRecord r = Record("head-" + std::to_string(i), static_cast<std::uint8_t>(i));
      leaves.push_back(ExpectedLeaf(r.token_der));
      ASSERT_TRUE(log->Append(r));
      const LogHead head = log->Head();
      EXPECT_EQ(head.size, leaves.size());
      EXPECT_EQ(Bytes(head.root.begin(), head.root.end()), ExpectedRoot(leaves, 0, leaves.size())) << "size " << leaves.size();
    }
    head_before = log->Head();
  }
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Head().size, head_before.size);
  EXPECT_EQ(log->Head().root, head_before.root);
  const TokenRecord r = Record("head-13", 13);
  leaves.push_back(ExpectedLeaf(r.token_der));
  ASSERT_TRUE(log->Append(r));
  const LogHead after = log->Head();
  EXPECT_EQ(after.size, leaves.size());
  EXPECT_EQ(Bytes(after.root.begin(), after.root.end()), ExpectedRoot(leaves, 0, leaves.size()));
}

TEST(TokenLogTest, ClaimSerialEpochStrictlyIncreasesEvenWhenNowGoesBackwards) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  std::uint64_t last = 0;
  for (std::int64_t now : {5'000'000, 4'000'000, 5'000'000, 1, 6'000'000, 6'000'000}) {
    auto epoch = log->ClaimSerialEpoch(9, now);
    ASSERT_TRUE(epoch) << epoch.error().ToString();
    EXPECT_GT(*epoch, last) << "now=" << now;
    last = *epoch;
  }
  EXPECT_EQ(log->Stats().size, 0U) << "epoch claims are not tokens";
}

TEST(TokenLogTest, ASecondOpenOfTheSameFileContinuesTheIndex) {
  unit_test::TempDir dir;
  std::uint64_t epoch1 = 0;
  {
    auto log = OpenLog(dir.Sub("tsa.db"));
    ASSERT_NE(log, nullptr);
    epoch1 = *log->ClaimSerialEpoch(0, 1'000);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Record("first-" + std::to_string(i), static_cast<std::uint8_t>(i))));
  }
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->Stats().size, 3U);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(log->Append(Record("second-" + std::to_string(i), static_cast<std::uint8_t>(i))));
  EXPECT_EQ(log->Stats().size, 5U);
  EXPECT_GT(*log->ClaimSerialEpoch(0, 1'000), epoch1);
  auto db = SecondConnection(dir.Sub("tsa.db"));
  const auto rows = Rows(*db);
  ASSERT_EQ(rows.size(), 5U);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].idx, static_cast<std::int64_t>(i));
  EXPECT_EQ(rows[3].serial, "second-0");
}

TEST(TokenLogTest, ProbeSucceedsAndWritesTheHealthRow) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  const Status st = log->Probe(5'000);
  ASSERT_TRUE(st) << st.error().ToString();
  ASSERT_TRUE(log->Probe(5'000));
  auto db = SecondConnection(dir.Sub("tsa.db"));
  auto q = db->Prepare("SELECT COUNT(*) FROM meta WHERE key = 'health_probe'");
  ASSERT_TRUE(q);
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnInt(0), 1);
  EXPECT_EQ(log->Stats().size, 0U) << "a probe is not a token";
}

// token_log.h: Probe is "a real write through the writer ..., bounded by timeout_ms" (/health).
TEST(TokenLogTest, ProbeIsBoundedByItsTimeoutWhileAnotherProcessHoldsTheWriteLock) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  auto other = SecondConnection(path);
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE"));  // e.g. an operator's sqlite3 shell or a backup
  const auto start = std::chrono::steady_clock::now();
  const Status st = log->Probe(200);
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(st) << "the database cannot be written";
  EXPECT_LT(elapsed_ms, 1'000) << "Probe(200) took " << elapsed_ms << " ms";
  ASSERT_TRUE(other->Exec("COMMIT"));
  EXPECT_TRUE(log->Probe(5'000));
}

TEST(TokenLogTest, MaxBatchBoundsTheRecordsPerTransaction) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("tsa.db");
  options.layout = store::LogLayout::kSqlite;
  options.synchronous_full = false;
  options.max_batch = 1;
  auto log = TokenLog::Open(options);
  ASSERT_TRUE(log) << log.error().ToString();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE((*log)->Append(Record("b" + std::to_string(t) + "-" + std::to_string(i), 1)));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ((*log)->Stats().size, 100U);
  EXPECT_EQ((*log)->Stats().commits, 100U) << "one record per transaction";
}

TEST(TokenLogTest, AppendReturnsAnErrorAndStoresNothingWhenTheDatabaseRefusesWrites) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("before", 1)));
  BreakTokensTable(path);

  const Status st = log->Append(Record("refused", 2));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kStorage);
  EXPECT_EQ(log->Stats().size, 1U);
  EXPECT_FALSE(log->Stats().last_error.empty());
  auto db = SecondConnection(path);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(TokenCount(*db), 1);

  // Once the database accepts writes again, the log continues without a gap.
  RepairTokensTable(path);
  ASSERT_TRUE(log->Append(Record("after", 3)));
  EXPECT_TRUE(log->Stats().last_error.empty());
  const auto rows = Rows(*db);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[1].idx, 1);
  EXPECT_EQ(rows[1].serial, "after");
}

TEST(TokenLogTest, ConcurrentAppendsAllFailWhileTheDatabaseRefusesWrites) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  BreakTokensTable(path);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (log->Append(Record("s" + std::to_string(t) + "-" + std::to_string(i), 1))) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 0);
  EXPECT_EQ(log->Stats().size, 0U);
  auto db = SecondConnection(path);
  EXPECT_EQ(TokenCount(*db), 0);
}

TEST(TokenLogTest, ADuplicateSerialIsRefusedAndNotStored) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("same", 1)));
  EXPECT_FALSE(log->Append(Record("same", 2)));
  EXPECT_EQ(log->Stats().size, 1U);
  ASSERT_TRUE(log->Append(Record("next", 3)));
  auto db = SecondConnection(dir.Sub("tsa.db"));
  const auto rows = Rows(*db);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[1].idx, 1);
}

TEST(TokenLogTest, WithoutKeepTokenOnlyTheHashesAreStored) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"), /*keep_token=*/false);
  ASSERT_NE(log, nullptr);
  const TokenRecord r = Record("nokeep", 5);
  ASSERT_TRUE(log->Append(r));
  auto db = SecondConnection(dir.Sub("tsa.db"));
  const auto rows = Rows(*db);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_TRUE(rows[0].token_null);
  EXPECT_EQ(rows[0].token_sha256, Sha256(r.token_der));
  EXPECT_EQ(rows[0].leaf_hash, ExpectedLeaf(r.token_der));
}

// Holds the writer thread in the on_commit hook of a probe's commit (no token), so that the
// tokens appended meanwhile are all queued when it goes on.
struct WriterGate {
  std::atomic<bool> hold{false};
  std::atomic<bool> held{false};
  void Install(TokenLogOptions& options) {
    options.on_commit = [this](std::size_t tokens, std::chrono::nanoseconds, bool) {
      if (tokens != 0 || !hold) return;
      held = true;
      while (hold) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
  }
};

// Group commit gathering (TokenLogOptions::gather_us). The long waits make these tests hang rather
// than pass if the writer did not commit when the rule says it must.
std::unique_ptr<TokenLog> OpenGatheringLog(const std::string& path, int gather_us, WriterGate& gate) {
  TokenLogOptions options;
  options.path = path;
  options.layout = store::LogLayout::kSqlite;
  options.synchronous_full = false;
  options.gather_us = gather_us;
  options.gather_min_tokens = 2;
  options.writer_nice = 0;
  gate.Install(options);
  auto log = TokenLog::Open(options);
  EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
  return log ? std::move(*log) : nullptr;
}

// Appends `n` records from n threads while the writer is held (WriterGate), so that the writer
// then finds all of them queued at once (its peak becomes n), and waits for all of them.
void Burst(TokenLog& log, WriterGate& gate, int n, const std::string& prefix) {
  gate.hold = true;
  gate.held = false;
  std::thread prober([&] { EXPECT_TRUE(log.Probe(60'000)); });
  while (!gate.held) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the writer is held
  std::vector<std::thread> appenders;
  for (int i = 0; i < n; ++i) {
    appenders.emplace_back(
        [&log, &prefix, i] { EXPECT_TRUE(log.Append(Record(prefix + std::to_string(i), static_cast<std::uint8_t>(i)))); });
  }
  while (log.Stats().queued < static_cast<std::size_t>(n)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gate.hold = false;
  prober.join();
  for (auto& t : appenders) t.join();
}

TEST(TokenLogGatherTest, AfterABurstOfEightACommitWaitsUntilThreeAreQueuedAndTakesThemTogether) {
  unit_test::TempDir dir;
  WriterGate gate;
  auto log = OpenGatheringLog(dir.Sub("gather.db"), 60'000'000, gate);
  ASSERT_TRUE(log);
  Burst(*log, gate, 8, "b");  // peak 8: from now on a commit waits for floor(8 * 0.995 / 2) = 3
  const auto before = log->Stats();
  EXPECT_EQ(before.size, 8u);
  std::vector<std::thread> appenders;
  for (int i = 0; i < 3; ++i) {
    appenders.emplace_back([&log, i] { EXPECT_TRUE(log->Append(Record("c" + std::to_string(i), 40))); });
  }
  for (auto& t : appenders) t.join();
  const auto after = log->Stats();
  EXPECT_EQ(after.size, 11u);
  EXPECT_EQ(after.commits - before.commits, 1u) << "the three records should share one transaction";
}

TEST(TokenLogGatherTest, AGatheringCommitStillStartsAtItsDeadline) {
  unit_test::TempDir dir;
  WriterGate gate;
  auto log = OpenGatheringLog(dir.Sub("deadline.db"), 20'000, gate);  // 20 ms
  ASSERT_TRUE(log);
  Burst(*log, gate, 8, "b");
  EXPECT_TRUE(log->Append(Record("alone", 9)));  // waits for 3, gets 1, commits at the deadline
  EXPECT_EQ(log->Stats().size, 9u);
}

TEST(TokenLogGatherTest, UnderLightLoadNoCommitWaits) {
  unit_test::TempDir dir;
  WriterGate gate;
  auto log = OpenGatheringLog(dir.Sub("light.db"), 60'000'000, gate);
  ASSERT_TRUE(log);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(log->Append(Record("l" + std::to_string(i), static_cast<std::uint8_t>(i))));
  EXPECT_EQ(log->Stats().size, 20u);
  EXPECT_EQ(log->Stats().commits, 20u);
}

TEST(TokenLogGatherTest, ARaisedNiceValueIsAlwaysPermittedAndReportsNoError) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("nice.db");
  options.layout = store::LogLayout::kSqlite;
  options.synchronous_full = false;
  options.writer_nice = 5;  // lowering a thread's priority needs no privilege
  auto log = TokenLog::Open(options);
  ASSERT_TRUE(log);
  EXPECT_EQ((*log)->Stats().writer_priority_error, "");
  EXPECT_TRUE((*log)->Append(Record("0e", 5)));
}

// ---- Issue 8: hardening (items 3, 4, 5, 6, 9, 11, 13) -------------------------------------------

std::unique_ptr<TokenLog> OpenWith(TokenLogOptions options) {
  options.synchronous_full = false;
  options.writer_nice = 0;
  auto log = TokenLog::Open(options);
  EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
  return log ? std::move(*log) : nullptr;
}

// Holds a Write() (and so the log's SQLite write lock, which the writer's commits take in the
// sqlite layout) until release(); `then` runs as the Write's last step.
class HeldWriter {
 public:
  HeldWriter(
      TokenLog& log, std::function<Status()> then = [] { return Ok(); }) {
    thread_ = std::thread([this, &log, then] {
      result_ = log.Write([&](store::LogStore&) {
        entered_ = true;
        while (!release_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return then();
      });
    });
    while (!entered_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HeldWriter() { (void)Release(); }
  Status Release() {
    release_ = true;
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  std::atomic<bool> entered_{false};
  std::atomic<bool> release_{false};
  Status result_;
  std::thread thread_;
};

// Item 3: a second tsad on the same database assigned the same indexes and failed every request.
TEST(TokenLogHardeningTest, ASecondOpenOfALogInUseIsRefusedAsInUse) {
  unit_test::TempDir dir;
  auto first = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(first, nullptr);
  TokenLogOptions options;
  options.path = dir.Sub("tsa.db");
  options.layout = store::LogLayout::kSqlite;
  auto second = TokenLog::Open(options);
  ASSERT_FALSE(second) << "two writers on one log";
  EXPECT_EQ(second.error().kind, ErrorKind::kBusy);
  EXPECT_NE(second.error().message.find("in use by another process"), std::string::npos) << second.error().message;
  ASSERT_TRUE(first->Append(Record("still-mine", 1)));
  first.reset();
  EXPECT_NE(OpenLog(dir.Sub("tsa.db")), nullptr) << "the lock goes with the log";
}

// Item 5: a typo in --db created the missing directories and a new, empty log.
TEST(TokenLogHardeningTest, OpenRefusesALogInAMissingDirectoryAndCreatesNothing) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("dta/tsa.db");
  options.layout = store::LogLayout::kSqlite;
  auto log = TokenLog::Open(options);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find(dir.Sub("dta") + " of the audit log"), std::string::npos) << log.error().message;
  EXPECT_FALSE(unit_test::fs::exists(dir.Sub("dta")));
}

TEST(TokenLogHardeningTest, CreatedSaysWhetherOpenMadeANewDatabase) {
  unit_test::TempDir dir;
  {
    auto log = OpenLog(dir.Sub("tsa.db"));
    ASSERT_NE(log, nullptr);
    EXPECT_TRUE(log->created());
  }
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->created());
}

// Item 4: with the database deleted under it, tsad granted 100/100 tokens into no log.
TEST(TokenLogHardeningTest, OnceTheDatabaseIsDeletedEveryAppendAndProbeFails) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("before", 1)));
  unit_test::fs::remove(path);
  const Status st = log->Append(Record("into-nothing", 2));
  ASSERT_FALSE(st) << "a token committed into a deleted file";
  EXPECT_NE(st.error().message.find("was deleted"), std::string::npos) << st.error().message;
  EXPECT_EQ(log->Stats().size, 1u);
  EXPECT_FALSE(log->Stats().file_problem.empty());
  EXPECT_FALSE(log->Probe(2'000)) << "/health must fail";
  EXPECT_FALSE(log->Append(Record("later", 3))) << "sticky until restart";
}

TEST(TokenLogHardeningTest, OnceTheDatabaseIsReplacedEveryAppendAndProbeFails) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("before", 1)));
  unit_test::fs::copy_file(path, dir.Sub("other.db"));
  unit_test::fs::rename(dir.Sub("other.db"), path);
  const Status st = log->Append(Record("into-the-old-inode", 2));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("was replaced"), std::string::npos) << st.error().message;
  EXPECT_FALSE(log->Probe(2'000));
}

// Item 4: the stored tree must give the root of the latest checkpoint.
Status InsertCheckpoint(TokenLog& log, std::int64_t tree_size, const Bytes& root, std::int64_t tsa_gen_time_us = 1) {
  const store::CheckpointRow row{0, tree_size, root, "c", Bytes{0x30}, "01", tsa_gen_time_us, 0};
  return log.Write([&](store::LogStore& store) -> Status {
    TSA_TRY(store.InsertCheckpoint(row));
    return Ok();
  });
}

TEST(TokenLogHardeningTest, OpenChecksTheTreeAgainstTheLatestCheckpoint) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  std::vector<Bytes> leaves;
  {
    auto log = OpenLog(path);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 6; ++i) {
      const TokenRecord r = Record("cp-" + std::to_string(i), static_cast<std::uint8_t>(i));
      leaves.push_back(ExpectedLeaf(r.token_der));
      ASSERT_TRUE(log->Append(r));
    }
    ASSERT_TRUE(InsertCheckpoint(*log, 5, ExpectedRoot(leaves, 0, 5)));
  }
  ASSERT_NE(OpenLog(path), nullptr) << "the tree gives the checkpoint's root";
  {
    auto db = SecondConnection(path);
    ASSERT_TRUE(db->Exec("UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 0"));
  }
  TokenLogOptions options;
  options.path = path;
  options.layout = store::LogLayout::kSqlite;
  auto tampered = TokenLog::Open(options);
  ASSERT_FALSE(tampered) << "opened a log whose tree no longer gives its anchored root";
  EXPECT_NE(tampered.error().message.find("does not give the root of its latest checkpoint"), std::string::npos)
      << tampered.error().message;
}

TEST(TokenLogHardeningTest, OpenRefusesALogWithFewerTokensThanItsLatestCheckpoint) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  {
    auto log = OpenLog(path);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(Record("only", 1)));
    ASSERT_TRUE(InsertCheckpoint(*log, 4, Bytes(32, 0)));
  }
  TokenLogOptions options;
  options.path = path;
  options.layout = store::LogLayout::kSqlite;
  auto log = TokenLog::Open(options);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("fewer than its latest checkpoint"), std::string::npos) << log.error().message;
}

// Item 4: a database with 4 KiB of random bytes in the middle started, served and granted.
TEST(TokenLogHardeningTest, OpenRefusesADamagedDatabase) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  {
    auto log = OpenLog(path);
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < 300; ++i) ASSERT_TRUE(log->Append(Record("d" + std::to_string(i), static_cast<std::uint8_t>(i), 600)));
  }
  ASSERT_GT(unit_test::fs::file_size(path), 40u * 4096u);
  {
    std::string junk(4096, '\0');
    std::uint32_t x = 12345;
    for (char& c : junk) c = static_cast<char>(x = x * 1103515245u + 12345u);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(unit_test::fs::file_size(path) / 2 / 4096 * 4096));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  TokenLogOptions options;
  options.path = path;
  options.layout = store::LogLayout::kSqlite;
  auto log = TokenLog::Open(options);
  ASSERT_FALSE(log) << "started on a damaged log";
  EXPECT_NE(log.error().message.find("is damaged"), std::string::npos) << log.error().message;
}

// Item 9: /health said 200 while every token failed. Probe now fails while token commits fail,
// and passes again (no restart) once a token row would commit.
TEST(TokenLogHardeningTest, ProbeFailsWhileTokenCommitsFailAndRecoversWhenTheyWouldCommit) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Probe(2'000));
  BreakTokensTable(path);
  ASSERT_FALSE(log->Append(Record("refused", 1)));
  EXPECT_FALSE(log->Stats().last_token_commit_ok);
  const Status probe = log->Probe(2'000);
  ASSERT_FALSE(probe) << "the probe's own small write works, but tokens do not";
  EXPECT_NE(probe.error().message.find("token"), std::string::npos) << probe.error().message;
  EXPECT_FALSE(log->Probe(2'000)) << "a probe alone must not clear it while tokens still fail";
  RepairTokensTable(path);
  ASSERT_TRUE(log->Probe(2'000)) << "recovery without restart";
  EXPECT_TRUE(log->Stats().last_token_commit_ok);
  EXPECT_EQ(log->Stats().size, 0u) << "the probe's token row was rolled back";
  ASSERT_TRUE(log->Append(Record("after", 2)));
  auto db = SecondConnection(path);
  EXPECT_EQ(TokenCount(*db), 1);
}

// Item 11: an exception in the writer thread called std::terminate. Now the writer stops, every
// pending and later call fails at once (the issuer answers systemFailure), and /health fails.
TEST(TokenLogHardeningTest, AnExceptionOnTheWriterStopsItAndFailsEveryPendingAndLaterCall) {
  unit_test::TempDir dir;
  WriterGate gate;
  TokenLogOptions options;
  options.path = dir.Sub("tsa.db");
  options.layout = store::LogLayout::kSqlite;
  gate.Install(options);
  options.on_commit = [&gate, held = options.on_commit](std::size_t tokens, std::chrono::nanoseconds took, bool ok) {
    if (tokens > 0 && gate.held) throw std::runtime_error("injected");
    held(tokens, took, ok);
  };
  auto log = OpenWith(options);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("before", 1)));
  std::atomic<int> failed{0};
  std::vector<std::thread> appenders;
  gate.hold = true;
  std::thread prober([&log] { (void)log->Probe(60'000); });
  while (!gate.held) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the writer is held
  for (int i = 0; i < 4; ++i) {
    appenders.emplace_back([&log, &failed, i] {
      if (!log->Append(Record("pending-" + std::to_string(i), 2))) ++failed;
    });
  }
  while (log->Stats().queued < 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gate.hold = false;  // the next commit (the four tokens) throws in the writer's hook
  prober.join();
  for (auto& t : appenders) t.join();
  EXPECT_EQ(failed.load(), 4) << "queued appends must fail, not hang";
  const auto stats = log->Stats();
  EXPECT_NE(stats.writer_failed.find("injected"), std::string::npos) << stats.writer_failed;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(log->Append(Record("later", 3)));
  EXPECT_FALSE(log->Probe(2'000));
  EXPECT_FALSE(log->Write([](store::LogStore&) { return Ok(); })) << "no write after the writer stopped";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1'000)) << "failed at once, not by timeout";
  EXPECT_EQ(log->Stats().size, 1u);
}

// A throwing Write callback fails that write only (rolled back); tokens go on being logged.
TEST(TokenLogHardeningTest, AThrowingWriteFailsOnlyItself) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  const Status st = log->Write([](store::LogStore&) -> Status { throw std::runtime_error("injected"); });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("injected"), std::string::npos) << st.error().message;
  EXPECT_TRUE(log->Stats().writer_failed.empty());
  ASSERT_TRUE(log->Append(Record("after", 1)));
  EXPECT_TRUE(log->Probe(2'000));
  EXPECT_EQ(log->Stats().size, 1u);
}

// Item 13: Append waited forever on a stalled commit.
TEST(TokenLogHardeningTest, AppendGivesUpAfterItsTimeoutWhileTheWriterIsStalled) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("tsa.db");
  options.layout = store::LogLayout::kSqlite;
  options.append_timeout_ms = 200;
  auto log = OpenWith(options);
  ASSERT_NE(log, nullptr);
  {
    HeldWriter held(*log);
    const auto start = std::chrono::steady_clock::now();
    const Status st = log->Append(Record("stalled", 1));
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(st) << "the issuer must not send this token";
    EXPECT_EQ(st.error().kind, ErrorKind::kUnavailable);
    EXPECT_GE(waited, std::chrono::milliseconds(200));
    EXPECT_LT(waited, std::chrono::milliseconds(5'000));
    EXPECT_EQ(log->Stats().append_timeouts, 1u);
    EXPECT_FALSE(log->Probe(100)) << "/health fails while the writer is stalled";
  }
  // The timed-out token may still be committed later (logged but never sent: harmless).
  EXPECT_TRUE(log->Probe(5'000));
  EXPECT_EQ(log->Stats().size, 1u);
  EXPECT_TRUE(log->Append(Record("after", 2)));
}

// Item 6: the issuer seeds its clock gate from the latest genTime ever recorded.
TEST(TokenLogHardeningTest, LastGenTimeUsIsTheLatestOfTokensAndCheckpointsAndFollowsCommits) {
  unit_test::TempDir dir;
  const std::string path = dir.Sub("tsa.db");
  {
    auto log = OpenLog(path);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(*log->LastGenTimeUs(), 0) << "empty log";
    TokenRecord late = Record("late", 1);
    late.gen_time_us = 2'000'000;
    TokenRecord early = Record("early", 2);
    early.gen_time_us = 1'000'000;
    ASSERT_TRUE(log->Append(late));
    ASSERT_TRUE(log->Append(early));
    EXPECT_EQ(*log->LastGenTimeUs(), 2'000'000);
    BreakTokensTable(path);
    TokenRecord refused = Record("refused", 3);
    refused.gen_time_us = 9'000'000;
    ASSERT_FALSE(log->Append(refused));
    EXPECT_EQ(*log->LastGenTimeUs(), 2'000'000) << "a failed commit records nothing";
    RepairTokensTable(path);
    ASSERT_TRUE(InsertCheckpoint(*log, 2, Bytes(32, 0), 3'000'000));  // root unchecked: reopened below
  }
  {
    auto db = SecondConnection(path);  // a checkpoint whose root matches, so the log opens
    auto root = ExpectedRoot({ExpectedLeaf(Record("late", 1).token_der), ExpectedLeaf(Record("early", 2).token_der)}, 0, 2);
    auto st = db->Prepare("UPDATE checkpoints SET root_hash = ?");
    ASSERT_TRUE(st);
    st->BindBlob(1, root);
    ASSERT_TRUE(st->Run());
  }
  auto log = OpenLog(path);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(*log->LastGenTimeUs(), 3'000'000) << "the checkpoint token's genTime counts";
}

}  // namespace
}  // namespace tsa::audit

namespace tsa::audit {
namespace {

// Announcements (TokenLog::Announce): when signing takes longer than a commit, a commit of few
// tokens waits for the ones being signed instead of committing each alone (RSA under load).
class TokenLogAnnouncementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = OpenGatheringLog(dir_.Sub("announce.db"), 10'000'000, gate_);  // a wait of 10 s would show
    ASSERT_TRUE(log_);
    // Teach the log that a signing takes ~30 ms, far longer than a commit here.
    auto a = log_->Announce();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ASSERT_TRUE(Append("t0", 0, std::move(a)).get());
  }
  std::future<Status> Append(const std::string& serial, std::uint8_t digest, TokenLog::Announcement a) {
    auto done = std::make_shared<std::promise<Status>>();
    log_->AppendAsync(
        Record(serial, digest), [done](Status st) { done->set_value(st); }, std::move(a));
    return done->get_future();
  }
  unit_test::TempDir dir_;
  WriterGate gate_;
  std::unique_ptr<TokenLog> log_;
};

TEST_F(TokenLogAnnouncementTest, ACommitWaitsForTheTokenBeingSignedAndTakesBothTogether) {
  const auto commits = log_->Stats().commits;
  auto first = log_->Announce();
  auto second = log_->Announce();
  auto done1 = Append("t1", 1, std::move(first));
  EXPECT_EQ(done1.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
      << "committed alone while another token was being signed";
  auto done2 = Append("t2", 2, std::move(second));
  ASSERT_TRUE(done1.get());
  ASSERT_TRUE(done2.get());
  EXPECT_EQ(log_->Stats().commits, commits + 1) << "one commit for both";
  EXPECT_EQ(log_->Stats().size, 3u);
}

TEST_F(TokenLogAnnouncementTest, AWithdrawnAnnouncementEndsTheWaitAtOnce) {
  auto first = log_->Announce();
  auto done1 = [&] {
    auto failed_signing = log_->Announce();
    auto done = Append("t1", 1, std::move(first));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done;
  }();  // failed_signing is dropped here, without a token
  EXPECT_EQ(done1.wait_for(std::chrono::seconds(2)), std::future_status::ready) << "waited for a token that never came";
  EXPECT_TRUE(done1.get());
}

TEST_F(TokenLogAnnouncementTest, ALoneCallerNeverWaits) {
  for (int i = 1; i <= 3; ++i) {
    auto done = Append("l" + std::to_string(i), static_cast<std::uint8_t>(i), log_->Announce());
    EXPECT_EQ(done.wait_for(std::chrono::seconds(2)), std::future_status::ready) << "token " << i;
  }
}

// Tiles layout: a batch ends where the entry bundle does, so the commit that fills a bundle has
// one fdatasync and the tokens past it are the next commit's (docs/performance.md, sixth session).
TEST(TokenLogTilesBatchTest, ABatchStopsAtTheEndOfTheEntryBundle) {
  unit_test::TempDir dir;
  TokenLogOptions options;
  options.path = dir.Sub("tiles.db");
  options.layout = store::LogLayout::kTiles;
  options.gather_us = 0;
  options.writer_nice = 0;
  WriterGate gate;
  std::mutex mutex;
  std::vector<std::size_t> token_commits;  // guarded by mutex
  options.on_commit = [&](std::size_t tokens, std::chrono::nanoseconds, bool) {
    if (tokens > 0) {
      std::lock_guard lock(mutex);
      token_commits.push_back(tokens);
    }
    if (tokens == 0 && gate.hold) {
      gate.held = true;
      while (gate.hold) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  auto opened = TokenLog::Open(options);
  ASSERT_TRUE(opened) << opened.error().ToString();
  auto& log = **opened;
  for (int i = 0; i < 250; ++i) ASSERT_TRUE(log.Append(Record("p" + std::to_string(i), static_cast<std::uint8_t>(i))));
  gate.hold = true;
  std::thread prober([&] { EXPECT_TRUE(log.Probe(60'000)); });
  while (!gate.held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::future<Status>> done;
  for (int i = 0; i < 20; ++i) {
    auto promise = std::make_shared<std::promise<Status>>();
    done.push_back(promise->get_future());
    log.AppendAsync(Record("q" + std::to_string(i), static_cast<std::uint8_t>(i)),
                    [promise](Status st) { promise->set_value(st); });
  }
  while (log.Stats().queued < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gate.hold = false;
  prober.join();
  for (auto& f : done) ASSERT_TRUE(f.get());
  EXPECT_EQ(log.Stats().size, 270u);
  std::lock_guard lock(mutex);
  ASSERT_GE(token_commits.size(), 252u);
  EXPECT_EQ(token_commits[250], 6u) << "the batch should stop at leaf 256, the end of the first bundle";
  EXPECT_EQ(token_commits[251], 14u);
}

// Issue 9: the HTTP server resumes a request from the log's completion instead of parking a thread.
TEST(TokenLogAsyncTest, AppendAsyncCallsBackOnceAfterTheCommit) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  std::promise<Status> done;
  std::atomic<int> calls{0};
  log->AppendAsync(Record("0a", 1), [&](Status st) {
    calls += 1;
    done.set_value(st);
  });
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(future.get());
  EXPECT_EQ(log->Head().size, 1u) << "the callback runs after the commit, so the head includes the token";
  EXPECT_EQ(calls.load(), 1);
}

TEST(TokenLogAsyncTest, AppendAsyncReportsAFailedCommitToTheCallback) {
  unit_test::TempDir dir;
  auto log = OpenLog(dir.Sub("tsa.db"));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Record("0a", 1)));
  std::promise<Status> done;
  log->AppendAsync(Record("0a", 2), [&](Status st) { done.set_value(st); });  // the same serial: UNIQUE fails
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(future.get());
  EXPECT_EQ(log->Head().size, 1u);
}

}  // namespace
}  // namespace tsa::audit
