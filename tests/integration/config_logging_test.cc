// Configuration sources and operational output of the real tsad: the --config file (TOML/INI, keys
// as the long flag names), TSA_* environment variables and flags with their precedence
// (flag > environment > file > default), TSA_CONFIG, a bad value in the file (usage error, exit 2);
// the per-request log line in text and JSON format; GET /audit/checkpoint.
//
// TsadProcess cannot set environment variables and merges stdout with stderr, so this file starts
// tsad itself (fork/execve as tests/support/tsad_process.cc does) with a chosen environment (the
// test's own, minus every inherited TSA_* variable) and stderr in a file of its own. Every tsad
// gets --no-anchor on its command line: no test here may contact an external anchoring TSA.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/der_builder.h"
#include "support/http_helpers.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"
#include "tsa/crypto/request_codec.h"

extern char** environ;

namespace tsa::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Env = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kFilePolicy = "1.3.6.1.4.1.99999.7.1";
constexpr const char* kEnvPolicy = "1.3.6.1.4.1.99999.7.2";
constexpr const char* kFlagPolicy = "1.3.6.1.4.1.99999.7.3";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool AllDigits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

bool IsLowerHex(const std::string& s, std::size_t length) {
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Polls `done` every 5 ms until it holds or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return done();
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The child's environment: the test's own without any TSA_* variable (a developer's shell must not
// leak into these tests), plus `extra`.
std::vector<std::string> ChildEnvironment(const Env& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "TSA_", 4) != 0) env.emplace_back(*e);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

// A tsad process started with an exact argv and environment, stdout and stderr in separate files
// of `dir`. The destructor SIGKILLs it if it still runs.
class Daemon {
 public:
  explicit Daemon(std::string dir) : dir_(std::move(dir)) {}
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Reap(10s);
    }
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Spawns TSA_BIN_DIR/tsad with `args` and `env` (see ChildEnvironment).
  ::testing::AssertionResult Spawn(const std::vector<std::string>& args, const Env& env) {
    std::vector<std::string> argv = {TsadProcess::BinaryPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    command_ = "";
    for (const auto& [k, v] : env) command_ += k + "=" + v + " ";
    for (const auto& a : argv) command_ += a + " ";
    std::error_code ec;  // fresh output files for this run (Spawn appends)
    std::filesystem::remove(stdout_path(), ec);
    std::filesystem::remove(stderr_path(), ec);
    const pid_t pid = ::tsa::test::Spawn(argv, stdout_path(), stderr_path(), ChildEnvironment(env));
    if (pid < 0) return ::testing::AssertionFailure() << "cannot start " << command_;
    pid_ = pid;
    return ::testing::AssertionSuccess();
  }

  // Spawns tsad and waits (bounded) until it wrote `port_file` and answered GET /health.
  ::testing::AssertionResult Start(const std::vector<std::string>& args, const Env& env, const std::string& port_file) {
    std::error_code ec;
    std::filesystem::remove(port_file, ec);
    if (auto spawned = Spawn(args, env); !spawned) return spawned;
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        port_ = port;
        const HttpResponse probe = HttpRequest(port_, "GET", "/health", {}, {}, 10s);
        if (probe.status > 0) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure()
               << "tsad wrote port " << port_ << " but did not answer GET /health (" << probe.error << ")\n"
               << Describe();
      }
      if (Reap(0ms) != -1) {
        return ::testing::AssertionFailure() << "tsad exited with status " << exit_status_ << " before listening\n" << Describe();
      }
      std::this_thread::sleep_for(5ms);
    }
    return ::testing::AssertionFailure() << "tsad did not write " << port_file << " within 20 s\n" << Describe();
  }

  // Runs tsad to its exit (SIGKILL after `timeout`: then -1). For configurations it must refuse.
  int RunToExit(const std::vector<std::string>& args, const Env& env, std::chrono::milliseconds timeout = 20s) {
    if (!Spawn(args, env)) return -1;
    const int status = Reap(timeout);
    if (status != -1) return status;
    ::kill(pid_, SIGKILL);
    Reap(10s);
    return -1;
  }

  // SIGTERM, bounded wait, SIGKILL after that. The exit status (128+signal), -1 if not running.
  int Stop() {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    const int status = Reap(15s);
    if (status != -1) return status;
    ADD_FAILURE() << "tsad did not stop within 15 s of SIGTERM\n" << Describe();
    ::kill(pid_, SIGKILL);
    return Reap(10s);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string stdout_path() const { return dir_ + "/stdout.txt"; }
  std::string stderr_path() const { return dir_ + "/stderr.txt"; }
  std::string err() const { return ReadAll(stderr_path()); }
  std::string out() const { return ReadAll(stdout_path()); }
  std::string Describe() const { return "command: " + command_ + "\nstderr:\n" + err() + "\nstdout:\n" + out(); }

 private:
  int Reap(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return exit_status_;
    const int status = WaitChild(pid_, timeout);
    if (status == -1) return -1;  // still running
    pid_ = -1;
    exit_status_ = status == kNotAChild ? -1 : status;
    return exit_status_;
  }

  std::string dir_;
  std::string command_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
};

