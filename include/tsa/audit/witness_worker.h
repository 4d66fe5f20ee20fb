// Witness cosigning (c2sp.org/tlog-witness): a background thread ("tsad-witness") submits each new
// signed checkpoint to every configured witness with POST <url>/add-checkpoint, the body being
//   "old <size the witness last cosigned>\n" <consistency proof lines, base64> "\n" <the note>
// (RFC 6962 §2.1.2 proof from the old size, none when it is 0). It verifies every returned
// cosignature/v1 against the witness's key (audit/cosignature.h), stores the good ones through
// LogStore (GET /log/checkpoint then serves them after the log's signature), and answers the
// status codes: 409 with a text/x.tlog.size body gives the witness's real size, and the request is
// retried once from it; 403/404/422/other are failures. A witness that is down, slow (per-request
// timeout) or wrong never blocks issuance: its status is kept for /health, /metrics and the log,
// and it is retried with backoff. AUDIT_CHAIN.md "Witnesses" describes what a cosignature adds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "tsa/audit/checkpoint_publisher.h"
#include "tsa/audit/cosignature.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"
#include "tsa/core/result.h"

namespace tsa::audit {

struct WitnessReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// How add-checkpoint requests reach a witness (HTTP(S) in production; src/http).
class WitnessTransport {
 public:
  virtual ~WitnessTransport() = default;
  // POSTs `body` (text/plain) to `url`; any HTTP status is a reply, a transport failure an error.
  virtual Result<WitnessReply> Post(const std::string& url, const std::string& body, int timeout_s) = 0;
  // Aborts requests in flight (shutdown).
  virtual void CancelAll() = 0;
};

struct Witness {
  std::string url;  // the submission prefix: requests go to <url>/add-checkpoint
  WitnessKey key;
};

// "URL=VKEY" (--witness): the URL up to the first '=', the verifier key after it.
Result<Witness> ParseWitnessSpec(const std::string& spec);

struct WitnessOptions {
  std::vector<Witness> witnesses;
  int timeout_s = 10;                              // per request
  std::chrono::milliseconds period{1000};          // how often the thread looks for a new checkpoint
  std::chrono::seconds max_backoff{60};            // retry delay after failures doubles up to this
  std::chrono::seconds max_future_timestamp{600};  // a cosignature dated further ahead is rejected
  // Called after every submission (from the witness thread), for the operator's log and metrics.
  std::function<void(const std::string& witness, bool ok, std::uint64_t tree_size, const std::string& error)> on_result;
};

struct WitnessStatus {
  std::string name;  // the witness's key name
  std::string url;
  std::uint64_t cosigned_size = 0;           // largest size with a stored cosignature
  std::int64_t last_cosigned_timestamp = 0;  // the latest cosignature's own timestamp (POSIX s; 0: none)
  std::int64_t last_success_us = 0;          // since start (0: none)
  std::int64_t last_attempt_us = 0;
  std::string last_error;  // of the last attempt; empty when it succeeded
  std::uint64_t consecutive_failures = 0;
  std::uint64_t failures = 0;      // since start
  std::uint64_t cosignatures = 0;  // stored since start
  std::uint64_t conflicts = 0;     // 409 with the witness's size, since start
};

class WitnessWorker {
 public:
  // `latest`: the latest signed checkpoint (the publisher's).
  using LatestCheckpoint = std::function<std::optional<PublishedCheckpoint>()>;
  WitnessWorker(WitnessOptions options, TokenLog& log, LatestCheckpoint latest, WitnessTransport& transport,
                core::ClockSource& clock);
  ~WitnessWorker();  // Stop()

  // Reads what each witness cosigned from the log, then starts the thread (no-op without witnesses).
  Status Start();
  void Stop();
  // One round on the caller's thread: every witness that has not cosigned the latest checkpoint
  // and is not backing off gets it. Thread-safe (one round at a time).
  void SubmitOnce();

  std::vector<WitnessStatus> Statuses() const;
  // The stored cosignature lines of the checkpoint of this size ("" when none), in witness order.
  std::string CosignatureLines(std::uint64_t tree_size) const;

 private:
  struct State {
    Witness witness;
    std::uint64_t known_size = 0;  // the size we believe the witness last cosigned
    std::chrono::steady_clock::time_point next_try{};
    std::chrono::seconds backoff{1};
  };
  void Run(std::stop_token stop);
  Status LoadState();
  // One add-checkpoint exchange (plus the one retry after a 409 with the witness's size).
  Status Submit(State& s, const PublishedCheckpoint& cp);
  Result<std::string> RequestBody(std::uint64_t old_size, const PublishedCheckpoint& cp);
  Status StoreCosignatures(State& s, const PublishedCheckpoint& cp, const std::string& reply_body);
  void Record(State& s, const PublishedCheckpoint& cp, const Status& result);

  WitnessOptions options_;
  TokenLog& log_;
  LatestCheckpoint latest_;
  WitnessTransport& transport_;
  core::ClockSource& clock_;

  std::mutex round_mutex_;  // one round at a time; guards states_
  std::vector<State> states_;

  mutable std::mutex status_mutex_;
  std::vector<WitnessStatus> statuses_;       // guarded by status_mutex_, same order as states_
  std::uint64_t lines_size_ = 0;              // guarded by status_mutex_
  std::map<std::size_t, std::string> lines_;  // witness index -> line for lines_size_; guarded

  std::mutex wait_mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped first
};

}  // namespace tsa::audit
