// tsa-audit-verify's engine (chain_verifier.h) against a real log: 20 tokens signed by a TokenSigner
// over an EC P-256 dev PKI, appended through TokenLog; checkpoints at sizes 5 and 13 with tsad's
// own token and an external TSA's reply (a second dev PKI), a checkpoint at 16 never anchored.
// Each test tampers with a copy of the SQLite file in one way and checks that the verifier names
// the right first bad index (or checkpoint); the untouched file passes and is never modified.
#include "tsa/verify/chain_verifier.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/bytes.h"
#include "tsa/core/serial.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/store/database.h"
#include "tsa/store/sqlite_log_store.h"

namespace tsa::verify {
namespace {

using namespace tsa::audit;  // the log under test is built with the writer

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using unit_test::TempDir;

constexpr std::uint64_t kLeaves = 20;
constexpr std::uint64_t kAnchoredSizes[] = {5, 13};
constexpr std::uint64_t kUnanchoredSize = 16;

Bytes ToBytes(const Hash& h) { return Bytes(h.begin(), h.end()); }

Bytes TokenDer(const Bytes& reply) {
  auto info = crypto::DescribeResponse(reply);
  EXPECT_TRUE(info && info->token) << (info ? "no token" : info.error().message);
  return info && info->token ? info->token->token_der : Bytes{};
}

Bytes RequestOver(const Hash& digest, std::optional<Bytes> nonce = std::nullopt) {
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha256;
  spec.digest = ToBytes(digest);
  spec.nonce = std::move(nonce);
  spec.cert_req = true;
  return unit_test::RequestDer(spec);
}

struct BuildOptions {
  bool keep_token = true;
  std::int64_t ext_offset_us = 2'000'000;  // external genTime - tsad's checkpoint genTime
};

// Writes the log described at the top of the file into `path`.
class LogBuilder {
 public:
  explicit LogBuilder(BuildOptions options) : options_(options) {
    tsad_ = unit_test::MakeSigner(unit_test::SharedPki());
    external_ = unit_test::MakeSigner(unit_test::OtherPki());
  }

  void Build(const std::string& path) {
    TokenLogOptions lo;
    lo.path = path;
    lo.keep_token = options_.keep_token;
    lo.layout = store::LogLayout::kSqlite;  // the tests tamper with its rows (the tiles: log_layout_tiles_test.cc)
    lo.synchronous_full = false;
    auto log = TokenLog::Open(lo);
    ASSERT_TRUE(log) << log.error().ToString();
    // The origin line is the TSA subject as the token reports it (RFC 2253).
    origin_ = crypto::DescribeResponse(Sign(*tsad_, unit_test::Sha256Request(0xee), space_, 999))->token->signer_subject;
    std::int64_t t = unit_test::NowMicros();
    for (std::uint64_t i = 0; i < kLeaves; ++i) {
      t += 1'000 + 7;  // micro-second times: the tokens show milliseconds
      const Bytes reply = Sign(*tsad_, unit_test::Sha256Request(static_cast<std::uint8_t>(i), i % 3 != 0), space_, i + 1, t);
      auto info = crypto::DescribeResponse(reply);
      ASSERT_TRUE(info && info->token);
      TokenRecord r;
      r.serial_hex = core::SerialHex(space_, i + 1);
      r.gen_time_us = t;
      r.policy = info->token->policy;
      r.hash_oid = unit_test::kSha256Oid;
      r.digest = unit_test::Filled(32, static_cast<std::uint8_t>(i));
      r.token_der = info->token->token_der;
      ASSERT_TRUE((*log)->Append(r));
      replies.push_back(reply);
      serials.push_back(r.serial_hex);
      const std::uint64_t size = i + 1;
      if (size == kAnchoredSizes[0] || size == kAnchoredSizes[1] || size == kUnanchoredSize) {
        t += 1'000;
        const std::int64_t cp = AddCheckpoint(**log, size, t);
        checkpoint_ids.push_back(cp);
        if (size != kUnanchoredSize) {
          AddAnchor(**log, cp, false, t + 1'000'000);
          AddAnchor(**log, cp, true, t + options_.ext_offset_us);
        }
      }
    }
  }

