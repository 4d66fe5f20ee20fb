// Tests for src/crypto/verifier.cc: Verify accepts a good token and refuses a token checked
// against another TSA certificate, a wrong digest or data, a tampered signature, a rejection
// reply, and a reply that does not answer the given request.
#include "tsa/crypto/verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/core/bytes.h"
#include "tsa/core/der.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/streaming_hash.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

const Bytes& Data() {
  static const Bytes kData = [] {
    const std::string s = "the document that was time-stamped";
    return Bytes(s.begin(), s.end());
  }();
  return kData;
}

Bytes DataDigest() { return *Digest(core::HashAlgorithm::kSha256, Data()); }

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = unit_test::MakeSigner(unit_test::SharedPki());
    ASSERT_NE(signer_, nullptr);
  }

  Bytes RequestFor(bool cert_req, Bytes nonce = {0x0a, 0x0b, 0x0c}) {
    RequestSpec spec;
    spec.digest = DataDigest();
    spec.cert_req = cert_req;
    spec.nonce = std::move(nonce);
    return unit_test::RequestDer(spec);
  }

  Bytes SignNow(const Bytes& request) {
    auto der = signer_->Sign(request, Bytes{0x01, 0x02, 0x03}, unit_test::NowMicros());
    EXPECT_TRUE(der) << (der ? "" : der.error().ToString());
    return der ? der->response_der : Bytes{};
  }

  static VerifyOptions Options() {
    VerifyOptions o;
    o.tsa_cert_pem = unit_test::SharedPki().tsa_cert_pem;
    return o;
  }

  static std::string ErrorOf(const Bytes& der, const VerifyOptions& options) {
    auto r = Verify(der, options);
    EXPECT_FALSE(r) << "verification unexpectedly succeeded";
    return r ? std::string() : r.error().message;
  }

  std::shared_ptr<TokenSigner> signer_;
};

TEST_F(VerifierTest, AcceptsAGoodTokenWithAndWithoutEmbeddedCertificates) {
  for (bool cert_req : {true, false}) {
    SCOPED_TRACE(cert_req ? "certReq TRUE" : "certReq FALSE");
    const Bytes resp = SignNow(RequestFor(cert_req));
    auto r = Verify(resp, Options());
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_TRUE(r->granted());
    EXPECT_EQ(r->token->serial_hex, "010203");
  }
}

TEST_F(VerifierTest, AcceptsAGoodTokenChainedToTheCa) {
  VerifyOptions o = Options();
  o.ca_pem = unit_test::SharedPki().ca_cert_pem;
  auto r = Verify(SignNow(RequestFor(true)), o);
  ASSERT_TRUE(r) << r.error().ToString();
}

TEST_F(VerifierTest, AcceptsTheRightDigestTheRightDataAndTheRequest) {
  const Bytes request = RequestFor(true);
  const Bytes resp = SignNow(request);
  VerifyOptions o = Options();
  o.digest = DataDigest();
  EXPECT_TRUE(Verify(resp, o));
  o = Options();
  o.data = Data();
  EXPECT_TRUE(Verify(resp, o));
  o = Options();
  o.request_der = request;
  auto r = Verify(resp, o);
  EXPECT_TRUE(r) << r.error().ToString();
}

TEST_F(VerifierTest, AcceptsABareTimeStampToken) {
  const Bytes resp = SignNow(RequestFor(true));
  auto info = DescribeResponse(resp);
  ASSERT_TRUE(info);
  auto r = Verify(info->token->token_der, Options());
  ASSERT_TRUE(r) << r.error().ToString();
}

TEST_F(VerifierTest, RejectsATokenCheckedAgainstAnotherTsaCertificate) {
  for (bool cert_req : {true, false}) {
    VerifyOptions o = Options();
    o.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem;
    const std::string msg = ErrorOf(SignNow(RequestFor(cert_req)), o);
    EXPECT_FALSE(msg.empty());
  }
}

