// Tests for src/audit/witness_worker.cc with a scripted transport (the protocol against a real
// witness process is in tests/integration/witness_test.cc): the 409 retry from the witness's size
// with a consistency proof, cosignatures dated in the future, and exceptions below the thread.
#include "tsa/audit/witness_worker.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <stdexcept>

#include "../unit_test_helpers.h"
#include "tsa/audit/signed_note.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::audit {
namespace {

constexpr char kWitness[] = "witness.example/w1";

// Plays a witness: each request gets the next scripted reply; "COSIGN@T" becomes a valid
// cosignature with timestamp T over the submitted checkpoint.
class ScriptedTransport final : public WitnessTransport {
 public:
  explicit ScriptedTransport(const crypto::Ed25519Key& key, std::uint32_t key_id) : key_(key), key_id_(key_id) {}
  Result<WitnessReply> Post(const std::string& url, const std::string& body, int) override {
    urls.push_back(url);
    bodies.push_back(body);
    if (replies.empty()) throw std::runtime_error("no scripted reply");
    WitnessReply r = replies.front();
    replies.pop_front();
    if (r.body.rfind("COSIGN@", 0) == 0) {
      const std::uint64_t ts = std::stoull(r.body.substr(7));
      const std::string note = body.substr(body.find("\n\n") + 2);
      const std::string checkpoint_body = note.substr(0, note.rfind("\n\n") + 1);
      r.body = CosignatureLine(kWitness, key_id_, ts, *key_.Sign(CosignedMessage(ts, checkpoint_body)));
    }
    return r;
  }
  void CancelAll() override {}
  std::deque<WitnessReply> replies;
  std::vector<std::string> urls, bodies;

 private:
  const crypto::Ed25519Key& key_;
  std::uint32_t key_id_;
};

class WitnessWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TokenLogOptions options;
    options.path = dir_.Sub("log.db");
    auto log = TokenLog::Open(options);
    ASSERT_TRUE(log) << log.error().ToString();
    log_ = std::move(*log);
    for (int i = 1; i <= 7; ++i) ASSERT_TRUE(log_->Append(unit_test::SmallRecord(i)));
    auto log_key = crypto::Ed25519Key::Generate();
    auto signer = NoteSigner::Make("example.com/log", std::move(*log_key));
    const LogHead head = log_->Head();
    checkpoint_ = PublishedCheckpoint{head.size, *signer->Sign(CheckpointBody("example.com/log", head.size, head.root))};
    auto wkey = crypto::Ed25519Key::Generate();
    witness_key_ = std::make_unique<crypto::Ed25519Key>(std::move(*wkey));
    std::vector<std::uint8_t> typed = {kCosignatureV1Type};
    typed.insert(typed.end(), witness_key_->public_key().begin(), witness_key_->public_key().end());
    char id[9];
    key_id_ = CosignatureKeyId(kWitness, witness_key_->public_key());
    std::snprintf(id, sizeof(id), "%08x", key_id_);
    auto witness = ParseWitnessSpec(std::string("http://w.example/=") + kWitness + "+" + id + "+" + core::Base64(typed));
    ASSERT_TRUE(witness) << witness.error().message;
    options_.witnesses = {*witness};
  }

  WitnessWorker Make(ScriptedTransport& transport) {
    return WitnessWorker(
        options_, *log_, [this] { return std::optional<PublishedCheckpoint>(checkpoint_); }, transport, clock_);
  }
  std::uint64_t NowSeconds() { return static_cast<std::uint64_t>(clock_.Read().now / 1'000'000); }

  unit_test::TempDir dir_;
  std::unique_ptr<TokenLog> log_;
  PublishedCheckpoint checkpoint_;
  std::unique_ptr<crypto::Ed25519Key> witness_key_;
  std::uint32_t key_id_ = 0;
  WitnessOptions options_;
  unit_test::FakeClock clock_;
};

TEST_F(WitnessWorkerTest, A409WithTheWitnessSizeIsRetriedFromItWithAConsistencyProof) {
  ScriptedTransport transport(*witness_key_, key_id_);
  transport.replies = {{409, "text/x.tlog.size", "3\n"}, {200, "text/plain", "COSIGN@" + std::to_string(NowSeconds())}};
  WitnessWorker worker = Make(transport);
  worker.SubmitOnce();
  ASSERT_EQ(transport.bodies.size(), 2u);
  EXPECT_EQ(transport.urls[0], "http://w.example/add-checkpoint");
  EXPECT_EQ(transport.bodies[0], "old 0\n\n" + checkpoint_.note);  // tlog-witness: no proof from 0
  EXPECT_EQ(transport.bodies[1].rfind("old 3\n", 0), 0u) << transport.bodies[1];
  // RFC 6962 consistency 3 -> 7: four hashes (leaves 2, 3, [0,2), [4,7)), one base64 line each, then the blank line.
  const std::string proof = transport.bodies[1].substr(6, transport.bodies[1].find("\n\n") - 5);
  EXPECT_EQ(std::count(proof.begin(), proof.end(), '\n'), 4) << proof;
  const auto status = worker.Statuses().at(0);
  EXPECT_EQ(status.conflicts, 1u);
  EXPECT_EQ(status.cosigned_size, 7u);
  EXPECT_TRUE(status.last_error.empty()) << status.last_error;
  EXPECT_NE(worker.CosignatureLines(7).find(kWitness), std::string::npos);
  EXPECT_EQ(worker.CosignatureLines(6), "");
  worker.SubmitOnce();  // cosigned: no new request
  EXPECT_EQ(transport.bodies.size(), 2u);
}

TEST_F(WitnessWorkerTest, ACosignatureDatedInTheFutureIsRejected) {
  ScriptedTransport transport(*witness_key_, key_id_);
  transport.replies = {{200, "text/plain", "COSIGN@" + std::to_string(NowSeconds() + 3600)}};
  WitnessWorker worker = Make(transport);
  worker.SubmitOnce();
  const auto status = worker.Statuses().at(0);
  EXPECT_NE(status.last_error.find("in the future"), std::string::npos) << status.last_error;
  EXPECT_EQ(status.cosigned_size, 0u);
  EXPECT_EQ(worker.CosignatureLines(7), "");
}

TEST_F(WitnessWorkerTest, AnErrorStatusIsAFailureThatBacksOff) {
  ScriptedTransport transport(*witness_key_, key_id_);
  transport.replies = {{403, "text/plain", "unknown key\n"}};
  WitnessWorker worker = Make(transport);
  worker.SubmitOnce();
  auto status = worker.Statuses().at(0);
  EXPECT_EQ(status.last_error, "HTTP 403: unknown key");
  EXPECT_EQ(status.failures, 1u);
  EXPECT_EQ(status.consecutive_failures, 1u);
  worker.SubmitOnce();  // backing off: no request
  EXPECT_EQ(transport.bodies.size(), 1u);
}

TEST_F(WitnessWorkerTest, AnExceptionBelowTheThreadIsRecordedNotFatal) {
  ScriptedTransport transport(*witness_key_, key_id_);  // no reply scripted: Post throws
  WitnessWorker worker = Make(transport);
  worker.SubmitOnce();
  const auto status = worker.Statuses().at(0);
  EXPECT_NE(status.last_error.find("exception: no scripted reply"), std::string::npos) << status.last_error;
}

}  // namespace
}  // namespace tsa::audit
