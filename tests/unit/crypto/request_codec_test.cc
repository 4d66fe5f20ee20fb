// Tests for src/crypto/request_codec.cc: DecodeRequest (step 1 of the processing order: exactly
// one TimeStampReq, trailing bytes refused, conformance §1.3), EncodeRequest and RandomNonce.
#include "tsa/crypto/request_codec.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;
using unit_test::kOtherPolicy;
using unit_test::kSha256Oid;

bool OpensslCliAvailable() { return std::system("openssl version >/dev/null 2>&1") == 0; }

core::TimeStampRequest ExpectDecoded(const Bytes& der) {
  auto decoded = DecodeRequest(der);
  if (auto* rejection = std::get_if<core::Rejection>(&decoded)) {
    ADD_FAILURE() << "rejected: " << core::FailInfoName(rejection->fail_info) << " " << rejection->status_string;
    return {};
  }
  return std::get<core::TimeStampRequest>(decoded);
}

std::optional<core::Rejection> RejectionOf(std::span<const std::uint8_t> der) {
  auto decoded = DecodeRequest(der);
  if (auto* rejection = std::get_if<core::Rejection>(&decoded)) return *rejection;
  return std::nullopt;
}

// Parses `der`, lets `edit` change the TS_REQ with OpenSSL, and re-encodes.
template <typename Edit>
Bytes Modified(const Bytes& der, Edit edit) {
  const unsigned char* p = der.data();
  UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  EXPECT_NE(req, nullptr);
  if (!req) return {};
  edit(req.get());
  auto out = ToDer(req.get(), i2d_TS_REQ);
  EXPECT_TRUE(out);
  return out ? *out : Bytes{};
}

void AddExtension(TS_REQ* req, const char* oid, bool critical) {
  UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid, 1));
  UniquePtr<ASN1_STRING> value(ASN1_OCTET_STRING_new());
  const unsigned char null_der[] = {0x05, 0x00};
  ASN1_OCTET_STRING_set(value.get(), null_der, sizeof(null_der));
  UniquePtr<X509_EXTENSION> ext(X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, value.get()));
  ASSERT_NE(ext, nullptr);
  ASSERT_EQ(TS_REQ_add_ext(req, ext.get(), -1), 1);
}

// Runs `openssl ts -query` with the given arguments and returns the DER it wrote.
Bytes OpensslQuery(const unit_test::TempDir& dir, const std::string& args) {
  const std::string out = dir.Sub("query.tsq");
  const std::string cmd = "openssl ts -query " + args + " -out '" + out + "' >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return unit_test::ReadBytes(out);
}

TEST(DecodeRequestTest, DecodesAnOpensslTsQueryWithEveryField) {
  if (!OpensslCliAvailable()) GTEST_SKIP() << "openssl command line tool not found";
  unit_test::TempDir dir;
  const std::string digest_hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  const Bytes der = OpensslQuery(dir, "-digest " + digest_hex + " -sha256 -cert -tspolicy " + std::string(kOtherPolicy));
  ASSERT_FALSE(der.empty());
  const auto r = ExpectDecoded(der);
  EXPECT_TRUE(r.version_is_v1);
  EXPECT_EQ(r.hash_oid, kSha256Oid);
  EXPECT_EQ(r.hash_parameters, core::HashParameters::kNull);
  EXPECT_EQ(r.digest, *core::ParseHex(digest_hex));
  ASSERT_TRUE(r.policy.has_value());
  EXPECT_EQ(*r.policy, kOtherPolicy);
  EXPECT_TRUE(r.has_nonce);
  EXPECT_TRUE(r.cert_req);
  EXPECT_TRUE(r.extension_oids.empty());
  EXPECT_FALSE(core::ValidateRequest(r, unit_test::DefaultIssuancePolicy()).has_value());
}

TEST(DecodeRequestTest, DecodesAnOpensslTsQueryWithoutNonceCertReqOrPolicy) {
  if (!OpensslCliAvailable()) GTEST_SKIP() << "openssl command line tool not found";
  unit_test::TempDir dir;
  const std::string digest_hex(128, 'c');
  const Bytes der = OpensslQuery(dir, "-digest " + digest_hex + " -sha512 -no_nonce");
  const auto r = ExpectDecoded(der);
  EXPECT_TRUE(r.version_is_v1);
  EXPECT_EQ(r.hash_oid, "2.16.840.1.101.3.4.2.3");
  EXPECT_EQ(r.digest, Bytes(64, 0xcc));
  EXPECT_FALSE(r.policy.has_value());
  EXPECT_FALSE(r.has_nonce);
  EXPECT_FALSE(r.cert_req);
}