TEST_F(VerifierTest, RejectsATokenCheckedAgainstAnotherCa) {
  VerifyOptions o = Options();
  o.ca_pem = unit_test::OtherPki().ca_cert_pem;
  EXPECT_FALSE(ErrorOf(SignNow(RequestFor(true)), o).empty());
}

TEST_F(VerifierTest, RejectsAWrongDigest) {
  VerifyOptions o = Options();
  Bytes wrong = DataDigest();
  wrong[0] ^= 0x01;
  o.digest = wrong;
  EXPECT_NE(ErrorOf(SignNow(RequestFor(true)), o).find("verification failed"), std::string::npos);
  o.digest = Bytes(20, 0);  // wrong length too
  EXPECT_FALSE(ErrorOf(SignNow(RequestFor(true)), o).empty());
}

TEST_F(VerifierTest, RejectsWrongData) {
  VerifyOptions o = Options();
  Bytes wrong = Data();
  wrong.push_back('!');
  o.data = wrong;
  EXPECT_NE(ErrorOf(SignNow(RequestFor(true)), o).find("verification failed"), std::string::npos);
}

TEST_F(VerifierTest, RejectsABitFlippedSignature) {
  for (bool cert_req : {true, false}) {
    Bytes resp = SignNow(RequestFor(cert_req));
    auto info = DescribeResponse(resp);
    ASSERT_TRUE(info && info->token);
    const Bytes sig = *core::ParseHex(info->token->signature_hex);
    ASSERT_GT(sig.size(), 8U);
    auto at = std::search(resp.begin(), resp.end(), sig.begin(), sig.end());
    ASSERT_NE(at, resp.end());
    *(at + static_cast<long>(sig.size()) - 1) ^= 0x01;  // last octet of s: the DER structure stays valid
    ASSERT_TRUE(DescribeResponse(resp)) << "still parses";
    EXPECT_NE(ErrorOf(resp, Options()).find("verification failed"), std::string::npos);
  }
}

TEST_F(VerifierTest, RejectsATamperedTstInfo) {
  Bytes resp = SignNow(RequestFor(false, Bytes{0x77, 0x66, 0x55, 0x44}));
  const Bytes nonce_tlv = {0x02, 0x04, 0x77, 0x66, 0x55, 0x44};
  auto at = std::search(resp.begin(), resp.end(), nonce_tlv.begin(), nonce_tlv.end());
  ASSERT_NE(at, resp.end());
  *(at + 5) ^= 0x01;  // nonce 0x77665545: the TSTInfo no longer matches the signed digest
  EXPECT_FALSE(ErrorOf(resp, Options()).empty());
}

