// Issue 8 ("harden what exists"), the daemon's own promises, each against a real tsad process:
// the private key is never served, the key file's permissions are checked, no token is signed
// outside the certificate's validity, SIGHUP does not kill tsad, --no-audit-log is loud, and
// --help tells the truth.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/http_helpers.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"
#include "tsa/core/build_version.h"
#include "tsa/store/database.h"

namespace tsa::test {
namespace {

const std::vector<std::uint8_t> kData = {'h', 'e', 'l', 'l', 'o'};

// A raw-data POST answered as JSON: {"status": "granted" | "rejection", "fail_info": ...}.
nlohmann::json StampAsJson(int port) {
  const HttpResponse reply = HttpPost(port, "/tsa?format=json", kData, "text/plain");
  if (reply.status != 200) return {{"http_status", reply.status}};
  return nlohmann::json::parse(reply.body_text(), nullptr, false);
}

nlohmann::json Health(int port, int* status) {
  const HttpResponse reply = HttpGet(port, "/health");
  *status = reply.status;
  return nlohmann::json::parse(reply.body_text(), nullptr, false);
}

class Hardening : public ::testing::Test {
 protected:
  TestPki Pki(const std::string& name) {
    auto pki = CreateTestPki(dir_.Sub(name));
    EXPECT_TRUE(pki.has_value()) << (pki ? "" : pki.error().ToString());
    return pki ? *pki : TestPki{};
  }
  TempDir dir_{"tsa-hardening"};
};

// Item 1: with --key f.pem --cert f.pem (one file holding both), GET /certs/*.pem used to return
// the file's raw text, private key included.
TEST_F(Hardening, CombinedKeyAndCertificateFileNeverServesThePrivateKey) {
  const TestPki pki = Pki("pki");
  const std::string combined = dir_.Sub("combined.pem");
  {
    std::ofstream out(combined);
    out << ReadTextFile(pki.files.tsa_key) << ReadTextFile(pki.files.tsa_cert);
  }
  ::chmod(combined.c_str(), 0600);
  TsadOptions options;
  options.extra_args = {"--key", combined, "--cert", combined, "--chain", pki.files.chain};
  TsadProcess tsad(options);
  ASSERT_TRUE(tsad.Start());
  for (const char* path : {"/certs/tsa.pem", "/certs/chain.pem"}) {
    const HttpResponse reply = HttpGet(tsad.port(), path);
    ASSERT_EQ(reply.status, 200) << reply.Summary();
    EXPECT_EQ(reply.body_text().find("PRIVATE KEY"), std::string::npos) << path << " serves a private key";
    EXPECT_EQ(reply.body_text().rfind(pki.tsa_cert_pem, 0), 0u) << path << " does not start with the TSA certificate";
  }
  EXPECT_EQ(HttpGet(tsad.port(), "/certs/chain.pem").body_text(), pki.tsa_cert_pem + pki.ca_cert_pem);
}

// Item 1: a key that other users can read is refused, unless the operator overrides it.
TEST_F(Hardening, GroupReadableKeyIsRefusedUnlessAllowed) {
  const TestPki pki = Pki("pki");
  ASSERT_EQ(::chmod(pki.files.tsa_key.c_str(), 0640), 0);
  const auto refused = TsadProcess::RunExpectingFailure({"--cert-dir", pki.dir, "--allow-unsynced-clock"});
  EXPECT_FALSE(refused.started);
  EXPECT_EQ(refused.exit_code, 1) << refused.stderr_text;
  EXPECT_NE(refused.stderr_text.find("tsad: the TSA key " + pki.files.tsa_key + " is accessible to other users (mode 0640)"),
            std::string::npos)
      << refused.stderr_text;

  TsadOptions options;
  options.cert_dir = pki.dir;
  options.extra_args = {"--allow-readable-key"};
  TsadProcess tsad(options);
  EXPECT_TRUE(tsad.Start());
}

// Item 2: validity used to be checked only at start-up; a certificate that expired while tsad ran
// kept signing tokens that verifiers then refuse.
TEST_F(Hardening, NoTokenIsSignedOnceTheCertificateHasExpiredAndHealthSays503) {
  auto pki = CreateCustomTsaPki(dir_.Sub("short"), [](crypto::CertProfile& p) {
    p.not_before_offset_seconds = -5;
    p.validity_days = 0;
    p.validity_seconds = 11;  // notAfter: about 6 s from now
  });
  ASSERT_TRUE(pki) << pki.error().ToString();
  const auto not_after = std::chrono::system_clock::now() + std::chrono::seconds(6);
  TsadOptions options;
  options.cert_dir = pki->dir;
  TsadProcess tsad(options);
  ASSERT_TRUE(tsad.Start());
  ASSERT_EQ(StampAsJson(tsad.port()).value("status", ""), "granted");

  std::this_thread::sleep_until(not_after + std::chrono::milliseconds(1500));
  const nlohmann::json late = StampAsJson(tsad.port());
  EXPECT_EQ(late.value("status", ""), "rejection") << late.dump();
  EXPECT_EQ(late.value("fail_info", ""), "systemFailure") << late.dump();
  int status = 0;
  const nlohmann::json health = Health(tsad.port(), &status);
  EXPECT_EQ(status, 503) << health.dump();
  EXPECT_EQ(health.value("failing", ""), "certificate") << health.dump();
}

// Item 6: the clock gate used to start at 0 on every start, so a restart with a clock behind the
// log's last genTime issued earlier genTimes. Here the log's last genTime is an hour ahead of the
// clock (as after a restart with the clock stepped back an hour).
TEST_F(Hardening, ARestartBehindTheLogsLastGenTimeRefusesTimeNotAvailableAndHealthSaysWhy) {
  const TestPki pki = Pki("pki");
  TsadOptions options;
  options.cert_dir = pki.dir;
  options.extra_args = {"--log-layout", "sqlite"};  // its tokens table holds the genTimes moved below
  {
    TsadProcess first(options);
    ASSERT_TRUE(first.Start());
    ASSERT_EQ(StampAsJson(first.port()).value("status", ""), "granted");
    ASSERT_EQ(first.Stop(), 0);
    std::filesystem::copy_file(first.db_path(), dir_.Sub("kept.db"));
  }
  options.db_path = dir_.Sub("kept.db");
  {
    auto db = store::Database::Open(options.db_path, store::OpenOptions{});
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Exec("UPDATE tokens SET gen_time_us = gen_time_us + 3600000000"));
  }
  TsadProcess second(options);
  ASSERT_TRUE(second.Start());
  const nlohmann::json refused = StampAsJson(second.port());
  EXPECT_EQ(refused.value("status", ""), "rejection") << refused.dump();
  EXPECT_EQ(refused.value("fail_info", ""), "timeNotAvailable") << refused.dump();
  int status = 0;
  const nlohmann::json health = Health(second.port(), &status);
  EXPECT_EQ(status, 503) << health.dump();
  EXPECT_EQ(health.value("failing", ""), "clock") << health.dump();
  EXPECT_NE(health.dump().find("behind the last issued genTime"), std::string::npos) << health.dump();
}

// Item 3 (aside): when SQLite's memory-mapped WAL index (<db>-shm) fails, tsad used to die of
// SIGBUS (exit 135) without a word. It still has to stop, but says why in one line.
TEST_F(Hardening, AFailingShmMappingStopsTsadWithOneLineNotASilentSigbus) {
  const TestPki pki = Pki("pki");
  TsadOptions options;
  options.cert_dir = pki.dir;
  TsadProcess tsad(options);
  ASSERT_TRUE(tsad.Start());
  ASSERT_EQ(StampAsJson(tsad.port()).value("status", ""), "granted");
  const std::string shm = tsad.db_path() + "-shm";
  const CommandResult frozen = RunCommand({"chattr", "+i", shm});
  if (frozen.exit_code != 0) GTEST_SKIP() << "chattr +i is not available here: " << frozen.output;
  struct Unfreeze {
    std::string path;
    ~Unfreeze() { RunCommand({"chattr", "-i", path}); }
  } unfreeze{shm};
  for (int i = 0; i < 20 && tsad.running(); ++i) {
    StampAsJson(tsad.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (tsad.running()) GTEST_SKIP() << "the immutable -shm did not fault on this kernel/file system";
  EXPECT_EQ(tsad.Stop(), 1) << tsad.log();
  EXPECT_NE(tsad.log().find("tsad: fatal: SIGBUS"), std::string::npos) << tsad.log();
}

// Item 14: SIGHUP's default action used to kill tsad.
// SIGHUP reloads the signing material (README "Reload and rollover"); with unchanged files the
// reload succeeds and tsad keeps serving.
TEST_F(Hardening, SighupReloadsAndTsadKeepsServing) {
  const TestPki pki = Pki("pki");
  TsadOptions options;
  options.cert_dir = pki.dir;
  TsadProcess tsad(options);
  ASSERT_TRUE(tsad.Start());
  ASSERT_EQ(::kill(tsad.pid(), SIGHUP), 0);
  for (int i = 0; i < 100 && tsad.log().find(" reloaded ") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(tsad.running()) << tsad.log();
  EXPECT_EQ(StampAsJson(tsad.port()).value("status", ""), "granted");
  EXPECT_NE(tsad.log().find(" reloaded "), std::string::npos) << tsad.log();
  EXPECT_EQ(tsad.Stop(), 0);
}

// Item 7: --no-audit-log used to drop "every token is logged" silently while /audit/* kept
// serving and /health stayed green.
TEST_F(Hardening, NoAuditLogIsShownInHealthAndTheStartLineAndAuditAnswers404) {
  const TestPki pki = Pki("pki");
  TsadOptions options;
  options.cert_dir = pki.dir;
  options.extra_args = {"--no-audit-log"};
  TsadProcess tsad(options);
  ASSERT_TRUE(tsad.Start());
  EXPECT_EQ(StampAsJson(tsad.port()).value("status", ""), "granted");
  int status = 0;
  const nlohmann::json health = Health(tsad.port(), &status);
  EXPECT_EQ(status, 200) << health.dump();
  EXPECT_EQ(health["checks"]["audit_log"].value("enabled", true), false) << health.dump();
  ASSERT_TRUE(health.contains("warnings")) << health.dump();
  EXPECT_NE(health["warnings"].dump().find("not logged"), std::string::npos) << health.dump();
  EXPECT_EQ(HttpGet(tsad.port(), "/audit/checkpoint").status, 404);
  EXPECT_EQ(HttpGet(tsad.port(), "/audit/proof?serial=01").status, 404);
  EXPECT_NE(tsad.log().find("audit_log_off"), std::string::npos) << tsad.log();
  EXPECT_NE(tsad.log().find("audit_log=\"OFF"), std::string::npos) << tsad.log();
}

// Item 18: switches that are on showed "{false}", the usage line had no program name, and
// --log-level listed 5 of its 7 levels.
TEST_F(Hardening, HelpShowsTheRealDefaultsOfSwitchesAndEveryLogLevel) {
  const CommandResult help = RunCommand({TsadProcess::BinaryPath(), "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.output;
  EXPECT_EQ(help.output.find("{false}"), std::string::npos) << help.output;
  EXPECT_EQ(help.output.find("{true}"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("Usage: tsad "), std::string::npos) << help.output;
  for (const char* on : {"--anchor", "--audit-log", "--store-tokens", "--sync-full", "--tsa-name"}) {
    const auto at = help.output.find(std::string(on) + ",");
    ASSERT_NE(at, std::string::npos) << on << "\n" << help.output;
    const auto line_end = help.output.find("[default: ", at);
    ASSERT_NE(line_end, std::string::npos) << on;
    EXPECT_EQ(help.output.compare(line_end, 13, "[default: on]"), 0) << on << ": " << help.output.substr(at, 300);
  }
  EXPECT_NE(help.output.find("critical or off"), std::string::npos) << help.output;
  const CommandResult version = RunCommand({TsadProcess::BinaryPath(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.output, core::VersionLine("tsad") + "\n");
}

}  // namespace
}  // namespace tsa::test
