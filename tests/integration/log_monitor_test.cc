// tsa-audit-verify --url (the monitor, AUDIT_CHAIN.md "Monitoring a log") against a real tsad:
// the first run checks every entry and writes the state; the next run proves consistency from it;
// a tsad restarted on a new database with the same log key and origin (a rewritten log) is caught
// as it shrinks, signs another root for the same size, and grows on other entries; a proxy that
// flips one byte of one resource is caught with the exit code of what it damaged; Go's sumdb/tlog
// agrees on the good log.
#include <gtest/gtest.h>

#include <filesystem>

#include "audit_helpers.h"
#include "support/fake_tsa.h"
#include "tsa/audit/signed_note.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::test::audit_it {
namespace {

constexpr char kOrigin[] = "monitor.test/log";

struct LogFixture {
  TempDir dir;
  Pki pki;
  std::string vkey_file;

  ::testing::AssertionResult Init() {
    if (auto made = MakePki(dir.Sub("pki"), &pki); !made) return made;
    auto key = crypto::Ed25519Key::Generate();
    if (!key || !WriteText(pki.dir + "/log_key.pem", *key->PrivatePem())) return ::testing::AssertionFailure() << "log key";
    return ::testing::AssertionSuccess();
  }
  std::unique_ptr<TsadProcess> Start(const std::string& db) {
    auto tsad = MakeTsad(pki, {"--log-origin", kOrigin}, db);
    if (!tsad->Start()) return nullptr;
    vkey_file = dir.Sub("vkey");
    WriteText(vkey_file, HttpGet(tsad->port(), "/log/vkey").body_text());  // "name+id+key\n", as served
    return tsad;
  }
};

bool WaitForSize(int port, std::uint64_t n) {
  return WaitUntil(
      [&] { return HttpGet(port, "/log/checkpoint").body_text().find("\n" + std::to_string(n) + "\n") != std::string::npos; }, 5s,
      50ms);
}

CommandResult Monitor(const std::string& url, const std::string& vkey, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {ToolPath("tsa-audit-verify"), "--url", url, "--vkey", vkey};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return RunCommand(argv);
}

TEST(LogMonitorTest, FirstRunWritesStateNextRunProvesConsistencyAndARewrittenLogIsCaught) {
  LogFixture f;
  ASSERT_TRUE(f.Init());
  auto tsad = f.Start(f.dir.Sub("a.db"));
  ASSERT_TRUE(tsad);
  const std::string url = tsad->base_url() + "/log", vkey = "@" + f.vkey_file, state = f.dir.Sub("state");
  ASSERT_TRUE(IssueMany(tsad->port(), 300, nullptr));
  ASSERT_TRUE(WaitForSize(tsad->port(), 300));

  auto first = Monitor(url, vkey, {"--state", state, "--tsa-ca", f.pki.ca_cert()});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("entries 0..299 (300) hash to the tiles and root, tokens signed by tsad"), std::string::npos)
      << first.output;
  auto saved = core::ReadFileText(state);
  ASSERT_TRUE(saved);
  EXPECT_EQ(*saved, HttpGet(tsad->port(), "/log/checkpoint").body_text());
  EXPECT_EQ(saved->rfind(std::string(kOrigin) + "\n300\n", 0), 0u) << *saved;

  ASSERT_TRUE(IssueMany(tsad->port(), 20, nullptr));
  ASSERT_TRUE(WaitForSize(tsad->port(), 320));
  auto second = Monitor(url, vkey, {"--state", state, "--tsa-ca", f.pki.ca_cert()});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("consistent with the state's size 300"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("entries 300..319 (20)"), std::string::npos) << second.output;
  auto unchanged = Monitor(url, vkey, {"--state", state});
  ASSERT_EQ(unchanged.exit_code, 0) << unchanged.output;
  EXPECT_NE(unchanged.output.find("unchanged since the state"), std::string::npos) << unchanged.output;
  const std::string state320 = *core::ReadFileText(state);

  if (::access(TSA_TLOGCHECK, X_OK) == 0) {  // Go's sumdb/tlog agrees (tests/go/tlogcheck)
    std::string key = HttpGet(tsad->port(), "/log/vkey").body_text();
    key.pop_back();
    auto go = RunCommand({TSA_TLOGCHECK, "-url", url, "-vkey", key});
    EXPECT_EQ(go.exit_code, 0) << go.output;
  }
  ASSERT_EQ(tsad->Stop(), 0);

