// The audit log's integrity against a real tsad (issue 8, items 3, 4, 5, 9): one tsad per
// database, a log whose files vanish or rot is noticed (tokens refused, /health 503, refusal to
// start), a typo in --db does not start a new log, and /health follows the token commits.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "audit_helpers.h"

namespace tsa::test {
namespace {

using namespace audit_it;

// The tests of the database file itself (deleted, damaged, a trigger that breaks token inserts)
// run on the sqlite layout, where the tokens are in that file.
const std::vector<std::string> kSqliteLayout = {"--log-layout", "sqlite"};

// As startup_test.cc: exit code 1 and exactly one human line "tsad: <why>" naming `keyword`.
void ExpectRefusal(const TsadProcess::StartupFailure& r, const std::string& keyword) {
  EXPECT_FALSE(r.started) << "tsad started and served; it must refuse. stderr:\n" << r.stderr_text;
  EXPECT_EQ(r.exit_code, 1) << "stderr:\n" << r.stderr_text << "\nstdout:\n" << r.stdout_text;
  static const std::regex kLogLine(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z \w+ .*)");
  std::vector<std::string> human;
  std::istringstream in(r.stderr_text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.rfind("tsad: ", 0) == 0) {
      human.push_back(line);
    } else {
      EXPECT_TRUE(std::regex_match(line, kLogLine)) << "stderr line is neither the message nor a log line: " << line;
    }
  }
  ASSERT_EQ(human.size(), 1u) << "expected one 'tsad: ...' line on stderr; got:\n" << r.stderr_text;
  EXPECT_NE(human[0].find(keyword), std::string::npos) << "message does not mention '" << keyword << "': " << human[0];
  EXPECT_LT(human[0].size(), 400u) << human[0];
}

class LogIntegrity : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(MakePki(dir_.Sub("pki"), &pki_)); }
  std::vector<std::string> Args(const std::string& db) const {
    return {"--cert-dir", pki_.dir, "--allow-unsynced-clock", "--no-anchor", "--db", db};
  }
  TempDir dir_{"tsa-logint"};
  Pki pki_;
};

// Item 3: a second tsad on the same --db assigned the same indexes and failed every request
// ("UNIQUE constraint failed: tokens.idx") while its /health said 200.
TEST_F(LogIntegrity, ASecondTsadOnTheSameDatabaseRefusesToStartAndTheFirstKeepsIssuing) {
  const std::string db = dir_.Sub("tsa.db");
  auto first = MakeTsad(pki_, {}, db);
  ASSERT_TRUE(first->Start());
  ASSERT_TRUE(IssueMany(first->port(), 2, nullptr));
  ExpectRefusal(TsadProcess::RunExpectingFailure(Args(db)), "in use by another process");
  ASSERT_TRUE(IssueMany(first->port(), 2, nullptr));
  auto leaves = ReadTokens(db);  // either layout, read from the files as tsa-audit-verify does
  ASSERT_TRUE(leaves) << leaves.error().ToString();
  EXPECT_EQ(leaves->size(), 4u);
}

// The offline tools read a live database (WAL readers): they do not take tsad's lock.
TEST_F(LogIntegrity, TheAuditToolsReadTheDatabaseOfARunningTsad) {
  const std::string db = dir_.Sub("tsa.db");
  auto tsad = MakeTsad(pki_, {}, db);
  ASSERT_TRUE(tsad->Start());
  ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));
  const CommandResult stats = RunCommand({ToolPath("tsa-audit"), "stats", db});
  EXPECT_EQ(stats.exit_code, 0) << stats.output;
  const CommandResult verify = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", pki_.tsa_cert()});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_TRUE(IssueMany(tsad->port(), 1, nullptr)) << "the tools did not disturb the writer";
}

// Item 4: with the database deleted under a running tsad, 100/100 tokens were granted into no
// log and /health said "writable"; the restart created an empty log without a word.
TEST_F(LogIntegrity, ADeletedDatabaseRefusesTokensFailsHealthAndTheRestartSaysItCreatedANewLog) {
  const std::string db = dir_.Sub("tsa.db");
  auto tsad = MakeTsad(pki_, kSqliteLayout, db);
  ASSERT_TRUE(tsad->Start());
  EXPECT_NE(tsad->log().find("created a new audit log"), std::string::npos) << tsad->log();
  ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));
  ASSERT_EQ(HealthStatus(tsad->port()), 200);
  ASSERT_TRUE(std::filesystem::remove(db));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(RefusedWithSystemFailure(tsad->port())) << "request " << i;
  nlohmann::json health;
  EXPECT_EQ(HealthStatus(tsad->port(), &health), 503) << health.dump();
  EXPECT_EQ(health.value("failing", ""), "database") << health.dump();
  EXPECT_NE(health.dump().find("was deleted"), std::string::npos) << health.dump();
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();

  auto restarted = MakeTsad(pki_, kSqliteLayout, db);
  ASSERT_TRUE(restarted->Start());
  EXPECT_NE(restarted->log().find("created a new audit log"), std::string::npos) << restarted->log();
  auto again = MakeTsad(pki_, kSqliteLayout, db);
  EXPECT_EQ(restarted->Stop(), 0);
  ASSERT_TRUE(again->Start());
  EXPECT_EQ(again->log().find("created a new audit log"), std::string::npos) << "an existing log: " << again->log();
}

