// Tests for src/crypto/token_signer.cc: TokenSigner signs validated requests with the serial and
// genTime it is given (RFC 3161 §2.4.2, RFC 5816), from a pool of TS_RESP_CTX (conformance §5.2),
// and turns anything OpenSSL does not grant into an error (conformance §5.4).
#include "tsa/crypto/token_signer.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include <set>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
using unit_test::kDefaultPolicy;
using unit_test::kOtherPolicy;

// 2026-11-25T09:31:26Z
constexpr core::UnixMicros kGenSeconds = 1'795'599'086;
constexpr core::UnixMicros At(std::int64_t micros) { return kGenSeconds * 1'000'000 + micros; }

class TokenSignerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_FALSE(unit_test::SharedPki().dir.empty()); }

  std::shared_ptr<TokenSigner> Signer(SignerOptions options = unit_test::DefaultSignerOptions()) {
    return unit_test::MakeSigner(unit_test::SharedPki(), std::move(options));
  }

  static core::ResponseInfo Describe(const Bytes& der) {
    auto info = DescribeResponse(der);
    EXPECT_TRUE(info) << (info ? "" : info.error().ToString());
    return info ? *info : core::ResponseInfo{};
  }

  static UniquePtr<PKCS7> TokenOf(const Bytes& resp_der) {
    const unsigned char* p = resp_der.data();
    UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(resp_der.size())));
    if (!resp || TS_RESP_get_token(resp.get()) == nullptr) return nullptr;
    return UniquePtr<PKCS7>(PKCS7_dup(TS_RESP_get_token(resp.get())));
  }
};

TEST_F(TokenSignerTest, SignsAGrantWithTheGivenSerialGenTimeAndEveryTstInfoField) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  const Bytes nonce = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
  const Bytes request = unit_test::Sha256Request(0xab, /*cert_req=*/true, nonce);
  const Bytes serial = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x11};
  auto der = signer->Sign(request, serial, At(123'456));
  ASSERT_TRUE(der) << der.error().ToString();

  const auto info = Describe(der->response_der);
  EXPECT_EQ(info.status, 0);
  EXPECT_TRUE(info.fail_info.empty());
  ASSERT_TRUE(info.token.has_value());
  const auto& t = *info.token;
  EXPECT_EQ(t.version, 1);
  EXPECT_EQ(t.serial_hex, "0123456789abcdef0011");
  EXPECT_EQ(t.gen_time, "2026-11-25T09:31:26.123Z") << "3 fractional digits, truncated";
  EXPECT_EQ(t.gen_time_us, At(123'000));
  ASSERT_TRUE(t.accuracy.has_value());
  EXPECT_EQ(t.accuracy->seconds, 1);
  EXPECT_EQ(t.accuracy->millis, 0);
  EXPECT_EQ(t.accuracy->micros, 0);
  EXPECT_EQ(t.policy, kDefaultPolicy);
  ASSERT_TRUE(t.nonce_hex.has_value());
  EXPECT_EQ(*t.nonce_hex, "123456789abcdef0");
  EXPECT_EQ(t.hash_algorithm, "sha256");
  EXPECT_EQ(t.hash_oid, unit_test::kSha256Oid);
  EXPECT_EQ(t.digest_hex, core::ToHex(Bytes(32, 0xab)));
  EXPECT_FALSE(t.ordering);
  EXPECT_TRUE(t.extensions.empty());
  ASSERT_TRUE(t.tsa.has_value());
  EXPECT_EQ(*t.tsa, "CN=tsad Unit Test TSA,O=tsad unit tests,C=XX");
  EXPECT_EQ(t.certificate_count, 1) << "certReq TRUE: the TSA certificate, and not the root";
  EXPECT_EQ(t.signer_subject, "CN=tsad Unit Test TSA,O=tsad unit tests,C=XX");
  EXPECT_EQ(t.signature_algorithm, "ecdsa-with-SHA256");
}

TEST_F(TokenSignerTest, TokenDerIsExactlyTheTokenInsideTheResponse) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  for (bool cert_req : {true, false}) {
    auto der = signer->Sign(unit_test::Sha256Request(0x21, cert_req), Bytes{0x05}, At(0));
    ASSERT_TRUE(der) << der.error().ToString();
    const auto info = Describe(der->response_der);
    ASSERT_TRUE(info.token.has_value());
    EXPECT_EQ(der->token_der, info.token->token_der);
    auto bare = DescribeResponse(der->token_der);
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->token->serial_hex, "05");
  }
}

TEST_F(TokenSignerTest, CertificatesAreAbsentWhenCertReqIsFalse) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  auto der = signer->Sign(unit_test::Sha256Request(0x01, /*cert_req=*/false), Bytes{0x05}, At(0));
  ASSERT_TRUE(der) << der.error().ToString();
  const auto info = Describe(der->response_der);
  ASSERT_TRUE(info.token.has_value());
  EXPECT_EQ(info.token->certificate_count, 0);
  EXPECT_TRUE(info.token->signer_subject.empty());
  auto token = TokenOf(der->response_der);
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(token->d.sign->cert, nullptr) << "the certificates field must not be present at all";
}