  // Same PKI, same log key and origin, a new database: another history under the same name.
  auto forged = f.Start(f.dir.Sub("b.db"));
  ASSERT_TRUE(forged);
  const std::string forged_url = forged->base_url() + "/log";
  ASSERT_TRUE(IssueMany(forged->port(), 100, nullptr));
  ASSERT_TRUE(WaitForSize(forged->port(), 100));
  auto shrank = Monitor(forged_url, vkey, {"--state", state});
  EXPECT_EQ(shrank.exit_code, 4) << shrank.output;
  EXPECT_NE(shrank.output.find("the log shrank from size 320 to 100"), std::string::npos) << shrank.output;
  ASSERT_TRUE(IssueMany(forged->port(), 220, nullptr));
  ASSERT_TRUE(WaitForSize(forged->port(), 320));
  auto same_size = Monitor(forged_url, vkey, {"--state", state});
  EXPECT_EQ(same_size.exit_code, 4) << same_size.output;
  EXPECT_NE(same_size.output.find("two different roots signed for size 320"), std::string::npos) << same_size.output;
  ASSERT_TRUE(IssueMany(forged->port(), 10, nullptr));
  ASSERT_TRUE(WaitForSize(forged->port(), 330));
  auto forked = Monitor(forged_url, vkey, {"--state", state});
  EXPECT_EQ(forked.exit_code, 4) << forked.output;
  EXPECT_NE(forked.output.find("consistency proof fails"), std::string::npos) << forked.output;
  EXPECT_EQ(NonEmptyLines(forked.output).size(), 1u) << forked.output;
  EXPECT_EQ(*core::ReadFileText(state), state320) << "a failed run leaves the state alone";
  // The forged log is sound on its own: a fresh monitor accepts it (only the state catches it).
  EXPECT_EQ(Monitor(forged_url, vkey, {"--state", f.dir.Sub("fresh-state")}).exit_code, 0);
  for (const auto& entry : std::filesystem::directory_iterator(f.dir.path())) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path() << " left behind";
  }
}

// A proxy between the monitor and tsad that damages one resource: one flipped byte in a tile or
// an entry bundle fails the run (1), in the checkpoint its signature (5); a 404 where the
// checkpoint needs a tile, or no log at all, is an unreadable input (3).
TEST(LogMonitorTest, TamperingProxyIsCaught) {
  LogFixture f;
  ASSERT_TRUE(f.Init());
  auto tsad = f.Start("");
  ASSERT_TRUE(tsad);
  ASSERT_TRUE(IssueMany(tsad->port(), 260, nullptr));
  ASSERT_TRUE(WaitForSize(tsad->port(), 260));
  FakeTsa proxy;
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  const int upstream = tsad->port();
  auto through = [&](const std::string& damaged, bool missing) {
    proxy.SetHandler([upstream, damaged, missing](const FakeRequest& req) {
      FakeReply reply;
      if (missing && req.target == damaged) {
        reply.status = 404;
        return reply;
      }
      HttpResponse r = HttpGet(upstream, req.target);
      reply.status = r.status;
      reply.content_type = r.header("Content-Type");
      reply.body = r.body;
      if (req.target == damaged && !reply.body.empty()) reply.body[reply.body.size() / 2] ^= 0x01;
      return reply;
    });
    return Monitor(proxy.url("/log"), "@" + f.vkey_file);
  };
  auto clean = through("", false);
  ASSERT_EQ(clean.exit_code, 0) << clean.output;
  struct Case {
    const char* target;
    bool missing;
    int exit_code;
    const char* says;
  };
  for (const Case& c :
       {Case{"/log/tile/0/000", false, 1, "log tampered: "}, Case{"/log/tile/0/001.p/4", false, 1, "log tampered: "},
        Case{"/log/tile/1/000.p/1", false, 1, "tile/1/000.p/1: hash 0 is not the one its entries give"},
        Case{"/log/tile/entries/000", false, 1, "log tampered: "},
        Case{"/log/checkpoint", false, 5, "log bad checkpoint: the checkpoint does not verify"},
        Case{"/log/tile/0/001.p/4", true, 3, "HTTP 404"}}) {
    auto r = through(c.target, c.missing);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.target << ": " << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << c.target << ": " << r.output;
    EXPECT_EQ(NonEmptyLines(r.output).size(), 1u) << r.output;
  }
  std::string other_key = HttpGet(upstream, "/log/vkey").body_text();
  other_key.pop_back();
  other_key.back() = other_key.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Monitor(tsad->base_url() + "/log", other_key).exit_code, 3) << "a garbled --vkey is unreadable";
  auto other = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(other);
  auto wrong = Monitor(tsad->base_url() + "/log", audit::VerifierKeyString(kOrigin, other->public_key()));
  EXPECT_EQ(wrong.exit_code, 5) << wrong.output;
  EXPECT_NE(wrong.output.find("note has no signature by monitor.test/log"), std::string::npos) << wrong.output;
  auto nobody = Monitor("http://127.0.0.1:" + std::to_string(ClosedLocalPort()) + "/log", "@" + f.vkey_file);
  EXPECT_EQ(nobody.exit_code, 3) << nobody.output;
  EXPECT_NE(nobody.output.find("cannot fetch the checkpoint"), std::string::npos) << nobody.output;
}

TEST(LogMonitorTest, UsageErrors) {
  const std::string tool = ToolPath("tsa-audit-verify");
  EXPECT_EQ(RunCommand({tool, "--url", "http://127.0.0.1:1/log"}).exit_code, 2);                    // no --vkey
  EXPECT_EQ(RunCommand({tool, "--url", "ftp://x/log", "--vkey", "a+00000000+AA=="}).exit_code, 2);  // not http(s)
  EXPECT_EQ(RunCommand({tool, "db.sqlite", "--state", "s", "--structure-only"}).exit_code, 2);      // --state without --url
  EXPECT_EQ(RunCommand({tool, "--url", "http://127.0.0.1:1/log", "--vkey", "@/nonexistent/vkey"}).exit_code, 3);
}

}  // namespace
}  // namespace tsa::test::audit_it