  Bytes Sign(crypto::TokenSigner& signer, const Bytes& request, core::SerialSpace space, std::uint64_t counter,
             std::int64_t t = 0) {
    auto reply = signer.Sign(request, core::EncodeSerial(space, counter), t ? t : unit_test::NowMicros());
    EXPECT_TRUE(reply) << reply.error().ToString();
    return reply ? reply->response_der : Bytes{};
  }

  std::int64_t AddCheckpoint(TokenLog& log, std::uint64_t size, std::int64_t t) {
    const LogHead head = log.Head();
    EXPECT_EQ(head.size, size);
    const Checkpoint cp{origin_, size, head.root, ""};
    const std::string text = cp.Text();
    const Bytes token = TokenDer(Sign(*tsad_, RequestOver(cp.Imprint()), cp_space_, ++cp_counter_, t));
    checkpoint_tokens.push_back(token);
    std::int64_t id = 0;
    const store::CheckpointRow row{0,
                                   static_cast<std::int64_t>(size),
                                   Bytes(head.root.begin(), head.root.end()),
                                   text,
                                   token,
                                   core::SerialHex(cp_space_, cp_counter_),
                                   t,
                                   t};
    EXPECT_TRUE(log.Write([&](store::LogStore& store) -> Status {
      TSA_ASSIGN_OR_RETURN(id, store.InsertCheckpoint(row));
      return Ok();
    }));
    return id;
  }

  void AddAnchor(TokenLog& log, std::int64_t checkpoint_id, bool ok, std::int64_t ext_time) {
    const Bytes& cp_token = checkpoint_tokens.back();
    const Bytes nonce = crypto::RandomNonce();
    Bytes reply;
    std::optional<core::TokenInfo> info;
    if (ok) {
      reply = Sign(*external_, RequestOver(Sha256(cp_token.data(), cp_token.size()), nonce), ext_space_, ++ext_counter_,
                   ext_time);
      info = *crypto::DescribeResponse(reply)->token;
    }
    store::AnchorAttemptRow attempt{0,
                                    checkpoint_id,
                                    ok ? "https://tsa.example/ok" : "https://tsa.example/down",
                                    ext_time,
                                    ok,
                                    ok ? "" : "timeout",
                                    nonce,
                                    reply,
                                    ok ? info->gen_time_us : 0,
                                    ok ? info->serial_hex : ""};
    EXPECT_TRUE(log.Write([&](store::LogStore& store) { return store.InsertAnchorAttempt(attempt); }));
  }

  std::vector<Bytes> replies;  // leaf i's TimeStampResp
  std::vector<std::string> serials;
  std::vector<std::int64_t> checkpoint_ids;  // sizes 5, 13, 16
  std::vector<Bytes> checkpoint_tokens;

  std::shared_ptr<crypto::TokenSigner> tsad_, external_;

