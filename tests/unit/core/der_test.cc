// Tests for src/core/der.cc: DerTlv and EncodeRejection, checked byte for byte against the
// PKIFailureInfo table of conformance §1.3 and parsed back with OpenSSL's d2i_TS_RESP.
#include "tsa/core/der.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/ts.h>

#include <string>
#include <vector>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::core {
namespace {

struct FailInfoCase {
  FailInfo info;
  int bit;
  Bytes bit_string_der;  // conformance §1.3
};

const std::vector<FailInfoCase>& Table() {
  static const std::vector<FailInfoCase> kTable = {
      {FailInfo::kBadAlg, 0, {0x03, 0x02, 0x07, 0x80}},
      {FailInfo::kBadRequest, 2, {0x03, 0x02, 0x05, 0x20}},
      {FailInfo::kBadDataFormat, 5, {0x03, 0x02, 0x02, 0x04}},
      {FailInfo::kTimeNotAvailable, 14, {0x03, 0x03, 0x01, 0x00, 0x02}},
      {FailInfo::kUnacceptedPolicy, 15, {0x03, 0x03, 0x00, 0x00, 0x01}},
      {FailInfo::kUnacceptedExtension, 16, {0x03, 0x04, 0x07, 0x00, 0x00, 0x80}},
      {FailInfo::kAddInfoNotAvailable, 17, {0x03, 0x04, 0x06, 0x00, 0x00, 0x40}},
      {FailInfo::kSystemFailure, 25, {0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40}},
  };
  return kTable;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(DerTlvTest, UsesTheShortLengthFormBelow128Octets) {
  EXPECT_EQ(DerTlv(0x04, {}), (Bytes{0x04, 0x00}));
  EXPECT_EQ(DerTlv(0x02, {0x05}), (Bytes{0x02, 0x01, 0x05}));
  const Bytes content(127, 0xaa);
  const Bytes tlv = DerTlv(0x04, content);
  ASSERT_EQ(tlv.size(), 129U);
  EXPECT_EQ(tlv[1], 0x7f);
}

TEST(DerTlvTest, UsesTheMinimalLongLengthFormFrom128Octets) {
  const Bytes tlv128 = DerTlv(0x04, Bytes(128, 0));
  EXPECT_EQ((Bytes{tlv128.begin(), tlv128.begin() + 3}), (Bytes{0x04, 0x81, 0x80}));
  const Bytes tlv256 = DerTlv(0x30, Bytes(256, 0));
  EXPECT_EQ((Bytes{tlv256.begin(), tlv256.begin() + 4}), (Bytes{0x30, 0x82, 0x01, 0x00}));
  EXPECT_EQ(tlv256.size(), 260U);
  const Bytes tlv65536 = DerTlv(0x04, Bytes(65536, 0));
  EXPECT_EQ((Bytes{tlv65536.begin(), tlv65536.begin() + 5}), (Bytes{0x04, 0x83, 0x01, 0x00, 0x00}));
}

TEST(RejectionEncodingTest, FailInfoBitStringsAreExactlyTheConformanceTableDer) {
  for (const auto& c : Table()) {
    SCOPED_TRACE(FailInfoName(c.info));
    // Without a status string: SEQUENCE { SEQUENCE { INTEGER 2, BIT STRING } }.
    const Bytes status = Concat({{0x02, 0x01, 0x02}, c.bit_string_der});
    const Bytes expected = Concat(
        {{0x30, static_cast<std::uint8_t>(status.size() + 2), 0x30, static_cast<std::uint8_t>(status.size())}, status});
    EXPECT_EQ(EncodeRejection(Reject(c.info, "")), expected);
  }
}

TEST(RejectionEncodingTest, StatusStringIsOneUtf8StringBetweenStatusAndFailInfo) {
  const Bytes der = EncodeRejection(Reject(FailInfo::kBadAlg, "no"));
  const Bytes expected = {0x30, 0x0f, 0x30, 0x0d,            // TimeStampResp, PKIStatusInfo
                          0x02, 0x01, 0x02,                  // status rejection(2)
                          0x30, 0x04, 0x0c, 0x02, 'n', 'o',  // PKIFreeText
                          0x03, 0x02, 0x07, 0x80};           // failInfo badAlg
  EXPECT_EQ(der, expected);
}

TEST(RejectionEncodingTest, LongStatusStringsUseLongFormLengths) {
  const std::string text(300, 'x');
  const Bytes der = EncodeRejection(Reject(FailInfo::kSystemFailure, text));
  const unsigned char* p = der.data();
  crypto::UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(p, der.data() + der.size());
  const auto* texts = TS_STATUS_INFO_get0_text(TS_RESP_get_status_info(resp.get()));
  ASSERT_NE(texts, nullptr);
  ASSERT_EQ(sk_ASN1_UTF8STRING_num(texts), 1);
  EXPECT_EQ(ASN1_STRING_length(sk_ASN1_UTF8STRING_value(texts, 0)), 300);
}

TEST(RejectionEncodingTest, OpenSslParsesEveryRejectionWithStatus2AndExactlyItsBit) {
  for (const auto& c : Table()) {
    for (const std::string text : {"", "Time is not available."}) {
      SCOPED_TRACE(std::string(FailInfoName(c.info)) + " / \"" + text + "\"");
      const Bytes der = EncodeRejection(Reject(c.info, text));
      const unsigned char* p = der.data();
      crypto::UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
      ASSERT_NE(resp, nullptr);
      EXPECT_EQ(p, der.data() + der.size()) << "whole input consumed";
      EXPECT_EQ(TS_RESP_get_token(resp.get()), nullptr);
      const TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
      EXPECT_EQ(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status)), TS_STATUS_REJECTION);
      const ASN1_BIT_STRING* bits = TS_STATUS_INFO_get0_failure_info(status);
      ASSERT_NE(bits, nullptr);
      for (int bit = 0; bit < 40; ++bit) {
        EXPECT_EQ(ASN1_BIT_STRING_get_bit(bits, bit) != 0, bit == c.bit) << "bit " << bit;
      }
      // OpenSSL re-encodes the BIT STRING to the same bytes (it is already DER).
      unsigned char* out = nullptr;
      const int len = i2d_ASN1_BIT_STRING(const_cast<ASN1_BIT_STRING*>(bits), &out);
      ASSERT_GT(len, 0);
      EXPECT_EQ(Bytes(out, out + len), c.bit_string_der);
      OPENSSL_free(out);
      // And the whole response re-encodes to the same bytes.
      unsigned char* whole = nullptr;
      const int whole_len = i2d_TS_RESP(resp.get(), &whole);
      ASSERT_GT(whole_len, 0);
      EXPECT_EQ(Bytes(whole, whole + whole_len), der);
      OPENSSL_free(whole);
    }
  }
}

