// Witness cosigning (c2sp.org/tlog-witness, AUDIT_CHAIN.md "Witnesses") end to end: a real tsad
// and, as the witness, tests/go/witness, written from the C2SP specifications in Go with
// golang.org/x/mod/sumdb/{note,tlog} (a second local process on 127.0.0.1, port 0). Checked: the
// cosignatures are verified, stored, served after the log's signature and verified by
// tests/go/tlogcheck; consistency proofs from an older size pass the witness's sumdb/tlog check; a
// witness that is down or signs wrongly never blocks issuance and shows in /health, /metrics and
// the log; a wrong cosignature is not stored; a lost reply is recovered through the 409 path.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>

#include "audit_helpers.h"
#include "tsa/audit/cosignature.h"
#include "tsa/audit/signed_note.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::test::audit_it {
namespace {

constexpr char kOrigin[] = "witness.test/log";
constexpr char kWitnessName[] = "witness.test/w1";

bool GoToolsBuilt() { return ::access(TSA_GO_WITNESS, X_OK) == 0 && ::access(TSA_TLOGCHECK, X_OK) == 0; }

#define SKIP_WITHOUT_GO()                                                                                                     \
  do {                                                                                                                        \
    if (!GoToolsBuilt()) {                                                                                                    \
      const char* ci = std::getenv("CI");                                                                                     \
      if (ci != nullptr && std::string(ci) == "true") FAIL() << "go is required under CI=true (scripts/install-deps --test)"; \
      GTEST_SKIP() << "go not installed: " << TSA_GO_WITNESS << " was not built";                                             \
    }                                                                                                                         \
  } while (0)

// tests/go/witness as a child process; it prints "port N" and "vkey V" once listening.
class GoWitness {
 public:
  GoWitness(const TempDir& dir, const std::string& log_vkey, const std::string& mode, const std::string& tag = "w")
      : out_(dir.Sub(tag + ".out")), err_(dir.Sub(tag + ".err")) {
    pid_ = Spawn({TSA_GO_WITNESS, "-log-vkey", log_vkey, "-name", kWitnessName, "-mode", mode}, out_, err_);
    WaitUntil(
        [&] {
          const std::string text = ReadTextFile(out_);
          const auto p = text.find("port "), v = text.find("vkey ");
          if (p == std::string::npos || v == std::string::npos || text.back() != '\n') return false;
          port_ = std::stoi(text.substr(p + 5));
          vkey_ = text.substr(v + 5, text.find('\n', v) - v - 5);
          return true;
        },
        10s, 20ms);
  }
  ~GoWitness() { Kill(); }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      WaitChild(pid_, 5s);
      pid_ = -1;
    }
  }
  bool ready() const { return port_ > 0 && !vkey_.empty(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& vkey() const { return vkey_; }
  std::string requests() const { return ReadTextFile(err_); }  // one line per add-checkpoint

 private:
  std::string out_, err_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string vkey_;
};

// A well-formed cosignature/v1 verifier key of the same name but another key.
std::string OtherWitnessVkey() {
  auto key = crypto::Ed25519Key::Generate();
  std::vector<std::uint8_t> typed = {audit::kCosignatureV1Type};
  typed.insert(typed.end(), key->public_key().begin(), key->public_key().end());
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", audit::CosignatureKeyId(kWitnessName, key->public_key()));
  return std::string(kWitnessName) + "+" + id + "+" + core::Base64(typed);
}

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_GO();
    ASSERT_TRUE(MakePki(dir_.Sub("pki"), &pki_));
    auto key = crypto::Ed25519Key::Generate();
    ASSERT_TRUE(key && WriteText(pki_.dir + "/log_key.pem", *key->PrivatePem()));
    log_vkey_ = audit::VerifierKeyString(kOrigin, key->public_key());
  }

  std::unique_ptr<TsadProcess> StartTsad(const std::string& witness_url, const std::string& witness_vkey) {
    auto tsad = MakeTsad(pki_,
                         {"--log-origin", kOrigin, "--witness", witness_url + "=" + witness_vkey, "--witness-timeout", "3"});
    EXPECT_TRUE(tsad->Start());
    return tsad;
  }

  static std::string ServedCheckpoint(int port) { return HttpGet(port, "/log/checkpoint").body_text(); }
  static bool HasCosignature(const std::string& note) {
    return note.find(std::string(audit::kNoteSignaturePrefix) + kWitnessName + " ") != std::string::npos;
  }
  static std::string SizeLine(std::uint64_t n) { return "\n" + std::to_string(n) + "\n"; }
  // Waits until /log/checkpoint is of size n and carries the witness's cosignature.
  static bool WaitCosigned(int port, std::uint64_t n, std::string* note) {
    return WaitUntil(
        [&] {
          *note = ServedCheckpoint(port);
          return note->find(SizeLine(n)) != std::string::npos && HasCosignature(*note);
        },
        15s, 50ms);
  }
  static nlohmann::json Health(int port, int* status) { return GetJson(port, "/health", status); }

  TempDir dir_;
  Pki pki_;
  std::string log_vkey_;
};

