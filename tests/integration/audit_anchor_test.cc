// Anchoring of the audit log at external TSAs (AUDIT_CHAIN.md), end to end with real processes:
// the "external TSA" is always local, a second tsad (--no-anchor, its own PKI) reached directly or
// through tests/support/fake_tsa (proxy, garbage, forged, wrong nonce/imprint, HTTP 500, slow,
// hanging). Checked: checkpoints get anchored within a bounded wait, the stored reply verifies
// against the external CA, /health checks.anchor, the anchor_attempts rows (ok and failures with
// their causes), fail-over, `all` mode, shutdown while a request hangs, and the start-up and
// shutdown anchors.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "audit_helpers.h"
#include "support/fake_tsa.h"
#include "tsa/audit/checkpoint.h"
#include "tsa/audit/signed_note.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/ed25519_key.h"
#include "tsa/crypto/verifier.h"

namespace tsa::test {
namespace {

using namespace audit_it;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool ContainsAny(const std::string& text, const std::vector<std::string>& needles) {
  const std::string t = Lower(text);
  return std::any_of(needles.begin(), needles.end(), [&](const std::string& n) { return t.find(Lower(n)) != std::string::npos; });
}
std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " | ") + s;
  return out;
}

constexpr char kLogOrigin[] = "anchor.test/log";

std::string HexSha256(const std::vector<std::uint8_t>& data) { return audit::HashHex(audit::Sha256(data.data(), data.size())); }

// Shared by the whole suite: the external TSAs (two trusted ones with their own CAs, and a
// "forger" whose CA is never in --anchor-ca) and the PKI of the tsad under test.
class AuditAnchorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("tsa-anchor-it");
    for (auto [pki, name] : {std::pair{&main_pki_, "main"}, {&ext_pki_, "ext"}, {&ext2_pki_, "ext2"}, {&forger_pki_, "forger"}}) {
      auto made = MakePki(dir_->Sub(name), pki);
      if (!made) {
        error_ = made.message();
        return;
      }
    }
    // The tsad under test has a log key, as tsa-certgen makes one: its anchors cover the signed
    // C2SP checkpoint note (AUDIT_CHAIN.md). LegacyTextCheckpoints... covers a log without one.
    auto log_key = crypto::Ed25519Key::Generate();
    if (!log_key || !WriteText(main_pki_.dir + "/log_key.pem", *log_key->PrivatePem())) {
      error_ = "cannot write the log key";
      return;
    }
    log_vkey_ = audit::VerifierKeyString(kLogOrigin, log_key->public_key());
    both_ca_ = dir_->Sub("both_ca.pem");
    WriteText(both_ca_, ReadTextFile(ext_pki_.ca_cert()) + ReadTextFile(ext2_pki_.ca_cert()));
    for (auto [proc, pki] : {std::pair{&ext_, &ext_pki_}, {&ext2_, &ext2_pki_}, {&forger_, &forger_pki_}}) {
      ::testing::AssertionResult started = ::testing::AssertionSuccess();
      *proc = StartExternal(*pki, &started).release();
      if (!started) {
        error_ = std::string("external tsad did not start: ") + started.message();
        return;
      }
    }
  }

  static void TearDownTestSuite() {
    for (TsadProcess** p : {&ext_, &ext2_, &forger_}) {
      if (*p != nullptr && (*p)->running()) {
        EXPECT_EQ((*p)->Stop(), 0) << "external tsad did not exit 0. Log:\n" << (*p)->log();
      }
      delete *p;
      *p = nullptr;
    }
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(error_.empty()) << error_;
    for (TsadProcess* p : {ext_, ext2_, forger_}) ASSERT_TRUE(p != nullptr && p->running()) << "an external tsad is not running";
  }

  // The tsad under test, anchoring at `urls`, trusting `anchor_ca` (default: the external CA).
  static std::vector<std::string> AnchorArgs(const std::vector<std::string>& urls, std::vector<std::string> more = {},
                                             const std::string& anchor_ca = "") {
    std::vector<std::string> args;
    for (const auto& u : urls) {
      args.push_back("--anchor-tsa");
      args.push_back(u);
    }
    for (const char* a : {"--log-origin", kLogOrigin, "--anchor-interval", "1", "--anchor-retry-min", "1", "--anchor-ca"}) {
      args.push_back(a);
    }
    args.push_back(anchor_ca.empty() ? ext_pki_.ca_cert() : anchor_ca);
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string error_;
  static inline Pki main_pki_, ext_pki_, ext2_pki_, forger_pki_;
  static inline std::string both_ca_;
  static inline std::string log_vkey_;  // of main_pki_'s log key
  static inline TsadProcess* ext_ = nullptr;
  static inline TsadProcess* ext2_ = nullptr;
  static inline TsadProcess* forger_ = nullptr;
};