// A TSA-policy-conformant SHA-256 TimeStampReq (random digest and nonce).
Bytes Sha256Request() { return RequestBuilder::Default().Encode(); }

// A SHA-1 TimeStampReq built with the project's own encoder: tsad's default --hash list refuses it.
Bytes Sha1Request() {
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha1;
  spec.digest.assign(20, 0x3c);
  spec.nonce = crypto::RandomNonce();
  auto der = crypto::EncodeRequest(spec);
  EXPECT_TRUE(der.has_value()) << (der ? "" : der.error().ToString());
  return der ? *der : Bytes{};
}

// POST of a DER request to /tsa?format=json; the parsed JSON reply (discarded on failure).
nlohmann::json PostForJson(int port, const Bytes& der, HttpResponse* reply_out = nullptr) {
  const HttpResponse reply = PostQuery(port, der, "/tsa?format=json");
  if (reply_out != nullptr) *reply_out = reply;
  EXPECT_EQ(reply.status, 200) << reply.Summary();
  return nlohmann::json::parse(reply.body_text(), nullptr, false);
}

// Each test: a temporary directory with a fresh test PKI, and helpers for config files.
class TsadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto pki = CreateTestPki(dir_.Sub("pki"));
    ASSERT_TRUE(pki.has_value()) << (pki ? "" : pki.error().ToString());
    pki_ = *pki;
  }

  std::string port_file() const { return dir_.Sub("port"); }

  // The settings every tsad in this file needs, as config-file lines (TOML).
  std::string BaseConfigLines() const {
    return "host = \"127.0.0.1\"\n"
           "port = 0\n"
           "port-file = \"" +
           port_file() +
           "\"\n"
           "cert-dir = \"" +
           pki_.dir +
           "\"\n"
           "db = \"" +
           dir_.Sub("tsa.db") +
           "\"\n"
           "allow-unsynced-clock = true\n";
  }

  std::string WriteConfig(const std::string& name, const std::string& text) const {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  // The same settings as flags (for tests whose subject is not the config file).
  std::vector<std::string> BaseFlags() const {
    return {"--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            port_file(),
            "--cert-dir",
            pki_.dir,
            "--db",
            dir_.Sub("tsa.db"),
            "--allow-unsynced-clock"};
  }

  // Grants one SHA-256 request and returns the JSON rendering of the reply.
  static nlohmann::json Grant(int port, HttpResponse* reply = nullptr) {
    nlohmann::json j = PostForJson(port, Sha256Request(), reply);
    EXPECT_FALSE(j.is_discarded());
    if (!j.is_discarded()) {
      EXPECT_EQ(j.value("status", ""), "granted") << j.dump(2);
    }
    return j;
  }

  TempDir dir_{"tsa-cfglog"};
  TestPki pki_;
};

