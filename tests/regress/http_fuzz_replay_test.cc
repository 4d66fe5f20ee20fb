// Replays what the libFuzzer harness fuzz/http_request_fuzzer.cc found or started from, through the
// same checks (fuzz/http_request_checks.h: the session's request reading, its framing rules and
// limits), in the normal build:
//   - every committed crash input in tests/testdata/fuzz/http_request/, so a fixed finding stays
//     fixed;
//   - every seed of fuzz/corpus/http_request/, with what tsad is documented to read of it;
//   - deterministic sweeps: each seed under every read-split seed, and every truncation of the
//     small seeds.
// fuzz/README.md says how to add a crash input.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "../../fuzz/http_request_checks.h"
#include "corpus_files.h"

namespace tsa::fuzz {
namespace {

namespace fs = std::filesystem;
using test::CorpusInputs;
using test::ReadCorpusBytes;

const fs::path kCrashDir = fs::path(TSA_TESTDATA_DIR) / "fuzz" / "http_request";
const fs::path kSeedDir = fs::path(TSA_SOURCE_DIR) / "fuzz" / "corpus" / "http_request";

std::string ParamName(const ::testing::TestParamInfo<std::string>& param) {
  std::string out;
  for (char c : param.param) out.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_');
  return out;
}

// What each request of a connection came to: "done", the error status, or "unread" (the
// connection ends with the request's body unread: an unfinished request, or one answered at once).
std::string Summary(const ConnectionRead& read) {
  std::string out;
  for (const auto& r : read.requests) {
    if (!out.empty()) out += ",";
    out += r.done ? "done" : r.status != 0 ? std::to_string(r.status) : "unread";
  }
  return out;
}

// --- Committed crash inputs -------------------------------------------------------------------

class HttpFuzzCrashInputs : public ::testing::TestWithParam<std::string> {};

TEST_P(HttpFuzzCrashInputs, StaysFixed) {
  const auto input = ReadCorpusBytes(kCrashDir / GetParam());
  const std::string violation = CheckHttpInput(input);
  EXPECT_EQ(violation, "") << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Committed, HttpFuzzCrashInputs, ::testing::ValuesIn(CorpusInputs(kCrashDir)), ParamName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(HttpFuzzCrashInputs);

// --- Seed corpus ------------------------------------------------------------------------------

// What tsad reads of each seed (fuzz/gen_http_seeds.py writes them).
const std::map<std::string, std::string>& DocumentedReads() {
  static const auto* reads = new std::map<std::string, std::string>{
      {"der-query-post.http", "done"},
      {"der-query-post-split.http", "done"},
      {"raw-data-post.http", "done"},
      {"raw-data-bad-hash.http", "unread"},  // badAlg reply, then close
      {"chunked-query.http", "done"},
      {"chunked-ext-trailer.http", "done"},
      {"pipelined-gets.http", "done,done,done"},  // the third says Connection: close
      {"pipelined-post-then-get.http", "done,done"},
      {"http10-no-host.http", "done"},
      {"expect-100-continue.http", "done"},
      {"get-with-body.http", "unread"},  // answered at once; the pipelined GET is never read
      {"body-over-limit.http", "413"},
      {"chunked-over-limit.http", "413"},
      {"te-obs-fold.http", "done"},  // obs-fold is replaced by a space (RFC 9112 §5.2)
      {"smuggle-cl-te.http", "400"},
      {"smuggle-te-cl.http", "400"},
      {"smuggle-cl-list.http", "400"},
      {"smuggle-cl-twice.http", "400"},
      {"smuggle-cl-plus.http", "400"},
      {"smuggle-te-gzip-chunked.http", "400"},
      {"smuggle-te-chunked-gzip.http", "400"},
      {"smuggle-te-twice.http", "400"},
      {"smuggle-chunk-too-long.http", "400"},
      {"smuggle-chunk-size-overflow.http", "400"},
      {"long-uri.http", "414"},
      {"many-headers.http", "431"},
  };
  return *reads;
}

class HttpFuzzSeedCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(HttpFuzzSeedCorpus, ReadsAsDocumented) {
  const auto input = ReadCorpusBytes(kSeedDir / GetParam());
  ConnectionRead read;
  ASSERT_EQ(CheckHttpInput(input, &read), "") << GetParam();
  const auto it = DocumentedReads().find(GetParam());
  if (it == DocumentedReads().end()) return;
  EXPECT_EQ(Summary(read), it->second) << GetParam();
}

// Every read pattern (byte 0 bits 0-6) and both body-limit sets (bit 7) keep the properties.
TEST_P(HttpFuzzSeedCorpus, KeepsThePropertiesUnderEveryReadSplit) {
  auto input = ReadCorpusBytes(kSeedDir / GetParam());
  ASSERT_FALSE(input.empty());
  for (int seed = 0; seed < 256; ++seed) {
    input[0] = static_cast<std::uint8_t>(seed);
    ASSERT_EQ(CheckHttpInput(input), "") << GetParam() << " with seed " << seed;
  }
}

TEST_P(HttpFuzzSeedCorpus, KeepsThePropertiesForEveryTruncation) {
  const auto input = ReadCorpusBytes(kSeedDir / GetParam());
  // Every length of a small seed; about 256 evenly spread lengths of a large one.
  const std::size_t step = std::max<std::size_t>(1, input.size() / 256);
  for (std::size_t len = 1; len < input.size(); len += step) {
    ASSERT_EQ(CheckHttpInput(std::span(input.data(), len)), "") << GetParam() << " truncated to " << len;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, HttpFuzzSeedCorpus, ::testing::ValuesIn(CorpusInputs(kSeedDir)), ParamName);

TEST(HttpFuzzSeedCorpusFiles, EveryDocumentedSeedIsCommitted) {
  const auto names = CorpusInputs(kSeedDir);
  for (const auto& [name, summary] : DocumentedReads()) {
    EXPECT_TRUE(std::find(names.begin(), names.end(), name) != names.end()) << name << " is missing from " << kSeedDir;
  }
}

}  // namespace
}  // namespace tsa::fuzz
