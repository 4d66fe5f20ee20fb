// Witness cosignatures (c2sp.org/tlog-cosignature, cosignature/v1): verifier keys of type 0x04,
// the key ID, the signed message, and the checks on a witness's reply.
#include "tsa/audit/cosignature.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "tsa/audit/signed_note.h"
#include "tsa/audit/witness_worker.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::audit {
namespace {

constexpr char kName[] = "witness.example/w1";
constexpr char kBody[] = "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

std::string Vkey(const std::string& name, const std::vector<std::uint8_t>& pub, std::uint8_t type = kCosignatureV1Type) {
  std::vector<std::uint8_t> typed = {type};
  typed.insert(typed.end(), pub.begin(), pub.end());
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", CosignatureKeyId(name, pub));
  return name + "+" + id + "+" + core::Base64(typed);
}

class CosignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = crypto::Ed25519Key::Generate();
    ASSERT_TRUE(k);
    key_ = std::make_unique<crypto::Ed25519Key>(std::move(*k));
    auto w = ParseWitnessKey(Vkey(kName, key_->public_key()));
    ASSERT_TRUE(w) << w.error().message;
    witness_ = *w;
  }
  std::string Line(std::uint64_t ts, const std::string& body = kBody) const {
    auto sig = key_->Sign(CosignedMessage(ts, body));
    return CosignatureLine(kName, witness_.key_id, ts, *sig);
  }
  std::unique_ptr<crypto::Ed25519Key> key_;
  WitnessKey witness_;
};

TEST_F(CosignatureTest, SignedMessageIsHeaderTimeAndBody) {
  EXPECT_EQ(CosignedMessage(1679315147, kBody), std::string("cosignature/v1\ntime 1679315147\n") + kBody);
}

TEST_F(CosignatureTest, KeyIdUsesTypeByte4) {
  EXPECT_NE(CosignatureKeyId(kName, key_->public_key()), NoteKeyId(kName, key_->public_key()));
  EXPECT_EQ(witness_.name, kName);
}

TEST_F(CosignatureTest, RefusesLogKeysAndMismatchedIds) {
  EXPECT_FALSE(ParseWitnessKey(VerifierKeyString(kName, key_->public_key())));  // type 0x01
  std::string wrong_id = Vkey(kName, key_->public_key());
  wrong_id[std::string(kName).size() + 1] = wrong_id[std::string(kName).size() + 1] == '0' ? '1' : '0';
  EXPECT_FALSE(ParseWitnessKey(wrong_id));
  EXPECT_FALSE(ParseWitnessKey("no-plus-signs"));
}

TEST_F(CosignatureTest, AcceptsAGoodLineAndIgnoresOtherKeys) {
  auto other = crypto::Ed25519Key::Generate();
  const std::string foreign = CosignatureLine("other.example/w", 7, 5, *other->Sign("x"));
  auto got = VerifyCosignatures(foreign + Line(1700000000), witness_, kBody);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].timestamp, 1700000000u);
  EXPECT_EQ((*got)[0].line, Line(1700000000));
}

TEST_F(CosignatureTest, RejectsWrongSignaturesBodiesAndMissingLines) {
  std::string line = Line(1700000000);
  line[line.size() - 6] = line[line.size() - 6] == 'A' ? 'B' : 'A';
  auto flipped = VerifyCosignatures(line, witness_, kBody);
  ASSERT_FALSE(flipped);
  EXPECT_EQ(flipped.error().kind, ErrorKind::kCrypto);
  EXPECT_FALSE(VerifyCosignatures(Line(1700000000, "example.com/log\n1\nAAAA\n"), witness_, kBody));
  EXPECT_EQ(VerifyCosignatures("", witness_, kBody).error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(VerifyCosignatures("not a signature line\n", witness_, kBody));
  EXPECT_FALSE(VerifyCosignatures(Line(1), witness_, kBody + std::string("x\n")));
}

TEST(WitnessSpecTest, ParsesUrlEqualsVkey) {
  auto key = crypto::Ed25519Key::Generate();
  const std::string vkey = Vkey(kName, key->public_key());
  auto w = ParseWitnessSpec("https://witness.example/w1/=" + vkey);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->url, "https://witness.example/w1");
  EXPECT_EQ(w->key.vkey, vkey);
  EXPECT_FALSE(ParseWitnessSpec(vkey));
  EXPECT_FALSE(ParseWitnessSpec("ftp://x=" + vkey));
}

}  // namespace
}  // namespace tsa::audit