// ---------------------------------------------------------------------------------------------
// Configuration sources

class ConfigFile : public TsadConfigTest {};

TEST_F(ConfigFile, AConfigFileAloneConfiguresPolicyAccuracyAndListener) {
  const std::string cfg = WriteConfig("tsad.toml", BaseConfigLines() + "policy = \"" + kFilePolicy +
                                                       "\"\n"
                                                       "accuracy = \"500ms\"\n");
  Daemon tsad(dir_.path());
  ASSERT_TRUE(tsad.Start({"--config", cfg, "--no-anchor"}, {}, port_file()));

  const nlohmann::json j = Grant(tsad.port());
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("policy", ""), kFilePolicy) << j.dump(2);
  ASSERT_TRUE(j.contains("accuracy") && j["accuracy"].is_object()) << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("seconds", -1), 0) << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("millis", -1), 500) << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("micros", -1), 0) << j.dump(2);

  // The start-up line reports what the file configured.
  const std::string err = tsad.err();
  EXPECT_NE(err.find(std::string("policy=") + kFilePolicy), std::string::npos) << err;
  EXPECT_NE(err.find("accuracy=500ms"), std::string::npos) << err;
  EXPECT_NE(err.find("listen=127.0.0.1:" + std::to_string(tsad.port())), std::string::npos) << err;
  EXPECT_NE(err.find("anchor=off"), std::string::npos) << err;
  EXPECT_TRUE(std::filesystem::exists(dir_.Sub("tsa.db"))) << "db from the file not used";
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

TEST_F(ConfigFile, TsaConfigEnvironmentVariableNamesTheConfigFile) {
  const std::string cfg = WriteConfig("tsad.ini", BaseConfigLines() + "policy = \"" + kFilePolicy +
                                                      "\"\n"
                                                      "accuracy = \"500ms\"\n");
  Daemon tsad(dir_.path());
  ASSERT_TRUE(tsad.Start({"--no-anchor"}, {{"TSA_CONFIG", cfg}}, port_file()));
  const nlohmann::json j = Grant(tsad.port());
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("policy", ""), kFilePolicy) << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("millis", -1), 500) << j.dump(2);
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

TEST_F(ConfigFile, BadLogFormatInTheFileExitsTwoWithOneLineNamingIt) {
  const std::string cfg = WriteConfig("bad.toml", BaseConfigLines() + "log-format = \"xml\"\n");
  Daemon tsad(dir_.path());
  const int status = tsad.RunToExit({"--config", cfg, "--no-anchor"}, {});
  EXPECT_EQ(status, 2) << tsad.Describe();
  EXPECT_FALSE(std::filesystem::exists(port_file())) << "tsad listened despite the bad value\n" << tsad.Describe();
  const std::vector<std::string> lines = NonEmptyLines(tsad.err());
  ASSERT_EQ(lines.size(), 1u) << "expected exactly one stderr line\n" << tsad.Describe();
  const std::string& line = lines[0];
  EXPECT_EQ(line.rfind("tsad: ", 0), 0u) << line;
  EXPECT_NE(line.find("log-format"), std::string::npos) << "the line does not name the option: " << line;
  EXPECT_NE(line.find("xml"), std::string::npos) << "the line does not name the bad value: " << line;
  EXPECT_LT(line.size(), 400u) << line;
}

class ConfigPrecedence : public TsadConfigTest {};

TEST_F(ConfigPrecedence, EnvironmentVariableOverridesTheFileAndTheFileStillFillsTheRest) {
  const std::string cfg = WriteConfig("tsad.toml", BaseConfigLines() + "policy = \"" + kFilePolicy +
                                                       "\"\n"
                                                       "accuracy = \"500ms\"\n");
  Daemon tsad(dir_.path());
  ASSERT_TRUE(tsad.Start({"--config", cfg, "--no-anchor"}, {{"TSA_POLICY", kEnvPolicy}}, port_file()));
  const nlohmann::json j = Grant(tsad.port());
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("policy", ""), kEnvPolicy) << "TSA_POLICY must override the file\n" << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("millis", -1), 500) << "accuracy from the file lost\n" << j.dump(2);
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

