// What a relying party requires of witnesses (tsa-audit-verify --witness-vkey/--witness-quorum):
// cosignature/v1 lines (c2sp.org/tlog-cosignature) over the checkpoint body, checked with the
// one implementation in audit/cosignature.cc; good, flipped, missing and forged lines, unknown
// keys ignored (c2sp.org/signed-note), and the quorum.
#include "tsa/verify/witness_quorum.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "tsa/audit/signed_note.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::verify {
namespace {

constexpr char kBody[] = "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
constexpr char kLogLine[] = "\xE2\x80\x94 example.com/log AAAAAAAAAAAA\n";  // not checked here (OpenNote's job)

struct Witness {
  std::string name;
  crypto::Ed25519Key key;
  std::string vkey() const {
    std::vector<std::uint8_t> typed = {audit::kCosignatureV1Type};
    typed.insert(typed.end(), key.public_key().begin(), key.public_key().end());
    char id[9];
    std::snprintf(id, sizeof(id), "%08x", audit::CosignatureKeyId(name, key.public_key()));
    return name + "+" + id + "+" + core::Base64(typed);
  }
  // A cosignature by `signer` under this witness's name and key ID (signer != key: a forgery).
  std::string Line(std::uint64_t ts, const crypto::Ed25519Key& signer, const std::string& body = kBody) const {
    return audit::CosignatureLine(name, audit::CosignatureKeyId(name, key.public_key()), ts,
                                  *signer.Sign(audit::CosignedMessage(ts, body)));
  }
  std::string Line(std::uint64_t ts = 1700000000) const { return Line(ts, key); }
};

Witness Make(const std::string& name) { return Witness{name, *crypto::Ed25519Key::Generate()}; }

std::string Note(const std::string& lines) { return std::string(kBody) + "\n" + kLogLine + lines; }

class WitnessQuorumTest : public ::testing::Test {
 protected:
  Witness a_ = Make("witness.example/a"), b_ = Make("witness.example/b");
  WitnessPolicy Policy(std::size_t quorum, bool both = true) {
    std::vector<std::string> keys = {a_.vkey()};
    if (both) keys.push_back(b_.vkey());
    auto p = MakeWitnessPolicy(keys, quorum);
    EXPECT_TRUE(p) << p.error().message;
    return *p;
  }
};

TEST_F(WitnessQuorumTest, AllGivenWitnessesByDefault) {
  const WitnessPolicy all = Policy(0);
  EXPECT_EQ(all.quorum, 2u);
  auto both = CheckNoteWitnessQuorum(Note(a_.Line() + b_.Line()), all);
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->cosigned_by, (std::vector<std::string>{a_.name, b_.name}));
  auto one = CheckNoteWitnessQuorum(Note(a_.Line()), all);
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(one.error().message.find("cosigned by 1 of the required 2"), std::string::npos) << one.error().message;
}

TEST_F(WitnessQuorumTest, QuorumOfOneAcceptsEitherWitness) {
  EXPECT_TRUE(CheckNoteWitnessQuorum(Note(b_.Line()), Policy(1)));
  EXPECT_FALSE(CheckNoteWitnessQuorum(Note(""), Policy(1)));
}

TEST_F(WitnessQuorumTest, UnknownWitnessesAreIgnored) {
  const Witness stranger = Make("witness.example/stranger");
  auto got = CheckNoteWitnessQuorum(Note(stranger.Line() + a_.Line()), Policy(1, false));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->cosigned_by.size(), 1u);
  // A stranger's line alone does not count, even under a known witness's name with another key.
  const Witness same_name{a_.name, *crypto::Ed25519Key::Generate()};
  EXPECT_EQ(CheckNoteWitnessQuorum(Note(stranger.Line() + same_name.Line()), Policy(1, false)).error().kind,
            ErrorKind::kNotFound);
}

TEST_F(WitnessQuorumTest, ForgedOrDamagedCosignatureRejectsTheNote) {
  const auto forger = *crypto::Ed25519Key::Generate();
  auto forged = CheckNoteWitnessQuorum(Note(a_.Line(1700000000, forger) + b_.Line()), Policy(1));
  ASSERT_FALSE(forged);  // signed-note: a known key's signature that fails rejects the note
  EXPECT_EQ(forged.error().kind, ErrorKind::kCrypto);
  // The timestamp is signed (tlog-cosignature): a line re-dated by one second fails.
  std::string redated = a_.Line(1700000000);
  const std::string blob = redated.substr(redated.rfind(' ') + 1);
  auto bytes = *core::Base64Decode(blob.substr(0, blob.size() - 1));
  bytes[11] ^= 1;
  redated = redated.substr(0, redated.rfind(' ') + 1) + core::Base64(bytes) + "\n";
  EXPECT_EQ(CheckNoteWitnessQuorum(Note(redated), Policy(1, false)).error().kind, ErrorKind::kCrypto);
  // Over another checkpoint body.
  const std::string other = a_.Line(1700000000, a_.key, "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
  EXPECT_EQ(CheckNoteWitnessQuorum(Note(other), Policy(1, false)).error().kind, ErrorKind::kCrypto);
}

TEST_F(WitnessQuorumTest, PolicyRefusesBadKeysDuplicatesAndTooLargeQuorums) {
  EXPECT_FALSE(MakeWitnessPolicy({a_.vkey(), a_.vkey()}, 0));
  EXPECT_FALSE(MakeWitnessPolicy({a_.vkey()}, 2));
  EXPECT_FALSE(MakeWitnessPolicy({audit::VerifierKeyString(a_.name, a_.key.public_key())}, 0));  // a log key (0x01)
  EXPECT_TRUE(MakeWitnessPolicy({}, 0)->empty());
  EXPECT_FALSE(CheckNoteWitnessQuorum("no blank line\n", Policy(1)));
}

}  // namespace
}  // namespace tsa::verify
