// Tests for src/core/serial.cc: serial = instance(16) || epoch(56) || counter(64). Serials must
// be positive, at most 20 content octets (RFC 3161 §2.4.2: clients accept up to 160 bits) and
// unique across instance, epoch and counter; SerialHex is the hex of the DER INTEGER content
// octets (what the token, tsa-verify and the log show) and CanonicalSerialHex normalises any
// spelling to it.
#include "tsa/core/serial.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::core {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kMaxEpoch = (1ULL << 56) - 1;

// The DER INTEGER content octets OpenSSL produces for the magnitude (as the signer does).
Bytes IntegerContent(const Bytes& magnitude, bool* negative) {
  crypto::UniquePtr<BIGNUM> bn(BN_bin2bn(magnitude.data(), static_cast<int>(magnitude.size()), nullptr));
  crypto::UniquePtr<ASN1_INTEGER> i(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_INTEGER(i.get(), &der);
  Bytes out(der + 2, der + len);  // short form: at most 21 octets here
  *negative = (out[0] & 0x80) != 0;
  OPENSSL_free(der);
  return out;
}

TEST(SerialTest, SmallestSerialIsOneOctet) {
  EXPECT_EQ(EncodeSerial(SerialSpace{0, 0}, 1), (Bytes{0x01}));
  EXPECT_EQ(SerialHex(SerialSpace{0, 0}, 1), "01");
}

TEST(SerialTest, LayoutIsInstanceThenEpochThenCounterBigEndian) {
  const SerialSpace space{0x1234, 0x0056789abcdef0ULL};
  EXPECT_EQ(EncodeSerial(space, 0x0102030405060708ULL),
            (Bytes{0x12, 0x34, 0x00, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  EXPECT_EQ(SerialHex(space, 0x0102030405060708ULL), "12340056789abcdef00102030405060708");
  EXPECT_EQ(EncodeSerial(SerialSpace{0, 1}, 2), (Bytes{0x01, 0, 0, 0, 0, 0, 0, 0, 0x02}));
}

TEST(SerialTest, HexIsTheDerIntegerContentOctets) {
  std::mt19937_64 rng(5);
  std::vector<std::tuple<std::uint16_t, std::uint64_t, std::uint64_t>> cases = {{0, 0, 1},
                                                                                {0, 0, 0x80},
                                                                                {0x7fff, kMaxEpoch, ~0ULL},
                                                                                {0x8000, 0, 1},
                                                                                {0xffff, kMaxEpoch, ~0ULL},
                                                                                {1, 1'795'000'000'000'000ULL, 7}};
  for (int i = 0; i < 200; ++i) cases.emplace_back(static_cast<std::uint16_t>(rng()), rng() & kMaxEpoch, rng() | 1);
  for (const auto& [instance, epoch, counter] : cases) {
    const SerialSpace space{instance, epoch};
    bool negative = true;
    const Bytes content = IntegerContent(EncodeSerial(space, counter), &negative);
    std::string hex;
    static constexpr char kDigits[] = "0123456789abcdef";
    for (auto byte : content) {
      hex.push_back(kDigits[byte >> 4]);
      hex.push_back(kDigits[byte & 15]);
    }
    EXPECT_EQ(SerialHex(space, counter), hex);
  }
  EXPECT_EQ(SerialHex(SerialSpace{0, 0}, 0x80), "0080");
  EXPECT_EQ(SerialHex(SerialSpace{0xffff, 0}, 1), "00ffff000000000000000000000000000001");
}

TEST(SerialTest, EncodingIsMinimal) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    const SerialSpace space{static_cast<std::uint16_t>(rng() & 0xffff), rng() & kMaxEpoch};
    const Bytes b = EncodeSerial(space, rng() | 1);
    ASSERT_FALSE(b.empty());
    EXPECT_NE(b[0], 0) << "no leading zero octet";
  }
}

TEST(CanonicalSerialHexTest, NormalisesCaseLeadingZerosAndTheSignOctet) {
  EXPECT_EQ(CanonicalSerialHex("01"), "01");
  EXPECT_EQ(CanonicalSerialHex("1"), "01");
  EXPECT_EQ(CanonicalSerialHex("0001"), "01");
  EXPECT_EQ(CanonicalSerialHex("7BCDEF"), "7bcdef");
  EXPECT_EQ(CanonicalSerialHex("ABCDEF"), "00abcdef");
  EXPECT_EQ(CanonicalSerialHex("80"), "0080");
  EXPECT_EQ(CanonicalSerialHex("0080"), "0080");
  EXPECT_EQ(CanonicalSerialHex("000000FF"), "00ff");
  EXPECT_EQ(CanonicalSerialHex("123"), "0123");
}

TEST(CanonicalSerialHexTest, RejectsZeroEmptyAndNonHex) {
  EXPECT_FALSE(CanonicalSerialHex("").has_value());
  EXPECT_FALSE(CanonicalSerialHex("0").has_value());
  EXPECT_FALSE(CanonicalSerialHex("0000").has_value());
  EXPECT_FALSE(CanonicalSerialHex("0x01").has_value());
  EXPECT_FALSE(CanonicalSerialHex("12 34").has_value());
  EXPECT_FALSE(CanonicalSerialHex("-1").has_value());
}

TEST(CanonicalSerialHexTest, IsTheIdentityOnSerialHexAndUndoesUpperCaseAndPadding) {
  std::mt19937_64 rng(9);
  for (int i = 0; i < 300; ++i) {
    const SerialSpace space{static_cast<std::uint16_t>(rng()), rng() & kMaxEpoch};
    const std::uint64_t counter = rng() | 1;
    const std::string hex = SerialHex(space, counter);
    EXPECT_EQ(CanonicalSerialHex(hex), hex);
    std::string upper = "0000" + hex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(CanonicalSerialHex(upper), hex);
  }
}

TEST(SerialTest, EveryValueIsPositiveAndAtMostTwentyOctetsAsADerInteger) {
  const std::vector<std::tuple<std::uint16_t, std::uint64_t, std::uint64_t>> cases = {
      {0, 0, 1},    {0x7fff, kMaxEpoch, ~0ULL},   {0x8000, 0, 1}, {0xffff, kMaxEpoch, ~0ULL},
      {0, 0, 0x80}, {0, 1, 0x8000000000000000ULL}};
  for (const auto& [instance, epoch, counter] : cases) {
    SCOPED_TRACE(SerialHex(SerialSpace{instance, epoch}, counter));
    const Bytes magnitude = EncodeSerial(SerialSpace{instance, epoch}, counter);
    EXPECT_LE(magnitude.size(), 17U) << "136 bits at most";
    bool negative = true;
    const Bytes content = IntegerContent(magnitude, &negative);
    EXPECT_FALSE(negative);
    EXPECT_LE(content.size(), 20U);
    EXPECT_FALSE(std::all_of(content.begin(), content.end(), [](std::uint8_t x) { return x == 0; })) << "never zero";
  }
}

TEST(SerialTest, SerialsAreDistinctAcrossInstanceEpochAndCounter) {
  std::set<Bytes> encoded;
  std::set<std::string> hexes;
  int n = 0;
  for (std::uint16_t instance : std::vector<std::uint16_t>{0, 1, 2, 0x100, 0xffff}) {
    for (std::uint64_t epoch : std::vector<std::uint64_t>{1, 2, 0x100, 1'795'000'000'000'000, kMaxEpoch}) {
      for (std::uint64_t counter : std::vector<std::uint64_t>{1, 2, 0x100, 0xffffffff, ~0ULL}) {
        encoded.insert(EncodeSerial(SerialSpace{instance, epoch}, counter));
        hexes.insert(SerialHex(SerialSpace{instance, epoch}, counter));
        ++n;
      }
    }
  }
  EXPECT_EQ(encoded.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(hexes.size(), static_cast<std::size_t>(n));
}

// Minimal hex of positive values: ordered by (length, text) it is ordered like the number.
TEST(SerialTest, HexOrderedByLengthThenTextIsNumericOrder) {
  std::mt19937_64 rng(11);
  using Triple = std::tuple<std::uint16_t, std::uint64_t, std::uint64_t>;
  std::vector<Triple> values;
  for (int i = 0; i < 300; ++i) {
    const int shift = static_cast<int>(rng() % 64);
    values.emplace_back(static_cast<std::uint16_t>(i % 3 == 0 ? 0 : rng()), i % 2 ? (rng() & kMaxEpoch) : (rng() % 1000),
                        (rng() >> shift) | 1);
  }
  std::vector<Triple> by_number = values;
  std::sort(by_number.begin(), by_number.end());  // lexicographic = numeric order of the concatenation
  std::vector<std::string> by_hex;
  for (const auto& [i, e, c] : values) by_hex.push_back(SerialHex(SerialSpace{i, e}, c));
  std::sort(by_hex.begin(), by_hex.end(), [](const std::string& a, const std::string& b) {
    const auto ta = a.substr(a.rfind("00", 0) == 0 ? 2 : 0);
    const auto tb = b.substr(b.rfind("00", 0) == 0 ? 2 : 0);
    return ta.size() != tb.size() ? ta.size() < tb.size() : ta < tb;
  });
  for (std::size_t k = 0; k < by_number.size(); ++k) {
    const auto& [i, e, c] = by_number[k];
    EXPECT_EQ(by_hex[k], SerialHex(SerialSpace{i, e}, c)) << k;
  }
}

}  // namespace
}  // namespace tsa::core