// Issue, wait for the anchor, and check everything that says it happened.
TEST_F(AuditAnchorTest, CheckpointIsAnchoredAtTheExternalTsa) {
  auto tsad = MakeTsad(main_pki_, AnchorArgs({ext_->url()}));
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(port, 3, &issued));

  const nlohmann::json cp = WaitForAnchoredCheckpoint(port, 3, 1, 15s);
  ASSERT_EQ(CheckpointSize(cp), 3u) << "no checkpoint of size 3 within 15 s: " << cp.dump(2) << "\nLog:\n" << tsad->log();
  ASSERT_GE(CheckpointAnchors(cp), 1u) << "checkpoint not anchored within 15 s: " << cp.dump(2) << "\nLog:\n" << tsad->log();
  const nlohmann::json& c = cp["checkpoint"];

  // The checkpoint is the signed C2SP note of the head, byte for byte as GET /log/checkpoint
  // serves it (no witness here, so no cosignature lines).
  auto parsed = audit::ParseCheckpoint(c["checkpoint"].get<std::string>());
  ASSERT_TRUE(parsed) << parsed.error().message << "\n" << c["checkpoint"];
  ASSERT_TRUE(parsed->is_note()) << c["checkpoint"];
  const std::string served_note = HttpGet(port, "/log/checkpoint").body_text();
  EXPECT_EQ(served_note, c["checkpoint"].get<std::string>());
  EXPECT_EQ(parsed->tree_size, 3u);
  EXPECT_EQ(audit::HashHex(parsed->root), c["root"].get<std::string>());
  EXPECT_EQ(cp["head"]["tree_size"], 3);
  EXPECT_EQ(cp["head"]["root"], c["root"]);

  // tsad's own token over SHA-256(checkpoint text), signed by the tsad under test.
  const auto cp_token = B64(c["token"].get<std::string>());
  ASSERT_FALSE(cp_token.empty());
  crypto::VerifyOptions own;
  own.tsa_cert_pem = ReadTextFile(main_pki_.tsa_cert());
  own.ca_pem = ReadTextFile(main_pki_.ca_cert());
  const std::string text = c["checkpoint"].get<std::string>();
  const audit::Hash text_hash = audit::Sha256(text);
  own.digest = std::vector<std::uint8_t>(text_hash.begin(), text_hash.end());
  auto own_ok = crypto::Verify(cp_token, own);
  EXPECT_TRUE(own_ok) << "checkpoint token: " << own_ok.error().message;

  // The anchor: a reply of the external TSA over SHA-256(the served note bytes), verified by
  // tsa-verify against the external CA (and refused with the tsad-under-test's certificate).
  const nlohmann::json& anchor = c["anchors"][0];
  EXPECT_EQ(anchor["tsa_url"], ext_->url());
  const auto reply = B64(anchor["reply"].get<std::string>());
  ASSERT_FALSE(reply.empty());
  const std::string reply_path = dir_->Sub("anchor1.tsr");
  ASSERT_TRUE(WriteFile(reply_path, reply));
  auto verified = RunCommand({ToolPath("tsa-verify"), reply_path, ext_pki_.tsa_cert(), "--ca", ext_pki_.ca_cert(), "--digest",
                              audit::HashHex(audit::Sha256(served_note))});
  EXPECT_EQ(verified.exit_code, 0) << "tsa-verify refuses the stored anchor reply:\n" << verified.output;
  EXPECT_EQ(audit::HashHex(audit::Sha256(served_note)), audit::HashHex(text_hash)) << "tsad's own token covers the same bytes";

  // The proof bundle of a token ties the three together: tsa-audit-verify checks the note's
  // signature with the log's verifier key, both tokens' imprints over it, and the inclusion.
  const std::string bundle_path = dir_->Sub("bundle1.json"), token_path = dir_->Sub("token1.tsr");
  ASSERT_TRUE(WriteText(bundle_path, GetJson(port, "/audit/proof?serial=" + issued[0].serial).dump()));
  ASSERT_TRUE(WriteFile(token_path, issued[0].reply));
  auto bundle_ok = RunCommand({ToolPath("tsa-audit-verify"), "--proof", bundle_path, "--token", token_path, "--tsa-cert",
                               main_pki_.tsa_cert(), "--anchor-ca", ext_pki_.ca_cert(), "--vkey", log_vkey_});
  EXPECT_EQ(bundle_ok.exit_code, 0) << bundle_ok.output;
  EXPECT_EQ(bundle_ok.output.find("no --vkey"), std::string::npos) << bundle_ok.output;
  auto other_key = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(other_key);
  const std::string other_vkey = audit::VerifierKeyString(kLogOrigin, other_key->public_key());
  auto bundle_bad = RunCommand({ToolPath("tsa-audit-verify"), "--proof", bundle_path, "--token", token_path, "--tsa-cert",
                                main_pki_.tsa_cert(), "--anchor-ca", ext_pki_.ca_cert(), "--vkey", other_vkey});
  EXPECT_NE(bundle_bad.exit_code, 0) << "a note signature by another key must fail:\n" << bundle_bad.output;
  auto wrong = RunCommand({ToolPath("tsa-verify"), reply_path, main_pki_.tsa_cert(), "--ca", main_pki_.ca_cert()});
  EXPECT_NE(wrong.exit_code, 0) << "the anchor reply must not verify as signed by the tsad under test:\n" << wrong.output;

  // The external TSA logged the token it issued for us.
  auto info = crypto::DescribeResponse(reply);
  ASSERT_TRUE(info && info->token);
  auto ext_tokens = ReadTokens(ext_->db_path());
  ASSERT_TRUE(ext_tokens) << ext_tokens.error().message;
  EXPECT_TRUE(std::any_of(ext_tokens->begin(), ext_tokens->end(),
                          [&](const TokenRow& t) { return NormSerial(t.serial) == NormSerial(info->token->serial_hex); }))
      << "the external tsad's log does not hold serial " << info->token->serial_hex;

  // /health checks.anchor
  nlohmann::json health;
  EXPECT_TRUE(WaitUntil(
      [&] {
        health = AnchorHealth(port);
        return health.is_object() && health["last_success"].is_string();
      },
      3s))
      << "health: " << health.dump(2);
  EXPECT_EQ(health["enabled"], true);
  EXPECT_FALSE(health["last_success"].get<std::string>().empty());
  EXPECT_TRUE(health["age_seconds"].is_number() && health["age_seconds"].get<std::int64_t>() >= 0) << health.dump();
  EXPECT_EQ(health["anchored_tree_size"], 3);
  EXPECT_EQ(health["tree_size"], 3);
  EXPECT_TRUE(health["last_error"].is_null()) << health.dump();
  EXPECT_EQ(health["consecutive_failures"], 0);
  EXPECT_EQ(health["stale"], false);

  // The anchor_attempts table.
  auto attempts = ReadAttempts(tsad->db_path());
  ASSERT_TRUE(attempts) << attempts.error().message;
  const auto ok_rows = std::count_if(attempts->begin(), attempts->end(), [](const AttemptRow& a) { return a.ok; });
  EXPECT_GE(ok_rows, 1) << Describe(*attempts);
  for (const auto& a : *attempts) {
    EXPECT_TRUE(a.ok) << "unexpected failed attempt:\n" << Describe(*attempts);
    EXPECT_EQ(a.url, ext_->url());
    EXPECT_TRUE(a.has_reply);
    EXPECT_TRUE(a.error.empty());
    EXPECT_EQ(a.nonce.size(), 8u);
  }
  EXPECT_TRUE(std::any_of(attempts->begin(), attempts->end(), [&](const AttemptRow& a) { return a.ok && a.reply == reply; }))
      << "the reply served by /audit/checkpoint is not the stored one";

  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

