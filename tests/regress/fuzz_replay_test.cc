// Replays what the libFuzzer harness fuzz/request_fuzzer.cc found or started from, through the same
// checks (fuzz/request_checks.h: conformance row E13), in the normal build:
//   - every committed crash input in tests/testdata/fuzz/request/ (crash-<what>.der), so a fixed
//     crash stays fixed;
//   - every seed of fuzz/corpus/request/, with the answer each one is documented to get;
//   - deterministic E13 sweeps: every truncation and every single-bit flip of valid requests, and
//     random bodies.
// fuzz/README.md says how to add a crash input.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "../../fuzz/request_checks.h"
#include "corpus_files.h"

namespace tsa::fuzz {
namespace {

namespace fs = std::filesystem;
using core::FailInfo;
using test::CorpusInputs;
using test::ReadCorpusBytes;

const fs::path kCrashDir = fs::path(TSA_TESTDATA_DIR) / "fuzz" / "request";
const fs::path kSeedDir = fs::path(TSA_SOURCE_DIR) / "fuzz" / "corpus" / "request";

std::string TestName(const std::string& file) {
  std::string out;
  for (char c : file) out.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_');
  return out;
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& param) { return TestName(param.param); }

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

std::string Describe(const CheckResult& r) {
  return r.outcome.granted() ? "granted" : core::FailInfoName(r.outcome.rejection->fail_info);
}

// One issuer (test PKI, signer, token log in a temp dir) per test suite.
class FuzzIssuerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto env = MakeIssuerEnv();
    ASSERT_TRUE(env) << env.error().ToString();
    env_ = std::move(*env).release();
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(env_, nullptr) << "the issuer could not be set up"; }

  static CheckResult Check(std::span<const std::uint8_t> body) { return IssueAndCheck(*env_, body); }

  static IssuerEnv* env_;
};
IssuerEnv* FuzzIssuerTest::env_ = nullptr;

// --- Committed crash inputs -------------------------------------------------------------------

class FuzzCrashInputs : public FuzzIssuerTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(FuzzCrashInputs, StaysFixed) {
  const auto body = ReadCorpusBytes(kCrashDir / GetParam());
  const CheckResult r = Check(body);
  EXPECT_TRUE(r.ok()) << GetParam() << ": " << r.violation << "\nbody: " << Hex(body);
}

INSTANTIATE_TEST_SUITE_P(Committed, FuzzCrashInputs, ::testing::ValuesIn(CorpusInputs(kCrashDir)), ParamName);
// The directory may hold no input at all (only its README) once every crash is fixed and removed.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(FuzzCrashInputs);

// --- Seed corpus ------------------------------------------------------------------------------

// The answer each seed gets (nullopt: granted). fuzz/gen_crafted_seeds.py and the openssl
// commands of fuzz/README.md make them; a seed missing here is still checked for E13.
const std::map<std::string, std::optional<FailInfo>>& DocumentedAnswers() {
  static const auto* answers = new std::map<std::string, std::optional<FailInfo>>{
      {"openssl-sha256-cert-nonce.der", std::nullopt},
      {"openssl-sha256-nocert-nononce.der", std::nullopt},
      {"openssl-sha384-cert-nonce.der", std::nullopt},
      {"openssl-sha384-cert-nononce.der", std::nullopt},
      {"openssl-sha512-cert-nonce.der", std::nullopt},
      {"openssl-sha512-nocert-nonce.der", std::nullopt},
      {"openssl-sha256-cert-default-policy.der", std::nullopt},
      {"openssl-sha256-cert-accepted-policy.der", std::nullopt},
      {"openssl-sha512-unaccepted-policy.der", FailInfo::kUnacceptedPolicy},
      {"openssl-sha1-cert-nonce-badalg.der", FailInfo::kBadAlg},
      {"openssl-sha224-cert-badalg.der", FailInfo::kBadAlg},
      {"crafted-valid-params-absent.der", std::nullopt},
      {"crafted-valid-nonce-negative.der", std::nullopt},
      {"crafted-valid-nonce-zero.der", std::nullopt},
      {"crafted-valid-nonce-160bit.der", std::nullopt},
      {"crafted-valid-certreq-false-explicit.der", std::nullopt},
      {"crafted-valid-ber-indefinite-length.der", std::nullopt},
      {"crafted-version-2.der", FailInfo::kBadRequest},
      {"crafted-version-huge.der", FailInfo::kBadRequest},
      {"crafted-md5-unknown-alg.der", FailInfo::kBadAlg},
      {"crafted-sha3-256-not-accepted.der", FailInfo::kBadAlg},
      {"crafted-sha1-not-accepted.der", FailInfo::kBadAlg},
      {"crafted-params-octet-string.der", FailInfo::kBadAlg},
      {"crafted-digest-31-bytes.der", FailInfo::kBadDataFormat},
      {"crafted-digest-empty.der", FailInfo::kBadDataFormat},
      {"crafted-policy-unaccepted-long-oid.der", FailInfo::kUnacceptedPolicy},
      {"crafted-extension-noncritical.der", FailInfo::kUnacceptedExtension},
      {"crafted-extension-critical-two.der", FailInfo::kUnacceptedExtension},
      {"crafted-empty.der", FailInfo::kBadDataFormat},
      {"crafted-truncated-last-byte.der", FailInfo::kBadDataFormat},
      {"crafted-trailing-zero-byte.der", FailInfo::kBadDataFormat},
      {"crafted-two-requests.der", FailInfo::kBadDataFormat},
      {"crafted-length-overflow.der", FailInfo::kBadDataFormat},
      {"crafted-not-a-sequence.der", FailInfo::kBadDataFormat},
  };
  return *answers;
}