TEST_F(WitnessTest, CosignaturesAreVerifiedStoredServedAndCheckedByGo) {
  GoWitness witness(dir_, log_vkey_, "ok");
  ASSERT_TRUE(witness.ready()) << witness.requests();
  auto tsad = StartTsad(witness.url(), witness.vkey());
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 5, nullptr));
  std::string note;
  ASSERT_TRUE(WaitCosigned(port, 5, &note)) << note << "\nwitness:\n" << witness.requests() << "\nLog:\n" << tsad->log();
  // The log's signature first, the cosignature after it (signed-note: order of signature lines).
  EXPECT_LT(note.find(std::string(audit::kNoteSignaturePrefix) + kOrigin + " "),
            note.find(std::string(audit::kNoteSignaturePrefix) + kWitnessName + " "));

  // A larger tree: the request carries a consistency proof from 5, which the witness checks with
  // sumdb/tlog before it cosigns.
  ASSERT_TRUE(IssueMany(port, 300, nullptr));
  ASSERT_TRUE(WaitCosigned(port, 305, &note)) << note << "\nwitness:\n" << witness.requests() << "\nLog:\n" << tsad->log();
  EXPECT_EQ(witness.requests().find("422"), std::string::npos) << witness.requests();

  // Go verifies the log and the cosignature; another witness key is refused.
  auto checked = RunCommand(
      {TSA_TLOGCHECK, "-url", tsad->base_url() + "/log", "-vkey", log_vkey_, "-witness-vkey", witness.vkey()});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find(std::string("cosigned by ") + kWitnessName), std::string::npos) << checked.output;
  const std::string other = OtherWitnessVkey();
  EXPECT_NE(RunCommand({TSA_TLOGCHECK, "-url", tsad->base_url() + "/log", "-vkey", log_vkey_, "-witness-vkey", other}).exit_code,
            0);

  // Stored: one row per cosigned size, the one served among them.
  auto rows = QueryInt(tsad->db_path(), "SELECT COUNT(*) FROM witness_cosignatures WHERE witness = 'witness.test/w1'");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_GE(*rows, 2);
  auto served = QueryInt(tsad->db_path(), "SELECT COUNT(*) FROM witness_cosignatures WHERE tree_size = 305");
  ASSERT_TRUE(served);
  EXPECT_EQ(*served, 1);

  // /health and /metrics say the witness is fine.
  int status = 0;
  const nlohmann::json health = Health(port, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(health["status"], "ok") << health.dump(2);
  ASSERT_TRUE(health["checks"]["witnesses"].is_array()) << health.dump(2);
  EXPECT_EQ(health["checks"]["witnesses"][0]["name"], kWitnessName);
  EXPECT_EQ(health["checks"]["witnesses"][0]["ok"], true);
  EXPECT_EQ(health["checks"]["witnesses"][0]["cosigned_size"], 305);
  EXPECT_EQ(health["checks"]["log_checkpoint"]["ok"], true) << health.dump(2);
  const std::string metrics = HttpGet(port, "/metrics").body_text();
  EXPECT_NE(metrics.find("tsad_witness_last_cosigned_timestamp_seconds{witness=\"witness.test/w1\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tsad_witness_cosigned_tree_size{witness=\"witness.test/w1\"} 305"), std::string::npos) << metrics;

  // A restart serves the stored cosignature with the stored note, even with the witness gone.
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  witness.Kill();
  auto again = MakeTsad(pki_, {"--log-origin", kOrigin, "--witness", witness.url() + "=" + witness.vkey()}, tsad->db_path());
  ASSERT_TRUE(again->Start());
  const std::string restarted = ServedCheckpoint(again->port());
  EXPECT_NE(restarted.find(SizeLine(305)), std::string::npos) << restarted;
  EXPECT_TRUE(HasCosignature(restarted)) << restarted;
  EXPECT_EQ(again->Stop(), 0) << again->log();
}

