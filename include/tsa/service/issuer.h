// "Issue a token": composes request decoding (crypto), validation (core), the clock gate and serial
// allocation (core, under one issuance lock), signing (crypto) and the durable token log (audit).
// The HTTP layer calls only this.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tsa/audit/anchor_worker.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"
#include "tsa/core/decision.h"
#include "tsa/core/hash_algorithm.h"
#include "tsa/core/serial.h"
#include "tsa/crypto/token_signer.h"

namespace tsa::service {

class Metrics;

struct IssueOutcome {
  std::vector<std::uint8_t> der;             // the DER TimeStampResp to send (always set)
  std::optional<core::Rejection> rejection;  // set for a rejection
  std::string serial_hex;                    // set for a grant
  std::string hash_algorithm;                // imprint algorithm name, when the request decoded
  std::optional<core::HashAlgorithm> hash;   // the same, when it is one tsad knows (metrics)
  int policy_index = -1;                     // of a grant: PolicyIndex of TSTInfo.policy (metrics)
  core::UnixMicros gen_time = 0;             // set for a grant
  std::string internal_error;                // why a systemFailure happened (logs only, never sent)

  bool granted() const { return !rejection.has_value(); }
};

// Thread-safe; one instance serves every worker thread.
class Issuer {
 public:
  struct Config {
    std::uint16_t instance = 0;
    core::ClockMode clock_mode = core::ClockMode::kRequireSync;
    bool log_tokens = true;            // false: tokens are not appended to the audit log (benchmarks, --no-audit-log)
    std::shared_ptr<Metrics> metrics;  // signing durations (may be null)
  };

  // Seeds the clock gate with the log's last genTime, and claims a fresh serial space in the log
  // when the clock passes the gate now (otherwise the first issuance that passes it claims one).
  static Result<std::unique_ptr<Issuer>> Create(Config config, std::shared_ptr<crypto::TokenSigner> signer,
                                                std::shared_ptr<core::ClockSource> clock, std::shared_ptr<audit::TokenLog> log);

  // Answers one DER TimeStampReq (RFC 3161 §2.4). Never throws; every failure is a rejection with
  // exactly one failInfo, internal ones systemFailure.
  IssueOutcome Issue(std::span<const std::uint8_t> der_request);

  // Raw-data mode: a request for this imprint with certReq TRUE and no nonce.
  IssueOutcome IssueForDigest(core::HashAlgorithm algorithm, const std::vector<std::uint8_t>& digest);

  // The same, asynchronously (the HTTP server): decoding, validation and signing run on the
  // caller's thread; `done` runs once with the outcome, after the token's log commit on the log
  // writer's thread (post the continuation elsewhere), or on the caller's thread for a rejection
  // or when the log refuses the token at once. No thread waits for the commit.
  // `allowed_policies` (an authenticated client's, non-empty): TSTInfo.policy must be one of them,
  // else unacceptedPolicy (the list must outlive the call; it is read before signing).
  void IssueAsync(std::span<const std::uint8_t> der_request, std::function<void(IssueOutcome)> done,
                  const std::vector<std::string>* allowed_policies = nullptr);
  void IssueForDigestAsync(core::HashAlgorithm algorithm, const std::vector<std::uint8_t>& digest,
                           std::function<void(IssueOutcome)> done, const std::vector<std::string>* allowed_policies = nullptr);

  // A rejection decided outside the pipeline (the HTTP layer: an unsupported ?hash=, an internal
  // exception), as the same DER TimeStampResp.
  static IssueOutcome Rejection(core::FailInfo fail_info, std::string status_string, std::string internal_error = {});

  // How long the HTTP layer waits for an asynchronous issuance before it answers systemFailure.
  int log_timeout_ms() const { return log_->append_timeout_ms(); }

  // tsad's own token over a checkpoint imprint (SHA-256, certReq TRUE): same clock gate, serial
  // space and signer as every token, but recorded with the checkpoint instead of as a leaf.
  Result<audit::CheckpointToken> IssueCheckpointToken(const audit::Hash& imprint);