TEST_F(ConfigPrecedence, FlagOverridesBothEnvironmentAndFile) {
  const std::string cfg = WriteConfig("tsad.toml", BaseConfigLines() + "policy = \"" + kFilePolicy +
                                                       "\"\n"
                                                       "accuracy = \"500ms\"\n");
  Daemon tsad(dir_.path());
  ASSERT_TRUE(tsad.Start({"--config", cfg, "--no-anchor", "--policy", kFlagPolicy, "--accuracy", "2s"},
                         {{"TSA_POLICY", kEnvPolicy}, {"TSA_ACCURACY", "250ms"}}, port_file()));
  const nlohmann::json j = Grant(tsad.port());
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("policy", ""), kFlagPolicy) << "--policy must override TSA_POLICY and the file\n" << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("seconds", -1), 2) << j.dump(2);
  EXPECT_EQ(j["accuracy"].value("millis", -1), 0) << j.dump(2);
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

TEST_F(ConfigPrecedence, EnvironmentVariableAloneOverridesTheDefault) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.push_back("--no-anchor");
  ASSERT_TRUE(tsad.Start(args, {{"TSA_POLICY", kEnvPolicy}}, port_file()));
  const nlohmann::json j = Grant(tsad.port());
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("policy", ""), kEnvPolicy) << j.dump(2);
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

// ---------------------------------------------------------------------------------------------
// Token log writer settings (ARCHITECTURE.md "Threads")

class LogWriterSettings : public TsadConfigTest {};

// The nice values of the process's threads, from /proc/PID/task/TID/stat (field 19).
std::vector<int> ThreadNiceValues(pid_t pid) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::string stat = ReadAll(task.path().string() + "/stat");
    const auto close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
      if (i == 19) out.push_back(std::stoi(field));
    }
  }
  return out;
}

TEST_F(LogWriterSettings, TheWriterThreadTakesTheNiceValueFromTheEnvironmentAndTokensStillLeave) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.push_back("--no-anchor");
  // Raising a nice value needs no privilege, so this holds as root and as any other user.
  ASSERT_TRUE(tsad.Start(args, {{"TSA_LOG_WRITER_NICE", "7"}, {"TSA_LOG_GATHER_US", "0"}}, port_file()));
  Grant(tsad.port());
  const std::vector<int> nice = ThreadNiceValues(tsad.pid());
  EXPECT_EQ(std::count(nice.begin(), nice.end(), 7), 1) << "expected exactly one thread (the log writer) at nice 7";
  EXPECT_EQ(tsad.err().find("log_writer_priority"), std::string::npos) << tsad.Describe();
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

TEST_F(LogWriterSettings, AnOutOfRangeGatherTimeExitsTwoNamingTheOption) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.insert(args.end(), {"--no-anchor", "--log-gather-us", "-5"});
  EXPECT_EQ(tsad.RunToExit(args, {}), 2) << tsad.Describe();
  EXPECT_NE(tsad.err().find("--log-gather-us"), std::string::npos) << tsad.Describe();
  EXPECT_FALSE(std::filesystem::exists(port_file())) << tsad.Describe();
}

// ---------------------------------------------------------------------------------------------
// Request log lines

class LogFormatJson : public TsadConfigTest {};

// Every line of `err` parsed as a JSON object; a failure for each line that is not one.
std::vector<nlohmann::json> ParseJsonLines(const std::string& err) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : NonEmptyLines(err)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(!j.is_discarded() && j.is_object()) << "stderr line is not a JSON object: " << line;
    if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<nlohmann::json> RequestEvents(const std::string& err) {
  std::vector<nlohmann::json> out;
  for (const std::string& line : NonEmptyLines(err)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.value("event", "") == "request") out.push_back(std::move(j));
  }
  return out;
}