TEST_F(TokenSignerTest, NoNonceInTheRequestMeansNoNonceInTheToken) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  auto der = signer->Sign(unit_test::Sha256Request(0x01, true, std::nullopt), Bytes{0x05}, At(0));
  ASSERT_TRUE(der);
  EXPECT_FALSE(Describe(der->response_der).token->nonce_hex.has_value());
}

TEST_F(TokenSignerTest, NonceIsEchoedByteExactIncludingATopBitPadding) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  Bytes big(64, 0xee);  // a 512-bit nonce with the top bit set: INTEGER content 00 ee ee ...
  auto der = signer->Sign(unit_test::Sha256Request(0x01, true, big), Bytes{0x05}, At(0));
  ASSERT_TRUE(der) << der.error().ToString();
  EXPECT_EQ(*Describe(der->response_der).token->nonce_hex, "00" + core::ToHex(big));
}

TEST_F(TokenSignerTest, RequestedPolicyBecomesTheTokenPolicy) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  auto der = signer->Sign(unit_test::Sha256Request(0x01, true, std::nullopt, std::string(kOtherPolicy)), Bytes{0x05}, At(0));
  ASSERT_TRUE(der) << der.error().ToString();
  EXPECT_EQ(Describe(der->response_der).token->policy, kOtherPolicy);
}

TEST_F(TokenSignerTest, SerialWithTheTopBitSetStaysPositive) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  const Bytes serial = {0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
  auto der = signer->Sign(unit_test::Sha256Request(), serial, At(0));
  ASSERT_TRUE(der) << der.error().ToString();
  EXPECT_EQ(Describe(der->response_der).token->serial_hex, "00" + core::ToHex(serial));
}

TEST_F(TokenSignerTest, GenTimeUsesTheConfiguredPrecisionWithoutTrailingZeros) {
  struct Case {
    int digits;
    std::int64_t micros;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {3, 0, "2026-11-25T09:31:26Z"},       {3, 120'000, "2026-11-25T09:31:26.12Z"},     {3, 999'999, "2026-11-25T09:31:26.999Z"},
      {0, 999'999, "2026-11-25T09:31:26Z"}, {6, 123'456, "2026-11-25T09:31:26.123456Z"}, {6, 100, "2026-11-25T09:31:26.0001Z"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.expected);
    auto options = unit_test::DefaultSignerOptions();
    options.clock_precision_digits = c.digits;
    auto signer = Signer(options);
    ASSERT_NE(signer, nullptr);
    auto der = signer->Sign(unit_test::Sha256Request(), Bytes{0x07}, At(c.micros));
    ASSERT_TRUE(der) << der.error().ToString();
    EXPECT_EQ(Describe(der->response_der).token->gen_time, c.expected);
  }
}