TEST(DecodeRequestTest, RejectsATrailingByteWithBadDataFormat) {
  Bytes der = unit_test::Sha256Request();
  ASSERT_TRUE(std::holds_alternative<core::TimeStampRequest>(DecodeRequest(der)));
  for (std::uint8_t extra : {0x00, 0x30, 0xff}) {
    Bytes with_trailer = der;
    with_trailer.push_back(extra);
    const auto rejection = RejectionOf(with_trailer);
    ASSERT_TRUE(rejection.has_value()) << "trailing byte " << int{extra};
    EXPECT_EQ(rejection->fail_info, core::FailInfo::kBadDataFormat);
  }
  // A second, complete request after the first is trailing data too.
  Bytes twice = der;
  twice.insert(twice.end(), der.begin(), der.end());
  const auto rejection = RejectionOf(twice);
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->fail_info, core::FailInfo::kBadDataFormat);
}

TEST(DecodeRequestTest, RejectsEveryTruncationWithBadDataFormat) {
  const Bytes der = unit_test::Sha256Request(0x5a, true, Bytes{1, 2, 3, 4, 5, 6, 7, 8}, std::string(kOtherPolicy));
  for (std::size_t len = 0; len < der.size(); ++len) {
    const auto rejection = RejectionOf(std::span<const std::uint8_t>(der.data(), len));
    ASSERT_TRUE(rejection.has_value()) << "truncated to " << len;
    EXPECT_EQ(rejection->fail_info, core::FailInfo::kBadDataFormat) << "truncated to " << len;
  }
}

TEST(DecodeRequestTest, RejectsAnEmptyBodyAndNonRequestsWithBadDataFormat) {
  EXPECT_EQ(RejectionOf(Bytes{})->fail_info, core::FailInfo::kBadDataFormat);
  EXPECT_EQ(RejectionOf(Bytes{0x05, 0x00})->fail_info, core::FailInfo::kBadDataFormat);                    // NULL
  EXPECT_EQ(RejectionOf(Bytes{0x30, 0x03, 0x02, 0x01, 0x01})->fail_info, core::FailInfo::kBadDataFormat);  // no imprint
  const std::string text = "hello, this is not DER";
  EXPECT_EQ(RejectionOf(Bytes(text.begin(), text.end()))->fail_info, core::FailInfo::kBadDataFormat);
  // A TimeStampResp is not a TimeStampReq.
  EXPECT_EQ(RejectionOf(Bytes{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02})->fail_info, core::FailInfo::kBadDataFormat);
}

TEST(DecodeRequestTest, ReportsAbsentNullAndOtherHashParameters) {
  RequestSpec spec;
  spec.digest = Bytes(32, 1);
  spec.hash_parameters_null = true;
  EXPECT_EQ(ExpectDecoded(unit_test::RequestDer(spec)).hash_parameters, core::HashParameters::kNull);
  spec.hash_parameters_null = false;
  EXPECT_EQ(ExpectDecoded(unit_test::RequestDer(spec)).hash_parameters, core::HashParameters::kAbsent);

  const Bytes octet_params = Modified(unit_test::RequestDer(spec), [](TS_REQ* req) {
    X509_ALGOR* algor = TS_MSG_IMPRINT_get_algo(TS_REQ_get_msg_imprint(req));
    ASN1_OCTET_STRING* value = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(value, reinterpret_cast<const unsigned char*>("xy"), 2);
    X509_ALGOR_set0(algor, OBJ_txt2obj(kSha256Oid, 1), V_ASN1_OCTET_STRING, value);
  });
  const auto r = ExpectDecoded(octet_params);
  EXPECT_EQ(r.hash_parameters, core::HashParameters::kOther);
  const auto rejection = core::ValidateRequest(r, unit_test::DefaultIssuancePolicy());
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->fail_info, core::FailInfo::kBadAlg);
}