  // For /health: the clock problem that would stop issuance now, if any.
  std::optional<std::string> ClockProblem();
  core::ClockReading ReadClock() { return clock_->Read(); }

  // The signer of new requests. A request holds its own reference for its whole pipeline, so a
  // signer replaced by ReplaceSigner (SIGHUP reload, HSM recovery) finishes what it started.
  std::shared_ptr<crypto::TokenSigner> signer() const;
  // Swaps in a signer whose material the caller has checked (and self-tested). Its options must be
  // the ones this issuer was created with (policy, accuracy: the clock gate depends on them).
  void ReplaceSigner(std::shared_ptr<crypto::TokenSigner> signer);

  // The last SIGHUP reload (for /health): when, and why it failed (empty: it succeeded).
  struct ReloadStatus {
    std::time_t at = 0;  // 0: no reload was attempted
    std::string error;
  };
  void RecordReload(ReloadStatus status);
  ReloadStatus LastReload() const;
  audit::TokenLog& log() { return *log_; }
  // The serial space of this run; nullopt until the clock has let one be claimed.
  std::optional<core::SerialSpace> serial_space();
  core::ClockMode clock_mode() const { return config_.clock_mode; }
  // False under --no-audit-log: tokens are issued without being logged.
  bool logs_tokens() const { return config_.log_tokens; }

 private:
  Issuer(Config config, std::shared_ptr<crypto::TokenSigner> signer, std::shared_ptr<core::ClockSource> clock,
         std::shared_ptr<audit::TokenLog> log);
  // Claims the serial space at gen_time (a reading that passed the gate) if none is held yet.
  // Called under issuance_mutex_.
  Status ClaimSpaceLocked(core::UnixMicros gen_time);
  // The pipeline up to the signature: a final outcome, or a granted outcome whose record must be
  // committed to the log before the token may leave.
  struct Signed {
    IssueOutcome outcome;
    std::optional<audit::TokenRecord> record;
  };
  static Signed Final(IssueOutcome outcome) { return Signed{std::move(outcome), std::nullopt}; }
  Signed SignImpl(std::span<const std::uint8_t> der_request, bool append_to_log, std::vector<std::uint8_t>* token_out,
                  const std::vector<std::string>* allowed_policies = nullptr);
  Signed SignWith(crypto::TokenSigner& signer, std::span<const std::uint8_t> der_request, bool append_to_log,
                  std::vector<std::uint8_t>* token_out, const std::vector<std::string>* allowed_policies);
  // The synchronous pipeline; `token_out` receives the token DER of a grant not logged.
  IssueOutcome IssueImpl(std::span<const std::uint8_t> der_request, bool append_to_log, std::vector<std::uint8_t>* token_out);
  static IssueOutcome LogFailed(const IssueOutcome& signed_outcome, const Status& log_status);
  static Result<std::vector<std::uint8_t>> DigestRequest(core::HashAlgorithm algorithm, const std::vector<std::uint8_t>& digest);
  static IssueOutcome Rejected(core::Rejection rejection, std::string hash_algorithm, std::string internal_error = {});

  Config config_;
  // Read by every request (a copy under the lock, held for the whole request). An
  // atomic<shared_ptr> avoided the I/O threads' sleeps on this mutex, but GCC 12's implementation
  // drew a ThreadSanitizer report (store against load) that we could not rule out; the sleeps
  // were mostly on the issuance lock, whose hold time no longer includes adjtimex.
  mutable std::mutex signer_mutex_;
  std::shared_ptr<crypto::TokenSigner> signer_;  // guarded by signer_mutex_
  mutable std::mutex reload_mutex_;
  ReloadStatus last_reload_;  // guarded by reload_mutex_
  std::shared_ptr<core::ClockSource> clock_;
  std::shared_ptr<audit::TokenLog> log_;
  std::mutex issuance_mutex_;  // guards gate_, space_ and counter_: serial and genTime are taken together
  core::ClockGate gate_;
  std::optional<core::SerialSpace> space_;
  std::uint64_t counter_ = 0;
};

}  // namespace tsa::service
