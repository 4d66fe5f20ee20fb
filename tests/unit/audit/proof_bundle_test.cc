// Proof bundles, the audit export and the statistics (proof_bundle.h) over a log written by the
// real writers: TokenLog for 10 tokens and AnchorWorker for the checkpoints (size 6 anchored by an
// "external" TSA on a second dev PKI; size 9 whose anchoring failed; leaf 9 in no checkpoint).
#include "tsa/audit/proof_bundle.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/audit/anchor_worker.h"
#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/tile_recovery.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/core/serial.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/store/sqlite_log_store.h"
#include "tsa/verify/chain_verifier.h"
#include "tsa/verify/proof_verifier.h"

namespace tsa::audit {
namespace {

using core::Base64Decode;
using verify::ChainVerifyOptions;
using verify::ProofReport;
using verify::ProofVerifyOptions;
using verify::VerifyChain;
using verify::VerifyProofBundle;
namespace chain_detail = verify::chain_detail;

using Bytes = std::vector<std::uint8_t>;
using nlohmann::json;
using unit_test::TempDir;

constexpr char kUrl[] = "https://external.example/tsa";

// The external TSA, in-process.
class FakeTransport final : public AnchorTransport {
 public:
  explicit FakeTransport(std::shared_ptr<crypto::TokenSigner> signer) : signer_(std::move(signer)) {}
  Result<Bytes> PostQuery(const std::string&, const Bytes& der, int) override {
    if (fail) return MakeError(ErrorKind::kUnavailable, "connection refused");
    TSA_ASSIGN_OR_RETURN(auto signed_reply,
                         signer_->Sign(der, core::EncodeSerial(core::SerialSpace{7, 1}, ++counter_), unit_test::NowMicros()));
    return signed_reply.response_der;
  }
  void CancelAll() override {}
  bool fail = false;

 private:
  std::shared_ptr<crypto::TokenSigner> signer_;
  std::uint64_t counter_ = 0;
};

class ProofBundleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("tsa-proof-template");
    replies_ = new std::vector<Bytes>();
    serials_ = new std::vector<std::string>();
    Build(dir_->Sub("audit.db"));
  }
  static void TearDownTestSuite() {
    delete replies_;
    delete serials_;
    delete dir_;
  }

  static void Build(const std::string& path) {
    auto tsad = unit_test::MakeSigner(unit_test::SharedPki());
    auto external = unit_test::MakeSigner(unit_test::OtherPki());
    TokenLogOptions lo;
    lo.path = path;
    lo.synchronous_full = false;
    auto log = TokenLog::Open(lo);
    ASSERT_TRUE(log) << log.error().ToString();
    const core::SerialSpace space{1, 1'700'000'000'000'000}, cp_space{2, 1'700'000'000'000'000};
    std::uint64_t cp_counter = 0;
    CheckpointSigner cp_signer = [&](const Hash& imprint) -> Result<CheckpointToken> {
      crypto::RequestSpec spec;
      spec.digest.assign(imprint.begin(), imprint.end());
      TSA_ASSIGN_OR_RETURN(auto request, crypto::EncodeRequest(spec));
      const auto now = unit_test::NowMicros();
      TSA_ASSIGN_OR_RETURN(auto signed_token, tsad->Sign(request, core::EncodeSerial(cp_space, ++cp_counter), now));
      return CheckpointToken{signed_token.token_der, core::SerialHex(cp_space, cp_counter), now};
    };
    FakeTransport transport(external);
    AnchorOptions ao;
    ao.urls = {kUrl};
    ao.ca_pem = unit_test::OtherPki().ca_cert_pem;
    auto probe = tsad->Sign(unit_test::Sha256Request(1), core::EncodeSerial(space, 999), unit_test::NowMicros());
    ASSERT_TRUE(probe);
    ao.origin = crypto::DescribeResponse(probe->response_der)->token->signer_subject;
    unit_test::FakeClock clock;  // ticks: the checkpoints' and attempts' times keep increasing
    clock.SetAutoAdvance(1000);
    AnchorWorker worker(ao, **log, cp_signer, transport, clock);
    for (std::uint64_t i = 0; i < 10; ++i) {
      const auto now = unit_test::NowMicros();
      auto signed_token = tsad->Sign(unit_test::Sha256Request(static_cast<std::uint8_t>(i), i % 3 != 0),
                                     core::EncodeSerial(space, i + 1), now);
      ASSERT_TRUE(signed_token);
      auto info = crypto::DescribeResponse(signed_token->response_der);
      TokenRecord r{core::SerialHex(space, i + 1),
                    now,
                    info->token->policy,
                    unit_test::kSha256Oid,
                    unit_test::Filled(32, static_cast<std::uint8_t>(i)),
                    signed_token->token_der};
      ASSERT_TRUE((*log)->Append(r));
      replies_->push_back(signed_token->response_der);
      serials_->push_back(r.serial_hex);
      if (i + 1 == 6) {
        ASSERT_TRUE(worker.RunCycle(5));
      } else if (i + 1 == 9) {
        transport.fail = true;
        ASSERT_FALSE(worker.RunCycle(5));
      }
    }
  }

