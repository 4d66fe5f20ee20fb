// Tamper evidence of the audit log: a real tsad issues tokens and has its checkpoints anchored by a
// local external TSA, then stops; each test tampers with a COPY of its database (one kind of
// tampering per copy, through SQLite or on the file) and runs tsa-audit-verify, which must fail
// and, where a leaf is to blame, name the first bad index. The untouched copy verifies. The proof
// bundle of one anchored token (GET /audit/proof, and tsa-audit proof) verifies offline with
// tsa-audit-verify --proof, and fails for another token or a modified root. The log is in the
// sqlite layout (--log-layout sqlite: its rows are what these cases rewrite); the tiles layout's
// tampering cases are in log_layout_tiles_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "audit_helpers.h"
#include "tsa/core/bytes.h"

namespace tsa::test {
namespace {

using namespace audit_it;
namespace fs = std::filesystem;

constexpr int kFirstBatch = 20;   // anchored as one checkpoint
constexpr int kSecondBatch = 10;  // and then the next
constexpr int kLeaves = kFirstBatch + kSecondBatch;

class AuditTamperTest : public ::testing::Test {
 protected:
  // The suites of this file (plain, proof, parameterised) share one prepared database: gtest runs
  // SetUpTestSuite/TearDownTestSuite once per suite, so preparation runs on first use and the
  // processes are stopped at the end of the whole program (Cleanup below).
  static void SetUpTestSuite() {
    if (prepared_) return;
    prepared_ = true;
    error_ = Prepare();
  }

  static std::string Prepare() {
    dir_ = new TempDir("tsa-tamper-it");
    for (auto [pki, name] : {std::pair{&main_pki_, "main"}, {&ext_pki_, "ext"}, {&forger_pki_, "forger"}}) {
      if (auto made = MakePki(dir_->Sub(name), pki); !made) return made.message();
    }
    ::testing::AssertionResult started = ::testing::AssertionSuccess();
    ext_ = StartExternal(ext_pki_, &started).release();
    if (!started) return std::string("external tsad: ") + started.message();
    forger_ = StartExternal(forger_pki_, &started).release();
    if (!started) return std::string("forger tsad: ") + started.message();

    db_ = dir_->Sub("audit.db");
    auto tsad = MakeTsad(main_pki_,
                         {"--log-layout", "sqlite", "--anchor-tsa", ext_->url(), "--anchor-interval", "1", "--anchor-retry-min",
                          "1", "--anchor-ca", ext_pki_.ca_cert()},
                         db_);
    if (auto s = tsad->Start(); !s) return s.message();
    const int port = tsad->port();
    for (int batch : {kFirstBatch, kSecondBatch}) {
      if (auto ok = IssueMany(port, batch, &issued_); !ok) return ok.message();
      const nlohmann::json cp = WaitForAnchoredCheckpoint(port, issued_.size(), 1, 15s);
      if (CheckpointSize(cp) != issued_.size() || CheckpointAnchors(cp) < 1) {
        return "checkpoint of size " + std::to_string(issued_.size()) + " not anchored within 15 s: latest checkpoint size " +
               std::to_string(CheckpointSize(cp)) + " with " + std::to_string(CheckpointAnchors(cp)) + " anchor(s)\nLog:\n" +
               tsad->log();
      }
    }
    // The proof bundle of an anchored token, from the running tsad.
    proof_serial_ = issued_[5].serial;
    HttpResponse proof = HttpGet(port, "/audit/proof?serial=" + proof_serial_);
    proof_status_ = proof.status;
    proof_body_ = proof.body_text();
    if (const int rc = tsad->Stop(15s); rc != 0) return "tsad exited " + std::to_string(rc) + ". Log:\n" + tsad->log();
    // A clean stop folds the WAL into the database file; make sure (the copies are of the file only).
    if (fs::exists(db_ + "-wal")) {
      auto db = OpenDb(db_, false);
      if (!db) return db.error().message;
      if (auto st = (*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !st) return st.error().message;
    }
    if (fs::exists(db_ + "-wal") && fs::file_size(db_ + "-wal") > 0)
      return "the WAL of " + db_ + " is not empty after a clean stop";
    return "";
  }

 public:
  static void Cleanup() {
    for (TsadProcess** p : {&ext_, &forger_}) {
      if (*p != nullptr && (*p)->running()) {
        EXPECT_EQ((*p)->Stop(), 0) << (*p)->log();
      }
      delete *p;
      *p = nullptr;
    }
    delete dir_;
    dir_ = nullptr;
  }

 protected:
  void SetUp() override {
    ASSERT_TRUE(error_.empty()) << error_;
    if (!ToolExists("tsa-audit-verify")) GTEST_SKIP() << ToolPath("tsa-audit-verify") << " is not built";
  }

  // A fresh copy of the database, for one test.
  static std::string Copy(const std::string& name) {
    const std::string path = dir_->Sub(name + ".db");
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path + "-wal", ec);
    fs::remove(path + "-shm", ec);
    fs::copy_file(db_, path, fs::copy_options::overwrite_existing, ec);
    EXPECT_FALSE(ec) << "copy " << db_ << ": " << ec.message();
    return path;
  }

