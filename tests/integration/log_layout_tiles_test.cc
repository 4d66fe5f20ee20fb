// The tiles layout of a real tsad (--log-layout tiles, AUDIT_CHAIN.md "On-disk layout"): the
// tokens land in C2SP entry bundles under <db>.tiles/ exactly as sent, the served full tiles are
// those files, a proof by serial works right after issuance, tsa-audit-verify checks the layout
// and notices a flipped byte in a bundle or a hash tile, a torn tail entry left by a crash is cut
// off at the next start, a missing tile directory stops tsad from starting, and one replaced
// under a running tsad stops issuance. Without --log-layout a new log is tiles (sqlite with
// --store-token-hashes-only); tiles given by flag, TSA_LOG_LAYOUT or the config file with
// --store-token-hashes-only refuses to start.
#include <gtest/gtest.h>

#include <filesystem>

#include "audit_helpers.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::test::audit_it {
namespace {

std::vector<std::uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void FlipByte(const std::string& path, std::size_t at) {
  auto bytes = ReadAll(path);
  ASSERT_GT(bytes.size(), at) << path;
  bytes[at] ^= 0x01;
  ASSERT_TRUE(WriteFile(path, bytes));
}

class LogLayoutTilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakePki(dir_.Sub("pki"), &pki_));
    auto key = crypto::Ed25519Key::Generate();
    ASSERT_TRUE(key && WriteText(pki_.dir + "/log_key.pem", *key->PrivatePem()));
    db_ = dir_.Sub("audit.db");
    tiles_ = db_ + ".tiles";
  }
  std::unique_ptr<TsadProcess> Start() {
    auto tsad = MakeTsad(pki_, {"--log-layout", "tiles", "--log-origin", "tiles.test/log"}, db_);
    EXPECT_TRUE(tsad->Start());
    return tsad;
  }
  std::int64_t Count(const std::string& table) {
    auto n = QueryInt(db_, "SELECT COUNT(*) FROM " + table);
    return n ? *n : -1;
  }
  CommandResult Verify() { return RunCommand({ToolPath("tsa-audit-verify"), db_, "--tsa-cert", pki_.tsa_cert()}); }

  TempDir dir_;
  Pki pki_;
  std::string db_, tiles_;
};

TEST_F(LogLayoutTilesTest, TokensLandInEntryBundlesAndTheServedTilesAreTheFiles) {
  auto tsad = Start();
  const int port = tsad->port();
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(port, 260, &issued));
  // A proof by serial at once: the serial index of the newest leaves is still in memory.
  const HttpResponse proof = HttpGet(port, "/audit/proof?serial=" + issued.back().serial + "&format=tlog-proof");
  EXPECT_LT(proof.status, 500) << proof.Summary();  // 200, or no signed checkpoint covers it yet
  ASSERT_TRUE(
      WaitUntil([&] { return HttpGet(port, "/log/checkpoint").body_text().find("\n260\n") != std::string::npos; }, 5s, 50ms));
  const HttpResponse by_serial = HttpGet(port, "/audit/proof?serial=" + issued.back().serial + "&format=tlog-proof");
  EXPECT_EQ(by_serial.status, 200) << by_serial.Summary();

  const auto bundle = ReadAll(tiles_ + "/tile/entries/000");
  std::vector<std::uint8_t> expected;
  for (std::size_t i = 0; i < 256; ++i) {
    expected.push_back(static_cast<std::uint8_t>(issued[i].token.size() >> 8));
    expected.push_back(static_cast<std::uint8_t>(issued[i].token.size()));
    expected.insert(expected.end(), issued[i].token.begin(), issued[i].token.end());
  }
  EXPECT_EQ(bundle, expected) << "256 × (uint16 length ‖ the TimeStampToken as sent)";
  EXPECT_EQ(HttpGet(port, "/log/tile/entries/000").body, bundle);
  // The tile writer thread puts a full hash tile on disk shortly after the commit that filled it.
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(tiles_ + "/tile/0/000"); }, 5s, 10ms));
  const auto level0 = ReadAll(tiles_ + "/tile/0/000");
  ASSERT_EQ(level0.size(), 256u * 32);
  EXPECT_EQ(HttpGet(port, "/log/tile/0/000").body, level0);
  for (std::size_t i = 0; i < 256; i += 85) {
    const audit::Hash leaf = audit::LeafHash(issued[i].token);
    EXPECT_TRUE(std::equal(leaf.begin(), leaf.end(), level0.begin() + static_cast<std::ptrdiff_t>(i * 32))) << i;
  }
  EXPECT_EQ(HttpGet(port, "/log/tile/entries/001.p/4").status, 200);
  EXPECT_FALSE(std::filesystem::exists(tiles_ + "/tile/entries/001")) << "tile/ holds only full tiles";
  // The serial index catches up within about a second (written off the hot path).
  ASSERT_TRUE(WaitUntil([&] { return Count("leaf_index") == 260; }, 5s));
  EXPECT_EQ(Count("tokens"), 0) << "no token rows in this layout";
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();

  const CommandResult ok = Verify();
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  const CommandResult tool_proof = RunCommand(
      {ToolPath("tsa-audit"), "proof", db_, "--serial", issued[3].serial, "--format", "tlog-proof"});
  EXPECT_EQ(tool_proof.exit_code, 0) << tool_proof.output;
}