  void SetUp() override {
    store::OpenOptions ro;
    ro.read_only = true;
    ro.create = false;
    auto db = store::Database::Open(dir_->Sub("audit.db"), ro);
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    auto log = OpenLogForReading(*db_);  // the log's own layout: tiles, the default of a new log
    ASSERT_TRUE(log) << log.error().ToString();
    log_ = std::move(*log);
  }

  static ProofVerifyOptions Pinned() {
    ProofVerifyOptions o;
    o.tsa_cert_pem = unit_test::SharedPki().tsa_cert_pem;
    o.tsa_ca_pem = unit_test::SharedPki().ca_cert_pem;
    o.anchor_ca_pem = unit_test::OtherPki().ca_cert_pem;
    return o;
  }

  json Bundle(std::size_t leaf) {
    auto b = BuildProofBundle(*log_, (*serials_)[leaf]);
    EXPECT_TRUE(b) << b.error().ToString();
    return b ? *b : json();
  }

  static std::string Errors(const ProofReport& r) {
    std::string out;
    for (const auto& e : r.errors) out += "  " + e + "\n";
    return out;
  }

  ProofReport MustVerify(const json& bundle, const Bytes& token, const ProofVerifyOptions& options) {
    auto r = VerifyProofBundle(bundle, token, options);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : ProofReport{};
  }

  static TempDir* dir_;
  static std::vector<Bytes>* replies_;
  static std::vector<std::string>* serials_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::LogStore> log_;
};

TempDir* ProofBundleTest::dir_ = nullptr;
std::vector<Bytes>* ProofBundleTest::replies_ = nullptr;
std::vector<std::string>* ProofBundleTest::serials_ = nullptr;

TEST_F(ProofBundleTest, RoundTrip) {
  const json built = Bundle(2);
  EXPECT_EQ(built["format"], "tsad-proof/v1");
  EXPECT_EQ(built["serial"], (*serials_)[2]);
  EXPECT_EQ(built["leaf_index"], 2);
  EXPECT_EQ(built["tree_size"], 6);
  EXPECT_EQ(built["inclusion_proof"].size(), 3u);
  ASSERT_EQ(built["anchors"].size(), 1u);
  EXPECT_EQ(built["anchors"][0]["tsa_url"], kUrl);
  EXPECT_TRUE(built.contains("token"));
  ASSERT_TRUE(ParseCheckpoint(built["checkpoint"].get<std::string>()));

  // Through its text form, as a customer receives it.
  const json bundle = json::parse(built.dump(2));
  ProofReport r = MustVerify(bundle, (*replies_)[2], Pinned());
  EXPECT_TRUE(r.ok) << Errors(r);
  EXPECT_TRUE(r.anchored);
  EXPECT_EQ(r.leaf_index, 2u);
  EXPECT_EQ(r.tree_size, 6u);
  ASSERT_EQ(r.anchors.size(), 1u);
  EXPECT_TRUE(r.anchors[0].ok);
  ASSERT_TRUE(r.anchors[0].skew_seconds);
  EXPECT_LT(std::abs(*r.anchors[0].skew_seconds), 60.0);
  EXPECT_EQ(ToJson(r)["ok"], true);

  // The bare token works as well as the reply; without any certificate the embedded ones are used.
  const Bytes bare = *Base64Decode(bundle["token"].get<std::string>());
  r = MustVerify(bundle, bare, {});
  EXPECT_TRUE(r.ok) << Errors(r);
}