  static CommandResult Verify(const std::string& db) {
    return RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", main_pki_.tsa_cert(), "--anchor-ca", ext_pki_.ca_cert()},
                      60s);
  }

  static inline bool prepared_ = false;
  static inline TempDir* dir_ = nullptr;
  static inline std::string error_;
  static inline Pki main_pki_, ext_pki_, forger_pki_;
  static inline TsadProcess* ext_ = nullptr;
  static inline TsadProcess* forger_ = nullptr;
  static inline std::string db_;
  static inline std::vector<Issued> issued_;
  static inline std::string proof_serial_;
  static inline int proof_status_ = 0;
  static inline std::string proof_body_;
};

class AuditTamperCleanup : public ::testing::Environment {
 public:
  void TearDown() override { AuditTamperTest::Cleanup(); }
};
[[maybe_unused]] ::testing::Environment* const kCleanup = ::testing::AddGlobalTestEnvironment(new AuditTamperCleanup);

TEST_F(AuditTamperTest, UntouchedCopyVerifies) {
  const std::string db = Copy("untouched");
  auto r = Verify(db);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(std::to_string(kLeaves) + " leaves"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("anchored up to " + std::to_string(kLeaves)), std::string::npos) << r.output;
  // Every token the clients hold is in the log.
  auto rows = ReadTokens(db);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), issued_.size());
  for (std::size_t i = 0; i < issued_.size(); ++i) EXPECT_EQ((*rows)[i].token, issued_[i].token) << "leaf " << i;
}

// ---- tampering -------------------------------------------------------------------------------

using Tamper = std::function<Status(store::Database&)>;

Status Exec(store::Database& db, const std::string& sql, const std::vector<std::vector<std::uint8_t>>& blobs = {}) {
  TSA_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  for (std::size_t i = 0; i < blobs.size(); ++i) st.BindBlob(static_cast<int>(i + 1), blobs[i]);
  return st.Run();
}

Result<std::vector<std::uint8_t>> Blob(store::Database& db, const std::string& sql) {
  TSA_ASSIGN_OR_RETURN(auto st, db.Prepare(sql));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return MakeError(ErrorKind::kNotFound, "no row: " + sql);
  return st.ColumnBlob(0);
}

std::vector<std::uint8_t> Flip(std::vector<std::uint8_t> b, std::size_t at) {
  if (!b.empty()) b[at % b.size()] ^= 0x01;
  return b;
}

struct TamperCase {
  const char* name;
  // Applied to the copy; may use the suite (forger's replies, issued tokens).
  std::function<Status(store::Database&, AuditTamperTest*)> apply;
  std::optional<std::uint64_t> first_bad_index;  // must be named in the output
  const char* mention = nullptr;                 // the output must contain this (case-sensitive)
};
// Shown by --gtest_list_tests and in failures instead of the struct's raw bytes.
void PrintTo(const TamperCase& c, std::ostream* os) { *os << c.name; }

