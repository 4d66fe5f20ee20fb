// Tests for src/service/issuer.cc: the whole "issue a token" pipeline with a fake clock, a real
// signer (EC P-256 dev PKI) and a real token log in a temp dir. Time and failure cases follow the
// acceptance matrix (conformance §6.6): T01 unsynchronised, T02 error bound over the accuracy,
// T03 clock stepped back, T05 token log failing; plus the processing order of §1.3, the log
// contents (grants only) and serial uniqueness across instances (§8.6).
#include "tsa/service/issuer.h"

#include <gtest/gtest.h>

#include <openssl/objects.h>
#include <openssl/ts.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/core/bytes.h"
#include "tsa/core/der.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"
#include "tsa/store/database.h"

namespace tsa::service {
namespace {

using Bytes = std::vector<std::uint8_t>;
using unit_test::FakeClock;

constexpr std::int64_t kSecond = 1'000'000;

// The counter part (low 64 bits) of a SerialHex (whose epoch is never zero here).
std::uint64_t CounterOf(const std::string& serial_hex) {
  return std::stoull(serial_hex.substr(serial_hex.size() - 16), nullptr, 16);
}

class IssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = unit_test::MakeSigner(unit_test::SharedPki());
    ASSERT_NE(signer_, nullptr);
    clock_ = std::make_shared<FakeClock>();
  }

  std::shared_ptr<audit::TokenLog> OpenLog(const std::string& name = "tsa.db") {
    audit::TokenLogOptions options;
    options.path = dir_.Sub(name);
    options.layout = store::LogLayout::kSqlite;  // the tests read and break its tokens table
    options.synchronous_full = false;
    auto log = audit::TokenLog::Open(options);
    EXPECT_TRUE(log) << (log ? "" : log.error().ToString());
    return log ? std::shared_ptr<audit::TokenLog>(std::move(*log)) : nullptr;
  }

  std::unique_ptr<Issuer> MakeIssuer(core::ClockMode mode = core::ClockMode::kRequireSync, std::uint16_t instance = 0,
                                     std::shared_ptr<audit::TokenLog> log = nullptr, std::shared_ptr<FakeClock> clock = nullptr) {
    if (!log) {
      if (!log_) log_ = OpenLog();
      log = log_;
    }
    Issuer::Config config;
    config.instance = instance;
    config.clock_mode = mode;
    auto issuer = Issuer::Create(config, signer_, clock ? clock : clock_, log);
    EXPECT_TRUE(issuer) << (issuer ? "" : issuer.error().ToString());
    return issuer ? std::move(*issuer) : nullptr;
  }

  std::int64_t LoggedTokens(const std::string& name = "tsa.db") {
    auto db = store::Database::Open(dir_.Sub(name), store::OpenOptions{});
    EXPECT_TRUE(db);
    auto st = (*db)->Prepare("SELECT COUNT(*) FROM tokens");
    EXPECT_TRUE(st);
    EXPECT_TRUE(*st->Step());
    return st->ColumnInt(0);
  }

  // Makes every insert into tokens fail, through a second connection.
  void BreakTokenLog(bool broken, const std::string& name = "tsa.db") {
    auto db = store::Database::Open(dir_.Sub(name), store::OpenOptions{});
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Exec(broken ? "CREATE TRIGGER tokens_reject BEFORE INSERT ON tokens BEGIN SELECT RAISE(ABORT, 'x'); END;"
                                   : "DROP TRIGGER tokens_reject"));
  }

  static core::ResponseInfo Describe(const Bytes& der) {
    auto info = crypto::DescribeResponse(der);
    EXPECT_TRUE(info) << (info ? "" : info.error().ToString());
    return info ? *info : core::ResponseInfo{};
  }

  // The outcome is a rejection with exactly `fail`, and its DER says the same.
  static void ExpectRejected(const IssueOutcome& out, core::FailInfo fail) {
    ASSERT_FALSE(out.granted());
    ASSERT_TRUE(out.rejection.has_value());
    EXPECT_EQ(out.rejection->fail_info, fail) << core::FailInfoName(out.rejection->fail_info);
    EXPECT_EQ(out.der, core::EncodeRejection(*out.rejection));
    const auto info = Describe(out.der);
    EXPECT_EQ(info.status, 2);
    EXPECT_EQ(info.fail_info, std::vector<core::FailInfo>{fail});
    EXPECT_FALSE(info.token.has_value());
    EXPECT_TRUE(out.serial_hex.empty());
  }

  unit_test::TempDir dir_;
  std::shared_ptr<crypto::TokenSigner> signer_;
  std::shared_ptr<FakeClock> clock_;
  std::shared_ptr<audit::TokenLog> log_;
};