TEST(DecodeRequestTest, ListsExtensionOidsInRequestOrderWhetherCriticalOrNot) {
  const Bytes der = Modified(unit_test::Sha256Request(), [](TS_REQ* req) {
    AddExtension(req, "1.3.6.1.4.1.99999.7.1", /*critical=*/true);
    AddExtension(req, "1.3.6.1.4.1.99999.7.2", /*critical=*/false);
  });
  const auto r = ExpectDecoded(der);
  EXPECT_EQ(r.extension_oids, (std::vector<std::string>{"1.3.6.1.4.1.99999.7.1", "1.3.6.1.4.1.99999.7.2"}));
  const auto rejection = core::ValidateRequest(r, unit_test::DefaultIssuancePolicy());
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->fail_info, core::FailInfo::kUnacceptedExtension);

  const Bytes non_critical_only = Modified(unit_test::Sha256Request(), [](TS_REQ* req) { AddExtension(req, "1.2.3.4", false); });
  const auto r2 = ExpectDecoded(non_critical_only);
  EXPECT_EQ(r2.extension_oids, (std::vector<std::string>{"1.2.3.4"}));
  EXPECT_EQ(core::ValidateRequest(r2, unit_test::DefaultIssuancePolicy())->fail_info, core::FailInfo::kUnacceptedExtension);
}

TEST(DecodeRequestTest, VersionTwoDecodesAsNotV1) {
  const Bytes der = Modified(unit_test::Sha256Request(), [](TS_REQ* req) { TS_REQ_set_version(req, 2); });
  const auto r = ExpectDecoded(der);
  EXPECT_FALSE(r.version_is_v1);
  EXPECT_EQ(core::ValidateRequest(r, unit_test::DefaultIssuancePolicy())->fail_info, core::FailInfo::kBadRequest);
}

TEST(DecodeRequestTest, AcceptsTheBerVariantOfAnExplicitCertReqFalse) {
  // conformance §8.2: lenient about BER OpenSSL decodes. certReq FALSE encoded explicitly.
  Bytes der = unit_test::Sha256Request(0x01, /*cert_req=*/false);
  ASSERT_EQ(der[1], der.size() - 2) << "short-form outer length";
  der.insert(der.end(), {0x01, 0x01, 0x00});
  der[1] = static_cast<std::uint8_t>(der[1] + 3);
  const auto r = ExpectDecoded(der);
  EXPECT_FALSE(r.cert_req);
}

TEST(DecodeRequestTest, CarriesTheDerReEncodingOfWhatItDecoded) {
  const Bytes der = unit_test::Sha256Request(0x31, /*cert_req=*/false, Bytes{0x05, 0x06}, std::string(kOtherPolicy));
  EXPECT_EQ(ExpectDecoded(der).der, der) << "DER in, the same DER out";

  // BER variants OpenSSL decodes come out with definite, minimal lengths.
  Bytes indefinite = {0x30, 0x80};
  indefinite.insert(indefinite.end(), der.begin() + 2, der.end());
  indefinite.insert(indefinite.end(), {0x00, 0x00});
  EXPECT_EQ(ExpectDecoded(indefinite).der, der);
  Bytes explicit_false = der;
  explicit_false.insert(explicit_false.end(), {0x01, 0x01, 0x00});
  explicit_false[1] = static_cast<std::uint8_t>(explicit_false[1] + 3);
  EXPECT_EQ(ExpectDecoded(explicit_false).der, der) << "certReq DEFAULT FALSE is left out";

  // With an empty [0] inside: OpenSSL keeps the (empty) extensions field, so the re-encoding is
  // the DER plus "a0 00"; it must parse back to itself and to the same request.
  Bytes empty_ext = {0x30, 0x80};
  empty_ext.insert(empty_ext.end(), der.begin() + 2, der.end());
  empty_ext.insert(empty_ext.end(), {0xa0, 0x00, 0x00, 0x00});
  const auto r = ExpectDecoded(empty_ext);
  ASSERT_FALSE(r.der.empty());
  EXPECT_NE(r.der[1], 0x80) << "definite length";
  const auto again = ExpectDecoded(r.der);
  EXPECT_EQ(again.der, r.der);
  EXPECT_EQ(again.digest, r.digest);
  EXPECT_EQ(again.policy, r.policy);
  EXPECT_TRUE(again.extension_oids.empty());
}