class AuditTamperKindTest : public AuditTamperTest, public ::testing::WithParamInterface<TamperCase> {
 public:
  // A reply of the forger tsad over the same imprint (SHA-256 of the checkpoint token) and with the
  // same nonce as the stored anchor: valid in every respect except who signed it.
  static Result<std::vector<std::uint8_t>> ForgedAnchorReply(store::Database& db, std::int64_t attempt_id) {
    TSA_ASSIGN_OR_RETURN(
        auto st, db.Prepare("SELECT c.tsa_token, a.nonce FROM anchor_attempts a JOIN checkpoints c ON c.id = a.checkpoint_id "
                            "WHERE a.id = " +
                            std::to_string(attempt_id)));
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return MakeError(ErrorKind::kNotFound, "no anchor attempt " + std::to_string(attempt_id));
    const auto cp_token = st.ColumnBlob(0);
    RequestBuilder req = RequestBuilder::Default();
    const audit::Hash imprint = audit::Sha256(cp_token.data(), cp_token.size());
    req.digest.assign(imprint.begin(), imprint.end());
    req.nonce = st.ColumnBlob(1);
    HttpResponse r = PostQuery(forger_->port(), req.Encode());
    if (r.status != 200) return MakeError(ErrorKind::kUnavailable, "forger: " + r.Summary());
    return r.body;
  }
  // A token issued by the forger tsad (another TSA certificate).
  static Result<Issued> ForgedToken() {
    std::string why;
    auto t = IssueOne(forger_->port(), &why);
    if (!t) return MakeError(ErrorKind::kUnavailable, "forger: " + why);
    return *t;
  }
};