TEST_F(IssuerTest, GrantsAValidRequestWithTheClockReadingAsGenTime) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const core::UnixMicros now = clock_->now();
  const auto out = issuer->Issue(unit_test::Sha256Request(0x11, true, Bytes{0x01, 0x02}));
  ASSERT_TRUE(out.granted()) << out.internal_error;
  EXPECT_EQ(out.gen_time, now);
  EXPECT_EQ(out.hash_algorithm, "sha256");
  EXPECT_EQ(out.serial_hex, core::SerialHex(issuer->serial_space().value(), 1));
  const auto info = Describe(out.der);
  ASSERT_TRUE(info.granted());
  EXPECT_EQ(info.token->gen_time_us, now / 1000 * 1000);
  EXPECT_EQ(info.token->serial_hex, out.serial_hex) << "the outcome names the serial as the token encodes it";
  EXPECT_EQ(*info.token->nonce_hex, "0102");
  EXPECT_EQ(info.token->certificate_count, 1);

  crypto::VerifyOptions verify;
  verify.tsa_cert_pem = unit_test::SharedPki().tsa_cert_pem;
  verify.ca_pem = unit_test::SharedPki().ca_cert_pem;
  verify.digest = Bytes(32, 0x11);
  auto verified = crypto::Verify(out.der, verify);
  EXPECT_TRUE(verified) << verified.error().ToString();
}

TEST_F(IssuerTest, LoggedGenTimeIsTheClockReadingWithinTheTokensPrecision) {
  const core::UnixMicros reading = unit_test::NowMicros() / kSecond * kSecond + 123'456;
  clock_->Set(reading);
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const auto out = issuer->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(out.granted());
  EXPECT_EQ(out.gen_time, reading);
  const auto info = Describe(out.der);
  EXPECT_EQ(info.token->gen_time_us, reading - 456) << "3 fractional digits";
  auto db = store::Database::Open(dir_.Sub("tsa.db"), store::OpenOptions{});
  ASSERT_TRUE(db);
  auto st = (*db)->Prepare("SELECT gen_time_us, serial FROM tokens");
  ASSERT_TRUE(st);
  ASSERT_TRUE(*st->Step());
  // AUDIT_CHAIN.md / chain_verifier: the column lies in [genTime, genTime + its resolution).
  EXPECT_GE(st->ColumnInt(0), info.token->gen_time_us);
  EXPECT_LT(st->ColumnInt(0), info.token->gen_time_us + 1000);
  EXPECT_EQ(st->ColumnText(1), info.token->serial_hex);
}

TEST_F(IssuerTest, SerialSpaceIsTheInstanceAndAnEpochClaimedAtTheClockReading) {
  const core::UnixMicros now = clock_->now();
  auto issuer = MakeIssuer(core::ClockMode::kRequireSync, 42);
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(issuer->serial_space().value().instance, 42);
  EXPECT_EQ(issuer->serial_space().value().epoch_us, static_cast<std::uint64_t>(now));
  EXPECT_EQ(issuer->clock_mode(), core::ClockMode::kRequireSync);
  const auto out = issuer->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(out.granted());
  EXPECT_EQ(out.serial_hex, core::SerialHex(issuer->serial_space().value(), 1));
}

