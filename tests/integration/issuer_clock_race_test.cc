// Deterministic reproduction of a race seen as a rare spurious timeNotAvailable in S02 (400
// concurrent requests against the real tsad): service::Issuer reads the clock *before* it takes
// the issuance lock, so a request that read the clock first but reaches the lock second looks like
// a backwards clock step to the ClockGate and is refused timeNotAvailable, although the clock never
// went backwards (conformance §1.1 item 4: grant every valid request when possible).
//
// In-process, with the real signer and token log and a scripted clock: request A reads t, stalls
// (as a preempted thread would), request B reads t+1ms and is issued, then A continues.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "support/der_builder.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"
#include "tsa/audit/token_log.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/signer_material.h"
#include "tsa/crypto/token_signer.h"
#include "tsa/service/issuer.h"

namespace tsa::test {
namespace {

using namespace std::chrono_literals;

// Reads advance by 1 ms each. Once armed, the next Read() stalls after taking its reading until
// Release() (or a 2 s safety timeout).
class ScriptedClock : public core::ClockSource {
 public:
  core::ClockReading Read() override {
    core::ClockReading r;
    r.synchronised = true;
    r.max_error_us = 0;
    r.detail = "scripted";
    std::unique_lock lock(mu_);
    r.now = now_;
    now_ += 1000;
    if (armed_) {
      armed_ = false;
      stalled_ = true;
      cv_.notify_all();
      cv_.wait_for(lock, 2s, [&] { return released_; });
      stalled_ = false;
    }
    return r;
  }
  void Arm() {
    std::lock_guard lock(mu_);
    armed_ = true;
    released_ = false;
  }
  bool WaitUntilStalled(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return stalled_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  core::UnixMicros now_ =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  bool armed_ = false;
  bool stalled_ = false;
  bool released_ = false;
};

TEST(IssuerClockRace, RequestThatReadTheClockFirstButLocksSecondIsStillGranted) {
  TempDir dir("tsa-race");
  auto pki = CreateTestPki(dir.Sub("pki"));
  ASSERT_TRUE(pki.has_value()) << pki.error().ToString();
  auto material = crypto::SignerMaterial::Load(crypto::SignerFilesInDirectory(pki->dir), std::time(nullptr));
  ASSERT_TRUE(material.has_value()) << material.error().ToString();
  crypto::SignerOptions options;
  options.policy.accepted_hashes = {core::HashAlgorithm::kSha256};
  options.policy.default_policy = oid::kDefaultPolicy;
  options.accuracy = core::Accuracy{};
  auto signer = crypto::TokenSigner::Create(*material, options);
  ASSERT_TRUE(signer.has_value()) << signer.error().ToString();
  audit::TokenLogOptions log_options;
  log_options.path = dir.Sub("race.db");
  log_options.synchronous_full = false;
  auto log = audit::TokenLog::Open(log_options);
  ASSERT_TRUE(log.has_value()) << log.error().ToString();
  auto clock = std::make_shared<ScriptedClock>();
  service::Issuer::Config config;
  config.clock_mode = core::ClockMode::kRequireSync;
  auto issuer = service::Issuer::Create(config, std::shared_ptr<crypto::TokenSigner>(std::move(*signer)), clock,
                                        std::shared_ptr<audit::TokenLog>(std::move(*log)));
  ASSERT_TRUE(issuer.has_value()) << issuer.error().ToString();
  service::Issuer& is = **issuer;

  const Bytes request_a = RequestBuilder::Default().Encode();
  const Bytes request_b = RequestBuilder::Default().Encode();

  clock->Arm();
  auto a = std::async(std::launch::async, [&] { return is.Issue(request_a); });
  ASSERT_TRUE(clock->WaitUntilStalled(2s)) << "request A never read the clock";
  // B reads a later time. With the clock read inside the issuance lock, B would wait for A here;
  // give it a moment either way, then let A continue.
  auto b = std::async(std::launch::async, [&] { return is.Issue(request_b); });
  const bool b_done_while_a_stalled = b.wait_for(300ms) == std::future_status::ready;
  clock->Release();
  const service::IssueOutcome out_a = a.get();
  const service::IssueOutcome out_b = b.get();

  EXPECT_TRUE(out_b.granted()) << "B: " << (out_b.rejection ? core::FailInfoName(out_b.rejection->fail_info) : "") << " "
                               << out_b.internal_error;
  EXPECT_TRUE(out_a.granted()) << "A was refused " << (out_a.rejection ? core::FailInfoName(out_a.rejection->fail_info) : "?")
                               << " (internal: \"" << out_a.internal_error
                               << "\") although the clock only moved forwards; B was issued "
                               << (b_done_while_a_stalled ? "while A was between its clock read and the issuance lock"
                                                          : "after A");
  // Whatever the order, genTime never decreases in serial order (S03).
  if (out_a.granted() && out_b.granted()) {
    const bool a_first = out_a.serial_hex < out_b.serial_hex;
    const auto& first = a_first ? out_a : out_b;
    const auto& second = a_first ? out_b : out_a;
    EXPECT_LE(first.gen_time, second.gen_time);
  }
}

}  // namespace
}  // namespace tsa::test