TEST_F(WitnessTest, AWitnessThatIsDownNeverBlocksIssuanceAndShowsInHealth) {
  std::string vkey;
  {
    GoWitness gone(dir_, log_vkey_, "ok");  // a real witness key whose process is then killed
    ASSERT_TRUE(gone.ready());
    vkey = gone.vkey();
  }
  auto tsad = StartTsad("http://127.0.0.1:9", vkey);  // port 9 (discard): nothing listens
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 20, nullptr));
  nlohmann::json health;
  int status = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        health = Health(port, &status);
        return health.is_object() && health["status"] == "degraded";
      },
      10s, 50ms))
      << health.dump(2);
  EXPECT_EQ(status, 200) << "a witness is not a reason to take the TSA out of rotation";
  ASSERT_TRUE(health["degraded"].is_array());
  EXPECT_NE(health["degraded"][0].get<std::string>().find(kWitnessName), std::string::npos) << health.dump(2);
  EXPECT_EQ(health["checks"]["witnesses"][0]["ok"], false);
  EXPECT_FALSE(health["checks"]["witnesses"][0]["last_error"].get<std::string>().empty());
  ASSERT_TRUE(IssueMany(port, 5, nullptr)) << "issuance with the witness down";
  EXPECT_FALSE(HasCosignature(ServedCheckpoint(port)));
  const std::string metrics = HttpGet(port, "/metrics").body_text();
  EXPECT_NE(metrics.find("tsad_witness_failures_total{witness=\"witness.test/w1\"}"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("tsad_witness_failures_total{witness=\"witness.test/w1\"} 0"), std::string::npos) << metrics;
  EXPECT_TRUE(WaitUntil([&] { return tsad->log().find("witness_failed") != std::string::npos; }, 5s)) << tsad->log();
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

TEST_F(WitnessTest, AWrongCosignatureIsRejectedAndNotStored) {
  GoWitness witness(dir_, log_vkey_, "bad-signature");
  ASSERT_TRUE(witness.ready());
  auto tsad = StartTsad(witness.url(), witness.vkey());
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 4, nullptr));
  nlohmann::json health;
  int status = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        health = Health(port, &status);
        const auto& w = health["checks"]["witnesses"];
        return w.is_array() && w[0]["last_error"].is_string();
      },
      10s, 50ms))
      << health.dump(2) << "\nwitness:\n"
      << witness.requests();
  EXPECT_NE(health["checks"]["witnesses"][0]["last_error"].get<std::string>().find("does not verify"), std::string::npos)
      << health.dump(2);
  EXPECT_EQ(health["status"], "degraded");
  EXPECT_NE(witness.requests().find("add-checkpoint 200"), std::string::npos) << "the witness did answer 200";
  EXPECT_FALSE(HasCosignature(ServedCheckpoint(port)));
  auto rows = QueryInt(tsad->db_path(), "SELECT COUNT(*) FROM witness_cosignatures");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_EQ(*rows, 0);
  ASSERT_TRUE(IssueMany(port, 3, nullptr));
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

// The witness persists the first checkpoint but its reply is lost (503): tsad's next request
// carries the stale old size 0, the witness answers 409 with its size, and tsad retries from it
// with a consistency proof.
TEST_F(WitnessTest, ALostReplyIsRecoveredThroughThe409Path) {
  GoWitness witness(dir_, log_vkey_, "lose-first-reply");
  ASSERT_TRUE(witness.ready());
  auto tsad = StartTsad(witness.url(), witness.vkey());
  const int port = tsad->port();
  ASSERT_TRUE(IssueMany(port, 3, nullptr));
  ASSERT_TRUE(WaitUntil([&] { return witness.requests().find("503") != std::string::npos; }, 10s)) << witness.requests();
  ASSERT_TRUE(IssueMany(port, 4, nullptr));
  std::string note;
  ASSERT_TRUE(WaitCosigned(port, 7, &note)) << note << "\nwitness:\n" << witness.requests() << "\nLog:\n" << tsad->log();
  const std::string requests = witness.requests();
  EXPECT_NE(requests.find("add-checkpoint 409 size"), std::string::npos) << requests;
  EXPECT_EQ(requests.find("422"), std::string::npos) << requests;
  auto checked = RunCommand(
      {TSA_TLOGCHECK, "-url", tsad->base_url() + "/log", "-vkey", log_vkey_, "-witness-vkey", witness.vkey()});
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
}

