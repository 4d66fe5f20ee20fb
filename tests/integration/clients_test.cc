// Client authentication (--clients, made with the real tsa-clients tool) and rate limits
// (--rate-limit) against a real tsad: 401 with both challenges, Bearer and Basic keys (curl with
// user:key@ in the URL), per-client policies, SIGHUP reloads (a malformed file keeps the old
// set), and a client over its rate getting 429 + Retry-After, then served after the wait.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "audit_helpers.h"
#include "shared_tsad.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/response_inspector.h"

namespace tsa::test {
namespace {

using namespace std::chrono_literals;

const std::string kData = "clients test";

HttpResponse Issue(int port, const Headers& headers = {}) {
  return HttpPost(port, "/tsa", std::vector<std::uint8_t>(kData.begin(), kData.end()), "application/octet-stream", headers);
}

int PkiStatus(const HttpResponse& res, std::vector<core::FailInfo>* fail_info = nullptr) {
  auto info = crypto::DescribeResponse(res.body);
  if (!info) return -1;
  if (fail_info) *fail_info = info->fail_info;
  return info->status;
}

std::string Basic(const std::string& user, const std::string& password) {
  const std::string raw = user + ":" + password;
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint8_t>(raw[i]) << 16) |
                            (i + 1 < raw.size() ? static_cast<std::uint8_t>(raw[i + 1]) << 8 : 0) |
                            (i + 2 < raw.size() ? static_cast<std::uint8_t>(raw[i + 2]) : 0);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < raw.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < raw.size() ? alphabet[n & 63] : '=';
  }
  return "Basic " + out;
}

// Runs tsa-clients on `file`; returns the printed key (add / add-key) or "" with a test failure.
std::string RunClientsTool(const std::string& file, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {audit_it::ToolPath("tsa-clients"), "--file", file};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto run = RunCommand(argv);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return run.output.empty() ? "" : run.output.substr(0, run.output.find('\n'));
}

bool WaitForLog(TsadProcess& tsad, const std::string& needle, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (tsad.log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

class ClientsAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = std::make_unique<TempDir>("tsa-clients");
    file_ = files_->Sub("clients.json");
    alice_ = RunClientsTool(file_, {"add", "alice"});
    bob_ = RunClientsTool(file_, {"add", "bob", "--policy", "1.2.3.4.5"});
    env_.Start({"--clients", file_, "--metrics-from", "client"});
  }
  static void TearDownTestSuite() {
    env_.Stop();
    files_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(env_.Ready());
    ASSERT_EQ(alice_.rfind("tsak_", 0), 0u) << alice_;
  }
  static int port() { return env_.port(); }
  static void Reload(const std::string& expect_in_log) {
    const std::size_t before = env_.tsad().log().size();
    ASSERT_EQ(::kill(env_.tsad().pid(), SIGHUP), 0);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline && env_.tsad().log().find(expect_in_log, before) == std::string::npos) {
      std::this_thread::sleep_for(50ms);
    }
    ASSERT_NE(env_.tsad().log().find(expect_in_log, before), std::string::npos) << env_.tsad().log();
  }
  static SharedTsad env_;
  static std::unique_ptr<TempDir> files_;
  static std::string file_, alice_, bob_;
};
SharedTsad ClientsAuth::env_;
std::unique_ptr<TempDir> ClientsAuth::files_;
std::string ClientsAuth::file_, ClientsAuth::alice_, ClientsAuth::bob_;

TEST_F(ClientsAuth, MissingCredentialsAre401WithBothChallengesAndClose) {
  const auto res = Issue(port());
  EXPECT_EQ(res.status, 401) << res.Summary();
  EXPECT_EQ(res.header_count("WWW-Authenticate"), 2) << res.Summary();
  EXPECT_NE(res.Summary().find("Basic realm=\"tsad\""), std::string::npos) << res.Summary();
  EXPECT_NE(res.Summary().find("Bearer realm=\"tsad\""), std::string::npos) << res.Summary();
  // The body is not read: the connection must close after the 401, so that it is never parsed as
  // a request.
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(BuildRequest("POST", "/tsa", {{"Content-Type", "application/octet-stream"}},
                                      std::vector<std::uint8_t>(kData.begin(), kData.end()), port())));
  EXPECT_EQ(conn->ReadResponse().status, 401);
  EXPECT_TRUE(conn->WaitForClose(5s));
  EXPECT_EQ(HttpGet(port(), "/health").status, 200) << "/health stays open";
}

