#include "tsa/service/issuer.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <variant>

#include "tsa/core/der.h"
#include "tsa/core/request.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/service/metrics.h"

namespace tsa::service {

Result<std::unique_ptr<Issuer>> Issuer::Create(Config config, std::shared_ptr<crypto::TokenSigner> signer,
                                               std::shared_ptr<core::ClockSource> clock, std::shared_ptr<audit::TokenLog> log) {
  TSA_ASSIGN_OR_RETURN(const std::int64_t last_gen_time, log->LastGenTimeUs());
  // Private constructor of a factory.
  std::unique_ptr<Issuer> issuer(new Issuer(config, std::move(signer), std::move(clock), std::move(log)));  // NOLINT
  std::lock_guard lock(issuer->issuance_mutex_);
  issuer->gate_.Seed(last_gen_time);
  // The epoch is a clock reading (ARCHITECTURE.md "Serial numbers"), so it is taken only from a
  // reading the gate accepts: synchronised where required, and not behind the log's last genTime.
  // Otherwise the first issuance whose reading passes the gate claims it.
  const core::ClockReading reading = issuer->clock_->Read();
  if (!issuer->gate_.Problem(reading)) TSA_TRY(issuer->ClaimSpaceLocked(reading.now));
  return issuer;
}

Issuer::Issuer(Config config, std::shared_ptr<crypto::TokenSigner> signer, std::shared_ptr<core::ClockSource> clock,
               std::shared_ptr<audit::TokenLog> log)
    : config_(std::move(config)),
      signer_(std::move(signer)),
      clock_(std::move(clock)),
      log_(std::move(log)),
      gate_(config.clock_mode, signer_->options().accuracy) {}

Status Issuer::ClaimSpaceLocked(core::UnixMicros gen_time) {
  if (space_) return Ok();
  TSA_ASSIGN_OR_RETURN(std::uint64_t epoch, log_->ClaimSerialEpoch(config_.instance, gen_time));
  if (epoch >= (1ULL << 56)) return MakeError(ErrorKind::kInternal, "serial epoch out of range");
  space_ = core::SerialSpace{config_.instance, epoch};
  return Ok();
}

std::optional<core::SerialSpace> Issuer::serial_space() {
  std::lock_guard lock(issuance_mutex_);
  return space_;
}

IssueOutcome Issuer::Rejected(core::Rejection rejection, std::string hash_algorithm, std::string internal_error) {
  IssueOutcome out;
  out.der = core::EncodeRejection(rejection);
  out.rejection = std::move(rejection);
  out.hash_algorithm = std::move(hash_algorithm);
  out.internal_error = std::move(internal_error);
  return out;
}

IssueOutcome Issuer::Issue(std::span<const std::uint8_t> der_request) {
  return IssueImpl(der_request, config_.log_tokens, nullptr);
}

Result<audit::CheckpointToken> Issuer::IssueCheckpointToken(const audit::Hash& imprint) {
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha256;
  spec.digest.assign(imprint.begin(), imprint.end());
  spec.cert_req = true;
  TSA_ASSIGN_OR_RETURN(auto der, crypto::EncodeRequest(spec));
  audit::CheckpointToken token;
  IssueOutcome out = IssueImpl(der, false, &token.token_der);
  if (!out.granted()) {
    return MakeError(ErrorKind::kUnavailable, std::string("tsad could not time-stamp the checkpoint: ") +
                                                  core::FailInfoName(out.rejection->fail_info) +
                                                  (out.internal_error.empty() ? "" : " (" + out.internal_error + ")"));
  }
  token.serial_hex = out.serial_hex;
  token.gen_time_us = out.gen_time;
  return token;
}

IssueOutcome Issuer::IssueImpl(std::span<const std::uint8_t> der_request, bool append_to_log,
                               std::vector<std::uint8_t>* token_out) {
  Signed s = SignImpl(der_request, append_to_log, token_out);
  if (!s.record) return std::move(s.outcome);
  // The token leaves only once it is durably in the log (AUDIT_CHAIN.md).
  if (Status st = log_->Append(std::move(*s.record)); !st) return LogFailed(s.outcome, st);
  return std::move(s.outcome);
}

void Issuer::IssueAsync(std::span<const std::uint8_t> der_request, std::function<void(IssueOutcome)> done,
                        const std::vector<std::string>* allowed_policies) {
  // Ended when the token is queued: the log's writer may wait for it (CPU-bound signing).
  audit::TokenLog::Announcement coming = config_.log_tokens ? log_->Announce() : audit::TokenLog::Announcement();
  Signed s = SignImpl(der_request, config_.log_tokens, nullptr, allowed_policies);
  if (!s.record) {
    done(std::move(s.outcome));
    return;
  }
  // The log's completion resumes the request; no thread waits for the commit.
  log_->AppendAsync(
      std::move(*s.record),
      [outcome = std::move(s.outcome), done = std::move(done)](const Status& st) mutable {
        done(st ? std::move(outcome) : LogFailed(outcome, st));
      },
      std::move(coming));
}

IssueOutcome Issuer::LogFailed(const IssueOutcome& signed_outcome, const Status& log_status) {
  return Rejected(core::Reject(core::FailInfo::kSystemFailure, "System failure."), signed_outcome.hash_algorithm,
                  "token log: " + log_status.error().message);
}

std::shared_ptr<crypto::TokenSigner> Issuer::signer() const {
  std::lock_guard lock(signer_mutex_);
  return signer_;
}

void Issuer::ReplaceSigner(std::shared_ptr<crypto::TokenSigner> signer) {
  std::lock_guard lock(signer_mutex_);
  signer_ = std::move(signer);
}

void Issuer::RecordReload(ReloadStatus status) {
  std::lock_guard lock(reload_mutex_);
  last_reload_ = std::move(status);
}

Issuer::ReloadStatus Issuer::LastReload() const {
  std::lock_guard lock(reload_mutex_);
  return last_reload_;
}

Issuer::Signed Issuer::SignImpl(std::span<const std::uint8_t> der_request, bool append_to_log,
                                std::vector<std::uint8_t>* token_out, const std::vector<std::string>* allowed_policies) {
  // One signer for the whole request: a reload in between does not mix two certificates.
  const std::shared_ptr<crypto::TokenSigner> signer = this->signer();
  return SignWith(*signer, der_request, append_to_log, token_out, allowed_policies);
}

Issuer::Signed Issuer::SignWith(crypto::TokenSigner& signer, std::span<const std::uint8_t> der_request, bool append_to_log,
                                std::vector<std::uint8_t>* token_out, const std::vector<std::string>* allowed_policies) {
  // Steps 1-7 of the processing order (conformance §1.3): decode, then validate.
  auto decoded = crypto::DecodeRequest(der_request);
  if (auto* rejection = std::get_if<core::Rejection>(&decoded)) return Final(Rejected(std::move(*rejection), ""));
  const auto& request = std::get<core::TimeStampRequest>(decoded);
  const auto known = core::HashAlgorithmFromOid(request.hash_oid);
  std::string alg_name = known ? core::Info(*known).name : request.hash_oid;
  if (auto rejection = core::ValidateRequest(request, signer.options().policy))
    return Final(Rejected(std::move(*rejection), alg_name));
  // A client limited to some policies (README "Clients and API keys"): the policy the token would
  // carry must be one of them, like an unaccepted reqPolicy (RFC 3161 §2.4.2).
  if (allowed_policies != nullptr && !allowed_policies->empty()) {
    const std::string& effective = request.policy ? *request.policy : signer.options().policy.default_policy;
    if (std::find(allowed_policies->begin(), allowed_policies->end(), effective) == allowed_policies->end()) {
      return Final(Rejected(core::Reject(core::FailInfo::kUnacceptedPolicy, "Policy not allowed for this client."), alg_name));
    }
  }

  // Steps 8-9: genTime and serial under one lock, so genTime never decreases in serial order.
  core::UnixMicros gen_time = 0;
  core::SerialSpace space{};
  std::uint64_t counter = 0;
  {
    // The clock is read under the lock: a reading taken before another request's must not be
    // checked after it, or the gate would see time going backwards.
    std::lock_guard lock(issuance_mutex_);
    const core::ClockReading reading = clock_->Read();
    auto gate = gate_.Next(reading);
    if (gate.rejection) return Final(Rejected(std::move(*gate.rejection), alg_name, gate_.Problem(reading).value_or("clock")));
    gen_time = *gate.gen_time;
    // EN 319 421 §7.6.7: never sign outside the certificate's validity (or the key's usage
    // period). Checked per token: a certificate can expire while tsad runs.
    if (!signer.material().UsableAt(static_cast<std::time_t>(gen_time / 1'000'000))) {
      return Final(Rejected(core::Reject(core::FailInfo::kSystemFailure, "System failure."), alg_name,
                            "the TSA certificate is not valid at " + std::to_string(gen_time / 1'000'000) +
                                " (outside notBefore/notAfter or the privateKeyUsagePeriod)"));
    }
    if (Status claimed = ClaimSpaceLocked(gen_time); !claimed) {
      return Final(Rejected(core::Reject(core::FailInfo::kSystemFailure, "System failure."), alg_name,
                            "claiming a serial epoch: " + claimed.error().message));
    }
    space = *space_;
    counter = ++counter_;
  }
  const auto serial = core::EncodeSerial(space, counter);
  std::string serial_hex = core::SerialHex(space, counter);

  // Step 10: sign.
  const auto sign_start = std::chrono::steady_clock::now();
  auto signed_der = signer.Sign(request.der, serial, gen_time);
  if (config_.metrics) config_.metrics->ObserveSigning(std::chrono::steady_clock::now() - sign_start);
  if (!signed_der) {
    return Final(Rejected(core::Reject(core::FailInfo::kSystemFailure, "System failure."), alg_name,
                          "signing: " + signed_der.error().message));
  }

  Signed out;
  if (append_to_log) {
    audit::TokenRecord& record = out.record.emplace();
    record.serial_hex = serial_hex;
    record.gen_time_us = gen_time;
    record.policy = core::EffectivePolicy(request, signer.options().policy);
    record.hash_oid = request.hash_oid;
    record.digest = request.digest;
    record.token_der = std::move(signed_der->token_der);
  } else if (token_out != nullptr) {
    *token_out = std::move(signed_der->token_der);
  }
  out.outcome.der = std::move(signed_der->response_der);
  out.outcome.serial_hex = std::move(serial_hex);
  out.outcome.hash_algorithm = std::move(alg_name);
  out.outcome.hash = known;
  out.outcome.policy_index = request.policy ? PolicyIndex(signer.options().policy, *request.policy) : 0;
  out.outcome.gen_time = gen_time;
  return out;
}

Result<std::vector<std::uint8_t>> Issuer::DigestRequest(core::HashAlgorithm algorithm, const std::vector<std::uint8_t>& digest) {
  crypto::RequestSpec spec;
  spec.hash = algorithm;
  spec.digest = digest;
  spec.cert_req = true;
  return crypto::EncodeRequest(spec);
}

IssueOutcome Issuer::IssueForDigest(core::HashAlgorithm algorithm, const std::vector<std::uint8_t>& digest) {
  auto der = DigestRequest(algorithm, digest);
  if (!der) {
    return Rejected(core::Reject(core::FailInfo::kSystemFailure, "System failure."), core::Info(algorithm).name,
                    "building the request: " + der.error().message);
  }
  return Issue(*der);
}

void Issuer::IssueForDigestAsync(core::HashAlgorithm algorithm, const std::vector<std::uint8_t>& digest,
                                 std::function<void(IssueOutcome)> done, const std::vector<std::string>* allowed_policies) {
  auto der = DigestRequest(algorithm, digest);
  if (!der) {
    done(Rejected(core::Reject(core::FailInfo::kSystemFailure, "System failure."), core::Info(algorithm).name,
                  "building the request: " + der.error().message));
    return;
  }
  IssueAsync(*der, std::move(done), allowed_policies);
}

IssueOutcome Issuer::Rejection(core::FailInfo fail_info, std::string status_string, std::string internal_error) {
  return Rejected(core::Reject(fail_info, std::move(status_string)), "", std::move(internal_error));
}

std::optional<std::string> Issuer::ClockProblem() {
  std::lock_guard lock(issuance_mutex_);  // read under the lock, as Issue does
  return gate_.Problem(clock_->Read());
}

}  // namespace tsa::service