// Backward compatibility (AUDIT_CHAIN.md): a log whose early anchors cover legacy
// tsad-checkpoint/v1 texts (a tsad without a log key, or one from before anchors moved to notes)
// keeps verifying after the log key arrives and later anchors cover signed notes.
TEST_F(AuditAnchorTest, LegacyTextCheckpointsAndLaterNotesVerifyInOneLog) {
  Pki legacy_pki;
  ASSERT_TRUE(MakePki(dir_->Sub("legacy"), &legacy_pki));
  const std::string db = dir_->Sub("legacy.db");
  {
    auto tsad = MakeTsad(legacy_pki, AnchorArgs({ext_->url()}), db);
    ASSERT_TRUE(tsad->Start());
    std::vector<Issued> issued;
    ASSERT_TRUE(IssueMany(tsad->port(), 2, &issued));
    const nlohmann::json cp = WaitForAnchoredCheckpoint(tsad->port(), 2, 1, 15s);
    ASSERT_GE(CheckpointAnchors(cp), 1u) << cp.dump(2) << tsad->log();
    const std::string text = cp["checkpoint"]["checkpoint"].get<std::string>();
    EXPECT_EQ(text.rfind("tsad-checkpoint/v1\n", 0), 0u) << text;
    // The legacy chain: the external TSA time-stamped tsad's token over the text.
    const auto reply = B64(cp["checkpoint"]["anchors"][0]["reply"].get<std::string>());
    const std::string reply_path = dir_->Sub("legacy_anchor.tsr");
    ASSERT_TRUE(WriteFile(reply_path, reply));
    auto v = RunCommand({ToolPath("tsa-verify"), reply_path, ext_pki_.tsa_cert(), "--ca", ext_pki_.ca_cert(), "--digest",
                         HexSha256(B64(cp["checkpoint"]["token"].get<std::string>()))});
    EXPECT_EQ(v.exit_code, 0) << v.output;
    ASSERT_EQ(tsad->Stop(15s), 0) << tsad->log();
  }
  auto log_key = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(log_key && WriteText(legacy_pki.dir + "/log_key.pem", *log_key->PrivatePem()));
  const std::string vkey = audit::VerifierKeyString(kLogOrigin, log_key->public_key());
  {
    auto tsad = MakeTsad(legacy_pki, AnchorArgs({ext_->url()}), db);
    ASSERT_TRUE(tsad->Start());
    ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));
    const nlohmann::json cp = WaitForAnchoredCheckpoint(tsad->port(), 5, 1, 15s);
    ASSERT_GE(CheckpointAnchors(cp), 1u) << cp.dump(2) << tsad->log();
    EXPECT_TRUE(audit::ParseCheckpoint(cp["checkpoint"]["checkpoint"].get<std::string>())->is_note()) << cp.dump(2);
    ASSERT_EQ(tsad->Stop(15s), 0) << tsad->log();
  }
  auto r = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", legacy_pki.tsa_cert(), "--anchor-ca", ext_pki_.ca_cert(),
                       "--vkey", vkey, "--require-anchors"},
                      30s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto other_key = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(other_key);
  auto bad = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", legacy_pki.tsa_cert(), "--anchor-ca", ext_pki_.ca_cert(),
                         "--vkey", audit::VerifierKeyString(kLogOrigin, other_key->public_key())},
                        30s);
  EXPECT_EQ(bad.exit_code, 1) << "notes not signed by the given key must fail:\n" << bad.output;
}