TEST_F(ProofBundleTest, TokenWithoutCertificateNeedsTheTsaCertificate) {
  const json bundle = Bundle(3);  // leaf 3 was requested with certReq FALSE
  ProofReport r = MustVerify(bundle, (*replies_)[3], {});
  EXPECT_FALSE(r.ok);
  r = MustVerify(bundle, (*replies_)[3], Pinned());
  EXPECT_TRUE(r.ok) << Errors(r);
}

TEST_F(ProofBundleTest, SerialIsFoundInAnySpelling) {
  std::string upper = (*serials_)[4];
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string stripped = chain_detail::NormalizeHex((*serials_)[4]);
  for (const std::string& s : {upper, stripped, "00" + stripped}) {
    auto b = BuildProofBundle(*log_, s);
    ASSERT_TRUE(b) << s << ": " << b.error().ToString();
    EXPECT_EQ((*b)["leaf_index"], 4);
  }
}

TEST_F(ProofBundleTest, BuildForToken) {
  const Bytes bare = crypto::DescribeResponse((*replies_)[4])->token->token_der;
  for (const Bytes& der : {(*replies_)[4], bare}) {
    auto b = BuildProofBundleForToken(*log_, der);
    ASSERT_TRUE(b) << b.error().ToString();
    EXPECT_EQ((*b)["leaf_index"], 4);
    EXPECT_EQ(*b, Bundle(4));
  }
}

TEST_F(ProofBundleTest, UnknownSerialOrToken) {
  auto b = BuildProofBundle(*log_, "0123456789abcdef");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::kNotFound);
  b = BuildProofBundle(*log_, "not-hex");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::kInvalidArgument);

  // A genuine tsad token that never went into this log.
  auto signer = unit_test::MakeSigner(unit_test::SharedPki());
  auto other = signer->Sign(unit_test::Sha256Request(0x77), core::EncodeSerial(core::SerialSpace{1, 1'700'000'000'000'000}, 3),
                            unit_test::NowMicros());
  ASSERT_TRUE(other);
  b = BuildProofBundleForToken(*log_, other->response_der);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::kNotFound);
}

TEST_F(ProofBundleTest, NotAnchoredYet) {
  // Leaf 7 is only in the checkpoint of size 9, whose anchoring failed.
  auto b = BuildProofBundle(*log_, (*serials_)[7]);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(b.error().message.find("not anchored yet"), std::string::npos);

  ProofBuildOptions allow;
  allow.allow_unanchored = true;
  b = BuildProofBundle(*log_, (*serials_)[7], allow);
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ((*b)["tree_size"], 9);
  EXPECT_TRUE((*b)["anchors"].empty());
  ProofReport r = MustVerify(*b, (*replies_)[7], Pinned());
  EXPECT_FALSE(r.ok) << "an unanchored bundle must not pass by default";
  ProofVerifyOptions o = Pinned();
  o.allow_unanchored = true;
  r = MustVerify(*b, (*replies_)[7], o);
  EXPECT_TRUE(r.ok) << Errors(r);
  EXPECT_FALSE(r.anchored);

  // Leaf 2 with allow_unanchored still gets the first anchored checkpoint.
  b = BuildProofBundle(*log_, (*serials_)[2], allow);
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)["tree_size"], 6);

  // Leaf 9 is in no checkpoint at all.
  b = BuildProofBundle(*log_, (*serials_)[9], allow);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().kind, ErrorKind::kUnavailable);
}