TEST_F(ClientsAuth, BearerAndBasicKeysAreGranted) {
  const auto bearer = Issue(port(), {{"Authorization", "Bearer " + alice_}});
  ASSERT_EQ(bearer.status, 200) << bearer.Summary();
  EXPECT_EQ(PkiStatus(bearer), 0);
  const auto basic = Issue(port(), {{"Authorization", Basic("alice", alice_)}});
  EXPECT_EQ(PkiStatus(basic), 0) << basic.Summary();
  const auto anonymous_user = Issue(port(), {{"Authorization", Basic("", alice_)}});
  EXPECT_EQ(PkiStatus(anonymous_user), 0) << anonymous_user.Summary();
  EXPECT_TRUE(WaitForLog(env_.tsad(), "alice")) << "the client name is in the request log line";
}

TEST_F(ClientsAuth, WrongKeysAreRefusedCountedAndLogged) {
  std::string wrong = alice_;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_EQ(Issue(port(), {{"Authorization", "Bearer " + wrong}}).status, 401);
  EXPECT_EQ(Issue(port(), {{"Authorization", Basic("bob", alice_)}}).status, 401) << "alice's key is not bob's";
  EXPECT_EQ(Issue(port(), {{"Authorization", "Bearer nonsense"}}).status, 401);
  EXPECT_EQ(Issue(port(), {{"Authorization", "Digest x"}}).status, 401);
  EXPECT_TRUE(WaitForLog(env_.tsad(), "auth_failed"));
  EXPECT_NE(env_.tsad().log().find("bob"), std::string::npos) << "the claimed name is logged";
  EXPECT_EQ(HttpGet(port(), "/metrics").status, 401) << "--metrics-from client";
  const std::string metrics = HttpGet(port(), "/metrics", {{"Authorization", "Bearer " + alice_}}).body_text();
  EXPECT_NE(metrics.find("tsad_auth_failures_total "), std::string::npos);
  EXPECT_EQ(metrics.find("tsad_auth_failures_total 0"), std::string::npos) << metrics;
}

TEST_F(ClientsAuth, APolicyOutsideTheClientsListIsUnacceptedPolicy) {
  // bob may only request 1.2.3.4.5; raw-data mode asks for the TSA's default policy.
  const auto res = Issue(port(), {{"Authorization", "Bearer " + bob_}});
  ASSERT_EQ(res.status, 200) << res.Summary();
  std::vector<core::FailInfo> fail_info;
  EXPECT_EQ(PkiStatus(res, &fail_info), 2);
  EXPECT_EQ(fail_info, std::vector<core::FailInfo>{core::FailInfo::kUnacceptedPolicy});
}

TEST_F(ClientsAuth, CurlWithCredentialsInTheUrl) {
  const auto run = RunCommand({"curl", "-sS", "-o", env_.dir().Sub("curl.tsr"), "-w", "%{http_code}", "--data-binary", kData,
                               "-H", "Content-Type: application/octet-stream",
                               "http://alice:" + alice_ + "@127.0.0.1:" + std::to_string(port()) + "/tsa"});
  if (run.exit_code == 127) GTEST_SKIP() << "curl is not installed";
  EXPECT_EQ(run.output, "200");
}

TEST_F(ClientsAuth, SighupReloadsAndAMalformedFileKeepsTheOldSet) {
  RunClientsTool(file_, {"disable", "alice"});
  // SIGHUP reloads the signer first ("reloaded" alone would match its line), then the clients.
  Reload("reloaded what=clients");
  EXPECT_EQ(Issue(port(), {{"Authorization", "Bearer " + alice_}}).status, 401) << "alice is disabled after SIGHUP";
  RunClientsTool(file_, {"enable", "alice"});
  Reload("reloaded what=clients");
  EXPECT_EQ(PkiStatus(Issue(port(), {{"Authorization", "Bearer " + alice_}})), 0);

  const std::string good = core::ReadFileText(file_).value();
  std::ofstream(file_) << "{\"clients\": [ {\"name\": ";
  Reload("reload_failed what=clients");
  EXPECT_EQ(PkiStatus(Issue(port(), {{"Authorization", "Bearer " + alice_}})), 0) << "the old set stays";
  std::ofstream(file_) << good;
  EXPECT_TRUE(env_.tsad().running());
}

TEST(ClientsStartup, AMalformedClientsFileIsOneLineAndExit1) {
  TempDir dir;
  std::ofstream(dir.Sub("clients.json"))
      << "{\"clients\": [{\"name\": \"x\", \"keys\": [{\"id\": \"1\", \"hash\": \"plain\"}]}]}";
  auto pki = CreateTestPki(dir.Sub("pki"), crypto::KeyType::kEcP256);
  ASSERT_TRUE(pki) << pki.error().ToString();
  const auto failure = TsadProcess::RunExpectingFailure(
      {"--cert-dir", pki->dir, "--allow-unsynced-clock", "--no-anchor", "--clients", dir.Sub("clients.json")});
  EXPECT_FALSE(failure.started);
  EXPECT_EQ(failure.exit_code, 1);
  EXPECT_NE(failure.stderr_text.find("not an argon2id hash"), std::string::npos) << failure.stderr_text;
}