TEST(EncodeRequestTest, RoundTripsEveryField) {
  RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha384;
  spec.digest = Bytes(48, 0x42);
  spec.hash_parameters_null = false;
  spec.nonce = Bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  spec.cert_req = false;
  spec.policy = std::string(kOtherPolicy);
  const Bytes der = unit_test::RequestDer(spec);
  const auto r = ExpectDecoded(der);
  EXPECT_TRUE(r.version_is_v1);
  EXPECT_EQ(r.hash_oid, "2.16.840.1.101.3.4.2.2");
  EXPECT_EQ(r.hash_parameters, core::HashParameters::kAbsent);
  EXPECT_EQ(r.digest, spec.digest);
  EXPECT_EQ(r.policy, std::optional<std::string>(kOtherPolicy));
  EXPECT_TRUE(r.has_nonce);
  EXPECT_FALSE(r.cert_req);
  EXPECT_TRUE(r.extension_oids.empty());
}

TEST(EncodeRequestTest, OutputIsDer) {
  const Bytes der = unit_test::Sha256Request(0x77, true, Bytes{0xff, 0xee}, std::string(kOtherPolicy));
  const unsigned char* p = der.data();
  UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(*ToDer(req.get(), i2d_TS_REQ), der);
}

TEST(EncodeRequestTest, NonceIsAPositiveIntegerEvenWithTheTopBitSet) {
  const Bytes der = unit_test::Sha256Request(0x01, true, Bytes{0xff, 0x00, 0x01});
  const unsigned char* p = der.data();
  UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_NE(req, nullptr);
  const ASN1_INTEGER* nonce = TS_REQ_get_nonce(req.get());
  ASSERT_NE(nonce, nullptr);
  EXPECT_EQ(IntegerHex(nonce), "00ff0001");
  EXPECT_EQ(IntegerDecimal(nonce), "16711681");
}

TEST(EncodeRequestTest, OmitsNonceAndPolicyWhenNotGiven) {
  RequestSpec spec;
  spec.digest = Bytes(32, 3);
  const auto r = ExpectDecoded(unit_test::RequestDer(spec));
  EXPECT_FALSE(r.has_nonce);
  EXPECT_FALSE(r.policy.has_value());
  EXPECT_TRUE(r.cert_req) << "default spec asks for certificates";
  EXPECT_EQ(r.hash_parameters, core::HashParameters::kNull) << "default spec sends NULL parameters like openssl ts";
}

TEST(EncodeRequestTest, RejectsADigestOfTheWrongLength) {
  RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha256;
  spec.digest = Bytes(20, 0);
  auto der = EncodeRequest(spec);
  ASSERT_FALSE(der);
  EXPECT_EQ(der.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(der.error().message.find("32"), std::string::npos);
}

TEST(EncodeRequestTest, RejectsAPolicyThatIsNotADottedOid) {
  RequestSpec spec;
  spec.digest = Bytes(32, 0);
  spec.policy = "not an oid";
  auto der = EncodeRequest(spec);
  ASSERT_FALSE(der);
  EXPECT_EQ(der.error().kind, ErrorKind::kInvalidArgument);
}

TEST(EncodeRequestTest, EncodesEveryKnownHashAlgorithm) {
  for (const auto& info : core::AllHashAlgorithms()) {
    RequestSpec spec;
    spec.hash = info.algorithm;
    spec.digest = Bytes(info.digest_length, 0x9);
    const auto r = ExpectDecoded(unit_test::RequestDer(spec));
    EXPECT_EQ(r.hash_oid, info.oid);
    EXPECT_EQ(r.digest.size(), info.digest_length);
  }
}

TEST(RandomNonceTest, IsEightBytesPositiveWithoutALeadingZeroAndVaries) {
  std::set<Bytes> seen;
  for (int i = 0; i < 100; ++i) {
    const Bytes n = RandomNonce();
    ASSERT_EQ(n.size(), 8U);
    EXPECT_EQ(n[0] & 0x80, 0);
    EXPECT_NE(n[0], 0);
    seen.insert(n);
  }
  EXPECT_GT(seen.size(), 95U);
}

}  // namespace
}  // namespace tsa::crypto