// Item 4: a database with 4 KiB of random bytes in the middle started, served and granted.
TEST_F(LogIntegrity, ADatabaseWithRandomBytesInTheMiddleRefusesToStart) {
  const std::string db = dir_.Sub("tsa.db");
  {
    auto tsad = MakeTsad(pki_, kSqliteLayout, db);
    ASSERT_TRUE(tsad->Start());
    ASSERT_TRUE(IssueMany(tsad->port(), 120, nullptr));
    ASSERT_EQ(tsad->Stop(), 0);
  }
  const auto size = std::filesystem::file_size(db);
  ASSERT_GT(size, 30u * 4096u);
  std::string junk(4096, '\0');
  std::uint32_t x = 4;
  for (char& c : junk) c = static_cast<char>((x = x * 1664525u + 1013904223u) >> 24);
  {
    std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2 / 4096 * 4096));
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ExpectRefusal(TsadProcess::RunExpectingFailure(Args(db)), "damaged");
}

// Item 5: --db with a typo silently started a new, empty audit log (tsad created directories).
TEST_F(LogIntegrity, ADatabaseInAMissingDirectoryRefusesToStartNamingTheDirectory) {
  const std::string missing = dir_.Sub("dta");
  ExpectRefusal(TsadProcess::RunExpectingFailure(Args(missing + "/tsa.db")), missing + " of the audit log");
  EXPECT_FALSE(std::filesystem::exists(missing)) << "tsad created the directory";
}

// Item 9: every POST got systemFailure while /health said 200. Token inserts fail here through a
// real SQLite failure (a trigger added by another connection, as a broken schema would), while
// the health probe's own small write still works.
TEST_F(LogIntegrity, HealthFailsWhileTokenCommitsFailAndRecoversWithoutRestart) {
  const std::string db = dir_.Sub("tsa.db");
  auto tsad = MakeTsad(pki_, kSqliteLayout, db);
  ASSERT_TRUE(tsad->Start());
  ASSERT_TRUE(IssueMany(tsad->port(), 1, nullptr));
  {
    auto other = OpenDb(db, /*read_only=*/false);
    ASSERT_TRUE(other) << other.error().ToString();
    ASSERT_TRUE((*other)->Exec("CREATE TRIGGER refuse BEFORE INSERT ON tokens BEGIN SELECT RAISE(ABORT, 'refused'); END"));
  }
  EXPECT_TRUE(RefusedWithSystemFailure(tsad->port()));
  nlohmann::json health;
  EXPECT_EQ(HealthStatus(tsad->port(), &health), 503) << health.dump();
  EXPECT_EQ(health.value("failing", ""), "database") << health.dump();
  EXPECT_EQ(HealthStatus(tsad->port()), 503) << "the probe's own write must not clear it";
  {
    auto other = OpenDb(db, /*read_only=*/false);
    ASSERT_TRUE(other);
    ASSERT_TRUE((*other)->Exec("DROP TRIGGER refuse"));
  }
  EXPECT_EQ(HealthStatus(tsad->port(), &health), 200) << health.dump();
  EXPECT_TRUE(IssueMany(tsad->port(), 1, nullptr));
}

// Item 9 with a real full file system: a small tmpfs (needs CAP_SYS_ADMIN; skipped without it).
class FullDisk : public LogIntegrity {
 protected:
  void SetUp() override {
    LogIntegrity::SetUp();
    mount_point_ = dir_.Sub("fs");
    std::filesystem::create_directory(mount_point_);
    if (::mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=4m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs (" << std::strerror(errno) << "): needs root or CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    tsad_.reset();
    if (mounted_) ::umount2(mount_point_.c_str(), MNT_DETACH);
  }
  // Fills the file system with `path` until a write fails.
  static void Fill(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::vector<char> chunk(16384, 'x');
    while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  std::string mount_point_;
  bool mounted_ = false;
  std::unique_ptr<TsadProcess> tsad_;
};

TEST_F(FullDisk, AFullFileSystemRefusesTokensFailsHealthAndRecoversWhenSpaceReturns) {
  const std::string db = mount_point_ + "/tsa.db";
  tsad_ = MakeTsad(pki_, {}, db);
  ASSERT_TRUE(tsad_->Start());
  ASSERT_TRUE(IssueMany(tsad_->port(), 3, nullptr));
  Fill(mount_point_ + "/filler");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(RefusedWithSystemFailure(tsad_->port())) << "request " << i;
  nlohmann::json health;
  EXPECT_EQ(HealthStatus(tsad_->port(), &health), 503) << health.dump();
  std::filesystem::remove(mount_point_ + "/filler");
  EXPECT_EQ(HealthStatus(tsad_->port(), &health), 200) << health.dump();
  EXPECT_TRUE(IssueMany(tsad_->port(), 2, nullptr));
  EXPECT_EQ(tsad_->Stop(), 0) << tsad_->log();
}

}  // namespace
}  // namespace tsa::test