TEST_F(TokenSignerTest, AccuracyIsTheConfiguredOne) {
  auto options = unit_test::DefaultSignerOptions();
  options.accuracy = core::Accuracy{0, 250, 0};
  auto signer = Signer(options);
  ASSERT_NE(signer, nullptr);
  auto der = signer->Sign(unit_test::Sha256Request(), Bytes{0x07}, At(0));
  ASSERT_TRUE(der);
  const auto info = Describe(der->response_der);
  ASSERT_TRUE(info.token.has_value());
  const auto& acc = info.token->accuracy;
  ASSERT_TRUE(acc.has_value());
  EXPECT_EQ(acc->TotalMicros(), 250'000);
}

TEST_F(TokenSignerTest, TsaNameIsLeftOutWhenDisabled) {
  auto options = unit_test::DefaultSignerOptions();
  options.include_tsa_name = false;
  auto signer = Signer(options);
  ASSERT_NE(signer, nullptr);
  auto der = signer->Sign(unit_test::Sha256Request(), Bytes{0x07}, At(0));
  ASSERT_TRUE(der);
  EXPECT_FALSE(Describe(der->response_der).token->tsa.has_value());
}

TEST_F(TokenSignerTest, MessageImprintIsCopiedIncludingTheParameterForm) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  for (bool null_params : {true, false}) {
    RequestSpec spec;
    spec.digest = Bytes(32, 0x3c);
    spec.hash_parameters_null = null_params;
    auto der = signer->Sign(unit_test::RequestDer(spec), Bytes{0x09}, At(0));
    ASSERT_TRUE(der);
    auto token = TokenOf(der->response_der);
    ASSERT_NE(token, nullptr);
    UniquePtr<TS_TST_INFO> tst(PKCS7_to_TS_TST_INFO(token.get()));
    ASSERT_NE(tst, nullptr);
    int ptype = -1;
    X509_ALGOR_get0(nullptr, &ptype, nullptr, TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst.get())));
    EXPECT_EQ(ptype, null_params ? V_ASN1_NULL : V_ASN1_UNDEF);
  }
}

TEST_F(TokenSignerTest, TokenHasOneSignerInfoWithSigningCertificateV2) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  auto der = signer->Sign(unit_test::Sha256Request(), Bytes{0x09}, At(0));
  ASSERT_TRUE(der);
  auto token = TokenOf(der->response_der);
  ASSERT_NE(token, nullptr);
  ASSERT_TRUE(PKCS7_type_is_signed(token.get()));
  STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(token.get());
  ASSERT_EQ(sk_PKCS7_SIGNER_INFO_num(infos), 1);
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(infos, 0);
  EXPECT_NE(PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificateV2), nullptr) << "RFC 5816 ESSCertIDv2";
  EXPECT_EQ(PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificate), nullptr) << "no SHA-1 ESSCertID v1";
  EXPECT_EQ(OidToString(token->d.sign->contents->type), "1.2.840.113549.1.9.16.1.4") << "eContentType id-ct-TSTInfo";
}

TEST_F(TokenSignerTest, SignsEveryHashAlgorithmThePolicyAccepts) {
  auto options = unit_test::DefaultSignerOptions();
  options.policy.accepted_hashes.clear();
  for (const auto& info : core::AllHashAlgorithms()) options.policy.accepted_hashes.push_back(info.algorithm);
  auto signer = Signer(options);
  ASSERT_NE(signer, nullptr);
  for (const auto& info : core::AllHashAlgorithms()) {
    SCOPED_TRACE(info.name);
    RequestSpec spec;
    spec.hash = info.algorithm;
    spec.digest = Bytes(info.digest_length, 0x6d);
    auto der = signer->Sign(unit_test::RequestDer(spec), Bytes{0x0b}, At(0));
    ASSERT_TRUE(der) << der.error().ToString();
    const auto t = Describe(der->response_der).token;
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->hash_oid, info.oid);
    EXPECT_EQ(t->hash_algorithm, info.name);
  }
}

// Conformance §8.2: tsad is lenient about the BER variants OpenSSL decodes, so what DecodeRequest
// and ValidateRequest accept must be signable.
Bytes Indefinite(const Bytes& der, const Bytes& extra_inside = {}) {
  EXPECT_LT(der[1], 0x80) << "short-form outer length";
  Bytes out = {0x30, 0x80};
  out.insert(out.end(), der.begin() + 2, der.end());
  out.insert(out.end(), extra_inside.begin(), extra_inside.end());
  out.insert(out.end(), {0x00, 0x00});
  return out;
}