TEST_P(AuditTamperKindTest, IsDetected) {
  const TamperCase& tc = GetParam();
  const std::string db_path = Copy(std::string("tamper_") + tc.name);
  {
    auto db = OpenDb(db_path, false);
    ASSERT_TRUE(db) << db.error().message;
    auto applied = tc.apply(**db, this);
    ASSERT_TRUE(applied) << "tampering failed: " << applied.error().message;
  }
  ASSERT_FALSE(fs::exists(db_path + "-wal") && fs::file_size(db_path + "-wal") > 0) << "tampering left a WAL behind";
  auto r = Verify(db_path);
  std::cout << "[ info ] " << tc.name << ": exit " << r.exit_code << ": " << r.output.substr(0, 600) << "\n";
  EXPECT_EQ(r.exit_code, 1) << tc.name << " not detected (1 = tampering found):\n" << r.output;
  if (tc.first_bad_index) {
    EXPECT_NE(r.output.find("first bad index " + std::to_string(*tc.first_bad_index)), std::string::npos)
        << tc.name << ": the output should name first bad index " << *tc.first_bad_index << ":\n"
        << r.output;
  }
  if (tc.mention) {
    EXPECT_NE(r.output.find(tc.mention), std::string::npos) << tc.name << ": expected \"" << tc.mention << "\" in:\n" << r.output;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, AuditTamperKindTest,
    ::testing::Values(
        TamperCase{"token_byte",
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     TSA_ASSIGN_OR_RETURN(auto token, Blob(db, "SELECT token FROM tokens WHERE idx = 7"));
                     return Exec(db, "UPDATE tokens SET token = ? WHERE idx = 7", {Flip(token, token.size() / 2)});
                   },
                   7},
        TamperCase{"serial_column",
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     return Exec(db, "UPDATE tokens SET serial = '7abcdef0123456789abcdef0' WHERE idx = 7");
                   },
                   7},
        TamperCase{"deleted_row",
                   [](store::Database& db, AuditTamperTest*) -> Status { return Exec(db, "DELETE FROM tokens WHERE idx = 7"); },
                   7},
        TamperCase{"forged_row",
                   // A token of another TSA appended as leaf 30, with consistent hashes and its level-0 node.
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     TSA_ASSIGN_OR_RETURN(Issued forged, AuditTamperKindTest::ForgedToken());
                     auto described = crypto::DescribeResponse(forged.token);
                     if (!described || !described->token) return MakeError(ErrorKind::kInternal, "cannot read the forged token");
                     const core::TokenInfo& tok = *described->token;
                     const audit::Hash leaf = audit::LeafHash(forged.token);
                     const audit::Hash sha = audit::Sha256(forged.token.data(), forged.token.size());
                     auto digest = core::ParseHex(tok.digest_hex);
                     if (!digest) return MakeError(ErrorKind::kInternal, "digest hex");
                     TSA_ASSIGN_OR_RETURN(
                         auto st,
                         db.Prepare(
                             "INSERT INTO tokens (idx, serial, gen_time_us, policy, hash_oid, digest, token, token_sha256, "
                             "leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
                     st.Bind(1, std::int64_t{kLeaves}).Bind(2, tok.serial_hex).Bind(3, tok.gen_time_us);
                     st.Bind(4, tok.policy).Bind(5, tok.hash_oid).BindBlob(6, *digest).BindBlob(7, forged.token);
                     st.BindBlob(8, sha).BindBlob(9, leaf);
                     TSA_TRY(st.Run());
                     return Exec(db, "INSERT INTO merkle_nodes (level, idx, hash) VALUES (0, " + std::to_string(kLeaves) + ", ?)",
                                 {std::vector<std::uint8_t>(leaf.begin(), leaf.end())});
                   },
                   kLeaves},
        TamperCase{"swapped_rows",
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     TSA_TRY(Exec(db, "UPDATE tokens SET idx = -1 WHERE idx = 5"));
                     TSA_TRY(Exec(db, "UPDATE tokens SET idx = 5 WHERE idx = 9"));
                     return Exec(db, "UPDATE tokens SET idx = 9 WHERE idx = -1");
                   },
                   5},
        TamperCase{"merkle_leaf_node",
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     TSA_ASSIGN_OR_RETURN(auto h, Blob(db, "SELECT hash FROM merkle_nodes WHERE level = 0 AND idx = 7"));
                     return Exec(db, "UPDATE merkle_nodes SET hash = ? WHERE level = 0 AND idx = 7", {Flip(h, 0)});
                   },
                   7},
        TamperCase{"merkle_inner_node",
                   // level 2, idx 1 covers leaves 4..7
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     TSA_ASSIGN_OR_RETURN(auto h, Blob(db, "SELECT hash FROM merkle_nodes WHERE level = 2 AND idx = 1"));
                     return Exec(db, "UPDATE merkle_nodes SET hash = ? WHERE level = 2 AND idx = 1", {Flip(h, 31)});
                   },
                   std::nullopt, "merkle"},
        TamperCase{"checkpoint_root",
                   [](store::Database& db, AuditTamperTest*) -> Status {
                     TSA_ASSIGN_OR_RETURN(auto h, Blob(db, "SELECT root_hash FROM checkpoints ORDER BY id LIMIT 1"));
                     return Exec(db, "UPDATE checkpoints SET root_hash = ? WHERE id = (SELECT MIN(id) FROM checkpoints)",
                                 {Flip(h, 3)});
                   },
                   std::nullopt, "checkpoint"},
        TamperCase{
            "anchor_reply_of_another_tsa",
            [](store::Database& db, AuditTamperTest*) -> Status {
              TSA_ASSIGN_OR_RETURN(auto st, db.Prepare("SELECT MIN(id) FROM anchor_attempts WHERE ok = 1"));
              TSA_ASSIGN_OR_RETURN(bool row, st.Step());
              if (!row || st.ColumnIsNull(0)) return MakeError(ErrorKind::kNotFound, "no ok anchor");
              const std::int64_t id = st.ColumnInt(0);
              TSA_ASSIGN_OR_RETURN(auto reply, AuditTamperKindTest::ForgedAnchorReply(db, id));
              auto described = crypto::DescribeResponse(reply);
              if (!described || !described->token) return MakeError(ErrorKind::kInternal, "forged anchor reply unreadable");
              // Keep the columns consistent with the forged reply: only its signer gives it away.
              TSA_ASSIGN_OR_RETURN(
                  auto upd, db.Prepare("UPDATE anchor_attempts SET reply = ?, ext_gen_time_us = ?, ext_serial = ? WHERE id = ?"));
              upd.BindBlob(1, reply).Bind(2, described->token->gen_time_us).Bind(3, described->token->serial_hex).Bind(4, id);
              return upd.Run();
            },
            std::nullopt, "anchor"}),
    [](const ::testing::TestParamInfo<TamperCase>& param_info) { return std::string(param_info.param.name); });

TEST_F(AuditTamperTest, TruncatedFileIsDetected) {
  const std::string db = Copy("truncated");
  const auto size = fs::file_size(db);
  fs::resize_file(db, size / 2);
  auto r = Verify(db);
  std::cout << "[ info ] truncated (" << size << " -> " << size / 2 << " bytes): exit " << r.exit_code << "\n";
  EXPECT_EQ(r.exit_code, 1) << "a database truncated to half must fail verification (1):\n" << r.output;
}

// ---- proof bundles ---------------------------------------------------------------------------