TEST_F(ProofBundleTest, WrongTokenFails) {
  const json bundle = Bundle(2);
  ProofReport r = MustVerify(bundle, (*replies_)[1], Pinned());
  EXPECT_FALSE(r.ok);
  r = MustVerify(bundle, Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, Pinned());
  EXPECT_FALSE(r.ok);
}

TEST_F(ProofBundleTest, WrongRootFails) {
  const json good = Bundle(5);
  {
    json b = good;
    auto cp = *ParseCheckpoint(b["checkpoint"].get<std::string>());
    cp.root[0] ^= 0x01;
    b["checkpoint"] = cp.Text();
    ProofReport r = MustVerify(b, (*replies_)[5], Pinned());
    EXPECT_FALSE(r.ok);
  }
  {
    json b = good;
    std::string h = b["inclusion_proof"][1].get<std::string>();
    h[0] = h[0] == '0' ? '1' : '0';
    b["inclusion_proof"][1] = h;
    EXPECT_FALSE(MustVerify(b, (*replies_)[5], Pinned()).ok);
  }
  {
    json b = good;
    b["leaf_index"] = 4;
    EXPECT_FALSE(MustVerify(b, (*replies_)[5], Pinned()).ok);
  }
  {
    json b = good;
    b["inclusion_proof"].erase(b["inclusion_proof"].begin());
    EXPECT_FALSE(MustVerify(b, (*replies_)[5], Pinned()).ok);
  }
}

TEST_F(ProofBundleTest, TamperedOrUntrustedAnchorFails) {
  const json good = Bundle(0);
  {
    json b = good;
    Bytes reply = *Base64Decode(b["anchors"][0]["reply"].get<std::string>());
    reply[reply.size() - 3] ^= 0x01;
    b["anchors"][0]["reply"] = core::Base64(reply);
    EXPECT_FALSE(MustVerify(b, (*replies_)[0], Pinned()).ok);
  }
  {
    json b = good;
    b["anchors"][0]["nonce"] = "0102030405060708";
    EXPECT_FALSE(MustVerify(b, (*replies_)[0], Pinned()).ok);
  }
  {
    ProofVerifyOptions o = Pinned();
    o.anchor_ca_pem = unit_test::SharedPki().ca_cert_pem;  // not the external TSA's CA
    EXPECT_FALSE(MustVerify(good, (*replies_)[0], o).ok);
  }
  {
    ProofVerifyOptions o = Pinned();
    o.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem;  // not tsad's certificate
    o.tsa_ca_pem.clear();
    EXPECT_FALSE(MustVerify(good, (*replies_)[0], o).ok);
  }
  {
    json b = good;
    b["checkpoint_token"] = b["anchors"][0]["reply"];  // someone else's token over the checkpoint
    EXPECT_FALSE(MustVerify(b, (*replies_)[0], Pinned()).ok);
  }
}

TEST_F(ProofBundleTest, MalformedBundleIsAnError) {
  const json good = Bundle(0);
  for (const char* key :
       {"format", "leaf_index", "leaf_hash", "tree_size", "inclusion_proof", "checkpoint", "checkpoint_token", "anchors"}) {
    json b = good;
    b.erase(key);
    auto r = VerifyProofBundle(b, (*replies_)[0], Pinned());
    EXPECT_FALSE(r) << "accepted without " << key;
  }
  json b = good;
  b["format"] = "tsad-proof/v0";
  EXPECT_FALSE(VerifyProofBundle(b, (*replies_)[0], Pinned()));
  b = good;
  b["leaf_index"] = -1;
  EXPECT_FALSE(VerifyProofBundle(b, (*replies_)[0], Pinned()));
  b = good;
  b["checkpoint_token"] = "***";
  EXPECT_FALSE(VerifyProofBundle(b, (*replies_)[0], Pinned()));
  EXPECT_FALSE(VerifyProofBundle(json::array(), (*replies_)[0], Pinned()));
}