TEST(RejectionEncodingTest, BitNumbersMatchOpenSslFailureInfoConstants) {
  EXPECT_EQ(static_cast<int>(FailInfo::kBadAlg), TS_INFO_BAD_ALG);
  EXPECT_EQ(static_cast<int>(FailInfo::kBadRequest), TS_INFO_BAD_REQUEST);
  EXPECT_EQ(static_cast<int>(FailInfo::kBadDataFormat), TS_INFO_BAD_DATA_FORMAT);
  EXPECT_EQ(static_cast<int>(FailInfo::kTimeNotAvailable), TS_INFO_TIME_NOT_AVAILABLE);
  EXPECT_EQ(static_cast<int>(FailInfo::kUnacceptedPolicy), TS_INFO_UNACCEPTED_POLICY);
  EXPECT_EQ(static_cast<int>(FailInfo::kUnacceptedExtension), TS_INFO_UNACCEPTED_EXTENSION);
  EXPECT_EQ(static_cast<int>(FailInfo::kAddInfoNotAvailable), TS_INFO_ADD_INFO_NOT_AVAILABLE);
  EXPECT_EQ(static_cast<int>(FailInfo::kSystemFailure), TS_INFO_SYSTEM_FAILURE);
}

}  // namespace
}  // namespace tsa::core