TEST(WitnessStartTest, ABadWitnessOptionRefusesToStart) {
  TempDir dir;
  Pki pki;
  ASSERT_TRUE(MakePki(dir.Sub("pki"), &pki));
  auto key = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(key && WriteText(pki.dir + "/log_key.pem", *key->PrivatePem()));
  // A log key's vkey (type 0x01) is not a witness key (cosignature/v1, type 0x04).
  const std::string log_vkey = audit::VerifierKeyString("x/log", key->public_key());
  auto failed = TsadProcess::RunExpectingFailure(
      {"--cert-dir", pki.dir, "--allow-unsynced-clock", "--no-anchor", "--witness", "http://127.0.0.1:1=" + log_vkey});
  EXPECT_FALSE(failed.started);
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.stderr_text.find("type 0x04"), std::string::npos) << failed.stderr_text;
}

// A relying party requires the witness (tsa-audit-verify --witness-vkey, --witness-quorum) in the
// three modes that see a checkpoint: --url over the tiles, the tlog-proof offline and the
// database; an unrelated key, or a quorum the given witnesses cannot reach, fails with exit 6
// (a quorum above the number of keys is a usage error, 2).
TEST_F(WitnessTest, TsaAuditVerifyRequiresTheWitnessCosignature) {
  if (!ToolExists("tsa-audit-verify")) GTEST_SKIP() << "tools not built";
  GoWitness witness(dir_, log_vkey_, "ok");
  ASSERT_TRUE(witness.ready()) << witness.requests();
  Pki ext_pki;  // an external TSA anchors the checkpoints, for the proof bundle
  ASSERT_TRUE(MakePki(dir_.Sub("ext"), &ext_pki));
  ::testing::AssertionResult ext_started = ::testing::AssertionFailure();
  auto ext = StartExternal(ext_pki, &ext_started);
  ASSERT_TRUE(ext_started);
  auto tsad = MakeTsad(pki_, {"--log-origin", kOrigin, "--witness", witness.url() + "=" + witness.vkey(), "--anchor-tsa",
                              ext->url(), "--anchor-interval", "1", "--anchor-retry-min", "1", "--anchor-ca", ext_pki.ca_cert()});
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(port, 5, &issued));
  std::string note;
  ASSERT_TRUE(WaitCosigned(port, 5, &note)) << note << "\nwitness:\n" << witness.requests() << "\nLog:\n" << tsad->log();
  ASSERT_TRUE(WriteText(dir_.Sub("witness.vkey"), witness.vkey() + "\n"));
  const std::string other = OtherWitnessVkey();
  auto run = [&](std::vector<std::string> args, const std::vector<std::string>& witnesses) {
    args.insert(args.begin(), ToolPath("tsa-audit-verify"));
    for (const std::string& w : witnesses) args.insert(args.end(), {"--witness-vkey", w});
    return RunCommand(args, 60s);
  };

  const std::vector<std::string> url = {"--url", tsad->base_url() + "/log", "--vkey", log_vkey_};
  auto good = run(url, {"@" + dir_.Sub("witness.vkey")});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find(std::string("cosigned by ") + kWitnessName), std::string::npos) << good.output;
  auto unrelated = run(url, {other});
  EXPECT_EQ(unrelated.exit_code, 6) << unrelated.output;
  EXPECT_NE(unrelated.output.find("is not witnessed: cosigned by 0 of the required 1"), std::string::npos) << unrelated.output;
  auto too_many = run({url[0], url[1], url[2], url[3], "--witness-quorum", "2"}, {witness.vkey()});
  EXPECT_EQ(too_many.exit_code, 2) << too_many.output;
  EXPECT_EQ(run({url[0], url[1], url[2], url[3], "--witness-quorum", "2"}, {witness.vkey(), other}).exit_code, 6);
  EXPECT_EQ(run({url[0], url[1], url[2], url[3], "--witness-quorum", "1"}, {witness.vkey(), other}).exit_code, 0);

  // The tlog-proof carries the cosignature after the log's line, as /log/checkpoint serves it.
  const std::string proof = HttpGet(port, "/audit/proof?serial=" + issued[2].serial + "&format=tlog-proof").body_text();
  EXPECT_TRUE(HasCosignature(proof)) << proof;
  ASSERT_TRUE(WriteText(dir_.Sub("p.tlog-proof"), proof));
  ASSERT_TRUE(WriteFile(dir_.Sub("t2.tsr"), issued[2].reply));
  const std::vector<std::string> offline = {"--tlog-proof", dir_.Sub("p.tlog-proof"), "--token", dir_.Sub("t2.tsr"), "--vkey",
                                            log_vkey_};
  auto proof_ok = run(offline, {witness.vkey()});
  EXPECT_EQ(proof_ok.exit_code, 0) << proof_ok.output;
  EXPECT_NE(proof_ok.output.find(std::string("cosigned by ") + kWitnessName), std::string::npos) << proof_ok.output;
  EXPECT_EQ(run(offline, {other}).exit_code, 6);

  // The proof bundle of the last token: its (first anchored) checkpoint is of size 5, and the
  // bundle carries the cosignatures stored for it.
  nlohmann::json bundle;
  ASSERT_TRUE(WaitUntil(
      [&] {
        bundle = GetJson(port, "/audit/proof?serial=" + issued[4].serial);
        return bundle.is_object() && bundle.value("tree_size", 0) == 5;
      },
      15s, 100ms))
      << bundle.dump() << "\nLog:\n"
      << tsad->log();
  EXPECT_EQ(bundle["cosignatures"].size(), 1u) << bundle.dump();
  ASSERT_TRUE(WriteText(dir_.Sub("bundle.json"), bundle.dump()));
  ASSERT_TRUE(WriteFile(dir_.Sub("t4.tsr"), issued[4].reply));
  const std::vector<std::string> bundled = {
      "--proof",       dir_.Sub("bundle.json"), "--token",         dir_.Sub("t4.tsr"), "--tsa-cert",
      pki_.tsa_cert(), "--anchor-ca",           ext_pki.ca_cert(), "--vkey",           log_vkey_};
  auto bundle_ok = run(bundled, {witness.vkey()});
  EXPECT_EQ(bundle_ok.exit_code, 0) << bundle_ok.output;
  EXPECT_NE(bundle_ok.output.find(std::string("cosigned by ") + kWitnessName), std::string::npos) << bundle_ok.output;
  EXPECT_EQ(run(bundled, {other}).exit_code, 6);

  // The database, once tsad stopped: the largest cosigned checkpoint, against the stored tree.
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  const std::vector<std::string> db = {tsad->db_path(), "--tsa-cert", pki_.tsa_cert(), "--vkey", log_vkey_};
  auto db_ok = run(db, {witness.vkey()});
  EXPECT_EQ(db_ok.exit_code, 0) << db_ok.output;
  EXPECT_NE(db_ok.output.find("witnessed up to size 5"), std::string::npos) << db_ok.output;
  auto db_other = run(db, {other});
  EXPECT_EQ(db_other.exit_code, 6) << db_other.output;
  // A forged row: the stored line re-signed by another key fails as a forgery, not as "missing".
  {
    auto sql = OpenDb(tsad->db_path(), /*read_only=*/false);
    ASSERT_TRUE(sql) << sql.error().message;
    ASSERT_TRUE(
        (*sql)->Exec("UPDATE witness_cosignatures SET line = replace(line, substr(line, -20, 10), 'AAAAAAAAAA') "
                     "WHERE tree_size = 5"));
  }
  auto forged = run(db, {witness.vkey()});
  EXPECT_EQ(forged.exit_code, 6) << forged.output;
  EXPECT_NE(forged.output.find("does not verify"), std::string::npos) << forged.output;
}

}  // namespace
}  // namespace tsa::test::audit_it
