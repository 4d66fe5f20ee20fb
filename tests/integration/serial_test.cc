// Serial numbers and the token log of a real tsad (RFC3161-CONFORMANCE.md §6.5 S04-S06, §8.6-8.7):
// serials never repeat across SIGKILL, restarts on an older database copy, or several instances;
// every grant is one leaf of the token log (in the tiles layout, the default of a new log), rejections
// none. S01-S03 are in conformance_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "grant_checks.h"
#include "shared_tsad.h"
#include "support/der_builder.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"
#include "tsa/audit/tile_recovery.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/store/database.h"

namespace tsa::test {
namespace {

namespace fs = std::filesystem;
using core::FailInfo;
using namespace std::chrono_literals;

std::string StripZeros(const std::string& hex) {
  const auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

struct TokenRow {
  std::int64_t idx = 0;
  std::string serial;  // leading zeros stripped
  std::int64_t gen_time_us = 0;
  std::string policy;
  std::string hash_oid;
  Bytes digest;
  Bytes token;
};

// Reads the token log with the project's store layer, read-only (works while tsad runs: WAL), in
// either layout. The tiles layout stores no policy, hash or digest column: they are the token's.
Result<std::vector<TokenRow>> ReadTokenLog(const std::string& db_path) {
  store::OpenOptions options;
  options.read_only = true;
  options.create = false;
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(db_path, options));
  TSA_ASSIGN_OR_RETURN(auto log, audit::OpenLogForReading(*db));
  TSA_ASSIGN_OR_RETURN(auto cursor, log->ScanTokens());
  std::vector<TokenRow> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(auto leaf, cursor->Next());
    if (!leaf) break;
    TokenRow r;
    r.idx = leaf->index;
    r.serial = StripZeros(leaf->serial);
    r.gen_time_us = leaf->gen_time_us;
    r.policy = leaf->policy;
    r.hash_oid = leaf->hash_oid;
    r.digest = leaf->digest;
    if (leaf->token) r.token = *leaf->token;
    if (leaf->tiles) {
      TSA_ASSIGN_OR_RETURN(core::ResponseInfo info, crypto::DescribeResponse(r.token));
      if (!info.token) return MakeError(ErrorKind::kInvalidArgument, "leaf " + std::to_string(r.idx) + " is not a token");
      r.policy = info.token->policy;
      r.hash_oid = info.token->hash_oid;
      auto digest = core::ParseHex(info.token->digest_hex);
      if (!digest) return MakeError(ErrorKind::kInvalidArgument, "leaf " + std::to_string(r.idx) + ": digest hex");
      r.digest = std::move(*digest);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

// Sends `count` default requests over `threads` connections; returns the serials of the grants.
// Transport failures are tolerated only when allow_transport_errors (a process being killed).
struct BatchResult {
  std::vector<std::string> serials;  // leading zeros stripped
  std::vector<std::string> failures;
  int transport_errors = 0;
};
BatchResult IssueBatch(int port, const std::string& tsa_cert_pem, int count, int threads, bool allow_transport_errors = false,
                       std::atomic<int>* progress = nullptr) {
  BatchResult result;
  std::mutex mu;
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < count) {
        const RequestBuilder b = RequestBuilder::Default();
        const HttpResponse r = PostQuery(port, b.Encode());
        std::lock_guard lock(mu);
        // A process being killed may cut a reply anywhere, even inside a 200's body.
        if ((r.status == 0 || !r.error.empty()) && allow_transport_errors) {
          ++result.transport_errors;
          continue;
        }
        GrantFacts facts;
        auto ok = CheckGrant(r, ExpectationsFor(b, tsa_cert_pem), &facts);
        if (ok) {
          result.serials.push_back(StripZeros(facts.serial_hex));
          if (progress) progress->fetch_add(1);
        } else {
          result.failures.push_back(ok.message());
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return result;
}

// The backup AUDIT_CHAIN.md describes: the database (with its WAL) and, in the tiles layout, <db>.tiles/.
void CopyDatabase(const std::string& from, const std::string& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix, fs::copy_options::overwrite_existing, ec);
    ASSERT_FALSE(ec) << "copy " << from << suffix << ": " << ec.message();
  }
  std::error_code ec;
  if (fs::exists(from + ".tiles")) fs::copy(from + ".tiles", to + ".tiles", fs::copy_options::recursive, ec);
  ASSERT_FALSE(ec) << "copy " << from << ".tiles: " << ec.message();
}

class SerialsAndLog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("tsa-serial");
    auto pki = CreateTestPki(dir_->Sub("pki"));
    if (pki) pki_ = *pki;
  }
  static void TearDownTestSuite() {
    pki_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(pki_.has_value()) << "cannot create the test PKI"; }