// first mode: a closed port and an HTTP 500 fail, the next URL anchors; the failures are stored
// with their causes, in list order.
TEST_F(AuditAnchorTest, FailsOverToTheNextTsaAndRecordsEachFailure) {
  FakeTsa http500;
  ASSERT_TRUE(http500.ok()) << http500.error();
  http500.HttpStatus(500);
  const std::string closed_url = "http://127.0.0.1:" + std::to_string(ClosedLocalPort()) + "/tsa";
  // Both spellings of the flag: comma-separated and repeated.
  auto tsad = MakeTsad(main_pki_, AnchorArgs({closed_url + "," + http500.url(), ext_->url()}));
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 2, nullptr));

  const nlohmann::json cp = WaitForAnchoredCheckpoint(port, 2, 1, 15s);
  ASSERT_GE(CheckpointAnchors(cp), 1u) << cp.dump(2) << "\nLog:\n" << tsad->log();
  EXPECT_EQ(cp["checkpoint"]["anchors"][0]["tsa_url"], ext_->url());
  EXPECT_GE(http500.requests(), 1);

  auto attempts = ReadAttempts(tsad->db_path());
  ASSERT_TRUE(attempts) << attempts.error().message;
  const std::int64_t cp_id = cp["checkpoint"]["id"].get<std::int64_t>();
  std::vector<AttemptRow> for_cp;
  for (const auto& a : *attempts) {
    if (a.checkpoint_id == cp_id) for_cp.push_back(a);
  }
  ASSERT_EQ(for_cp.size(), 3u) << "expected closed port, HTTP 500, then the external TSA:\n" << Describe(*attempts);
  EXPECT_EQ(for_cp[0].url, closed_url);
  EXPECT_FALSE(for_cp[0].ok);
  EXPECT_TRUE(ContainsAny(for_cp[0].error, {"connection", "refused", "connect"})) << Describe(for_cp);
  EXPECT_FALSE(for_cp[0].has_reply);
  EXPECT_EQ(for_cp[1].url, http500.url());
  EXPECT_FALSE(for_cp[1].ok);
  EXPECT_TRUE(ContainsAny(for_cp[1].error, {"HTTP 500"})) << Describe(for_cp);
  EXPECT_FALSE(for_cp[1].has_reply);
  EXPECT_EQ(for_cp[2].url, ext_->url());
  EXPECT_TRUE(for_cp[2].ok) << Describe(for_cp);
  EXPECT_TRUE(for_cp[2].has_reply);
  EXPECT_LT(for_cp[0].id, for_cp[1].id);
  EXPECT_LT(for_cp[1].id, for_cp[2].id);
  for (const auto& a : *attempts) {
    if (a.ok) {
      EXPECT_EQ(a.url, ext_->url()) << "only the external TSA may have anchored:\n" << Describe(*attempts);
    }
  }

  nlohmann::json health;
  EXPECT_TRUE(WaitUntil(
      [&] {
        health = AnchorHealth(port);
        return health.is_object() && health["last_success"].is_string();
      },
      3s))
      << health.dump(2);
  EXPECT_EQ(health["consecutive_failures"], 0) << "a success resets the failure count: " << health.dump();
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