// The tiles layout's counterpart of audit_tamper_test.cc (which rewrites the sqlite layout's rows).
TEST_F(LogLayoutTilesTest, AFlippedByteInABundleOrAHashTileFailsTheVerifier) {
  std::vector<Issued> issued;
  {
    auto tsad = Start();
    ASSERT_TRUE(IssueMany(tsad->port(), 258, &issued));
    ASSERT_TRUE(WaitUntil(
        [&] { return HttpGet(tsad->port(), "/log/checkpoint").body_text().find("\n258\n") != std::string::npos; }, 5s, 50ms));
    ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  }
  ASSERT_EQ(Verify().exit_code, 0);
  for (const std::string file : {"/tile/entries/000", "/tile/0/000"}) {
    const auto original = ReadAll(tiles_ + file);
    FlipByte(tiles_ + file, original.size() / 2);
    const CommandResult bad = Verify();
    EXPECT_EQ(bad.exit_code, 1) << file << ": " << bad.output;
    ASSERT_TRUE(WriteFile(tiles_ + file, original));
  }
  // A byte inside leaf 7's token in the full bundle: the verifier names that leaf.
  std::size_t at = 0;
  for (std::size_t i = 0; i < 7; ++i) at += 2 + issued[i].token.size();
  const auto bundle = ReadAll(tiles_ + "/tile/entries/000");
  FlipByte(tiles_ + "/tile/entries/000", at + 2 + issued[7].token.size() / 2);
  const CommandResult leaf7 = Verify();
  EXPECT_EQ(leaf7.exit_code, 1) << leaf7.output;
  EXPECT_NE(leaf7.output.find("first bad index 7"), std::string::npos) << leaf7.output;
  ASSERT_TRUE(WriteFile(tiles_ + "/tile/entries/000", bundle));
  // A byte of leaf 257's token in the partial bundle (no full hash tile covers it yet).
  const auto tail = ReadAll(tiles_ + "/entries.tail");
  FlipByte(tiles_ + "/entries.tail", tail.size() - issued[257].token.size() / 2);
  const CommandResult flipped = Verify();
  EXPECT_EQ(flipped.exit_code, 1) << flipped.output;
  ASSERT_TRUE(WriteFile(tiles_ + "/entries.tail", tail));
  EXPECT_EQ(Verify().exit_code, 0);
  // Full tiles beyond the tree size (a rollback, another log's files) are reported like the SQLite
  // layout's stray nodes.
  for (const std::string stray : {"/tile/entries/005", "/tile/0/x001/000"}) {
    std::filesystem::create_directories(std::filesystem::path(tiles_ + stray).parent_path());
    std::filesystem::copy_file(tiles_ + "/tile/" + (stray.find("entries") != std::string::npos ? "entries" : "0") + "/000",
                               tiles_ + stray);
    const CommandResult bad = Verify();
    EXPECT_EQ(bad.exit_code, 1) << stray << ": " << bad.output;
    EXPECT_NE(bad.output.find("tile file " + stray.substr(1) + " lies outside the tree of 258 leaves"), std::string::npos)
        << bad.output;
    std::filesystem::remove(tiles_ + stray);
  }
  EXPECT_EQ(Verify().exit_code, 0);
}