TEST(RateLimit, OverTheRateIs429WithRetryAfterThenServedAfterTheWait) {
  SharedTsad tsad;
  tsad.Start({"--rate-limit", "1/s:2"});
  ASSERT_TRUE(tsad.Ready());
  EXPECT_EQ(PkiStatus(Issue(tsad.port())), 0);
  EXPECT_EQ(PkiStatus(Issue(tsad.port())), 0);
  const auto limited = Issue(tsad.port());
  ASSERT_EQ(limited.status, 429) << limited.Summary();
  const int retry_after = std::stoi(limited.header("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 2);
  std::this_thread::sleep_for(std::chrono::seconds(retry_after) + 100ms);
  EXPECT_EQ(PkiStatus(Issue(tsad.port())), 0) << "served again after Retry-After";
  const std::string metrics = HttpGet(tsad.port(), "/metrics").body_text();
  EXPECT_NE(metrics.find("tsad_rate_limited_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tsad_tokens_granted_total{hash=\"sha256\",policy=\"1.3.6.1.4.1.99999.1.1\"} 3"), std::string::npos)
      << "nothing was signed for the 429";
  tsad.Stop();
}

// Guessing the secret of a known key id costs tsad an argon2id hash per attempt: past 10 wrong
// secrets from one address, keys that would need the hash get 429 unhashed, while a key verified
// before (in the digest cache) still gets in from that address.
TEST(RateLimit, WrongSecretsFromOneAddressAreThrottledBeforeTheSlowHash) {
  TempDir files("tsa-clients-throttle");
  const std::string file = files.Sub("clients.json");
  const std::string alice = RunClientsTool(file, {"add", "alice"});
  const std::string bob = RunClientsTool(file, {"add", "bob"});
  SharedTsad tsad;
  tsad.Start({"--clients", file});
  ASSERT_TRUE(tsad.Ready());
  ASSERT_EQ(PkiStatus(Issue(tsad.port(), {{"Authorization", "Bearer " + alice}})), 0) << "alice verified once";
  std::string wrong = bob;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  // 10 wrong secrets are hashed (401), then one more per 5 s: on a loaded machine the 10 slow
  // hashes can take seconds, so the refills that elapsed meanwhile are allowed for.
  const auto first = std::chrono::steady_clock::now();
  int hashed = 0;
  HttpResponse throttled;
  while (hashed < 20) {
    throttled = Issue(tsad.port(), {{"Authorization", "Bearer " + wrong}});
    if (throttled.status != 401) break;
    hashed += 1;
  }
  const auto refills = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - first).count() / 5;
  ASSERT_EQ(throttled.status, 429) << throttled.Summary();
  EXPECT_GE(hashed, 10);
  EXPECT_LE(hashed, 10 + refills + 1) << "refills allowed: " << refills;
  EXPECT_GE(std::stoi(throttled.header("Retry-After")), 1);
  EXPECT_EQ(Issue(tsad.port(), {{"Authorization", "Bearer " + bob}}).status, 429) << "a key never verified waits too";
  EXPECT_EQ(PkiStatus(Issue(tsad.port(), {{"Authorization", "Bearer " + alice}})), 0) << "a cached key still gets in";
  EXPECT_TRUE(WaitForLog(tsad.tsad(), "auth_throttled"));
  std::this_thread::sleep_for(5100ms);  // one more attempt every 5 s
  EXPECT_EQ(PkiStatus(Issue(tsad.port(), {{"Authorization", "Bearer " + bob}})), 0) << "hashed again after the wait";
  tsad.Stop();
}

TEST(RateLimit, ABadRateIsOneLineAndExit1) {
  TempDir dir;
  auto pki = CreateTestPki(dir.Sub("pki"), crypto::KeyType::kEcP256);
  ASSERT_TRUE(pki) << pki.error().ToString();
  const auto failure = TsadProcess::RunExpectingFailure(
      {"--cert-dir", pki->dir, "--allow-unsynced-clock", "--no-anchor", "--rate-limit", "fast"});
  EXPECT_FALSE(failure.started);
  EXPECT_EQ(failure.exit_code, 1);
  EXPECT_NE(failure.stderr_text.find("--rate-limit: bad rate 'fast'"), std::string::npos) << failure.stderr_text;
}

}  // namespace
}  // namespace tsa::test