 private:
  BuildOptions options_;
  std::string origin_;
  core::SerialSpace space_{1, 1'700'000'000'000'000};
  core::SerialSpace cp_space_{2, 1'700'000'000'000'000};
  core::SerialSpace ext_space_{7, 1'600'000'000'000'000};
  std::uint64_t cp_counter_ = 0, ext_counter_ = 0;
};

// SQL on the file, as an attacker with write access would run it.
class Sql {
 public:
  explicit Sql(const std::string& path) {
    auto db = store::Database::Open(path, store::OpenOptions{});
    EXPECT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
  }
  void Exec(const std::string& sql) { ASSERT_TRUE(db_->Exec(sql)) << sql; }
  void Blob(const std::string& sql, const Bytes& blob) {
    auto st = db_->Prepare(sql);
    ASSERT_TRUE(st) << st.error().message;
    st->BindBlob(1, blob);
    ASSERT_TRUE(st->Run()) << sql;
  }
  Bytes GetBlob(const std::string& sql) {
    auto st = db_->Prepare(sql);
    EXPECT_TRUE(st) << st.error().message;
    auto row = st->Step();
    EXPECT_TRUE(row && *row) << sql;
    return st->ColumnBlob(0);
  }
  store::Database& db() { return *db_; }

 private:
  std::unique_ptr<store::Database> db_;
};

struct TokenRow {
  std::string serial, policy, hash_oid;
  std::int64_t gen_time_us = 0;
  Bytes digest, token, token_sha256, leaf_hash;
};

TokenRow ReadRow(Sql& sql, int idx) {
  auto st = sql.db().Prepare(
      "SELECT serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash FROM tokens WHERE idx = ?");
  EXPECT_TRUE(st);
  st->Bind(1, static_cast<std::int64_t>(idx));
  EXPECT_TRUE(*st->Step());
  return TokenRow{st->ColumnText(0), st->ColumnText(2), st->ColumnText(3), st->ColumnInt(1),
                  st->ColumnBlob(4), st->ColumnBlob(5), st->ColumnBlob(6), st->ColumnBlob(7)};
}

void WriteRow(Sql& sql, int idx, const TokenRow& r, bool insert = false) {
  auto st = sql.db().Prepare(
      insert ? "INSERT INTO tokens (serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, leaf_hash, idx) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
             : "UPDATE tokens SET serial = ?, gen_time_us = ?, policy = ?, hash_oid = ?, digest = ?, token = ?, "
               "token_sha256 = ?, leaf_hash = ? WHERE idx = ?");
  ASSERT_TRUE(st);
  st->Bind(1, r.serial).Bind(2, r.gen_time_us).Bind(3, r.policy).Bind(4, r.hash_oid).BindBlob(5, r.digest).BindBlob(6, r.token);
  st->BindBlob(7, r.token_sha256).BindBlob(8, r.leaf_hash).Bind(9, static_cast<std::int64_t>(idx));
  ASSERT_TRUE(st->Run());
}

// Recomputes every merkle node from the (possibly forged) leaf_hash column: a consistent rewrite.
void RewriteTree(Sql& sql) {
  sql.Exec("DELETE FROM merkle_nodes");
  auto st = sql.db().Prepare("SELECT leaf_hash FROM tokens ORDER BY idx");
  ASSERT_TRUE(st);
  MerkleFrontier tree;
  std::vector<MerkleFrontier::Node> nodes;
  while (*st->Step()) {
    for (const auto& n : tree.Append(*HashFromBytes(st->ColumnBlob(0)))) nodes.push_back(n);
  }
  for (const auto& n : nodes) {
    auto ins = sql.db().Prepare("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)");
    ins->Bind(1, static_cast<std::int64_t>(n.level)).Bind(2, static_cast<std::int64_t>(n.index)).BindBlob(3, n.hash);
    ASSERT_TRUE(ins->Run());
  }
}

Result<ChainReport> RunVerify(const std::string& path, const ChainVerifyOptions& options = {}, ProgressFn progress = {}) {
  store::OpenOptions ro;
  ro.read_only = true;
  ro.create = false;
  TSA_ASSIGN_OR_RETURN(auto db, store::Database::Open(path, ro));
  store::SqliteLogStore log(*db);
  return VerifyChain(log, options, std::move(progress));
}

std::string Describe(const ChainReport& r) {
  std::string out;
  for (const auto& f : r.findings) out += "  " + f.ToString() + "\n";
  return out;
}

class ChainVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    template_dir_ = new TempDir("tsa-chain-template");
    builder_ = new LogBuilder(BuildOptions{});
    builder_->Build(template_dir_->Sub("audit.db"));
  }
  static void TearDownTestSuite() {
    delete builder_;
    delete template_dir_;
    builder_ = nullptr;
    template_dir_ = nullptr;
  }
  void SetUp() override {
    path_ = dir_.Sub("audit.db");
    fs::copy_file(template_dir_->Sub("audit.db"), path_);
    ASSERT_FALSE(fs::exists(template_dir_->Sub("audit.db-wal")) && fs::file_size(template_dir_->Sub("audit.db-wal")) > 0)
        << "the template log was not checkpointed";
  }

  ChainReport Verify(const ChainVerifyOptions& options = {}) {
    auto report = RunVerify(path_, options);
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? *report : ChainReport{};
  }

  // Tampering must fail with exactly this first bad index.
  void ExpectFirstBad(std::uint64_t index, const ChainVerifyOptions& options = {}) {
    const ChainReport r = Verify(options);
    EXPECT_FALSE(r.ok) << "tampering not caught";
    ASSERT_TRUE(r.first_bad_index) << Describe(r);
    EXPECT_EQ(*r.first_bad_index, index) << Describe(r);
  }

  void ExpectBadCheckpoint(std::int64_t id, const ChainVerifyOptions& options = {}) {
    const ChainReport r = Verify(options);
    EXPECT_FALSE(r.ok) << "tampering not caught";
    EXPECT_FALSE(r.first_bad_index) << Describe(r);
    ASSERT_TRUE(r.first_bad_checkpoint) << Describe(r);
    EXPECT_EQ(*r.first_bad_checkpoint, id) << Describe(r);
  }

  static std::int64_t Cp(int n) { return builder_->checkpoint_ids.at(static_cast<std::size_t>(n)); }

  static TempDir* template_dir_;
  static LogBuilder* builder_;
  TempDir dir_;
  std::string path_;
};

TempDir* ChainVerifierTest::template_dir_ = nullptr;
LogBuilder* ChainVerifierTest::builder_ = nullptr;

TEST_F(ChainVerifierTest, UntouchedLogPasses) {
  const ChainReport r = Verify();
  EXPECT_TRUE(r.ok) << Describe(r);
  EXPECT_FALSE(r.first_bad_index);
  EXPECT_FALSE(r.first_bad_checkpoint);
  EXPECT_EQ(r.leaves, kLeaves);
  EXPECT_EQ(r.tokens_stored, kLeaves);
  EXPECT_EQ(r.errors, 0u);
  ASSERT_EQ(r.checkpoints.size(), 3u);
  EXPECT_EQ(r.anchors_verified, 2u);
  EXPECT_EQ(r.anchors_failed_attempts, 2u);
  EXPECT_EQ(r.anchored_size, 13u);
  for (const auto& c : r.checkpoints) {
    EXPECT_TRUE(c.text_ok && c.root_ok && c.tsad_token_ok) << "checkpoint " << c.id;
  }
  EXPECT_TRUE(r.checkpoints[0].anchored());
  EXPECT_TRUE(r.checkpoints[1].anchored());
  EXPECT_FALSE(r.checkpoints[2].anchored());
  ASSERT_EQ(r.checkpoints[0].anchors.size(), 1u);
  ASSERT_TRUE(r.checkpoints[0].anchors[0].skew_seconds);
  EXPECT_NEAR(*r.checkpoints[0].anchors[0].skew_seconds, 2.0, 0.01);
  // The unanchored checkpoint is a warning, the tail after the last anchored one an info.
  EXPECT_EQ(r.warnings, 1u) << Describe(r);
  bool tail_reported = false;
  for (const auto& f : r.findings) {
    if (f.severity == Severity::kInfo && f.index == 13u) tail_reported = f.what.find("not yet anchored") != std::string::npos;
  }
  EXPECT_TRUE(tail_reported) << Describe(r);

  const auto j = ToJson(r);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["first_bad_index"].is_null());
  EXPECT_EQ(j["checkpoints"].size(), 3u);
  EXPECT_EQ(j["checkpoints"][0]["anchors"][0]["ok"], true);
}

TEST_F(ChainVerifierTest, PinnedCertificatesVerifyEveryTokenSignature) {
  ChainVerifyOptions options;
  options.tsa_cert_pem = unit_test::SharedPki().tsa_cert_pem;
  options.tsa_ca_pem = unit_test::SharedPki().ca_cert_pem;
  options.anchor_ca_pem = unit_test::OtherPki().ca_cert_pem;
  const ChainReport r = Verify(options);
  EXPECT_TRUE(r.ok) << Describe(r);
  EXPECT_EQ(r.leaf_signatures_checked, kLeaves);

  // Another TSA's certificate: no leaf and no checkpoint token is its.
  options.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem;
  options.tsa_ca_pem.clear();
  ExpectFirstBad(0, options);
}

TEST_F(ChainVerifierTest, VerifyingNeverWritesTheFile) {
  const Bytes before = unit_test::ReadBytes(path_);
  const auto mtime = fs::last_write_time(path_);
  EXPECT_TRUE(Verify().ok);
  EXPECT_EQ(unit_test::ReadBytes(path_), before);
  EXPECT_EQ(fs::last_write_time(path_), mtime);
}

TEST_F(ChainVerifierTest, ReportsProgress) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  auto r = RunVerify(path_, {}, [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(r);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(kLeaves, kLeaves));
}

TEST_F(ChainVerifierTest, ModifiedTokenByte) {
  {
    Sql sql(path_);
    Bytes token = sql.GetBlob("SELECT token FROM tokens WHERE idx = 7");
    token[token.size() / 2] ^= 0x01;
    sql.Blob("UPDATE tokens SET token = ? WHERE idx = 7", token);
  }
  ExpectFirstBad(7);
}

TEST_F(ChainVerifierTest, ModifiedSerialColumn) {
  Sql(path_).Exec("UPDATE tokens SET serial = '0001000000000000000000000000000bad' WHERE idx = 9");
  ExpectFirstBad(9);
}

TEST_F(ChainVerifierTest, ModifiedGenTimeColumn) {
  Sql(path_).Exec("UPDATE tokens SET gen_time_us = gen_time_us + 1000000 WHERE idx = 4");
  ExpectFirstBad(4);
}

TEST_F(ChainVerifierTest, ModifiedDigestAndPolicyColumns) {
  Sql(path_).Exec("UPDATE tokens SET policy = '1.2.3.4' WHERE idx = 17");
  Sql(path_).Exec("UPDATE tokens SET digest = zeroblob(32) WHERE idx = 18");
  ExpectFirstBad(17);
}

TEST_F(ChainVerifierTest, DeletedRow) {
  Sql(path_).Exec("DELETE FROM tokens WHERE idx = 11");
  ExpectFirstBad(11);
}

TEST_F(ChainVerifierTest, DeletedRowAndItsLeafNode) {
  Sql sql(path_);
  sql.Exec("DELETE FROM tokens WHERE idx = 2");
  sql.Exec("DELETE FROM merkle_nodes WHERE level = 0 AND idx = 2");
  ExpectFirstBad(2);
}

TEST_F(ChainVerifierTest, DeletedTailCoveredByACheckpoint) {
  Sql sql(path_);
  sql.Exec("DELETE FROM tokens WHERE idx >= 14");
  sql.Exec("DELETE FROM merkle_nodes WHERE ((idx + 1) << level) > 14");
  ExpectFirstBad(14);
}

TEST_F(ChainVerifierTest, DeletedUnanchoredLastRowLeavesAStrayNode) {
  Sql(path_).Exec("DELETE FROM tokens WHERE idx = 19");
  ExpectFirstBad(19);
}

TEST_F(ChainVerifierTest, InsertedRow) {
  Sql sql(path_);
  // Make room at 6 (two steps: idx is the primary key), then insert a genuine tsad token there.
  sql.Exec("UPDATE tokens SET idx = -idx - 1 WHERE idx >= 6");
  sql.Exec("UPDATE tokens SET idx = -idx WHERE idx < 0");
  TokenRow r = ReadRow(sql, 7);
  const Bytes reply = builder_->Sign(*builder_->tsad_, unit_test::Sha256Request(0x66),
                                     core::SerialSpace{1, 1'700'000'000'000'000}, 500, r.gen_time_us);
  r.token = TokenDer(reply);
  r.serial = core::SerialHex(core::SerialSpace{1, 1'700'000'000'000'000}, 500);
  r.digest = unit_test::Filled(32, 0x66);
  r.leaf_hash = ToBytes(LeafHash(r.token));
  r.token_sha256 = ToBytes(Sha256(r.token.data(), r.token.size()));
  WriteRow(sql, 6, r, /*insert=*/true);
  ExpectFirstBad(6);
}

TEST_F(ChainVerifierTest, NegativeIndexRow) {
  Sql(path_).Exec("UPDATE tokens SET idx = -1 WHERE idx = 0");
  ExpectFirstBad(0);
}

TEST_F(ChainVerifierTest, SwappedRows) {
  Sql sql(path_);
  const TokenRow a = ReadRow(sql, 3), b = ReadRow(sql, 12);
  TokenRow tmp = a;
  tmp.serial = "temporary";
  WriteRow(sql, 3, tmp);
  WriteRow(sql, 12, a);
  WriteRow(sql, 3, b);
  ExpectFirstBad(3);
}

TEST_F(ChainVerifierTest, ModifiedMerkleNodes) {
  {
    Sql(path_).Blob("UPDATE merkle_nodes SET hash = ? WHERE level = 2 AND idx = 1", Bytes(32, 0xaa));  // leaves 4..7
  }
  ExpectFirstBad(4);
  Sql(path_).Blob("UPDATE merkle_nodes SET hash = ? WHERE level = 0 AND idx = 3", Bytes(32, 0xbb));
  ExpectFirstBad(3);
}

TEST_F(ChainVerifierTest, ExtraMerkleNodeOutsideTheTree) {
  Sql(path_).Blob("INSERT INTO merkle_nodes (level, idx, hash) VALUES (2, 5, ?)", Bytes(32, 0x11));  // leaves 20..23
  ExpectFirstBad(20);
}

TEST_F(ChainVerifierTest, ReplacedLeafWithConsistentHashes) {
  // A different genuine token with the same serial, time and imprint, and every column and the
  // level-0 node made consistent: only the level-1 node above it (leaves 8..9) can tell.
  Sql sql(path_);
  TokenRow r = ReadRow(sql, 9);
  const Bytes reply = builder_->Sign(*builder_->tsad_, unit_test::Sha256Request(9), core::SerialSpace{1, 1'700'000'000'000'000},
                                     10, r.gen_time_us);
  r.token = TokenDer(reply);
  ASSERT_NE(r.leaf_hash, ToBytes(LeafHash(r.token)));
  r.leaf_hash = ToBytes(LeafHash(r.token));
  r.token_sha256 = ToBytes(Sha256(r.token.data(), r.token.size()));
  WriteRow(sql, 9, r);
  sql.Blob("UPDATE merkle_nodes SET hash = ? WHERE level = 0 AND idx = 9", r.leaf_hash);
  ExpectFirstBad(8);
}

TEST_F(ChainVerifierTest, ConsistentRewriteOfTheWholeTreeIsCaughtByTheSignedRoot) {
  // Same forgery at leaf 9, and every node recomputed: the tree is self-consistent, but the root of
  // checkpoint 13 signed by tsad (and anchored) no longer matches. The change lies after the last
  // checkpoint that still matched (5).
  Sql sql(path_);
  TokenRow r = ReadRow(sql, 9);
  r.token = TokenDer(builder_->Sign(*builder_->tsad_, unit_test::Sha256Request(9), core::SerialSpace{1, 1'700'000'000'000'000},
                                    10, r.gen_time_us));
  r.leaf_hash = ToBytes(LeafHash(r.token));
  r.token_sha256 = ToBytes(Sha256(r.token.data(), r.token.size()));
  WriteRow(sql, 9, r);
  RewriteTree(sql);
  const ChainReport report = Verify();
  EXPECT_FALSE(report.ok);
  ASSERT_TRUE(report.first_bad_index) << Describe(report);
  EXPECT_EQ(*report.first_bad_index, 5u) << Describe(report);
  EXPECT_FALSE(report.checkpoints[1].root_ok);
  EXPECT_TRUE(report.checkpoints[0].root_ok);
}

TEST_F(ChainVerifierTest, ModifiedCheckpointRootColumn) {
  Sql(path_).Blob("UPDATE checkpoints SET root_hash = ? WHERE id = " + std::to_string(Cp(1)), Bytes(32, 0x42));
  ExpectBadCheckpoint(Cp(1));
}

TEST_F(ChainVerifierTest, ModifiedCheckpointTextAndRoot) {
  // Rewrite the checkpoint consistently with another root: tsad's token no longer covers it.
  Sql sql(path_);
  const Bytes root(32, 0x42);
  auto st = sql.db().Prepare("SELECT checkpoint FROM checkpoints WHERE id = ?");
  st->Bind(1, Cp(0));
  ASSERT_TRUE(*st->Step());
  auto cp = ParseCheckpoint(st->ColumnText(0));
  ASSERT_TRUE(cp);
  cp->root = *HashFromBytes(root);
  auto up = sql.db().Prepare("UPDATE checkpoints SET checkpoint = ?, root_hash = ? WHERE id = ?");
  up->Bind(1, cp->Text()).BindBlob(2, root).Bind(3, Cp(0));
  ASSERT_TRUE(up->Run());
  ExpectBadCheckpoint(Cp(0));
}

TEST_F(ChainVerifierTest, CheckpointBeyondTheLog) {
  Sql sql(path_);
  Checkpoint cp{"O=x", 25, EmptyRoot(), ""};
  auto st = sql.db().Prepare("UPDATE checkpoints SET tree_size = 25, checkpoint = ? WHERE id = ?");
  st->Bind(1, cp.Text()).Bind(2, Cp(2));
  ASSERT_TRUE(st->Run());
  ExpectFirstBad(kLeaves);
}

TEST_F(ChainVerifierTest, ForgedAnchorReplyByAnotherKey) {
  // tsad's own key answers in the external TSA's place, over the right imprint and nonce.
  {
    Sql sql(path_);
    const Bytes nonce = sql.GetBlob("SELECT nonce FROM anchor_attempts WHERE ok = 1 AND checkpoint_id = " +
                                    std::to_string(Cp(0)));
    const Bytes& cp_token = builder_->checkpoint_tokens[0];
    auto time = sql.db().Prepare("SELECT tsa_gen_time_us FROM checkpoints WHERE id = ?");
    time->Bind(1, Cp(0));
    ASSERT_TRUE(*time->Step());
    const Bytes forged = builder_->Sign(*builder_->tsad_, RequestOver(Sha256(cp_token.data(), cp_token.size()), nonce),
                                        core::SerialSpace{9, 1}, 1, time->ColumnInt(0) + 1'000'000);
    auto info = crypto::DescribeResponse(forged);
    auto st = sql.db().Prepare(
        "UPDATE anchor_attempts SET reply = ?, ext_gen_time_us = ?, ext_serial = ? WHERE ok = 1 AND checkpoint_id = ?");
    st->BindBlob(1, forged).Bind(2, info->token->gen_time_us).Bind(3, info->token->serial_hex).Bind(4, Cp(0));
    ASSERT_TRUE(st->Run());
  }
  ChainVerifyOptions options;
  options.anchor_ca_pem = unit_test::OtherPki().ca_cert_pem;
  ExpectBadCheckpoint(Cp(0), options);
  // Without a trust bundle any correctly signed reply is accepted: --anchor-ca is what names the TSA.
  EXPECT_TRUE(Verify().ok);
}

TEST_F(ChainVerifierTest, AnchorReplyWithBrokenSignature) {
  Sql sql(path_);
  Bytes reply = sql.GetBlob("SELECT reply FROM anchor_attempts WHERE ok = 1 AND checkpoint_id = " + std::to_string(Cp(1)));
  reply[reply.size() - 3] ^= 0x01;  // inside the ECDSA signature, the last field of the SignedData
  sql.Blob("UPDATE anchor_attempts SET reply = ? WHERE ok = 1 AND checkpoint_id = " + std::to_string(Cp(1)), reply);
  ExpectBadCheckpoint(Cp(1));
}

TEST_F(ChainVerifierTest, WrongNonce) {
  Sql(path_).Blob("UPDATE anchor_attempts SET nonce = ? WHERE ok = 1 AND checkpoint_id = " + std::to_string(Cp(0)),
                  Bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
  ExpectBadCheckpoint(Cp(0));
}

TEST_F(ChainVerifierTest, ExtGenTimeColumnMustMatchTheReply) {
  Sql(path_).Exec("UPDATE anchor_attempts SET ext_gen_time_us = ext_gen_time_us - 60000000 WHERE ok = 1 AND checkpoint_id = " +
                  std::to_string(Cp(1)));
  ExpectBadCheckpoint(Cp(1));
}

TEST_F(ChainVerifierTest, RequireAnchorsFailsOnTheUnanchoredCheckpoint) {
  ChainVerifyOptions options;
  options.require_anchors = true;
  ExpectBadCheckpoint(Cp(2), options);
}

TEST_F(ChainVerifierTest, TruncatedFileIsReportedNotCrashed) {
  const auto size = fs::file_size(path_);
  for (auto keep : {size / 2, size / 4, std::uintmax_t{4096}, std::uintmax_t{100}, std::uintmax_t{0}}) {
    fs::resize_file(path_, keep);
    auto report = RunVerify(path_);
    if (report) {
      EXPECT_FALSE(report->ok) << "truncated to " << keep << " bytes:\n" << Describe(*report);
    } else {
      EXPECT_FALSE(report.error().message.empty());
    }
  }
}

TEST_F(ChainVerifierTest, NotAnAuditDatabase) {
  const std::string other = dir_.Sub("other.db");
  {
    auto db = store::Database::Open(other, store::OpenOptions{});
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x)"));
  }
  auto report = RunVerify(other);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::kInvalidArgument);
}

TEST(ChainVerifierSkewTest, SkewBeyondTheBoundFails) {
  TempDir dir;
  LogBuilder builder(BuildOptions{true, 400'000'000});  // external 400 s after tsad
  builder.Build(dir.Sub("audit.db"));
  auto r = RunVerify(dir.Sub("audit.db"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  ASSERT_TRUE(r->checkpoints[0].anchors.at(0).skew_seconds);
  EXPECT_NEAR(*r->checkpoints[0].anchors[0].skew_seconds, 400.0, 0.01);
  ChainVerifyOptions wide;
  wide.max_skew_us = 500'000'000;
  r = RunVerify(dir.Sub("audit.db"), wide);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << Describe(*r);
}

TEST(ChainVerifierSkewTest, ExternalTimeBeforeTsadBeyondAccuraciesFails) {
  TempDir dir;
  LogBuilder builder(BuildOptions{true, -5'000'000});  // 5 s before; both accuracies are 1 s
  builder.Build(dir.Sub("audit.db"));
  auto r = RunVerify(dir.Sub("audit.db"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_TRUE(r->first_bad_checkpoint);
}

TEST(ChainVerifierSkewTest, ExternalTimeBeforeTsadWithinAccuraciesPasses) {
  TempDir dir;
  LogBuilder builder(BuildOptions{true, -1'500'000});  // 1.5 s before, within 1 s + 1 s
  builder.Build(dir.Sub("audit.db"));
  auto r = RunVerify(dir.Sub("audit.db"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << Describe(*r);
}

TEST(ChainVerifierHashesOnlyTest, LogWithoutTokensPasses) {
  TempDir dir;
  LogBuilder builder(BuildOptions{false, 2'000'000});
  builder.Build(dir.Sub("audit.db"));
  auto r = RunVerify(dir.Sub("audit.db"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok) << Describe(*r);
  EXPECT_EQ(r->tokens_stored, 0u);
  EXPECT_EQ(r->anchored_size, 13u);
  // The leaf hash is all there is: changing it (and nothing else) is still caught.
  Sql(dir.Sub("audit.db")).Blob("UPDATE tokens SET leaf_hash = ? WHERE idx = 12", Bytes(32, 0x12));
  r = RunVerify(dir.Sub("audit.db"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->first_bad_index);
  EXPECT_EQ(*r->first_bad_index, 12u);
}

TEST(ChainVerifierHelpersTest, NormalizeHexAndResolution) {
  using chain_detail::GenTimeResolutionUs;
  using chain_detail::NormalizeHex;
  EXPECT_EQ(NormalizeHex("00FFab"), "ffab");
  EXPECT_EQ(NormalizeHex("0000"), "");
  EXPECT_EQ(GenTimeResolutionUs(1'700'000'000'123'456), 1);
  EXPECT_EQ(GenTimeResolutionUs(1'700'000'000'123'000), 1'000);
  EXPECT_EQ(GenTimeResolutionUs(1'700'000'000'120'000), 10'000);
  EXPECT_EQ(GenTimeResolutionUs(1'700'000'000'000'000), 1'000'000);
  EXPECT_EQ(core::FormatTimeUs(1'700'000'000'120'000), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(core::FormatTimeUs(1'700'000'000'000'000), "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace tsa::verify