// Go's sumdb/tlog (tests/go/tlogcheck) over the files as tsad serves them: the log verifies, and a
// byte flipped on disk in a full bundle or a full hash tile fails it.
TEST_F(LogLayoutTilesTest, GoSumdbTlogCatchesAFlippedByteInTheFiles) {
  if (::access(TSA_TLOGCHECK, X_OK) != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "go is required under CI=true (scripts/install-deps --test)";
    GTEST_SKIP() << "go not installed: " << TSA_TLOGCHECK << " was not built";
  }
  auto tsad = Start();
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 258, nullptr));
  ASSERT_TRUE(
      WaitUntil([&] { return HttpGet(port, "/log/checkpoint").body_text().find("\n258\n") != std::string::npos; }, 5s, 50ms));
  std::string vkey = HttpGet(port, "/log/vkey").body_text();
  ASSERT_FALSE(vkey.empty());
  vkey.pop_back();
  const std::vector<std::string> argv = {TSA_TLOGCHECK, "-url", tsad->base_url() + "/log", "-vkey", vkey};
  const CommandResult clean = RunCommand(argv);
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  for (const std::string file : {"/tile/entries/000", "/tile/0/000"}) {
    const auto original = ReadAll(tiles_ + file);
    FlipByte(tiles_ + file, original.size() / 2);
    const CommandResult bad = RunCommand(argv);
    EXPECT_EQ(bad.exit_code, 1) << file << ": " << bad.output;
    ASSERT_TRUE(WriteFile(tiles_ + file, original));
  }
  EXPECT_EQ(RunCommand(argv).exit_code, 0);
}

TEST_F(LogLayoutTilesTest, ATornTailEntryIsCutOffAndTheLogContinues) {
  std::vector<Issued> issued;
  {
    auto tsad = Start();
    ASSERT_TRUE(IssueMany(tsad->port(), 20, &issued));
    tsad->Kill();  // no clean shutdown: the serial index is caught up at the next start
  }
  {
    std::ofstream tail(tiles_ + "/entries.tail", std::ios::binary | std::ios::app);
    tail << '\x04' << '\x00' << "\x30\x82 a crash in the middle of an append";
  }
  auto tsad = Start();
  ASSERT_TRUE(IssueMany(tsad->port(), 5, &issued));
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(tsad->port(), "/log/checkpoint").body_text().find("\n25\n") != std::string::npos; },
                        5s, 50ms));
  for (const std::size_t i : {std::size_t{0}, std::size_t{19}, std::size_t{24}}) {
    const HttpResponse proof = HttpGet(tsad->port(), "/audit/proof?serial=" + issued[i].serial + "&format=tlog-proof");
    EXPECT_EQ(proof.status, 200) << i << ": " << proof.Summary();
  }
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  EXPECT_EQ(Count("leaf_index"), 25);
  const CommandResult ok = Verify();
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

TEST_F(LogLayoutTilesTest, AMissingTileDirectoryIsRefusedAtStart) {
  {
    auto tsad = Start();
    ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));
    ASSERT_EQ(tsad->Stop(), 0);
  }
  std::filesystem::rename(tiles_, tiles_ + ".away");
  auto failure = TsadProcess::RunExpectingFailure(
      {"--cert-dir", pki_.dir, "--db", db_, "--log-layout", "tiles", "--no-anchor", "--allow-unsynced-clock"});
  EXPECT_FALSE(failure.started);
  EXPECT_NE(failure.stderr_text.find("does not exist"), std::string::npos) << failure.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(tiles_)) << "never recreated empty";
}

// The tile directory replaced under a running tsad (moved away, a copy put in its place): no
// token goes into files the log does not hold; tsad refuses with systemFailure and /health says
// why; restarted on the original directory, the log has exactly the tokens granted and verifies.
TEST_F(LogLayoutTilesTest, AReplacedTileDirectoryRefusesTokensAndTheOriginalVerifies) {
  auto tsad = Start();
  const int port = tsad->port();
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(port, 5, &issued));
  ASSERT_EQ(HealthStatus(port), 200);
  std::filesystem::rename(tiles_, tiles_ + ".orig");
  std::filesystem::copy(tiles_ + ".orig", tiles_, std::filesystem::copy_options::recursive);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(RefusedWithSystemFailure(port)) << "request " << i;
  nlohmann::json health;
  EXPECT_EQ(HealthStatus(port, &health), 503) << health.dump();
  EXPECT_NE(health.dump().find("tile directory"), std::string::npos) << health.dump();
  tsad->Stop();

  std::filesystem::remove_all(tiles_);
  std::filesystem::rename(tiles_ + ".orig", tiles_);
  auto again = Start();
  ASSERT_TRUE(IssueMany(again->port(), 2, &issued));
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(again->port(), "/log/checkpoint").body_text().find("\n7\n") != std::string::npos; },
                        5s, 50ms));
  ASSERT_EQ(again->Stop(), 0) << again->log();
  EXPECT_EQ(Count("leaf_index"), 7) << "the 5 + 2 granted tokens, none of the refused ones";
  const CommandResult ok = Verify();
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