class FuzzSeedCorpus : public FuzzIssuerTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(FuzzSeedCorpus, GetsItsDocumentedAnswerWithinE13) {
  const auto body = ReadCorpusBytes(kSeedDir / GetParam());
  const CheckResult r = Check(body);
  ASSERT_TRUE(r.ok()) << GetParam() << ": " << r.violation << "\nbody: " << Hex(body);
  const auto it = DocumentedAnswers().find(GetParam());
  if (it == DocumentedAnswers().end()) return;
  const std::optional<FailInfo> got = r.outcome.granted() ? std::nullopt
                                                          : std::optional<FailInfo>(r.outcome.rejection->fail_info);
  EXPECT_EQ(got, it->second) << GetParam() << " got " << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(Seeds, FuzzSeedCorpus, ::testing::ValuesIn(CorpusInputs(kSeedDir)), ParamName);

TEST(FuzzSeedCorpusFiles, EveryDocumentedSeedIsCommitted) {
  const auto names = CorpusInputs(kSeedDir);
  for (const auto& [name, answer] : DocumentedAnswers()) {
    EXPECT_TRUE(std::find(names.begin(), names.end(), name) != names.end()) << name << " is missing from " << kSeedDir;
  }
}

// --- Deterministic E13 sweeps -----------------------------------------------------------------

// Valid requests of each shape: openssl-made with and without certReq/nonce/policy, and BER.
const std::vector<std::string> kValidSeeds = {"openssl-sha256-cert-nonce.der", "openssl-sha512-nocert-nonce.der",
                                              "openssl-sha256-cert-accepted-policy.der",
                                              "crafted-valid-ber-indefinite-length.der"};

class FuzzE13 : public FuzzIssuerTest {};

TEST_F(FuzzE13, EveryTruncationOfAValidRequestIsRejectedAsBadDataFormat) {
  for (const auto& seed : kValidSeeds) {
    const auto body = ReadCorpusBytes(kSeedDir / seed);
    ASSERT_FALSE(body.empty()) << seed;
    for (std::size_t len = 0; len < body.size(); ++len) {
      const std::span<const std::uint8_t> prefix(body.data(), len);
      const CheckResult r = Check(prefix);
      ASSERT_TRUE(r.ok()) << seed << " truncated to " << len << ": " << r.violation;
      ASSERT_FALSE(r.outcome.granted()) << seed << " truncated to " << len;
      EXPECT_EQ(r.outcome.rejection->fail_info, FailInfo::kBadDataFormat) << seed << " truncated to " << len;
    }
  }
}

// Every bit of every byte, except that inside the digest one bit per byte is enough: any flip
// there leaves a valid request for another digest (each such grant costs a signature, a
// verification and a log commit, which adds up in the sanitizer builds).
TEST_F(FuzzE13, EverySingleBitFlipOfAValidRequestAnswersWithinE13) {
  for (const auto& seed : kValidSeeds) {
    const auto original = ReadCorpusBytes(kSeedDir / seed);
    ASSERT_FALSE(original.empty()) << seed;
    const Expectation parsed = Expect(original, env_->policy);
    ASSERT_TRUE(parsed.request && !parsed.rejection) << seed << " is not a valid request";
    const ASN1_OCTET_STRING* digest = TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(parsed.request.get()));
    const auto* digest_data = ASN1_STRING_get0_data(digest);
    const auto digest_at = static_cast<std::size_t>(
        std::search(original.begin(), original.end(), digest_data, digest_data + ASN1_STRING_length(digest)) - original.begin());
    const std::size_t digest_end = digest_at + static_cast<std::size_t>(ASN1_STRING_length(digest));
    ASSERT_LT(digest_at, original.size()) << seed;
    int grants = 0;
    int rejections = 0;
    for (std::size_t i = 0; i < original.size(); ++i) {
      const int bits = i >= digest_at && i < digest_end ? 1 : 8;
      for (int bit = 0; bit < bits; ++bit) {
        auto body = original;
        body[i] = static_cast<std::uint8_t>(body[i] ^ (1u << bit));
        const CheckResult r = Check(body);
        ASSERT_TRUE(r.ok()) << seed << " with bit " << bit << " of byte " << i << " flipped: " << r.violation
                            << "\nbody: " << Hex(body);
        ++(r.outcome.granted() ? grants : rejections);
      }
    }
    // Flips in the digest (and nonce) keep a valid request; flips in the framing do not.
    EXPECT_GT(grants, 0) << seed;
    EXPECT_GT(rejections, 0) << seed;
  }
}

TEST_F(FuzzE13, RandomBodiesNeverYieldAToken) {
  std::mt19937 rng(3161);  // fixed: the same bodies every run
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 400);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> body(length(rng));
    for (auto& b : body) b = static_cast<std::uint8_t>(byte(rng));
    if (i % 2 == 0 && !body.empty()) body[0] = 0x30;  // half of them look like a SEQUENCE
    const CheckResult r = Check(body);
    ASSERT_TRUE(r.ok()) << "random body " << i << ": " << r.violation << "\nbody: " << Hex(body);
    EXPECT_FALSE(r.outcome.granted()) << "random body " << i << ": " << Hex(body);
  }
}

}  // namespace
}  // namespace tsa::fuzz
