// C2SP checkpoints of a real tsad (AUDIT_CHAIN.md "C2SP checkpoints"): GET /log/vkey and
// /log/checkpoint, the note verified with the verifier key, a new checkpoint within about a second
// of issuance whose root is the log head, and the start-up choices without a log key.
#include <gtest/gtest.h>

#include "audit_helpers.h"
#include "tsa/crypto/ed25519_key.h"
#include "tsa/verify/note_verifier.h"

namespace tsa::test::audit_it {
namespace {

::testing::AssertionResult WriteLogKey(const std::string& path) {
  auto key = crypto::Ed25519Key::Generate();
  if (!key) return ::testing::AssertionFailure() << key.error().message;
  auto pem = key->PrivatePem();
  if (!pem || !WriteText(path, *pem)) return ::testing::AssertionFailure() << "cannot write " << path;
  return ::testing::AssertionSuccess();
}

std::optional<verify::CheckpointBody> FetchCheckpoint(int port, const verify::VerifierKey& key, HttpResponse* raw = nullptr) {
  HttpResponse r = HttpGet(port, "/log/checkpoint");
  if (raw) *raw = r;
  if (r.status != 200) return std::nullopt;
  auto body = verify::OpenNote(r.body_text(), key);
  if (!body) return std::nullopt;
  auto cp = verify::ParseCheckpointBody(*body);
  return cp ? std::optional(*cp) : std::nullopt;
}

class LogCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakePki(dir_.Sub("pki"), &pki_));
    ASSERT_TRUE(WriteLogKey(pki_.dir + "/log_key.pem"));
  }
  TempDir dir_;
  Pki pki_;
};

TEST_F(LogCheckpointTest, ServesASignedCheckpointOfTheHeadWithinASecond) {
  auto tsad = MakeTsad(pki_, {"--log-origin", "tsa.test/log"});
  ASSERT_TRUE(tsad->Start());
  HttpResponse v = HttpGet(tsad->port(), "/log/vkey");
  ASSERT_EQ(v.status, 200) << v.Summary();
  EXPECT_EQ(v.header("Content-Type"), "text/plain; charset=utf-8");
  std::string vkey = v.body_text();
  ASSERT_FALSE(vkey.empty());
  ASSERT_EQ(vkey.back(), '\n');
  vkey.pop_back();
  auto key = verify::ParseVerifierKey(vkey);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->name, "tsa.test/log");

  HttpResponse raw;
  auto empty = FetchCheckpoint(tsad->port(), *key, &raw);
  ASSERT_TRUE(empty) << raw.Summary();
  EXPECT_EQ(raw.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(raw.header("Cache-Control").empty());
  EXPECT_EQ(empty->origin, "tsa.test/log");
  EXPECT_EQ(empty->tree_size, 0u);
  EXPECT_EQ(empty->root, audit::EmptyRoot());

  ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));
  const auto start = Clock::now();
  std::optional<verify::CheckpointBody> cp;
  ASSERT_TRUE(WaitUntil(
      [&] {
        cp = FetchCheckpoint(tsad->port(), *key);
        return cp && cp->tree_size == 3;
      },
      5s, 50ms));
  EXPECT_LT(Clock::now() - start, 2500ms);
  const auto head = Checkpoint(tsad->port())["head"];
  EXPECT_EQ(audit::HashHex(cp->root), head["root"].get<std::string>());
}

// A checkpoint that cannot be stored (here: the database already holds a note of the next size
// with another root, as after a fork) shows in /health, still 200: tokens are issued and logged.
TEST_F(LogCheckpointTest, APublisherFailureShowsInHealthAsDegraded) {
  auto tsad = MakeTsad(pki_, {"--log-origin", "tsa.test/log"});
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 2, nullptr));
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(port, "/log/checkpoint").body_text().find("\n2\n") != std::string::npos; }, 5s));
  {
    auto db = OpenDb(tsad->db_path(), /*read_only=*/false);
    ASSERT_TRUE(db) << db.error().message;
    ASSERT_TRUE(
        (*db)->Exec("INSERT INTO log_checkpoints (tree_size, root_hash, note, created_at_us) "
                    "VALUES (3, zeroblob(32), 'forged', 0)"));
  }
  ASSERT_TRUE(IssueMany(port, 1, nullptr)) << "issuance goes on";
  nlohmann::json health;
  int status = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        health = GetJson(port, "/health", &status);
        return health.is_object() && health["status"] == "degraded";
      },
      5s, 50ms))
      << health.dump(2);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(health["checks"]["log_checkpoint"]["ok"], false);
  EXPECT_NE(health["checks"]["log_checkpoint"]["last_error"].get<std::string>().find("another root"), std::string::npos)
      << health.dump(2);
  EXPECT_NE(health["degraded"][0].get<std::string>().find("log checkpoint"), std::string::npos) << health.dump(2);
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