// Issue 8 item 6: the gate used to start at 0 and the epoch came from an unchecked clock, so a
// restart with the clock behind the last token issued earlier genTimes.
TEST_F(IssuerTest, ARestartWithTheClockBehindTheLogRefusesUntilTheClockPassesItsLastGenTime) {
  auto first = MakeIssuer();
  ASSERT_NE(first, nullptr);
  const auto a = first->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(a.granted());
  const std::uint64_t epoch1 = first->serial_space().value().epoch_us;
  first.reset();
  clock_->Advance(-60 * kSecond);  // restarted with a clock a minute behind
  clock_->SetSynchronised(false);
  auto second = MakeIssuer(core::ClockMode::kTrustUnsynced);
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(second->serial_space().has_value()) << "no epoch may be claimed from a clock behind the log";
  ExpectRejected(second->Issue(unit_test::Sha256Request()), core::FailInfo::kTimeNotAvailable);
  ASSERT_TRUE(second->ClockProblem().has_value());
  EXPECT_NE(second->ClockProblem()->find("behind"), std::string::npos) << *second->ClockProblem();

  clock_->Advance(61 * kSecond);  // the clock has passed the last genTime again
  const auto b = second->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(b.granted()) << b.internal_error;
  EXPECT_GT(b.gen_time, a.gen_time);
  EXPECT_GT(second->serial_space().value().epoch_us, epoch1);
  EXPECT_NE(a.serial_hex, b.serial_hex);
  EXPECT_EQ(b.serial_hex, core::SerialHex(second->serial_space().value(), 1));
}

TEST_F(IssuerTest, NoSerialEpochIsClaimedWhileTheRequiredSyncIsMissing) {
  clock_->SetSynchronised(false);
  auto issuer = MakeIssuer(core::ClockMode::kRequireSync);
  ASSERT_NE(issuer, nullptr);
  EXPECT_FALSE(issuer->serial_space().has_value());
  ExpectRejected(issuer->Issue(unit_test::Sha256Request()), core::FailInfo::kTimeNotAvailable);
  clock_->SetSynchronised(true);
  const core::UnixMicros synced_at = clock_->now();
  ASSERT_TRUE(issuer->Issue(unit_test::Sha256Request()).granted());
  ASSERT_TRUE(issuer->serial_space().has_value());
  EXPECT_EQ(issuer->serial_space()->epoch_us, static_cast<std::uint64_t>(synced_at));
}

// Issue 9: IssueAsync answers from the log's completion; a grant only after the commit.
TEST_F(IssuerTest, IssueAsyncGrantsAfterTheLogCommitAndRejectsAtOnce) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  std::promise<IssueOutcome> granted;
  issuer->IssueAsync(unit_test::Sha256Request(), [&](IssueOutcome out) { granted.set_value(std::move(out)); });
  auto future = granted.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const IssueOutcome out = future.get();
  EXPECT_TRUE(out.granted()) << out.internal_error;
  EXPECT_EQ(LoggedTokens(), 1);

  std::optional<IssueOutcome> rejected;
  issuer->IssueAsync(Bytes{0x30, 0x00}, [&](IssueOutcome o) { rejected = std::move(o); });
  ASSERT_TRUE(rejected.has_value()) << "a rejection is answered on the caller's thread, before IssueAsync returns";
  EXPECT_FALSE(rejected->granted());
}