class AuditProofTest : public AuditTamperTest {
 protected:
  // bundle -> tsa-audit-verify --proof with the token of `token_index`
  static CommandResult VerifyProof(const std::string& bundle_json, std::size_t token_index, const std::string& tag, bool pinned) {
    const std::string bundle = dir_->Sub("bundle_" + tag + ".json");
    const std::string token = dir_->Sub("token_" + tag + ".tsr");
    EXPECT_TRUE(WriteText(bundle, bundle_json));
    EXPECT_TRUE(WriteFile(token, issued_[token_index].reply));
    std::vector<std::string> argv = {ToolPath("tsa-audit-verify"), "--proof", bundle, "--token", token};
    if (pinned) {
      for (const std::string& a :
           {std::string("--tsa-cert"), main_pki_.tsa_cert(), std::string("--anchor-ca"), ext_pki_.ca_cert()})
        argv.push_back(a);
    } else {
      argv.push_back("--structure-only");  // no trust roots: the tool requires saying so
    }
    return RunCommand(argv, 30s);
  }

  static void CheckBundle(const std::string& text, const std::string& source) {
    auto bundle = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(bundle.is_discarded()) << source << " is not JSON: " << text.substr(0, 400);
    EXPECT_EQ(bundle.value("format", ""), "tsad-proof/v1");
    EXPECT_EQ(bundle.value("leaf_index", -1), 5);
    EXPECT_FALSE(bundle["anchors"].empty()) << "bundle of an anchored token without anchors";

    auto good = VerifyProof(text, 5, source + "_good", false);
    EXPECT_EQ(good.exit_code, 0) << source << ": the proof bundle of its own token must verify:\n" << good.output;
    EXPECT_NE(good.output.find("Proof structure OK (structure only"), std::string::npos) << good.output;
    auto pinned = VerifyProof(text, 5, source + "_pinned", true);
    EXPECT_EQ(pinned.exit_code, 0) << source << ": with --tsa-cert and --anchor-ca:\n" << pinned.output;
    EXPECT_NE(pinned.output.find("Proof OK: "), std::string::npos) << pinned.output;

    for (const bool with_roots : {false, true}) {
      auto other = VerifyProof(text, 6, source + "_other_token" + (with_roots ? "_pinned" : ""), with_roots);
      EXPECT_EQ(other.exit_code, 1) << source << ": the bundle must not verify another token:\n" << other.output;
    }

    // The root in the checkpoint text, changed by one hex digit.
    nlohmann::json bad_root = bundle;
    std::string cp = bad_root["checkpoint"].get<std::string>();
    ASSERT_GE(cp.size(), 3u);
    const auto last_line = cp.rfind('\n', cp.size() - 2) + 1;  // the root line
    cp[last_line] = cp[last_line] == '0' ? '1' : '0';
    bad_root["checkpoint"] = cp;
    auto r1 = VerifyProof(bad_root.dump(2), 5, source + "_bad_root", false);
    EXPECT_NE(r1.exit_code, 0) << source << ": a modified checkpoint root must not verify:\n" << r1.output;

    // An inclusion proof step changed.
    if (bundle.contains("inclusion_proof") && !bundle["inclusion_proof"].empty()) {
      nlohmann::json bad_path = bundle;
      std::string step = bad_path["inclusion_proof"][0].get<std::string>();
      step[0] = step[0] == '0' ? '1' : '0';
      bad_path["inclusion_proof"][0] = step;
      auto r2 = VerifyProof(bad_path.dump(2), 5, source + "_bad_path", false);
      EXPECT_NE(r2.exit_code, 0) << source << ": a modified inclusion proof must not verify:\n" << r2.output;
    }
  }
};

TEST_F(AuditProofTest, HttpProofBundleVerifiesOffline) {
  ASSERT_EQ(proof_status_, 200) << "GET /audit/proof?serial=" << proof_serial_ << " answered " << proof_status_ << ": "
                                << proof_body_;
  CheckBundle(proof_body_, "http");
}

TEST_F(AuditProofTest, ToolProofBundleVerifiesOffline) {
  if (!ToolExists("tsa-audit")) GTEST_SKIP() << "tsa-audit is not built";
  const std::string db = Copy("proof");
  const std::string out = dir_->Sub("tool_bundle.json");
  auto made = RunCommand({ToolPath("tsa-audit"), "proof", db, "--serial", proof_serial_, "-o", out}, 30s);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  CheckBundle(ReadTextFile(out), "tool");
}

}  // namespace
}  // namespace tsa::test