TEST_F(LogCheckpointTest, CheckpointsSurviveARestartAndOneSizeHasOneRoot) {
  const std::string db = dir_.Sub("log.db");
  std::string first_note;
  {
    auto tsad = MakeTsad(pki_, {}, db);
    ASSERT_TRUE(tsad->Start());
    ASSERT_TRUE(IssueMany(tsad->port(), 2, nullptr));
    ASSERT_TRUE(
        WaitUntil([&] { return HttpGet(tsad->port(), "/log/checkpoint").body_text().find("\n2\n") != std::string::npos; }, 5s));
    first_note = HttpGet(tsad->port(), "/log/checkpoint").body_text();
  }
  auto tsad = MakeTsad(pki_, {}, db);
  ASSERT_TRUE(tsad->Start());
  // Same head: the stored note is served again, not a second one for size 2.
  EXPECT_EQ(HttpGet(tsad->port(), "/log/checkpoint").body_text(), first_note);
  auto store = OpenDb(db);
  ASSERT_TRUE(store);
}

// c2sp.org/tlog-proof@v1 from GET /audit/proof?format=tlog-proof and tsa-audit proof, checked
// offline by tsa-audit-verify --tlog-proof; a changed proof or another token fails.
TEST_F(LogCheckpointTest, TlogProofVerifiesOfflineAndTamperingFails) {
  if (!ToolExists("tsa-audit-verify") || !ToolExists("tsa-audit")) GTEST_SKIP() << "tools not built";
  auto tsad = MakeTsad(pki_, {});
  ASSERT_TRUE(tsad->Start());
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(tsad->port(), 5, &issued));
  std::string vkey = HttpGet(tsad->port(), "/log/vkey").body_text();
  ASSERT_FALSE(vkey.empty());
  vkey.pop_back();
  HttpResponse r;
  ASSERT_TRUE(WaitUntil(
      [&] {
        r = HttpGet(tsad->port(), "/audit/proof?serial=" + issued[2].serial + "&format=tlog-proof");
        return r.status == 200;
      },
      5s, 50ms))
      << r.Summary();
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  const std::string proof = r.body_text();
  ASSERT_EQ(proof.rfind("c2sp.org/tlog-proof@v1\nindex 2\n", 0), 0u) << proof;
  ASSERT_TRUE(WriteText(dir_.Sub("p.tlog-proof"), proof));
  ASSERT_TRUE(WriteFile(dir_.Sub("t2.tsr"), issued[2].reply));
  ASSERT_TRUE(WriteFile(dir_.Sub("t3.tsr"), issued[3].reply));
  auto verify = [&](const std::string& proof_file, const std::string& token) {
    return RunCommand({ToolPath("tsa-audit-verify"), "--tlog-proof", proof_file, "--vkey", vkey, "--token", token});
  };
  auto ok = verify(dir_.Sub("p.tlog-proof"), dir_.Sub("t2.tsr"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("tlog-proof OK"), std::string::npos) << ok.output;
  EXPECT_EQ(verify(dir_.Sub("p.tlog-proof"), dir_.Sub("t3.tsr")).exit_code, 1);

  std::string tampered = proof;
  const std::size_t hash_line = tampered.find("index 2\n") + 8;
  tampered[hash_line] = tampered[hash_line] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(WriteText(dir_.Sub("bad.tlog-proof"), tampered));
  EXPECT_EQ(verify(dir_.Sub("bad.tlog-proof"), dir_.Sub("t2.tsr")).exit_code, 1);
  std::string bad_sig = proof;
  bad_sig[bad_sig.size() - 5] = bad_sig[bad_sig.size() - 5] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(WriteText(dir_.Sub("badsig.tlog-proof"), bad_sig));
  EXPECT_EQ(verify(dir_.Sub("badsig.tlog-proof"), dir_.Sub("t2.tsr")).exit_code, 1);

  auto built = RunCommand({ToolPath("tsa-audit"), "proof", tsad->db_path(), "--serial", issued[2].serial, "--format",
                           "tlog-proof", "-o", dir_.Sub("cli.tlog-proof")});
  ASSERT_EQ(built.exit_code, 0) << built.output;
  auto cli = verify(dir_.Sub("cli.tlog-proof"), dir_.Sub("t2.tsr"));
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
}

TEST(LogCheckpointStartTest, WithoutALogKeyTsadWarnsAndServesNoCheckpoint) {
  TempDir dir;
  Pki pki;
  ASSERT_TRUE(MakePki(dir.Sub("pki"), &pki));
  auto tsad = MakeTsad(pki, {});
  ASSERT_TRUE(tsad->Start());
  EXPECT_EQ(HttpGet(tsad->port(), "/log/checkpoint").status, 404);
  EXPECT_EQ(HttpGet(tsad->port(), "/log/vkey").status, 404);
  EXPECT_NE(tsad->log().find("no_log_key"), std::string::npos) << tsad->log();
  EXPECT_TRUE(IssueOne(tsad->port()));
}

TEST(LogCheckpointStartTest, AnExplicitLogKeyThatIsMissingRefusesToStart) {
  TempDir dir;
  Pki pki;
  ASSERT_TRUE(MakePki(dir.Sub("pki"), &pki));
  auto tsad = MakeTsad(pki, {"--log-key", dir.Sub("absent.pem")});
  EXPECT_FALSE(tsad->Start());
  EXPECT_NE(tsad->log().find("--log-key"), std::string::npos) << tsad->log();
}

}  // namespace
}  // namespace tsa::test::audit_it