// all mode: every TSA anchors every checkpoint.
TEST_F(AuditAnchorTest, AllModeAnchorsEachCheckpointAtEveryTsa) {
  auto tsad = MakeTsad(main_pki_, AnchorArgs({ext_->url() + "," + ext2_->url()}, {"--anchor-mode", "all"}, both_ca_));
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  const std::set<std::string> want = {ext_->url(), ext2_->url()};
  const std::string bundle = ReadTextFile(both_ca_);

  std::set<std::int64_t> checkpoint_ids;
  for (std::uint64_t size : {2u, 4u}) {
    ASSERT_TRUE(IssueMany(port, 2, nullptr));
    const nlohmann::json cp = WaitForAnchoredCheckpoint(port, size, 2, 15s);
    ASSERT_EQ(CheckpointSize(cp), size) << cp.dump(2) << "\nLog:\n" << tsad->log();
    ASSERT_EQ(CheckpointAnchors(cp), 2u) << "both TSAs must anchor checkpoint " << size << ": " << cp.dump(2) << "\nLog:\n"
                                         << tsad->log();
    checkpoint_ids.insert(cp["checkpoint"]["id"].get<std::int64_t>());
    // Every anchor is over the signed note itself.
    const audit::Hash imprint = audit::Sha256(cp["checkpoint"]["checkpoint"].get<std::string>());
    std::set<std::string> urls;
    for (const auto& a : cp["checkpoint"]["anchors"]) {
      urls.insert(a["tsa_url"].get<std::string>());
      crypto::VerifyOptions vo;
      vo.ca_pem = bundle;
      vo.digest = std::vector<std::uint8_t>(imprint.begin(), imprint.end());
      auto v = crypto::Verify(B64(a["reply"].get<std::string>()), vo);
      EXPECT_TRUE(v) << a["tsa_url"] << ": " << v.error().message;
    }
    EXPECT_EQ(urls, want);
  }
  EXPECT_EQ(checkpoint_ids.size(), 2u);

  // In the table too: each of the two checkpoints has one ok row per TSA.
  auto attempts = ReadAttempts(tsad->db_path());
  ASSERT_TRUE(attempts) << attempts.error().message;
  for (std::int64_t id : checkpoint_ids) {
    std::set<std::string> ok_urls;
    for (const auto& a : *attempts) {
      if (a.checkpoint_id == id && a.ok) ok_urls.insert(a.url);
    }
    EXPECT_EQ(ok_urls, want) << "checkpoint " << id << ":\n" << Describe(*attempts);
  }
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

// Bad external TSAs: the attempt is stored with ok = 0 and an error naming the cause, never as
// ok, and issuance goes on at full speed meanwhile.
enum class Bad { kGarbage, kForged, kWrongNonce, kWrongImprint, kSlow };
struct BadCase {
  Bad kind;
  const char* name;
  std::vector<std::string> cause;  // the stored error must contain one of these (case-insensitive)
};
// Shown by --gtest_list_tests and in failures instead of the struct's raw bytes.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class AuditBadAnchorTest : public AuditAnchorTest, public ::testing::WithParamInterface<BadCase> {};

TEST_P(AuditBadAnchorTest, IsRecordedAsFailureAndIssuanceIsUnaffected) {
  const BadCase& bc = GetParam();
  FakeTsa fake;
  ASSERT_TRUE(fake.ok()) << fake.error();
  std::vector<std::string> more;
  switch (bc.kind) {
    case Bad::kGarbage: fake.Garbage(); break;
    case Bad::kForged: fake.Proxy(forger_->port()); break;  // valid reply, but its CA is not --anchor-ca
    case Bad::kWrongNonce: fake.WrongRequest(ext_->port(), FakeTsa::Mismatch::kNonce); break;
    case Bad::kWrongImprint: fake.WrongRequest(ext_->port(), FakeTsa::Mismatch::kImprint); break;
    case Bad::kSlow:
      fake.SlowProxy(ext_->port(), 4s);  // a good reply, but after --anchor-timeout
      more = {"--anchor-timeout", "1"};
      break;
  }
  auto tsad = MakeTsad(main_pki_, AnchorArgs({fake.url()}, more));
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 3, nullptr));

  // Once the anchor request is out (for kSlow: while the fake TSA sits on it), issuance must stay fast.
  ASSERT_TRUE(fake.WaitForRequests(1, 10s)) << "tsad never asked the external TSA. Log:\n" << tsad->log();
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < 20; ++i) {
    const auto t0 = Clock::now();
    std::string why;
    ASSERT_TRUE(IssueOne(port, &why, 5s)) << "request " << i << " while the anchor fails: " << why;
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0));
  }
  EXPECT_LT(slowest.count(), 1000) << "issuance was slowed down by the failing anchor (slowest request " << slowest.count()
                                   << " ms)";

  // The failure is stored (for kSlow after the 1 s timeout).
  std::vector<AttemptRow> rows;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto a = ReadAttempts(tsad->db_path());
        if (a) rows = *a;
        return !rows.empty();
      },
      10s))
      << "no anchor attempt stored. Log:\n"
      << tsad->log();
  std::cout << "[ info ] " << bc.name << ": stored error \"" << rows.front().error << "\"\n";
  for (const auto& a : rows) {
    EXPECT_FALSE(a.ok) << bc.name << ": a bad reply was stored as ok:\n" << Describe(rows);
    EXPECT_FALSE(a.has_reply) << Describe(rows);
    EXPECT_EQ(a.url, fake.url());
    EXPECT_TRUE(ContainsAny(a.error, bc.cause)) << bc.name << ": the error should name the cause (" << Joined(bc.cause) << "):\n"
                                                << Describe(rows);
  }
  const nlohmann::json cp = Checkpoint(port);
  EXPECT_GE(CheckpointSize(cp), 3u) << cp.dump(2);
  EXPECT_EQ(CheckpointAnchors(cp), 0u) << "a bad reply is served as an anchor: " << cp.dump(2);

  const nlohmann::json health = AnchorHealth(port);
  ASSERT_TRUE(health.is_object()) << health.dump();
  EXPECT_EQ(health["enabled"], true);
  EXPECT_TRUE(health["last_success"].is_null()) << health.dump(2);
  EXPECT_TRUE(health["last_error"].is_string() && ContainsAny(health["last_error"].get<std::string>(), bc.cause))
      << health.dump(2);
  EXPECT_GE(health["consecutive_failures"].get<int>(), 1) << health.dump(2);
  EXPECT_EQ(health["anchored_tree_size"], 0);
  EXPECT_EQ(health["stale"], true) << health.dump(2);

  // Read once more right before the end: still no ok row.
  auto final_rows = ReadAttempts(tsad->db_path());
  ASSERT_TRUE(final_rows);
  for (const auto& a : *final_rows) EXPECT_FALSE(a.ok) << Describe(*final_rows);
  tsad->Kill();  // the shutdown anchor is not the subject here
}