TEST_F(ProofBundleTest, ExportCarriesCheckpointsAnchorsAndConsistency) {
  auto exported = ExportAuditJson(*log_);
  ASSERT_TRUE(exported) << exported.error().ToString();
  const json& j = *exported;
  EXPECT_EQ(j["format"], "tsad-audit-export/v1");
  EXPECT_EQ(j["log_size"], 10);
  ASSERT_EQ(j["checkpoints"].size(), 2u);
  const json& a = j["checkpoints"][0];
  const json& b = j["checkpoints"][1];
  EXPECT_EQ(a["tree_size"], 6);
  EXPECT_TRUE(a["consistency_from"].is_null());
  ASSERT_EQ(a["anchors"].size(), 1u);
  EXPECT_TRUE(b["anchors"].empty());
  EXPECT_EQ(b["consistency_from"], 6);
  const auto cp6 = *ParseCheckpoint(a["checkpoint"].get<std::string>());
  const auto cp9 = *ParseCheckpoint(b["checkpoint"].get<std::string>());
  std::vector<Hash> proof;
  for (const auto& h : b["consistency_proof"]) proof.push_back(*HashFromHex(h.get<std::string>()));
  EXPECT_TRUE(VerifyConsistency(6, 9, cp6.root, cp9.root, proof));
  // The anchor reply is over the exported checkpoint token.
  const Bytes token = *Base64Decode(a["checkpoint_token"].get<std::string>());
  auto check = chain_detail::CheckAnchorReply(*Base64Decode(a["anchors"][0]["reply"].get<std::string>()),
                                              chain_detail::AnchoredImprint(a["checkpoint"].get<std::string>(), token), nullptr,
                                              core::ParseHex(a["anchors"][0]["nonce"].get<std::string>()),
                                              unit_test::OtherPki().ca_cert_pem, 300'000'000);
  EXPECT_TRUE(check.ok) << check.error;
}

TEST_F(ProofBundleTest, Stats) {
  auto s = ComputeStats(*log_);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->tokens, 10u);
  EXPECT_EQ(s->tokens_stored, 10u);
  EXPECT_EQ(s->checkpoints, 2u);
  EXPECT_EQ(s->last_checkpoint_size, 9u);
  EXPECT_EQ(s->anchor_attempts, 2u);
  EXPECT_EQ(s->anchors_succeeded, 1u);
  EXPECT_EQ(s->anchors_failed, 1u);
  EXPECT_DOUBLE_EQ(s->success_rate, 0.5);
  EXPECT_EQ(s->last_anchor_status, "failed");
  EXPECT_NE(s->last_anchor_error.find("connection refused"), std::string::npos);
  EXPECT_EQ(s->anchored_size, 6u);
  EXPECT_TRUE(s->last_success_time_us);
  ASSERT_EQ(s->per_tsa.size(), 1u);
  EXPECT_EQ(s->per_tsa[0].tsa_url, kUrl);
  const json j = ToJson(*s);
  EXPECT_EQ(j["success_rate"], 0.5);
  EXPECT_EQ(j["not_yet_anchored"], 4);
  EXPECT_NE(ToText(*s).find("50.0%"), std::string::npos);
}

TEST_F(ProofBundleTest, TheWholeLogVerifies) {
  ChainVerifyOptions o;
  o.tsa_cert_pem = unit_test::SharedPki().tsa_cert_pem;
  o.anchor_ca_pem = unit_test::OtherPki().ca_cert_pem;
  auto r = VerifyChain(*log_, o);
  ASSERT_TRUE(r) << r.error().ToString();
  std::string findings;
  for (const auto& f : r->findings) findings += f.ToString() + "\n";
  EXPECT_TRUE(r->ok) << findings;
  EXPECT_EQ(r->anchored_size, 6u);
  EXPECT_EQ(r->warnings, 1u) << findings;  // the checkpoint of size 9 has no anchor
}