  static std::unique_ptr<TsadProcess> Tsad(const std::string& db, std::vector<std::string> extra = {}) {
    TsadOptions options;
    options.cert_dir = pki_->dir;
    options.db_path = db;
    options.extra_args = std::move(extra);
    return std::make_unique<TsadProcess>(options);
  }
  static const std::string& cert() { return pki_->tsa_cert_pem; }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::optional<TestPki> pki_;
};

TEST_F(SerialsAndLog, TokenLogHasOneRowPerGrantAndNoneForRejections) {
  TempDir work("tsa-log");
  const std::string db = work.Sub("log.db");
  auto tsad = Tsad(db);
  ASSERT_TRUE(tsad->Start());

  std::map<std::string, GrantFacts> grants;  // serial -> facts
  std::map<std::string, Bytes> digests;      // serial -> imprint digest
  for (int i = 0; i < 3; ++i) {
    RequestBuilder b = RequestBuilder::Default();
    if (i == 1) b.WithHash(oid::kSha512);
    GrantFacts f;
    ASSERT_TRUE(CheckGrant(PostQuery(tsad->port(), b.Encode()), ExpectationsFor(b, cert()), &f));
    grants[StripZeros(f.serial_hex)] = f;
    digests[StripZeros(f.serial_hex)] = b.digest;
    if (i == 0) {
      // The token left only after its row was committed: visible right now to another reader.
      auto rows = ReadTokenLog(db);
      ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
      ASSERT_EQ(rows->size(), 1u);
      EXPECT_EQ(rows->at(0).serial, StripZeros(f.serial_hex));
    }
  }
  {  // raw-data mode grants are logged too
    const HttpResponse r = HttpPost(tsad->port(), "/tsa", Bytes{'h', 'e', 'l', 'l', 'o'}, std::string("text/plain"));
    auto info = crypto::DescribeResponse(r.body);
    ASSERT_TRUE(info.has_value() && info->granted()) << r.Summary();
    GrantFacts f;
    f.serial_hex = info->token->serial_hex;
    f.token_der = info->token->token_der;
    f.gen_time_us = info->token->gen_time_us;
    grants[StripZeros(f.serial_hex)] = f;
    digests[StripZeros(f.serial_hex)] = FromHex("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  }
  // Rejections of every kind.
  RequestBuilder bad_version = RequestBuilder::Default();
  bad_version.version = {0x02};
  RequestBuilder bad_policy = RequestBuilder::Default();
  bad_policy.policy = oid::kUnknownPolicy;
  RequestBuilder bad_ext = RequestBuilder::Default();
  bad_ext.extensions = std::vector<RequestBuilder::Extension>{{"1.3.6.1.4.1.99999.7.1", true, {0x05, 0x00}}};
  EXPECT_TRUE(CheckRejection(PostQuery(tsad->port(), RequestBuilder::Default().WithHash(oid::kMd5).Encode()), FailInfo::kBadAlg));
  EXPECT_TRUE(CheckRejection(PostQuery(tsad->port(), bad_version.Encode()), FailInfo::kBadRequest));
  EXPECT_TRUE(CheckRejection(PostQuery(tsad->port(), bad_policy.Encode()), FailInfo::kUnacceptedPolicy));
  EXPECT_TRUE(CheckRejection(PostQuery(tsad->port(), bad_ext.Encode()), FailInfo::kUnacceptedExtension));
  EXPECT_TRUE(
      CheckRejection(PostQuery(tsad->port(), Cat({RequestBuilder::Default().Encode(), Bytes{0}})), FailInfo::kBadDataFormat));
  EXPECT_TRUE(CheckRejection(PostQuery(tsad->port(), {}), FailInfo::kBadDataFormat));
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();

  auto rows = ReadTokenLog(db);
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->size(), grants.size()) << "one row per grant, none per rejection";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const TokenRow& row = rows->at(i);
    SCOPED_TRACE("row serial " + row.serial);
    EXPECT_EQ(row.idx, static_cast<std::int64_t>(i));
    ASSERT_EQ(grants.count(row.serial), 1u) << "a logged serial that no client received";
    const GrantFacts& g = grants[row.serial];
    EXPECT_EQ(row.token, g.token_der) << "the logged token differs from the one sent";
    EXPECT_EQ(row.digest, digests[row.serial]);
    EXPECT_EQ(row.policy, oid::kDefaultPolicy);
    EXPECT_LT(std::llabs(row.gen_time_us - g.gen_time_us), 1000)
        << "logged genTime " << row.gen_time_us << " vs token " << g.gen_time_us;
  }
}

TEST_F(SerialsAndLog, S04_SerialsNeverRepeatAfterSigkillDuringLoad) {
  TempDir work("tsa-s04");
  const std::string db = work.Sub("s04.db");
  std::vector<std::string> all;
  {
    auto tsad = Tsad(db);
    ASSERT_TRUE(tsad->Start());
    auto first = IssueBatch(tsad->port(), cert(), 20, 4);
    ASSERT_TRUE(first.failures.empty()) << first.failures[0];
    all.insert(all.end(), first.serials.begin(), first.serials.end());
    // Load, and SIGKILL in the middle of it.
    std::atomic<int> progress{0};
    BatchResult loaded;
    std::thread load([&] { loaded = IssueBatch(tsad->port(), cert(), 1000, 8, true, &progress); });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (progress.load() < 50 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    tsad->Kill();
    load.join();
    EXPECT_TRUE(loaded.failures.empty()) << loaded.failures.size()
                                         << " bad replies; first: " << (loaded.failures.empty() ? "" : loaded.failures[0]);
    EXPECT_GE(loaded.serials.size(), 50u);
    all.insert(all.end(), loaded.serials.begin(), loaded.serials.end());
  }
  {
    auto tsad = Tsad(db);
    ASSERT_TRUE(tsad->Start());
    auto after = IssueBatch(tsad->port(), cert(), 40, 4);
    ASSERT_TRUE(after.failures.empty()) << after.failures[0];
    all.insert(all.end(), after.serials.begin(), after.serials.end());
    EXPECT_EQ(tsad->Stop(), 0);
  }
  const std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size()) << "a serial number was issued twice across a crash";
  // Every token a client received before the crash is in the log (durable before it was sent).
  auto rows = ReadTokenLog(db);
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  std::set<std::string> logged;
  for (const auto& r : *rows) logged.insert(r.serial);
  for (const auto& s : all) EXPECT_EQ(logged.count(s), 1u) << "serial " << s << " reached a client but is not in the log";
}

TEST_F(SerialsAndLog, S05_RestartOnAnOlderDatabaseCopyNeverReusesSerials) {
  TempDir work("tsa-s05");
  const std::string db = work.Sub("live.db");
  const std::string backup = work.Sub("backup.db");
  std::vector<std::string> all;
  auto run = [&](const std::string& path, int count) {
    auto tsad = Tsad(path);
    ASSERT_TRUE(tsad->Start());
    auto batch = IssueBatch(tsad->port(), cert(), count, 2);
    EXPECT_TRUE(batch.failures.empty()) << batch.failures[0];
    all.insert(all.end(), batch.serials.begin(), batch.serials.end());
    EXPECT_EQ(tsad->Stop(), 0);
  };
  run(db, 10);
  CopyDatabase(db, backup);  // the "backup"
  run(db, 10);               // the live database moves on
  run(backup, 10);           // disaster: restored from the older backup
  run(backup, 10);           // and restarted once more
  ASSERT_EQ(all.size(), 40u);
  const std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size()) << "a serial number was reused after a restore from an older database";
}