// The default layout of a new log, as an operator meets it: no --log-layout anywhere.
TEST_F(LogLayoutTilesTest, ANewLogIsTilesByDefault) {
  auto tsad = MakeTsad(pki_, {}, db_);
  ASSERT_TRUE(tsad->Start());
  ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));
  EXPECT_NE(tsad->log().find("log_layout=\"tiles (" + tiles_ + ")\""), std::string::npos) << tsad->log();
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  EXPECT_TRUE(std::filesystem::exists(tiles_ + "/entries.tail"));
  EXPECT_EQ(Count("tokens"), 0);
  auto leaves = ReadTokens(db_);
  ASSERT_TRUE(leaves) << leaves.error().ToString();
  ASSERT_EQ(leaves->size(), 3u);
  EXPECT_TRUE(leaves->front().tiles);
  EXPECT_EQ(Verify().exit_code, 0);
}

TEST_F(LogLayoutTilesTest, HashesOnlyMakesANewLogSqliteByDefault) {
  auto tsad = MakeTsad(pki_, {"--store-token-hashes-only"}, db_);
  ASSERT_TRUE(tsad->Start());
  ASSERT_TRUE(IssueMany(tsad->port(), 2, nullptr));
  EXPECT_NE(tsad->log().find("log_layout=sqlite "), std::string::npos) << tsad->log();
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  EXPECT_FALSE(std::filesystem::exists(tiles_));
  EXPECT_EQ(Count("tokens WHERE token IS NULL"), 2) << "two rows, each without its token";
  EXPECT_EQ(Verify().exit_code, 0);
}

// Asked for explicitly, in any of the three ways, tiles cannot keep only hashes: one line, exit 1.
TEST_F(LogLayoutTilesTest, TilesGivenWithHashesOnlyIsRefusedForANewLog) {
  const std::vector<std::string> base = {
      "--cert-dir", pki_.dir, "--db", db_, "--store-token-hashes-only", "--no-anchor", "--allow-unsynced-clock"};
  const std::string config = dir_.Sub("tsad.conf");
  ASSERT_TRUE(WriteText(config, "log-layout = \"tiles\"\n"));
  for (const std::string how : {"flag", "environment", "config"}) {
    std::vector<std::string> args = base;
    if (how == "flag") args.insert(args.end(), {"--log-layout", "tiles"});
    if (how == "config") args.insert(args.end(), {"--config", config});
    if (how == "environment") ::setenv("TSA_LOG_LAYOUT", "tiles", 1);
    const auto failure = TsadProcess::RunExpectingFailure(args);
    ::unsetenv("TSA_LOG_LAYOUT");
    EXPECT_FALSE(failure.started) << how;
    EXPECT_EQ(failure.exit_code, 1) << how << ": " << failure.stderr_text;
    EXPECT_NE(failure.stderr_text.find("--log-layout tiles keeps every token"), std::string::npos)
        << how << ": " << failure.stderr_text;
    EXPECT_FALSE(std::filesystem::exists(tiles_)) << how;
  }
}

}  // namespace
// Whole entries cut off the end of the tail leave a valid, shorter log: only what tsad published
// about it tells. Its latest C2SP checkpoint (about every second) is checked against the tree by
// tsa-audit-verify and by tsad's start-up, anchored or not.
TEST_F(LogLayoutTilesTest, EntriesCutCleanlyOffTheEndAreFoundOfflineAndAtStart) {
  auto tsad = Start();
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(tsad->port(), 5, &issued));
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(tsad->port(), "/log/checkpoint").body_text().find("\n5\n") != std::string::npos; },
                        5s, 50ms));
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  ASSERT_EQ(Verify().exit_code, 0);

  const std::string tail = tiles_ + "/entries.tail";
  auto bytes = ReadAll(tail);
  ASSERT_GT(bytes.size(), issued.back().token.size() + 2);
  bytes.resize(bytes.size() - issued.back().token.size() - 2);  // the last entry, length and all
  ASSERT_TRUE(WriteFile(tail, bytes));
  const CommandResult cut = Verify();
  EXPECT_EQ(cut.exit_code, 1) << cut.output;
  EXPECT_NE(cut.output.find("latest signed checkpoint (C2SP note, tree size 5) is beyond the end of the log (4 leaves)"),
            std::string::npos)
      << cut.output;
  const auto refused = TsadProcess::RunExpectingFailure({"--cert-dir", pki_.dir, "--db", db_, "--log-layout", "tiles",
                                                         "--log-origin", "tiles.test/log", "--no-anchor",
                                                         "--allow-unsynced-clock"});
  EXPECT_FALSE(refused.started);
  // The serial index (5 rows) or the signed checkpoint (size 5), whichever is checked first.
  const bool named = refused.stderr_text.find("holds only 4") != std::string::npos ||
                     refused.stderr_text.find("fewer than its latest signed checkpoint (C2SP note, tree size 5)") !=
                         std::string::npos;
  EXPECT_TRUE(named) << refused.stderr_text;
}

}  // namespace tsa::test::audit_it
