// Publishes the log head as C2SP tlog-checkpoint signed notes (c2sp.org/tlog-checkpoint): a
// background thread signs a new checkpoint at most `period` after the log grows, stores it
// through LogStore (one root per size) and keeps the latest in memory for GET /log/checkpoint.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "tsa/audit/signed_note.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"

namespace tsa::audit {

struct PublishedCheckpoint {
  std::uint64_t tree_size = 0;
  std::string note;
};

class CheckpointPublisher {
 public:
  // Loads the latest stored note, publishes the current head at once, then starts the thread.
  static Result<std::unique_ptr<CheckpointPublisher>> Start(TokenLog& log, NoteSigner signer, core::ClockSource& clock,
                                                            std::chrono::milliseconds period = std::chrono::seconds(1));
  ~CheckpointPublisher();

  // Signs and stores the head when it moved since the last note. Thread-safe.
  Status PublishOnce();
  std::optional<PublishedCheckpoint> Latest() const;
  const NoteSigner& signer() const { return signer_; }
  std::string last_error() const;

 private:
  CheckpointPublisher(TokenLog& log, NoteSigner signer, core::ClockSource& clock, std::chrono::milliseconds period)
      : log_(log), signer_(std::move(signer)), clock_(clock), period_(period) {}
  void Run(std::stop_token stop);

  TokenLog& log_;
  const NoteSigner signer_;
  core::ClockSource& clock_;
  const std::chrono::milliseconds period_;
  std::mutex publish_mutex_;  // one PublishOnce at a time
  mutable std::mutex mutex_;
  std::optional<PublishedCheckpoint> latest_;  // guarded by mutex_
  std::string last_error_;                     // guarded by mutex_
  std::mutex wait_mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped first
};

}  // namespace tsa::audit