std::optional<nlohmann::json> FindEvent(const std::vector<nlohmann::json>& events, const std::string& key,
                                        const std::string& value) {
  for (const auto& e : events) {
    if (e.contains(key) && e[key].is_string() && e[key].get<std::string>() == value) return e;
  }
  return std::nullopt;
}

TEST_F(LogFormatJson, EveryStderrLineIsAJsonObjectAndTheGrantLineMatchesTheReply) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.insert(args.end(), {"--no-anchor", "--log-format", "json"});
  ASSERT_TRUE(tsad.Start(args, {}, port_file()));

  HttpResponse reply;
  const nlohmann::json granted = Grant(tsad.port(), &reply);
  ASSERT_FALSE(granted.is_discarded());
  const std::string serial = granted.value("serial_number", "");
  ASSERT_FALSE(serial.empty()) << granted.dump(2);

  // The line is written by the asynchronous logger after the reply: wait for it (bounded).
  std::optional<nlohmann::json> line;
  WaitUntil([&] {
    line = FindEvent(RequestEvents(tsad.err()), "outcome", "granted");
    return line.has_value();
  });
  ASSERT_TRUE(line.has_value()) << "no request line with outcome granted\n" << tsad.Describe();
  const nlohmann::json& e = *line;
  EXPECT_EQ(e.value("level", ""), "info") << e.dump();
  EXPECT_TRUE(e.contains("time") && e["time"].is_string()) << e.dump();
  EXPECT_EQ(e.value("serial", ""), serial) << "log serial differs from the reply's serial_number\n" << e.dump();
  EXPECT_EQ(e.value("alg", ""), "sha256") << e.dump();
  EXPECT_EQ(e.value("client", ""), "127.0.0.1") << e.dump();
  EXPECT_EQ(e.value("path", ""), "/tsa") << e.dump();
  EXPECT_EQ(e.value("mode", ""), "query") << e.dump();
  ASSERT_TRUE(e.contains("us")) << e.dump();
  EXPECT_TRUE(e["us"].is_number_unsigned()) << "numbers are JSON numbers, not strings: " << e.dump();
  EXPECT_FALSE(e.value("id", "").empty()) << e.dump();
  EXPECT_EQ(e.value("id", ""), reply.header("X-Request-Id")) << "log id differs from the X-Request-Id reply header";

  // The start-up line, as JSON too.
  const auto started = FindEvent(ParseJsonLines(tsad.err()), "event", "started");
  ASSERT_TRUE(started.has_value()) << tsad.err();
  for (const char* key :
       {"listen", "cert", "key", "policy", "hashes", "accuracy", "clock", "db", "io_threads", "anchor", "instance"}) {
    EXPECT_TRUE(started->contains(key)) << "started line lacks \"" << key << "\": " << started->dump();
  }
  EXPECT_EQ(started->value("anchor", ""), "off") << started->dump();
  EXPECT_TRUE((*started)["io_threads"].is_number_unsigned()) << started->dump();
  EXPECT_TRUE((*started)["instance"].is_number_integer()) << started->dump();
  EXPECT_TRUE((*started)["cert_days_left"].is_number_integer()) << started->dump();
  EXPECT_EQ(started->value("listen", ""), "127.0.0.1:" + std::to_string(tsad.port())) << started->dump();

  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
  // After a clean stop (the "stopped" line included) every stderr line is still one JSON object.
  const std::vector<nlohmann::json> all = ParseJsonLines(tsad.err());
  EXPECT_EQ(all.size(), NonEmptyLines(tsad.err()).size());
  for (const auto& j : all) {
    EXPECT_TRUE(j.contains("time") && j.contains("level") && j.contains("event")) << j.dump();
  }
  EXPECT_TRUE(FindEvent(all, "event", "stopped").has_value()) << tsad.err();
}

