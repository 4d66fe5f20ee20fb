// The move of an audit log made by the previous release (schema v4, every token a row) to the
// tiles layout at start-up (audit/log_migration.h): tests/testdata/audit_v4_sqlite_layout.sql is
// that release's database as `sqlite3 .dump` text. The new tsad, started on it with
// --log-layout tiles, exports the 12 old tokens to an entry bundle, keeps the anchored checkpoints'
// root, serves the old tokens' proofs, appends new tokens after them, and tsa-audit-verify passes.
// A half-built export left by a crash is removed and redone; with --log-layout sqlite or without
// --log-layout (tiles is only the default of a NEW log) the old log stays as it is.
#include <gtest/gtest.h>

#include "audit_helpers.h"
#include "tsa/crypto/ed25519_key.h"
#include "tsa/store/schema.h"

namespace tsa::test::audit_it {
namespace {

constexpr int kOldTokens = 12;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class LogMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakePki(dir_.Sub("pki"), &pki_));
    auto key = crypto::Ed25519Key::Generate();
    ASSERT_TRUE(key && WriteText(pki_.dir + "/log_key.pem", *key->PrivatePem()));
    db_ = dir_.Sub("audit.db");
    auto db = store::Database::Open(db_, store::OpenOptions{});  // created here, from the dump
    ASSERT_TRUE(db) << db.error().ToString();
    const std::string dump = ReadText(std::string(TSA_TESTDATA_DIR) + "/audit_v4_sqlite_layout.sql");
    ASSERT_FALSE(dump.empty());
    ASSERT_TRUE((*db)->Exec(dump));
  }
  std::unique_ptr<TsadProcess> Start(const std::string& layout) {  // "": no --log-layout
    auto tsad = MakeTsad(pki_, layout.empty() ? std::vector<std::string>{} : std::vector<std::string>{"--log-layout", layout},
                         db_);
    EXPECT_TRUE(tsad->Start());
    return tsad;
  }
  std::int64_t Count(const std::string& table) {
    auto n = QueryInt(db_, "SELECT COUNT(*) FROM " + table);
    return n ? *n : -1;
  }
  // Structure only: the fixture's TSA certificate is not in the tree (its tokens carry it).
  CommandResult Verify() { return RunCommand({ToolPath("tsa-audit-verify"), db_, "--structure-only"}); }

  TempDir dir_;
  Pki pki_;
  std::string db_;
};

TEST_F(LogMigrationTest, ThePreviousReleasesLogMovesToTilesAndKeepsItsProofs) {
  ASSERT_EQ(Count("tokens"), kOldTokens);
  const auto old_serials = [&] {
    std::vector<std::string> out;
    auto db = OpenDb(db_);
    auto st = (*db)->Prepare("SELECT serial FROM tokens ORDER BY idx");
    while (st && *st->Step()) out.push_back(NormSerial(st->ColumnText(0)));
    return out;
  }();
  ASSERT_EQ(old_serials.size(), static_cast<std::size_t>(kOldTokens));
  ASSERT_EQ(Verify().exit_code, 0) << "the fixture itself verifies";

  auto tsad = Start("tiles");
  const int port = tsad->port();
  EXPECT_EQ(Count("tokens"), 0) << "the rows moved out";
  EXPECT_EQ(Count("leaf_index"), kOldTokens);
  EXPECT_EQ(*QueryInt(db_, "PRAGMA user_version"), tsa::store::kSchemaVersion);
  EXPECT_TRUE(std::filesystem::exists(db_ + ".tiles/entries.tail"));
  EXPECT_FALSE(std::filesystem::exists(db_ + ".tiles/MIGRATING"));
  for (const std::string& serial : {old_serials.front(), old_serials.back()}) {
    const HttpResponse proof = HttpGet(port, "/audit/proof?serial=" + serial + "&format=tlog-proof");
    EXPECT_EQ(proof.status, 200) << serial << ": " << proof.Summary();
  }
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(port, 5, &issued));
  ASSERT_TRUE(WaitUntil(
      [&] {
        return HttpGet(port, "/log/checkpoint").body_text().find("\n" + std::to_string(kOldTokens + 5) + "\n") !=
               std::string::npos;
      },
      5s, 50ms));
  const HttpResponse bundle = HttpGet(port, "/log/tile/entries/000.p/" + std::to_string(kOldTokens + 5));
  ASSERT_EQ(bundle.status, 200) << bundle.Summary();
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  EXPECT_EQ(Count("leaf_index"), kOldTokens + 5) << "new tokens append after the old ones";
  const CommandResult verified = Verify();
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  const CommandResult proof = RunCommand({ToolPath("tsa-audit"), "proof", db_, "--serial", old_serials[3], "--allow-unanchored"});
  EXPECT_EQ(proof.exit_code, 0) << proof.output;
}

TEST_F(LogMigrationTest, AnInterruptedExportIsRemovedAndRedone) {
  // What a crash during the export leaves: a half-built directory, the database untouched.
  std::filesystem::create_directories(db_ + ".tiles.migrating/tile/entries");
  ASSERT_TRUE(WriteText(db_ + ".tiles.migrating/entries.tail", "\x01\x00half"));
  auto tsad = Start("tiles");
  EXPECT_FALSE(std::filesystem::exists(db_ + ".tiles.migrating"));
  EXPECT_EQ(Count("leaf_index"), kOldTokens);
  ASSERT_EQ(tsad->Stop(), 0);
  EXPECT_EQ(Verify().exit_code, 0);
}

TEST_F(LogMigrationTest, WithoutTheTilesLayoutTheOldLogStaysInSqlite) {
  auto tsad = Start("sqlite");
  ASSERT_TRUE(IssueMany(tsad->port(), 2, nullptr));
  ASSERT_EQ(tsad->Stop(), 0);
  EXPECT_EQ(Count("tokens"), kOldTokens + 2);
  EXPECT_FALSE(std::filesystem::exists(db_ + ".tiles"));
  EXPECT_EQ(Verify().exit_code, 0);
}

// An upgrade that keeps its configuration: the default layout never moves an existing log, and
// the started line says how to move it. Asked for afterwards, the move still happens.
TEST_F(LogMigrationTest, WithTheDefaultLayoutTheOldLogStaysInSqliteUntilTilesIsGiven) {
  {
    auto tsad = Start("");
    ASSERT_TRUE(IssueMany(tsad->port(), 2, nullptr));
    EXPECT_NE(tsad->log().find("log_layout=\"sqlite (the existing log keeps its layout; --log-layout tiles moves it"),
              std::string::npos)
        << tsad->log();
    ASSERT_EQ(tsad->Stop(), 0);
  }
  EXPECT_EQ(Count("tokens"), kOldTokens + 2);
  EXPECT_FALSE(std::filesystem::exists(db_ + ".tiles"));
  EXPECT_EQ(Verify().exit_code, 0);
  auto tsad = Start("tiles");
  ASSERT_EQ(tsad->Stop(), 0);
  EXPECT_EQ(Count("tokens"), 0);
  EXPECT_EQ(Count("leaf_index"), kOldTokens + 2);
  EXPECT_EQ(Verify().exit_code, 0);
}

}  // namespace
}  // namespace tsa::test::audit_it