void ExpectAcceptedByDecodeAndValidate(const Bytes& der) {
  auto decoded = DecodeRequest(der);
  ASSERT_TRUE(std::holds_alternative<core::TimeStampRequest>(decoded));
  EXPECT_FALSE(core::ValidateRequest(std::get<core::TimeStampRequest>(decoded), unit_test::DefaultIssuancePolicy()).has_value());
}

TEST_F(TokenSignerTest, SignsBerVariantsThatDecodeRequestAccepts) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  const Bytes der = unit_test::Sha256Request(0x42, /*cert_req=*/false);
  Bytes long_form = {0x30, 0x81, der[1]};
  long_form.insert(long_form.end(), der.begin() + 2, der.end());
  Bytes explicit_false = der;
  explicit_false.insert(explicit_false.end(), {0x01, 0x01, 0x00});
  explicit_false[1] = static_cast<std::uint8_t>(explicit_false[1] + 3);
  const std::vector<std::pair<std::string, Bytes>> variants = {
      {"indefinite outer length", Indefinite(der)},
      {"long-form outer length", long_form},
      {"explicit certReq FALSE", explicit_false},
      {"indefinite outer length, indefinite empty [0]", Indefinite(der, {0xa0, 0x80, 0x00, 0x00})},
  };
  for (const auto& [name, body] : variants) {
    SCOPED_TRACE(name);
    ExpectAcceptedByDecodeAndValidate(body);
    auto decoded = DecodeRequest(body);
    ASSERT_TRUE(std::holds_alternative<core::TimeStampRequest>(decoded));
    auto signed_der = signer->Sign(std::get<core::TimeStampRequest>(decoded).der, Bytes{0x0c}, At(0));
    ASSERT_TRUE(signed_der) << signed_der.error().ToString();
    EXPECT_EQ(Describe(signed_der->response_der).token->digest_hex, core::ToHex(Bytes(32, 0x42)));
  }
}

// Found by fuzz/request_fuzzer (tests/testdata/fuzz/request/crash-ber-indefinite-*): OpenSSL's
// BIO reader behind TS_RESP_create_response (d2i_TS_REQ_bio) takes a zero-length [0] inside an
// indefinite-length SEQUENCE for the end-of-contents octets, while d2i_TS_REQ (DecodeRequest)
// accepts the body. The fix: Sign is given DecodeRequest's DER re-encoding, never the client's BER.
TEST_F(TokenSignerTest, SignsTheDerReencodingOfAnIndefiniteLengthRequestWithAnEmptyExtensionsField) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  const Bytes der = unit_test::Sha256Request(0x42, /*cert_req=*/false);
  for (const Bytes& empty_ctx0 : {Bytes{0xa0, 0x00}, Bytes{0x80, 0x00}}) {
    const Bytes body = Indefinite(der, empty_ctx0);
    SCOPED_TRACE(core::ToHex(body));
    ExpectAcceptedByDecodeAndValidate(body);
    auto decoded = DecodeRequest(body);
    ASSERT_TRUE(std::holds_alternative<core::TimeStampRequest>(decoded));
    auto signed_der = signer->Sign(std::get<core::TimeStampRequest>(decoded).der, Bytes{0x0d}, At(0));
    ASSERT_TRUE(signed_der) << signed_der.error().ToString();
  }
}

TEST_F(TokenSignerTest, RequestOpenSslWouldRejectIsAnErrorNotARejectionReply) {
  for (auto engine : {SignerOptions::Engine::kDirect, SignerOptions::Engine::kOpenSsl}) {
    SignerOptions options = unit_test::DefaultSignerOptions();
    options.engine = engine;
    auto signer = Signer(options);
    ASSERT_NE(signer, nullptr);
    // SHA-1 is not in the accepted list: OpenSSL answers badAlg, which Sign must not pass
    // through; the direct encoder refuses it as well.
    RequestSpec spec;
    spec.hash = core::HashAlgorithm::kSha1;
    spec.digest = Bytes(20, 1);
    EXPECT_FALSE(signer->Sign(unit_test::RequestDer(spec), Bytes{0x01}, At(0)));
    // A policy the TSA does not accept, and garbage, are errors too.
    EXPECT_FALSE(signer->Sign(unit_test::Sha256Request(1, true, std::nullopt, "1.2.3.4.5"), Bytes{0x01}, At(0)));
    EXPECT_FALSE(signer->Sign(Bytes{0x30, 0x00}, Bytes{0x01}, At(0)));
  }
}

