// GET /metrics against a real tsad: the Prometheus text format checked by Debian's promtool, the
// counters equal to what the test did, loopback-only access, and a real Prometheus server
// (Debian's prometheus) that scrapes tsad and reports the token count through its query API.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "shared_tsad.h"
#include "support/fake_tsa.h"

namespace tsa::test {
namespace {

using namespace std::chrono_literals;

// The directory of `name` on PATH, or "" (tests skip without the tool, except under CI=true).
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

bool RequiredByCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

#define REQUIRE_TOOL(path, name)                                                                      \
  if ((path).empty()) {                                                                               \
    if (RequiredByCi()) FAIL() << name << " is required under CI=true (scripts/install-deps --test)"; \
    GTEST_SKIP() << name << " is not installed (Debian package prometheus)";                          \
  }

// The value of one sample line ("name{labels} value"), or nullopt when absent.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

HttpResponse IssueRawData(int port) {
  const std::string data = "metrics test";
  return HttpPost(port, "/tsa", std::vector<std::uint8_t>(data.begin(), data.end()), "application/octet-stream");
}

class Metrics : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_.Start({}); }
  static void TearDownTestSuite() { env_.Stop(); }
  void SetUp() override { ASSERT_TRUE(env_.Ready()); }
  static int port() { return env_.port(); }
  static std::string Scrape() {
    const auto res = HttpGet(port(), "/metrics");
    EXPECT_EQ(res.status, 200) << res.Summary();
    EXPECT_EQ(res.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return res.body_text();
  }
  static SharedTsad env_;
};
SharedTsad Metrics::env_;

TEST_F(Metrics, CountsWhatHappenedAndPassesPromtool) {
  const std::string before = Scrape();
  const std::string granted = R"(tsad_tokens_granted_total{hash="sha256",policy="1.3.6.1.4.1.99999.1.1"})";
  const double granted_before = Sample(before, granted).value_or(-1);
  ASSERT_GE(granted_before, 0) << before;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(IssueRawData(port()).status, 200);
  const std::string bad = "x";
  ASSERT_EQ(
      HttpPost(port(), "/tsa?hash=md5", std::vector<std::uint8_t>(bad.begin(), bad.end()), "application/octet-stream").status,
      200);
  ASSERT_EQ(HttpGet(port(), "/no-such-page").status, 404);

  const std::string text = Scrape();
  EXPECT_EQ(Sample(text, granted), granted_before + 3) << text;
  EXPECT_GE(Sample(text, R"(tsad_rejections_total{failinfo="badAlg"})").value_or(0), 1) << text;
  EXPECT_GE(Sample(text, R"(tsad_http_responses_total{code="404",route="not_found"})").value_or(0), 1) << text;
  EXPECT_GE(Sample(text, R"(tsad_http_responses_total{code="200",route="tsa"})").value_or(0), 4) << text;
  EXPECT_GE(Sample(text, R"(tsad_http_request_duration_seconds_count{route="tsa"})").value_or(0), 4) << text;
  EXPECT_GE(Sample(text, "tsad_signing_duration_seconds_count").value_or(0), 3) << text;
  EXPECT_GE(Sample(text, "tsad_log_commit_duration_seconds_count").value_or(0), 1) << text;
  EXPECT_GE(Sample(text, "tsad_log_tree_size").value_or(0), 3) << text;
  EXPECT_EQ(Sample(text, "tsad_log_healthy"), 1) << text;
  EXPECT_EQ(Sample(text, "tsad_signing_key_healthy"), 1) << text;
  EXPECT_GT(Sample(text, "tsad_certificate_not_after_timestamp_seconds").value_or(0), static_cast<double>(std::time(nullptr)));
  EXPECT_GE(Sample(text, "tsad_open_connections").value_or(0), 1) << text;  // this scrape's
  EXPECT_GE(Sample(text, "tsad_worker_threads").value_or(0), 3) << text;
  EXPECT_TRUE(Sample(text, "tsad_clock_synchronised").has_value()) << text;
  EXPECT_GT(Sample(text, "process_resident_memory_bytes").value_or(0), 1e6) << text;
  EXPECT_GT(Sample(text, "process_open_fds").value_or(0), 3) << text;
  const double start = Sample(text, "process_start_time_seconds").value_or(0);
  EXPECT_NEAR(start, static_cast<double>(std::time(nullptr)), 600) << text;
  EXPECT_NE(text.find("tsad_build_info{"), std::string::npos) << text;

  const std::string promtool = FindOnPath("promtool");
  REQUIRE_TOOL(promtool, "promtool");
  const std::string file = env_.dir().Sub("metrics.txt");
  std::ofstream(file) << text;
  const auto check = RunCommand({"/bin/sh", "-c", "\"$0\" check metrics < \"$1\"", promtool, file});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool found problems (lint)";
}

TEST_F(Metrics, HeadAndLoopbackOnlyByDefault) {
  // Loopback is allowed (these tests run on 127.0.0.1); --metrics-from any opens it to others.
  const auto head = HttpRequest(port(), "HEAD", "/metrics");
  EXPECT_EQ(head.status, 200) << head.Summary();
  EXPECT_EQ(HttpRequest(port(), "POST", "/metrics").status, 404);
}

// A real Prometheus server scrapes tsad every second; its query API must report exactly the
// tokens this test issued.
TEST(MetricsPrometheus, ScrapedTokenCounterEqualsTokensIssued) {
  const std::string prometheus = FindOnPath("prometheus");
  REQUIRE_TOOL(prometheus, "prometheus");
  SharedTsad tsad;
  tsad.Start({});
  ASSERT_TRUE(tsad.Ready());
  constexpr int kTokens = 7;
  for (int i = 0; i < kTokens; ++i) ASSERT_EQ(IssueRawData(tsad.port()).status, 200);

  const int prom_port = ClosedLocalPort();  // Prometheus cannot listen on port 0 and report it
  ASSERT_GT(prom_port, 0);
  const std::string config = tsad.dir().Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: tsad\n    static_configs:\n      - targets: ['127.0.0.1:"
                        << tsad.port() << "']\n";
  const std::string log = tsad.dir().Sub("prometheus.log");
  const pid_t pid = Spawn({prometheus, "--config.file=" + config, "--storage.tsdb.path=" + tsad.dir().Sub("prom-data"),
                           "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
                          log, log);
  ASSERT_GT(pid, 0);
  std::optional<double> seen;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto res = HttpGet(prom_port, "/api/v1/query?query=sum(tsad_tokens_granted_total)");
    if (res.status == 200) {
      const auto body = nlohmann::json::parse(res.body_text(), nullptr, false);
      const auto& result = body["data"]["result"];
      if (result.is_array() && !result.empty()) {
        seen = std::stod(result[0]["value"][1].get<std::string>());
        if (*seen == kTokens) break;
      }
    }
    std::this_thread::sleep_for(500ms);
  }
  ::kill(pid, SIGTERM);
  WaitChild(pid, 10s);
  std::ifstream log_in(log);
  const std::string log_text((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(seen.has_value()) << "Prometheus never returned tsad_tokens_granted_total. Its log:\n" << log_text;
  EXPECT_EQ(*seen, kTokens);
  tsad.Stop();
}

}  // namespace
}  // namespace tsa::test
