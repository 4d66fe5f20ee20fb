// tsa-audit-verify DB --witness-vkey: the largest signed checkpoint whose stored cosignatures
// (witness_cosignatures) reach the quorum, checked against the log key and the stored tree, on a
// real SQLite audit log.
#include "tsa/verify/witnessed_checkpoint.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "../unit_test_helpers.h"
#include "tsa/audit/signed_note.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::verify {
namespace {

constexpr char kOrigin[] = "example.com/log";
constexpr char kWitness[] = "witness.example/w";

class WitnessedCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    audit::TokenLogOptions options;
    options.path = dir_.Sub("log.db");
    auto log = audit::TokenLog::Open(options);
    ASSERT_TRUE(log) << log.error().ToString();
    log_ = std::move(*log);
    for (int i = 1; i <= 7; ++i) ASSERT_TRUE(log_->Append(unit_test::SmallRecord(i)));
    signer_ = std::make_unique<audit::NoteSigner>(*audit::NoteSigner::Make(kOrigin, *crypto::Ed25519Key::Generate()));
    log_key_ = *ParseVerifierKey(signer_->VerifierKey());
    witness_ = std::make_unique<crypto::Ed25519Key>(*crypto::Ed25519Key::Generate());
    std::vector<std::uint8_t> typed = {audit::kCosignatureV1Type};
    typed.insert(typed.end(), witness_->public_key().begin(), witness_->public_key().end());
    char id[9];
    std::snprintf(id, sizeof(id), "%08x", audit::CosignatureKeyId(kWitness, witness_->public_key()));
    policy_ = *MakeWitnessPolicy({std::string(kWitness) + "+" + id + "+" + core::Base64(typed)}, 0);
  }

  // Stores the signed note of `size` (over `root`) and, when `cosign`, the witness's line (signed by
  // `signer`, the witness's key unless forged).
  void Store(std::uint64_t size, const audit::Hash& root, bool cosign, const crypto::Ed25519Key* signer = nullptr) {
    const std::string body = audit::CheckpointBody(kOrigin, size, root);
    const std::string note = *signer_->Sign(body);
    const std::uint64_t ts = 1'795'599'100;
    const auto sig = (signer ? signer : witness_.get())->Sign(audit::CosignedMessage(ts, body));
    const std::string line = audit::CosignatureLine(kWitness, policy_.keys[0].key_id, ts, *sig);
    ASSERT_TRUE(log_->Write([&](store::LogStore& s) -> Status {
      TSA_TRY(s.InsertSignedCheckpoint({static_cast<std::int64_t>(size), store::Bytes(root.begin(), root.end()), note, 1}));
      if (cosign) {
        TSA_TRY(s.InsertCosignature({kWitness, static_cast<std::int64_t>(policy_.keys[0].key_id), static_cast<std::int64_t>(size),
                                     static_cast<std::int64_t>(ts), line, 1}));
      }
      return Ok();
    }));
  }
  Result<WitnessedCheckpoint> Find(const WitnessPolicy& policy) {
    Result<WitnessedCheckpoint> out = MakeError(ErrorKind::kInternal, "not run");
    EXPECT_TRUE(log_->Read([&](store::LogStore& s) -> Status {
      out = LargestWitnessedCheckpoint(s, policy, log_key_);
      return Ok();
    }));
    return out;
  }

  unit_test::TempDir dir_;
  std::unique_ptr<audit::TokenLog> log_;
  std::unique_ptr<audit::NoteSigner> signer_;
  VerifierKey log_key_;
  std::unique_ptr<crypto::Ed25519Key> witness_;
  WitnessPolicy policy_;
};

TEST_F(WitnessedCheckpointTest, TheLargestCosignedCheckpointOfTheStoredTree) {
  auto none = Find(policy_);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::kNotFound);
  Store(7, log_->Head().root, /*cosign=*/true);
  auto found = Find(policy_);
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->tree_size, 7u);
  EXPECT_EQ(found->quorum.cosigned_by, std::vector<std::string>{kWitness});
}

TEST_F(WitnessedCheckpointTest, AnotherWitnessDoesNotCount) {
  Store(7, log_->Head().root, /*cosign=*/true);
  const auto other = *crypto::Ed25519Key::Generate();
  std::vector<std::uint8_t> typed = {audit::kCosignatureV1Type};
  typed.insert(typed.end(), other.public_key().begin(), other.public_key().end());
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", audit::CosignatureKeyId("other.example/w", other.public_key()));
  auto policy = *MakeWitnessPolicy({std::string("other.example/w+") + id + "+" + core::Base64(typed)}, 0);
  EXPECT_EQ(Find(policy).error().kind, ErrorKind::kNotFound);
}

TEST_F(WitnessedCheckpointTest, AForgedRowOrAnotherRootFails) {
  const auto forger = *crypto::Ed25519Key::Generate();
  Store(7, log_->Head().root, /*cosign=*/true, &forger);
  auto forged = Find(policy_);
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().kind, ErrorKind::kCrypto);
  EXPECT_NE(forged.error().message.find("does not verify"), std::string::npos) << forged.error().message;
}

TEST_F(WitnessedCheckpointTest, ACosignedCheckpointOfAnotherTreeFails) {
  audit::Hash other_root = log_->Head().root;
  other_root[0] ^= 1;
  Store(7, other_root, /*cosign=*/true);  // a split view, cosigned: not this log's tree
  auto split = Find(policy_);
  ASSERT_FALSE(split);
  EXPECT_EQ(split.error().kind, ErrorKind::kCrypto);
  EXPECT_NE(split.error().message.find("stored tree's root"), std::string::npos) << split.error().message;
}

}  // namespace
}  // namespace tsa::verify