TEST_F(LogFormatJson, Sha1RequestLogsRejectionBadAlg) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.insert(args.end(), {"--no-anchor", "--log-format", "json"});
  ASSERT_TRUE(tsad.Start(args, {}, port_file()));

  const nlohmann::json j = PostForJson(tsad.port(), Sha1Request());
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("status", ""), "rejection") << j.dump(2);
  EXPECT_EQ(j.value("fail_info", ""), "badAlg") << j.dump(2);

  std::optional<nlohmann::json> line;
  WaitUntil([&] {
    line = FindEvent(RequestEvents(tsad.err()), "outcome", "rejection:badAlg");
    return line.has_value();
  });
  ASSERT_TRUE(line.has_value()) << "no request line with outcome rejection:badAlg\n" << tsad.Describe();
  EXPECT_EQ(line->value("serial", ""), "-") << line->dump();
  EXPECT_EQ(line->value("client", ""), "127.0.0.1") << line->dump();
  EXPECT_EQ(line->value("mode", ""), "query") << line->dump();
  RecordProperty("sha1_rejection_alg", line->value("alg", "<absent>"));
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
  ParseJsonLines(tsad.err());
}

TEST_F(LogFormatJson, HostilePathsCannotBreakTheJsonLines) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.insert(args.end(), {"--no-anchor", "--log-format", "json"});
  ASSERT_TRUE(tsad.Start(args, {}, port_file()));

  const HttpResponse quote = HttpPost(tsad.port(), "/tsa%22x", Sha256Request(), std::string("application/timestamp-query"));
  EXPECT_EQ(quote.status, 404) << quote.Summary();
  // An attempt to inject a field, a newline, a backslash and invalid UTF-8.
  for (const char* target : {"/x%22,%22level%22:%22critical", "/x%0A{%22event%22:%22forged%22}", "/x%5C", "/x%FF%FE"}) {
    const HttpResponse r = HttpPost(tsad.port(), target, Sha256Request(), std::string("application/timestamp-query"));
    EXPECT_GT(r.status, 0) << target << ": " << r.Summary();
  }

  std::optional<nlohmann::json> line;
  WaitUntil([&] {
    line = FindEvent(RequestEvents(tsad.err()), "path", "/tsa\"x");
    return line.has_value();
  });
  ASSERT_TRUE(line.has_value()) << "no request line with path /tsa\"x\n" << tsad.Describe();
  EXPECT_EQ(line->value("outcome", ""), "http-404") << line->dump();
  EXPECT_EQ(line->value("level", ""), "info") << line->dump();

  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
  const std::string err = tsad.err();
  const std::vector<nlohmann::json> all = ParseJsonLines(err);
  EXPECT_EQ(all.size(), NonEmptyLines(err).size()) << err;
  for (const auto& j : all) {
    EXPECT_NE(j.value("level", ""), "critical") << "a path injected a field: " << j.dump();
    EXPECT_NE(j.value("event", ""), "forged") << "a path injected a line: " << j.dump();
  }
  RecordProperty("request_lines", std::to_string(RequestEvents(err).size()));
}

class LogFormatText : public TsadConfigTest {};

TEST_F(LogFormatText, GrantRequestLineCarriesIdClientOutcomeSerialAlgAndDuration) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.push_back("--no-anchor");
  ASSERT_TRUE(tsad.Start(args, {}, port_file()));

  HttpResponse reply;
  const nlohmann::json granted = Grant(tsad.port(), &reply);
  ASSERT_FALSE(granted.is_discarded());
  const std::string serial = granted.value("serial_number", "");
  ASSERT_FALSE(serial.empty());

  std::string line;
  WaitUntil([&] {
    for (const std::string& l : NonEmptyLines(tsad.err())) {
      if (l.find(" request ") != std::string::npos && l.find("outcome=granted") != std::string::npos) {
        line = l;
        return true;
      }
    }
    return false;
  });
  ASSERT_FALSE(line.empty()) << "no text request line with outcome=granted\n" << tsad.Describe();
  static const std::regex kShape(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z info request .*)");
  EXPECT_TRUE(std::regex_match(line, kShape)) << line;

  std::map<std::string, std::string> kv;
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) kv[word.substr(0, eq)] = word.substr(eq + 1);
  }
  EXPECT_FALSE(kv["id"].empty()) << line;
  EXPECT_EQ(kv["id"], reply.header("X-Request-Id")) << line;
  EXPECT_EQ(kv["client"], "127.0.0.1") << line;
  EXPECT_EQ(kv["path"], "/tsa") << line;
  EXPECT_EQ(kv["mode"], "query") << line;
  EXPECT_EQ(kv["outcome"], "granted") << line;
  EXPECT_EQ(kv["serial"], serial) << "log serial differs from the reply's serial_number: " << line;
  EXPECT_EQ(kv["alg"], "sha256") << line;
  EXPECT_TRUE(AllDigits(kv["us"])) << line;
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