// Issue 8 item 2: validity was checked only at start-up; a certificate that expired while tsad
// ran kept signing.
TEST_F(IssuerTest, NoTokenIsSignedAfterTheCertificateExpiresWhileRunning) {
  auto issuer = MakeIssuer(core::ClockMode::kRequireSync);
  ASSERT_NE(issuer, nullptr);
  ASSERT_TRUE(issuer->Issue(unit_test::Sha256Request()).granted());
  const std::time_t not_after = signer_->material().not_after();
  clock_->Set(static_cast<core::UnixMicros>(not_after) * kSecond + kSecond);  // one second past notAfter
  const auto out = issuer->Issue(unit_test::Sha256Request());
  ExpectRejected(out, core::FailInfo::kSystemFailure);
  EXPECT_NE(out.internal_error.find("not valid"), std::string::npos) << out.internal_error;
  EXPECT_EQ(LoggedTokens(), 1);
}

// T01
TEST_F(IssuerTest, UnsynchronisedClockInRequireSyncModeIsTimeNotAvailable) {
  clock_->SetSynchronised(false);
  auto issuer = MakeIssuer(core::ClockMode::kRequireSync);
  ASSERT_NE(issuer, nullptr);
  const auto out = issuer->Issue(unit_test::Sha256Request());
  ExpectRejected(out, core::FailInfo::kTimeNotAvailable);
  EXPECT_NE(out.internal_error.find("not synchronised"), std::string::npos) << out.internal_error;
  EXPECT_EQ(out.hash_algorithm, "sha256");
  EXPECT_EQ(LoggedTokens(), 0);
  ASSERT_TRUE(issuer->ClockProblem().has_value());
}

TEST_F(IssuerTest, UnsynchronisedClockInTrustUnsyncedModeIsGranted) {
  clock_->SetSynchronised(false);
  clock_->SetMaxError(-1);
  auto issuer = MakeIssuer(core::ClockMode::kTrustUnsynced);
  ASSERT_NE(issuer, nullptr);
  EXPECT_FALSE(issuer->ClockProblem().has_value());
  const auto out = issuer->Issue(unit_test::Sha256Request());
  EXPECT_TRUE(out.granted()) << out.internal_error;
  EXPECT_EQ(LoggedTokens(), 1);
}

// T02
TEST_F(IssuerTest, MaxErrorAtOrAboveTheAccuracyIsTimeNotAvailable) {
  auto issuer = MakeIssuer(core::ClockMode::kRequireSync);
  ASSERT_NE(issuer, nullptr);
  clock_->SetMaxError(1 * kSecond);  // accuracy is 1 s
  ExpectRejected(issuer->Issue(unit_test::Sha256Request()), core::FailInfo::kTimeNotAvailable);
  clock_->SetMaxError(5 * kSecond);
  ExpectRejected(issuer->Issue(unit_test::Sha256Request()), core::FailInfo::kTimeNotAvailable);
  EXPECT_EQ(LoggedTokens(), 0);
  clock_->SetMaxError(kSecond - 1);
  EXPECT_TRUE(issuer->Issue(unit_test::Sha256Request()).granted());
  EXPECT_EQ(LoggedTokens(), 1);
}

// T03
TEST_F(IssuerTest, ClockSteppedBackIsRefusedUntilItPassesTheLastGenTimeAndGenTimesNeverDecrease) {
  for (auto mode : {core::ClockMode::kRequireSync, core::ClockMode::kTrustUnsynced}) {
    SCOPED_TRACE(mode == core::ClockMode::kRequireSync ? "require-sync" : "trust-unsynced");
    auto issuer = MakeIssuer(mode, mode == core::ClockMode::kRequireSync ? 1 : 2);
    ASSERT_NE(issuer, nullptr);
    std::vector<core::UnixMicros> gen_times;
    const auto first = issuer->Issue(unit_test::Sha256Request());
    ASSERT_TRUE(first.granted());
    gen_times.push_back(first.gen_time);
    const core::UnixMicros last = first.gen_time;

    clock_->Set(last - 2 * kSecond);
    ExpectRejected(issuer->Issue(unit_test::Sha256Request()), core::FailInfo::kTimeNotAvailable);
    clock_->Set(last - 1);
    const auto still = issuer->Issue(unit_test::Sha256Request());
    ExpectRejected(still, core::FailInfo::kTimeNotAvailable);
    EXPECT_NE(still.internal_error.find("backwards"), std::string::npos) << still.internal_error;

    clock_->Set(last + 1);
    const auto again = issuer->Issue(unit_test::Sha256Request());
    ASSERT_TRUE(again.granted()) << again.internal_error;
    gen_times.push_back(again.gen_time);
    clock_->Advance(1000);
    const auto more = issuer->Issue(unit_test::Sha256Request());
    ASSERT_TRUE(more.granted());
    gen_times.push_back(more.gen_time);
    EXPECT_TRUE(std::is_sorted(gen_times.begin(), gen_times.end()));
    EXPECT_EQ(CounterOf(more.serial_hex), CounterOf(again.serial_hex) + 1) << "refusals use no serial";
    clock_->Advance(kSecond);
  }
}