TEST_F(VerifierTest, RejectsARejectionReplyNamingItsFailInfo) {
  const Bytes rejection = core::EncodeRejection(core::Reject(core::FailInfo::kTimeNotAvailable, "Time is not available."));
  const std::string msg = ErrorOf(rejection, Options());
  EXPECT_NE(msg.find("not a granted time-stamp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("timeNotAvailable"), std::string::npos) << msg;
}

TEST_F(VerifierTest, RejectsGarbageAndTrailingBytes) {
  EXPECT_FALSE(ErrorOf(Bytes{0x30, 0x00}, Options()).empty());
  Bytes resp = SignNow(RequestFor(true));
  resp.push_back(0x00);
  EXPECT_FALSE(ErrorOf(resp, Options()).empty());
}

TEST_F(VerifierTest, RejectsAReplyToAnotherRequest) {
  const Bytes resp = SignNow(RequestFor(true, Bytes{0x01}));
  VerifyOptions o = Options();
  o.request_der = RequestFor(true, Bytes{0x02});  // another nonce
  EXPECT_FALSE(ErrorOf(resp, o).empty());
}

TEST_F(VerifierTest, RejectsCertificatesPresentContraryToCertReq) {
  VerifyOptions o = Options();
  o.request_der = RequestFor(false);
  const std::string msg = ErrorOf(SignNow(RequestFor(true)), o);
  EXPECT_NE(msg.find("certReq was FALSE"), std::string::npos) << msg;

  o.request_der = RequestFor(true);
  const std::string msg2 = ErrorOf(SignNow(RequestFor(false)), o);
  EXPECT_NE(msg2.find("certReq was TRUE"), std::string::npos) << msg2;
}

TEST_F(VerifierTest, ChecksTheCertificateAtTheGivenInstant) {
  const Bytes resp = SignNow(RequestFor(true));
  VerifyOptions o = Options();
  o.check_time = std::time(nullptr) + 400LL * 24 * 3600;  // after the TSA certificate expired
  EXPECT_FALSE(ErrorOf(resp, o).empty());
}

TEST_F(VerifierTest, WithoutAPinnedTsaCertificateUsesTheSignerCertificateInTheToken) {
  VerifyOptions o;  // no tsa_cert_pem
  auto r = Verify(SignNow(RequestFor(true)), o);
  ASSERT_TRUE(r) << r.error().ToString();
  o.ca_pem = unit_test::SharedPki().ca_cert_pem;
  EXPECT_TRUE(Verify(SignNow(RequestFor(true)), o));
  o.ca_pem = unit_test::OtherPki().ca_cert_pem;
  EXPECT_FALSE(ErrorOf(SignNow(RequestFor(true)), o).empty()) << "the embedded signer must chain to the given CA";
}

TEST_F(VerifierTest, WithoutAPinnedTsaCertificateATokenWithoutCertificatesIsRefused) {
  VerifyOptions o;
  const std::string msg = ErrorOf(SignNow(RequestFor(false)), o);
  EXPECT_NE(msg.find("does not carry its signer certificate"), std::string::npos) << msg;
}

// Rollover: a pinned bundle of several certificates accepts the one that signed, in any position,
// with and without certificates in the token; the first certificate alone is not enough.
TEST_F(VerifierTest, APinnedBundleAcceptsAnyOfItsCertificates) {
  VerifyOptions o;
  o.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem + unit_test::SharedPki().tsa_cert_pem;
  for (const bool cert_req : {true, false}) {
    auto r = Verify(SignNow(RequestFor(cert_req)), o);
    EXPECT_TRUE(r) << (cert_req ? "certReq TRUE: " : "certReq FALSE: ") << r.error().ToString();
  }
  o.tsa_cert_pem = unit_test::OtherPki().tsa_cert_pem;
  EXPECT_FALSE(ErrorOf(SignNow(RequestFor(true)), o).empty());
}

TEST(CountPemCertificatesTest, RefusesEmptyGarbledAndPartlyBrokenTrustFiles) {
  const std::string good = unit_test::SharedPki().ca_cert_pem;
  std::string broken = good;
  broken[broken.find('\n') + 5] ^= 0x01;
  EXPECT_EQ(CountPemCertificates(good, "t").value(), 1u);
  EXPECT_EQ(CountPemCertificates(good + unit_test::SharedPki().tsa_cert_pem, "t").value(), 2u);
  for (const std::string& bad : {std::string(), std::string("not a certificate\n"), broken, good + broken}) {
    auto r = CountPemCertificates(bad, "--ca file x.pem");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("--ca file x.pem"), std::string::npos) << r.error().message;
  }
}

TEST_F(VerifierTest, EmbeddedSignerPemIsTheSignerCertificate) {
  auto pem = EmbeddedSignerPem(SignNow(RequestFor(true)));
  ASSERT_TRUE(pem) << pem.error().ToString();
  EXPECT_EQ(*pem, unit_test::SharedPki().tsa_cert_pem);
  EXPECT_FALSE(EmbeddedSignerPem(SignNow(RequestFor(false))));
}

}  // namespace
}  // namespace tsa::crypto