// ---------------------------------------------------------------------------------------------
// GET /audit/checkpoint

class AuditEndpoint : public TsadConfigTest {
 protected:
  static nlohmann::json Checkpoint(int port) {
    const HttpResponse r = HttpGet(port, "/audit/checkpoint");
    EXPECT_EQ(r.status, 200) << r.Summary();
    EXPECT_NE(r.header("Content-Type").find("application/json"), std::string::npos) << r.Summary();
    nlohmann::json j = nlohmann::json::parse(r.body_text(), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.Summary();
    return j;
  }
  static std::int64_t TreeSize(const nlohmann::json& j) {
    if (j.is_discarded() || !j.contains("head") || !j["head"].contains("tree_size")) return -1;
    return j["head"]["tree_size"].get<std::int64_t>();
  }
};

TEST_F(AuditEndpoint, HeadTreeSizeCountsGrantsAndCheckpointIsNullWithoutAnchoring) {
  Daemon tsad(dir_.path());
  std::vector<std::string> args = BaseFlags();
  args.push_back("--no-anchor");
  ASSERT_TRUE(tsad.Start(args, {}, port_file()));

  const nlohmann::json empty = Checkpoint(tsad.port());
  ASSERT_FALSE(empty.is_discarded());
  EXPECT_EQ(TreeSize(empty), 0) << empty.dump(2);
  const std::string empty_root = empty["head"].value("root", "");
  EXPECT_TRUE(IsLowerHex(empty_root, 64)) << empty.dump(2);
  EXPECT_TRUE(empty.contains("checkpoint") && empty["checkpoint"].is_null()) << empty.dump(2);

  constexpr int kGrants = 3;
  std::string previous_root = empty_root;
  for (int i = 1; i <= kGrants; ++i) {
    const HttpResponse reply = PostQuery(tsad.port(), Sha256Request());
    ASSERT_EQ(reply.status, 200) << reply.Summary();
    // The grant is committed to the log before the reply: the head must show it at once.
    const nlohmann::json now = Checkpoint(tsad.port());
    EXPECT_EQ(TreeSize(now), i) << "right after grant " << i << ": " << now.dump(2);
    const std::string root = now["head"].value("root", "");
    EXPECT_TRUE(IsLowerHex(root, 64)) << now.dump(2);
    EXPECT_NE(root, previous_root) << "the root did not change with grant " << i;
    previous_root = root;
  }

  // A rejection is not logged.
  const nlohmann::json rejected = PostForJson(tsad.port(), Sha1Request());
  EXPECT_EQ(rejected.value("status", ""), "rejection") << rejected.dump(2);

  nlohmann::json last;
  WaitUntil(
      [&] {
        last = Checkpoint(tsad.port());
        return TreeSize(last) == kGrants;
      },
      2000ms);
  EXPECT_EQ(TreeSize(last), kGrants) << last.dump(2);
  EXPECT_EQ(last["head"].value("root", ""), previous_root) << "a rejection changed the root";
  EXPECT_TRUE(last.contains("checkpoint") && last["checkpoint"].is_null()) << "anchoring is off\n" << last.dump(2);
  EXPECT_EQ(tsad.Stop(), 0) << tsad.Describe();
}

}  // namespace
}  // namespace tsa::test