// T05
TEST_F(IssuerTest, TokenLogFailureIsSystemFailureAndNoTokenIsReturned) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  ASSERT_TRUE(issuer->Issue(unit_test::Sha256Request(0x01)).granted());
  BreakTokenLog(true);
  const auto out = issuer->Issue(unit_test::Sha256Request(0x02));
  ExpectRejected(out, core::FailInfo::kSystemFailure);
  EXPECT_NE(out.internal_error.find("token log"), std::string::npos) << out.internal_error;
  EXPECT_EQ(out.rejection->status_string.find("tokens_reject"), std::string::npos) << "no internals to the client";
  EXPECT_EQ(out.gen_time, 0);
  EXPECT_EQ(LoggedTokens(), 1);

  BreakTokenLog(false);
  const auto after = issuer->Issue(unit_test::Sha256Request(0x03));
  ASSERT_TRUE(after.granted()) << after.internal_error;
  EXPECT_EQ(LoggedTokens(), 2);
}

TEST_F(IssuerTest, GrantsAreInTheLogWithTheTokenThatWasReturned) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  std::vector<IssueOutcome> grants;
  for (int i = 0; i < 5; ++i) {
    clock_->Advance(1000);
    grants.push_back(issuer->Issue(unit_test::Sha256Request(static_cast<std::uint8_t>(i), i % 2 == 0)));
    ASSERT_TRUE(grants.back().granted());
  }
  auto db = store::Database::Open(dir_.Sub("tsa.db"), store::OpenOptions{});
  ASSERT_TRUE(db);
  auto st = (*db)->Prepare("SELECT idx, serial, gen_time_us, policy, hash_oid, digest, token FROM tokens ORDER BY idx");
  ASSERT_TRUE(st);
  for (std::size_t i = 0; i < grants.size(); ++i) {
    ASSERT_TRUE(*st->Step());
    EXPECT_EQ(st->ColumnInt(0), static_cast<std::int64_t>(i));
    EXPECT_EQ(st->ColumnText(1), grants[i].serial_hex);
    EXPECT_EQ(st->ColumnInt(2), grants[i].gen_time);
    EXPECT_EQ(st->ColumnText(3), unit_test::kDefaultPolicy);
    EXPECT_EQ(st->ColumnText(4), unit_test::kSha256Oid);
    EXPECT_EQ(st->ColumnBlob(5), Bytes(32, static_cast<std::uint8_t>(i)));
    EXPECT_EQ(st->ColumnBlob(6), Describe(grants[i].der).token->token_der);
  }
  EXPECT_FALSE(*st->Step());
  EXPECT_EQ(issuer->log().Stats().size, grants.size());
}