INSTANTIATE_TEST_SUITE_P(Replies, AuditBadAnchorTest,
                         ::testing::Values(BadCase{Bad::kGarbage, "garbage", {"reply rejected"}},
                                           BadCase{Bad::kForged, "forged", {"certificate", "chain", "issuer", "trust"}},
                                           BadCase{Bad::kWrongNonce, "wrong-nonce", {"nonce"}},
                                           BadCase{Bad::kWrongImprint, "wrong-imprint", {"imprint"}},
                                           // httplib reports a read timeout as "Read"; accept it, but a clearer word is better.
                                           BadCase{Bad::kSlow, "slow", {"timeout", "timed out", "failed: Read"}}),
                         [](const ::testing::TestParamInfo<BadCase>& param_info) {
                           std::string n = param_info.param.name;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// SIGTERM while an anchor request hangs (--anchor-timeout 30): tsad must cancel it and exit 0 well
// before the timeout.
TEST_F(AuditAnchorTest, ShutdownWhileAnAnchorRequestHangsIsPrompt) {
  FakeTsa fake;
  ASSERT_TRUE(fake.ok()) << fake.error();
  fake.Hang();
  auto tsad = MakeTsad(main_pki_, AnchorArgs({fake.url()}, {"--anchor-timeout", "30"}));
  ASSERT_TRUE(tsad->Start());
  ASSERT_TRUE(IssueMany(tsad->port(), 2, nullptr));
  ASSERT_TRUE(fake.WaitForRequests(1, 10s)) << "tsad never asked the external TSA. Log:\n" << tsad->log();
  ASSERT_TRUE(WaitUntil([&] { return fake.in_flight() >= 1; }, 2s));
  // Issuance is not blocked by the hanging anchor.
  ASSERT_TRUE(IssueMany(tsad->port(), 3, nullptr));

  const auto t0 = Clock::now();
  const int rc = tsad->Stop(20s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  EXPECT_EQ(rc, 0) << tsad->log();
  EXPECT_LT(took.count(), 10000) << "SIGTERM with a hanging anchor request took " << took.count() << " ms. Log:\n" << tsad->log();

  auto attempts = ReadAttempts(tsad->db_path());
  ASSERT_TRUE(attempts) << attempts.error().message;
  EXPECT_FALSE(attempts->empty()) << "the cancelled request should be recorded as a failed attempt";
  for (const auto& a : *attempts) EXPECT_FALSE(a.ok) << Describe(*attempts);
  auto cps = ReadCheckpoints(tsad->db_path());
  ASSERT_TRUE(cps) << cps.error().message;
  ASSERT_FALSE(cps->empty());
  EXPECT_EQ(cps->back().tree_size, 5u) << "the shutdown checkpoint must cover every token";
}

// The same with fail-over: SIGTERM while the first of two hanging TSAs holds the request. The
// cancelled request must not be followed by a full --anchor-timeout request to the next URL; the
// shutdown anchor then tries each URL for at most 5 s, so the bound is 2 x 5 s plus slack.
TEST_F(AuditAnchorTest, ShutdownWithTwoHangingTsasDoesNotWaitForTheAnchorTimeout) {
  FakeTsa first, second;
  ASSERT_TRUE(first.ok() && second.ok());
  first.Hang();
  second.Hang();
  auto tsad = MakeTsad(main_pki_, AnchorArgs({first.url(), second.url()}, {"--anchor-timeout", "30"}));
  ASSERT_TRUE(tsad->Start());
  ASSERT_TRUE(IssueMany(tsad->port(), 2, nullptr));
  ASSERT_TRUE(first.WaitForRequests(1, 10s)) << "tsad never asked the first TSA. Log:\n" << tsad->log();
  ASSERT_TRUE(WaitUntil([&] { return first.in_flight() >= 1; }, 2s));

  const auto t0 = Clock::now();
  const int rc = tsad->Stop(15s);  // SIGKILL (and a failure) after 15 s
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  auto attempts = ReadAttempts(tsad->db_path());
  const std::string table = attempts ? Describe(*attempts) : attempts.error().message;
  EXPECT_EQ(rc, 0) << "attempts:\n" << table << "Log:\n" << tsad->log();
  EXPECT_LT(took.count(), 13000) << "SIGTERM with two hanging anchor TSAs took " << took.count() << " ms (first TSA asked "
                                 << first.requests() << "x, second " << second.requests() << "x); attempts:\n"
                                 << table;
}

// The shutdown anchor covers the final tree size; the start-up anchor picks up a head left
// unanchored by a crash. --anchor-interval 3600 rules out the periodic anchor.
TEST_F(AuditAnchorTest, StartupAndShutdownAnchorsCoverTheHead) {
  const std::string db = dir_->Sub("startup_shutdown.db");
  const std::vector<std::string> args = {"--anchor-tsa", ext_->url(),   "--anchor-interval",
                                         "3600",         "--anchor-ca", ext_pki_.ca_cert()};
  // Issues n tokens, then one more if a (racing) start-up anchor already covers the head, so that
  // the head is unanchored when the run ends. Returns the head size.
  auto issue_unanchored = [](TsadProcess& t, int n) -> std::uint64_t {
    EXPECT_TRUE(IssueMany(t.port(), n, nullptr));
    nlohmann::json cp = Checkpoint(t.port());
    const std::uint64_t head = cp["head"]["tree_size"].get<std::uint64_t>();
    if (CheckpointSize(cp) == head) {
      EXPECT_TRUE(IssueMany(t.port(), 1, nullptr));
      return head + 1;
    }
    return head;
  };

  // Run 1: issue, SIGTERM -> the shutdown anchor.
  std::uint64_t head = 0;
  {
    auto tsad = MakeTsad(main_pki_, args, db);
    ASSERT_TRUE(tsad->Start());
    head = issue_unanchored(*tsad, 5);
    const auto sigterm_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    ASSERT_EQ(tsad->Stop(15s), 0) << tsad->log();
    auto cps = ReadCheckpoints(db);
    ASSERT_TRUE(cps) << cps.error().message;
    ASSERT_FALSE(cps->empty()) << "no checkpoint after SIGTERM. Log:\n" << tsad->log();
    EXPECT_EQ(cps->back().tree_size, head) << "the shutdown checkpoint must cover the final tree size";
    auto ok_after = QueryInt(db, "SELECT COUNT(*) FROM anchor_attempts WHERE ok = 1 AND checkpoint_id = " +
                                     std::to_string(cps->back().id) + " AND attempted_at_us >= " + std::to_string(sigterm_us));
    ASSERT_TRUE(ok_after);
    EXPECT_EQ(*ok_after, 1) << "the final checkpoint should have been anchored by the shutdown anchor. Log:\n" << tsad->log();
  }
  // Run 2: more tokens, then SIGKILL: no shutdown anchor.
  {
    auto tsad = MakeTsad(main_pki_, args, db);
    ASSERT_TRUE(tsad->Start());
    head = issue_unanchored(*tsad, 3);
    tsad->Kill();
    auto cps = ReadCheckpoints(db);
    ASSERT_TRUE(cps);
    ASSERT_LT(cps->back().tree_size, head);
  }
  // Run 3: no request at all; the start-up anchor covers the head.
  {
    auto tsad = MakeTsad(main_pki_, args, db);
    ASSERT_TRUE(tsad->Start());
    const nlohmann::json cp = WaitForAnchoredCheckpoint(tsad->port(), head, 1, 10s);
    EXPECT_EQ(CheckpointSize(cp), head) << "no start-up anchor: " << cp.dump(2) << "\nLog:\n" << tsad->log();
    EXPECT_EQ(CheckpointAnchors(cp), 1u) << cp.dump(2);
    EXPECT_EQ(tsad->Stop(15s), 0) << tsad->log();
  }
  // The whole chain, across SIGTERM, SIGKILL and restarts, verifies.
  if (ToolExists("tsa-audit-verify")) {
    auto r = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", main_pki_.tsa_cert(), "--anchor-ca", ext_pki_.ca_cert()},
                        30s);
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

}  // namespace
}  // namespace tsa::test