TEST_F(SerialsAndLog, S06_TwoInstancesWithDifferentInstanceIdsNeverShareSerials) {
  TempDir work("tsa-s06");
  const std::string seed = work.Sub("seed.db");
  {
    auto tsad = Tsad(seed);
    ASSERT_TRUE(tsad->Start());
    EXPECT_EQ(tsad->Stop(), 0);
  }
  // Both instances start from copies of the same database at the same moment.
  CopyDatabase(seed, work.Sub("a.db"));
  CopyDatabase(seed, work.Sub("b.db"));
  auto a = Tsad(work.Sub("a.db"), {"--instance-id", "1"});
  auto b = Tsad(work.Sub("b.db"), {"--instance-id", "2"});
  ASSERT_TRUE(a->Start());
  ASSERT_TRUE(b->Start());
  BatchResult ra, rb;
  std::thread ta([&] { ra = IssueBatch(a->port(), cert(), 50, 4); });
  std::thread tb([&] { rb = IssueBatch(b->port(), cert(), 50, 4); });
  ta.join();
  tb.join();
  EXPECT_TRUE(ra.failures.empty() && rb.failures.empty());
  ASSERT_EQ(ra.serials.size(), 50u);
  ASSERT_EQ(rb.serials.size(), 50u);
  std::set<std::string> sa(ra.serials.begin(), ra.serials.end());
  for (const auto& s : rb.serials) EXPECT_EQ(sa.count(s), 0u) << "serial " << s << " issued by both instances";
  EXPECT_EQ(a->Stop(), 0);
  EXPECT_EQ(b->Stop(), 0);
}

}  // namespace
}  // namespace tsa::test
