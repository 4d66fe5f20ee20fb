// Tests for src/audit/anchor_worker.cc that need no external TSA: the anchoring thread survives
// exceptions thrown below it (issue 8 item 11: an exception used to call std::terminate on tsad).
#include "tsa/audit/anchor_worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "../unit_test_helpers.h"
#include "tsa/audit/token_log.h"

namespace tsa::audit {
namespace {

// A transport whose every request throws, as a buggy client library might.
class ThrowingTransport final : public AnchorTransport {
 public:
  Result<std::vector<std::uint8_t>> PostQuery(const std::string&, const std::vector<std::uint8_t>&, int) override {
    throw std::runtime_error("transport exploded");
  }
  void CancelAll() override {}
};

TEST(AnchorWorkerTest, ExceptionInTheAnchoringThreadIsRecordedNotFatal) {
  unit_test::TempDir dir;
  TokenLogOptions log_options;
  log_options.path = dir.Sub("log.db");
  auto log = TokenLog::Open(log_options);
  ASSERT_TRUE(log) << log.error().ToString();
  TokenRecord record;
  record.serial_hex = "01";
  record.gen_time_us = 1'795'599'086'000'000;
  record.policy = unit_test::kDefaultPolicy;
  record.hash_oid = unit_test::kSha256Oid;
  record.digest.assign(32, 7);
  record.token_der = {0x30, 0x03, 0x02, 0x01, 0x01};
  ASSERT_TRUE((*log)->Append(record));

  AnchorOptions options;
  options.urls = {"http://127.0.0.1:9/tsr"};
  options.min_backoff = std::chrono::seconds(1);
  options.interval = std::chrono::seconds(1);
  CheckpointSigner signer = [](const Hash&) -> Result<CheckpointToken> {
    return CheckpointToken{{0x30, 0x00}, "0a", 1'795'599'086'000'001};
  };
  ThrowingTransport transport;
  unit_test::FakeClock clock(1'795'599'090'000'000);  // the attempt is stamped with the injected clock
  AnchorWorker worker(options, **log, signer, transport, clock);
  ASSERT_TRUE(worker.Start());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (worker.GetStatus().failed == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const AnchorStatus status = worker.GetStatus();
  EXPECT_GE(status.failed, 1u);
  EXPECT_NE(status.last_error.find("transport exploded"), std::string::npos) << status.last_error;
  EXPECT_EQ(status.last_attempt_us, 1'795'599'090'000'000);
  worker.Stop();  // the shutdown cycle throws too, and is caught as well
}

}  // namespace
}  // namespace tsa::audit