// After a certificate rollover the verifier is given several certificates: the one that signed
// must be accepted wherever it stands in the bundle (issue 8, item 17).
TEST_F(ProofBundleTest, SeveralPinnedCertificatesAcceptTheOneThatSigned) {
  ProofVerifyOptions o = Pinned();
  o.tsa_ca_pem.clear();
  o.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem + unit_test::SharedPki().tsa_cert_pem;
  for (const std::size_t leaf : {std::size_t{2}, std::size_t{3}}) {  // certReq TRUE and FALSE
    ProofReport r = MustVerify(Bundle(leaf), (*replies_)[leaf], o);
    EXPECT_TRUE(r.ok) << "leaf " << leaf << "\n" << Errors(r);
  }
  o.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem;
  EXPECT_FALSE(MustVerify(Bundle(2), (*replies_)[2], o).ok);
}

// --tsa-ca alone: any timeStamping certificate chaining to the CA, also for a leaf token without a
// certificate (certReq FALSE), which is checked against the checkpoint token's verified signer.
TEST_F(ProofBundleTest, CaAloneIsEnoughAlsoForATokenWithoutCertificate) {
  ProofVerifyOptions o = Pinned();
  o.tsa_cert_pem.clear();
  for (const std::size_t leaf : {std::size_t{2}, std::size_t{3}}) {
    ProofReport r = MustVerify(Bundle(leaf), (*replies_)[leaf], o);
    EXPECT_TRUE(r.ok) << "leaf " << leaf << "\n" << Errors(r);
  }
  o.tsa_ca_pem = unit_test::OtherPki().ca_cert_pem;
  for (const std::size_t leaf : {std::size_t{2}, std::size_t{3}}) {
    EXPECT_FALSE(MustVerify(Bundle(leaf), (*replies_)[leaf], o).ok) << "leaf " << leaf << " verified against another CA";
  }
}

// The same trust rules over the whole log: every leaf signature is checked with several pinned
// certificates or with the CA alone, and fails against another TSA's.
TEST_F(ProofBundleTest, TheWholeLogVerifiesWithSeveralCertificatesOrTheCaAlone) {
  struct Case {
    const char* name;
    std::string certs, ca;
    bool ok;
  };
  const std::vector<Case> cases = {
      {"both certificates", unit_test::OtherPki().tsa_cert_pem + unit_test::SharedPki().tsa_cert_pem, "", true},
      {"the CA alone", "", unit_test::SharedPki().ca_cert_pem, true},
      {"another TSA's certificate", unit_test::OtherPki().tsa_cert_pem, "", false},
      {"another CA", "", unit_test::OtherPki().ca_cert_pem, false},
  };
  for (const Case& c : cases) {
    ChainVerifyOptions o;
    o.tsa_cert_pem = c.certs;
    o.tsa_ca_pem = c.ca;
    o.anchor_ca_pem = unit_test::OtherPki().ca_cert_pem;
    auto r = VerifyChain(*log_, o);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->ok, c.ok) << c.name;
    EXPECT_EQ(r->leaf_signatures_checked, 10u) << c.name;
  }
}

TEST(Base64DecodeTest, RoundTripsAndRejectsGarbage) {
  std::mt19937 rng(3161);
  for (std::size_t n = 0; n < 40; ++n) {
    Bytes data(n);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    auto back = Base64Decode(core::Base64(data));
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, data);
  }
  EXPECT_EQ(*Base64Decode("TWFu\nTWE=\n"), (Bytes{'M', 'a', 'n', 'M', 'a'}));
  for (const char* bad : {"TWF", "TW=u", "TWFu=", "T===", "TWE", "TR==", "TWE=TWFu", "TW!u"}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace tsa::audit