TEST_F(TokenSignerTest, SignerStillWorksAfterAFailedSign) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  ASSERT_FALSE(signer->Sign(Bytes{0x30, 0x00}, Bytes{0x01}, At(0)));
  auto der = signer->Sign(unit_test::Sha256Request(), Bytes{0x02}, At(0));
  ASSERT_TRUE(der) << der.error().ToString();
  EXPECT_EQ(Describe(der->response_der).token->serial_hex, "02");
}

TEST_F(TokenSignerTest, ConcurrentSignsFromEightThreadsAreAllGrantedWithTheirOwnSerial) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const Bytes serial = {static_cast<std::uint8_t>(t + 1), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
        const Bytes nonce = {static_cast<std::uint8_t>(t + 1), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i),
                             0x5a};
        auto der = signer->Sign(unit_test::Sha256Request(static_cast<std::uint8_t>(i), (i % 2) == 0, nonce), serial,
                                At(i * 1000));
        if (!der) {
          ++failures[t];
          continue;
        }
        auto info = DescribeResponse(der->response_der);
        if (!info || !info->granted() || info->token->serial_hex != core::ToHex(serial) ||
            info->token->nonce_hex != core::ToHex(nonce) ||
            info->token->digest_hex != core::ToHex(Bytes(32, static_cast<std::uint8_t>(i))) ||
            info->token->certificate_count != ((i % 2) == 0 ? 1 : 0)) {
          ++failures[t];
          continue;
        }
        serials[t].push_back(info->token->serial_hex);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> unique;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], 0) << "thread " << t;
    unique.insert(serials[t].begin(), serials[t].end());
  }
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST_F(TokenSignerTest, CreateRefusesAnEmptyDefaultPolicyOrHashList) {
  auto material = unit_test::LoadMaterial(unit_test::SharedPki());
  ASSERT_NE(material, nullptr);
  auto options = unit_test::DefaultSignerOptions();
  options.policy.default_policy.clear();
  auto s = TokenSigner::Create(material, options);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);

  options = unit_test::DefaultSignerOptions();
  options.policy.accepted_hashes.clear();
  s = TokenSigner::Create(material, options);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(TokenSignerTest, CreateRefusesPolicyOidsThatAreNotDotted) {
  auto material = unit_test::LoadMaterial(unit_test::SharedPki());
  ASSERT_NE(material, nullptr);
  auto options = unit_test::DefaultSignerOptions();
  options.policy.default_policy = "tsa policy";
  EXPECT_FALSE(TokenSigner::Create(material, options));
  options = unit_test::DefaultSignerOptions();
  options.policy.accepted_policies = {"also not an oid"};
  EXPECT_FALSE(TokenSigner::Create(material, options));
}

TEST_F(TokenSignerTest, CreateRefusesAClockPrecisionOutsideZeroToSixOrTooCoarseForTheAccuracy) {
  auto material = unit_test::LoadMaterial(unit_test::SharedPki());
  ASSERT_NE(material, nullptr);
  auto options = unit_test::DefaultSignerOptions();
  options.clock_precision_digits = 7;
  EXPECT_FALSE(TokenSigner::Create(material, options));
  options.clock_precision_digits = -1;
  EXPECT_FALSE(TokenSigner::Create(material, options));

  options = unit_test::DefaultSignerOptions();
  options.accuracy = core::Accuracy{0, 500, 0};
  options.clock_precision_digits = 0;  // 1 s resolution cannot support 500 ms
  auto s = TokenSigner::Create(material, options);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("too coarse"), std::string::npos);
  options.clock_precision_digits = 1;
  EXPECT_TRUE(TokenSigner::Create(material, options));
}

TEST_F(TokenSignerTest, ExposesItsMaterialAndOptions) {
  auto signer = Signer();
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->options().policy.default_policy, kDefaultPolicy);
  EXPECT_EQ(signer->material().key_description(), "EC P-256");
}

}  // namespace
}  // namespace tsa::crypto