TEST_F(IssuerTest, RejectionsAreNotLoggedAndCarryTheFailInfoOfTheProcessingOrder) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);

  ExpectRejected(issuer->Issue(Bytes{0x30, 0x00}), core::FailInfo::kBadDataFormat);
  Bytes trailing = unit_test::Sha256Request();
  trailing.push_back(0);
  ExpectRejected(issuer->Issue(trailing), core::FailInfo::kBadDataFormat);

  crypto::RequestSpec sha1;
  sha1.hash = core::HashAlgorithm::kSha1;
  sha1.digest = Bytes(20, 1);
  const auto bad_alg = issuer->Issue(unit_test::RequestDer(sha1));
  ExpectRejected(bad_alg, core::FailInfo::kBadAlg);
  EXPECT_EQ(bad_alg.hash_algorithm, "sha1");

  ExpectRejected(issuer->Issue(unit_test::Sha256Request(0x01, true, std::nullopt, std::string("1.2.3.4"))),
                 core::FailInfo::kUnacceptedPolicy);

  // Version 2 and an extension: the hand-edited requests come from OpenSSL.
  const Bytes v1 = unit_test::Sha256Request();
  auto edit = [&](auto&& fn) {
    const unsigned char* p = v1.data();
    crypto::UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(v1.size())));
    fn(req.get());
    return *crypto::ToDer(req.get(), i2d_TS_REQ);
  };
  ExpectRejected(issuer->Issue(edit([](TS_REQ* r) { TS_REQ_set_version(r, 2); })), core::FailInfo::kBadRequest);
  const Bytes with_ext = edit([](TS_REQ* r) {
    crypto::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj("1.3.6.1.4.1.99999.7.1", 1));
    crypto::UniquePtr<ASN1_STRING> value(ASN1_OCTET_STRING_new());
    ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>("\x05\x00"), 2);
    crypto::UniquePtr<X509_EXTENSION> ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, value.get()));
    TS_REQ_add_ext(r, ext.get(), -1);
  });
  ExpectRejected(issuer->Issue(with_ext), core::FailInfo::kUnacceptedExtension);

  EXPECT_EQ(LoggedTokens(), 0);
  EXPECT_EQ(issuer->log().Stats().size, 0U);
}

// Conformance §8.2 (lenient BER). Fuzz finding: an indefinite-length request with an empty [0]
// decoded fine but OpenSSL's BIO reader refused it at signing time (systemFailure).
TEST_F(IssuerTest, GrantsABerIndefiniteLengthRequestWithAnEmptyExtensionsField) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const Bytes der = unit_test::Sha256Request(0x44, /*cert_req=*/true, Bytes{0x01, 0x02, 0x03});
  ASSERT_LT(der[1], 0x80);
  for (const Bytes& tail : {Bytes{0x00, 0x00}, Bytes{0xa0, 0x00, 0x00, 0x00}, Bytes{0x80, 0x00, 0x00, 0x00}}) {
    Bytes body = {0x30, 0x80};
    body.insert(body.end(), der.begin() + 2, der.end());
    body.insert(body.end(), tail.begin(), tail.end());
    SCOPED_TRACE(core::ToHex(body));
    clock_->Advance(10);
    const auto out = issuer->Issue(body);
    ASSERT_TRUE(out.granted()) << out.internal_error;
    const auto info = Describe(out.der);
    ASSERT_TRUE(info.granted());
    EXPECT_EQ(*info.token->nonce_hex, "010203");
    EXPECT_EQ(info.token->digest_hex, core::ToHex(Bytes(32, 0x44)));
  }
  EXPECT_EQ(LoggedTokens(), 3);
}

TEST_F(IssuerTest, ARequestWithSeveralFaultsGetsTheFirstFailInfo) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  clock_->SetSynchronised(false);  // the clock comes after validation (step 8)
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha1;  // badAlg ...
  spec.digest = Bytes(20, 1);
  spec.policy = "1.2.3.4";  // ... and unacceptedPolicy
  ExpectRejected(issuer->Issue(unit_test::RequestDer(spec)), core::FailInfo::kBadAlg);
  ExpectRejected(issuer->Issue(unit_test::Sha256Request(0x01, true, std::nullopt, std::string("1.2.3.4"))),
                 core::FailInfo::kUnacceptedPolicy);
  ExpectRejected(issuer->Issue(unit_test::Sha256Request()), core::FailInfo::kTimeNotAvailable);
}

