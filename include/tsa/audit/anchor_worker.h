// The anchoring thread: at start-up, every interval and at shutdown, when the log head has moved,
// it takes the latest C2SP signed checkpoint note (or, without a log key, writes the legacy
// tsad-checkpoint/v1 text), has tsad sign its own token over SHA-256(note), and asks external
// TSAs to time-stamp the same note bytes (RFC 3161 request with a nonce and certReq; for a legacy
// text, tsad's token instead). Replies are verified before they are stored; failures are stored
// with their error and retried with exponential backoff. It never blocks issuance.
// AUDIT_CHAIN.md explains what this proves.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"
#include "tsa/core/result.h"

namespace tsa::audit {

// How anchor requests reach external TSAs (HTTP(S) in production; implemented in src/http).
class AnchorTransport {
 public:
  virtual ~AnchorTransport() = default;
  // POSTs a DER TimeStampReq; returns the DER reply of an HTTP 200 with the reply media type.
  virtual Result<std::vector<std::uint8_t>> PostQuery(const std::string& url, const std::vector<std::uint8_t>& der,
                                                      int timeout_s) = 0;
  // Aborts requests in flight (shutdown); later requests work again.
  virtual void CancelAll() = 0;
};

// tsad's own token over a checkpoint imprint (not a leaf of the log: it is stored with the checkpoint).
struct CheckpointToken {
  std::vector<std::uint8_t> token_der;
  std::string serial_hex;
  std::int64_t gen_time_us = 0;
};
using CheckpointSigner = std::function<Result<CheckpointToken>(const Hash& imprint)>;

enum class AnchorMode { kFirst, kAll };

struct AnchorOptions {
  std::vector<std::string> urls;  // empty: anchoring off
  std::chrono::seconds interval{3600};
  std::string ca_pem;  // trust bundle for the external TSAs (empty: signature only)
  AnchorMode mode = AnchorMode::kFirst;
  int timeout_s = 30;                    // per request
  std::chrono::seconds min_backoff{30};  // first retry delay after a failure; doubles up to interval
  int shutdown_timeout_s = 5;            // per request during the shutdown anchor
  std::string origin;                    // legacy checkpoint origin line (the TSA subject)
  // Anchor the latest signed note stored by the checkpoint publisher (LogStore::
  // LatestSignedCheckpoint) instead of writing a legacy tsad-checkpoint/v1 text: set when the
  // log has a log key.
  bool over_notes = false;
  // Called after every attempt (from the anchoring thread), for the operator's log.
  std::function<void(bool ok, const std::string& url, std::uint64_t tree_size, const std::string& error)> on_attempt;
};

struct AnchorStatus {
  bool enabled = false;
  std::int64_t last_success_us = 0;  // 0: never
  std::int64_t last_attempt_us = 0;
  std::string last_error;  // of the last failed attempt since the last success
  std::uint64_t anchored_tree_size = 0;
  std::uint64_t consecutive_failures = 0;
  std::uint64_t succeeded = 0;  // attempts since start
  std::uint64_t failed = 0;
};

class AnchorWorker {
 public:
  // `clock` stamps the stored checkpoints and the attempts (/health's anchor times).
  AnchorWorker(AnchorOptions options, TokenLog& log, CheckpointSigner signer, AnchorTransport& transport,
               core::ClockSource& clock);
  ~AnchorWorker();  // Stop()

  // Loads the last checkpoint from the log and starts the thread (no-op when no URL is set).
  Status Start();
  // Stops the thread: aborts a hanging request, then makes one last bounded attempt if the head moved.
  void Stop();
  // One anchoring cycle now, on the caller's thread (tools, tests). Returns whether it succeeded.
  // Each request gets at most timeout_s and the whole cycle ends by `deadline`; a stop request
  // ends it between requests.
  Status RunCycle(int timeout_s, std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
                  std::stop_token stop = {});

  AnchorStatus GetStatus() const;

 private:
  struct Current {
    std::int64_t checkpoint_id = 0;
    std::uint64_t tree_size = 0;
    std::string text;  // the anchored checkpoint (checkpoint.h)
    bool is_note = false;
    std::vector<std::uint8_t> token_der;
    std::int64_t gen_time_us = 0;
    std::vector<std::string> anchored_urls;  // ok replies for this checkpoint
  };
  void Run(std::stop_token stop);
  // RunCycle with every exception caught and recorded as a failed attempt.
  Status GuardedCycle(int timeout_s, std::chrono::steady_clock::time_point deadline, std::stop_token stop);
  Status LoadCurrent();
  bool Satisfied(const Current& c) const;
  // What should be anchored now: the latest signed note, or the legacy text of the head; nullopt
  // when there is nothing yet.
  Result<std::optional<Checkpoint>> Target();
  Status NewCheckpoint(const Checkpoint& cp);
  Status Attempt(const std::string& url, int timeout_s);
  void Record(bool ok, const std::string& error);

  AnchorOptions options_;
  TokenLog& log_;
  CheckpointSigner signer_;
  AnchorTransport& transport_;
  core::ClockSource& clock_;

  std::mutex cycle_mutex_;  // one cycle at a time; guards current_
  std::optional<Current> current_;

  mutable std::mutex status_mutex_;
  AnchorStatus status_;  // guarded by status_mutex_

  std::mutex wait_mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace tsa::audit