TEST_F(IssuerTest, RejectedRequestsUseNoSerial) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const auto a = issuer->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(a.granted());
  ExpectRejected(issuer->Issue(unit_test::Sha256Request(0x01, true, std::nullopt, std::string("1.2.3.4"))),
                 core::FailInfo::kUnacceptedPolicy);
  ExpectRejected(issuer->Issue(Bytes{0x01}), core::FailInfo::kBadDataFormat);
  clock_->Advance(10);
  const auto b = issuer->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(b.granted());
  EXPECT_EQ(CounterOf(b.serial_hex), CounterOf(a.serial_hex) + 1);
}

TEST_F(IssuerTest, SerialsFromTwoIssuersOnTwoDatabasesWithDifferentInstanceIdsNeverCollide) {
  // Same clock, so both claim the same epoch: only the instance id keeps them apart.
  auto issuer_a = MakeIssuer(core::ClockMode::kRequireSync, 1, OpenLog("a.db"));
  auto issuer_b = MakeIssuer(core::ClockMode::kRequireSync, 2, OpenLog("b.db"));
  ASSERT_TRUE(issuer_a && issuer_b);
  EXPECT_EQ(issuer_a->serial_space().value().epoch_us, issuer_b->serial_space().value().epoch_us);
  std::set<std::string> a, b, token_serials;
  for (int i = 0; i < 40; ++i) {
    clock_->Advance(100);
    for (auto* pair : {&a, &b}) {
      auto& issuer = pair == &a ? issuer_a : issuer_b;
      const auto out = issuer->Issue(unit_test::Sha256Request(static_cast<std::uint8_t>(i)));
      ASSERT_TRUE(out.granted()) << out.internal_error;
      pair->insert(out.serial_hex);
      token_serials.insert(Describe(out.der).token->serial_hex);
    }
  }
  EXPECT_EQ(a.size(), 40U);
  EXPECT_EQ(b.size(), 40U);
  for (const auto& s : a) EXPECT_EQ(b.count(s), 0U) << s;
  EXPECT_EQ(token_serials.size(), 80U) << "the serials in the tokens are distinct too";
  for (const auto& s : a) EXPECT_EQ(s, core::SerialHex(issuer_a->serial_space().value(), CounterOf(s)));
  for (const auto& s : b) EXPECT_EQ(s, core::SerialHex(issuer_b->serial_space().value(), CounterOf(s)));
  EXPECT_EQ(issuer_a->serial_space().value().instance, 1);
  EXPECT_EQ(issuer_b->serial_space().value().instance, 2);
  EXPECT_EQ(LoggedTokens("a.db"), 40);
  EXPECT_EQ(LoggedTokens("b.db"), 40);
}

TEST_F(IssuerTest, IssueForDigestAsksForCertificatesAndSendsNoNonce) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const auto out = issuer->IssueForDigest(core::HashAlgorithm::kSha512, Bytes(64, 0x5e));
  ASSERT_TRUE(out.granted()) << out.internal_error;
  EXPECT_EQ(out.hash_algorithm, "sha512");
  const auto info = Describe(out.der);
  ASSERT_TRUE(info.granted());
  EXPECT_EQ(info.token->certificate_count, 1);
  EXPECT_FALSE(info.token->nonce_hex.has_value());
  EXPECT_EQ(info.token->digest_hex, core::ToHex(Bytes(64, 0x5e)));
  EXPECT_EQ(LoggedTokens(), 1);
}

TEST_F(IssuerTest, IssueForDigestWithTheWrongLengthIsSystemFailure) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const auto out = issuer->IssueForDigest(core::HashAlgorithm::kSha256, Bytes(5, 0));
  ExpectRejected(out, core::FailInfo::kSystemFailure);
  EXPECT_EQ(LoggedTokens(), 0);
}

TEST_F(IssuerTest, CheckpointTokensUseTheSerialSpaceButAreNotLeavesOfTheLog) {
  auto issuer = MakeIssuer();
  ASSERT_NE(issuer, nullptr);
  const auto a = issuer->Issue(unit_test::Sha256Request());
  ASSERT_TRUE(a.granted());
  audit::Hash imprint{};
  imprint.fill(0x33);
  auto cp = issuer->IssueCheckpointToken(imprint);
  ASSERT_TRUE(cp) << cp.error().ToString();
  EXPECT_EQ(CounterOf(cp->serial_hex), CounterOf(a.serial_hex) + 1);
  EXPECT_FALSE(cp->token_der.empty());
  auto info = crypto::DescribeResponse(cp->token_der);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->token->digest_hex, core::ToHex(Bytes(32, 0x33)));
  EXPECT_EQ(LoggedTokens(), 1);

  clock_->SetSynchronised(false);
  auto refused = issuer->IssueCheckpointToken(imprint);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("timeNotAvailable"), std::string::npos) << refused.error().message;
}

// Conformance §0.2 / §5.4: the clock is read and checked under the issuance lock, together with
// the serial. With a clock that only moves forward, concurrent requests must all be granted and
// genTime must never decrease in serial order.
TEST_F(IssuerTest, ConcurrentRequestsWithAForwardOnlyClockAreAllGrantedInSerialOrder) {
  auto issuer = MakeIssuer(core::ClockMode::kRequireSync);
  ASSERT_NE(issuer, nullptr);
  clock_->SetAutoAdvance(10);  // every reading is 10 us after the previous one
  clock_->SetReadDelay(200);   // and takes a little while, like adjtimex(2)
  constexpr int kThreads = 8, kPerThread = 25;
  std::mutex mutex;
  std::vector<IssueOutcome> outcomes;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto out = issuer->Issue(unit_test::Sha256Request(static_cast<std::uint8_t>(t * kPerThread + i)));
        std::lock_guard lock(mutex);
        outcomes.push_back(std::move(out));
      }
    });
  }
  for (auto& th : threads) th.join();
  int refused = 0;
  std::map<std::uint64_t, core::UnixMicros> by_counter;
  for (const auto& out : outcomes) {
    if (!out.granted()) {
      ++refused;
      continue;
    }
    by_counter[CounterOf(out.serial_hex)] = out.gen_time;
  }
  EXPECT_EQ(refused, 0) << "spurious timeNotAvailable: a reading taken before another request's was checked after it";
  core::UnixMicros last = 0;
  for (const auto& [counter, gen] : by_counter) {
    EXPECT_GE(gen, last) << "counter " << counter;
    last = gen;
  }
  EXPECT_EQ(static_cast<int>(by_counter.size()) + refused, kThreads * kPerThread);
}

TEST_F(IssuerTest, ConcurrentRequestsGetUniqueSerialsAndAreAllLogged) {
  auto issuer = MakeIssuer(core::ClockMode::kTrustUnsynced);
  ASSERT_NE(issuer, nullptr);
  constexpr int kThreads = 8, kPerThread = 25;
  std::mutex mutex;
  std::set<std::string> serials;
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto out = issuer->Issue(unit_test::Sha256Request(static_cast<std::uint8_t>(t + i)));
        if (!out.granted()) continue;
        ++granted;
        std::lock_guard lock(mutex);
        serials.insert(out.serial_hex);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), kThreads * kPerThread) << "a clock that stands still is not a backwards step";
  EXPECT_EQ(serials.size(), static_cast<std::size_t>(granted.load()));
  EXPECT_EQ(LoggedTokens(), granted.load());
}

}  // namespace
}  // namespace tsa::service
