#include "tsa/audit/anchor_worker.h"

#include <algorithm>

#include "tsa/audit/checkpoint.h"
#include "tsa/core/thread_name.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"

namespace tsa::audit {

AnchorWorker::AnchorWorker(AnchorOptions options, TokenLog& log, CheckpointSigner signer, AnchorTransport& transport,
                           core::ClockSource& clock)
    : options_(std::move(options)), log_(log), signer_(std::move(signer)), transport_(transport), clock_(clock) {
  status_.enabled = !options_.urls.empty();
}

AnchorWorker::~AnchorWorker() { Stop(); }

Status AnchorWorker::Start() {
  if (options_.urls.empty()) return Ok();
  {
    std::lock_guard lock(cycle_mutex_);
    TSA_TRY(LoadCurrent());
  }
  thread_ = std::jthread([this](std::stop_token st) {
    core::NameThisThread("tsad-anchor");
    Run(st);
  });
  return Ok();
}

void AnchorWorker::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  transport_.CancelAll();
  wake_.notify_all();
  thread_.join();
}

AnchorStatus AnchorWorker::GetStatus() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

Status AnchorWorker::LoadCurrent() {
  current_.reset();
  return log_.Read([this](store::LogStore& log) -> Status {
    TSA_ASSIGN_OR_RETURN(auto cp, log.LatestCheckpoint());
    if (!cp) return Ok();
    Current c;
    c.checkpoint_id = cp->id;
    c.tree_size = static_cast<std::uint64_t>(cp->tree_size);
    c.token_der = std::move(cp->tsa_token);
    c.text = cp->checkpoint;
    auto parsed = ParseCheckpoint(c.text);
    c.is_note = parsed && parsed->is_note();
    c.gen_time_us = cp->tsa_gen_time_us;
    TSA_ASSIGN_OR_RETURN(auto anchored, log.AnchorAttempts(c.checkpoint_id, /*ok_only=*/true));
    for (const store::AnchorAttemptRow& a : anchored) {
      if (std::find(c.anchored_urls.begin(), c.anchored_urls.end(), a.tsa_url) == c.anchored_urls.end())
        c.anchored_urls.push_back(a.tsa_url);
    }
    TSA_ASSIGN_OR_RETURN(auto last_success, log.LastAnchorSuccessUs());
    {
      std::lock_guard lock(status_mutex_);
      status_.last_success_us = last_success.value_or(0);
      if (!c.anchored_urls.empty()) status_.anchored_tree_size = c.tree_size;
    }
    current_ = std::move(c);
    return Ok();
  });
}

bool AnchorWorker::Satisfied(const Current& c) const {
  if (options_.mode == AnchorMode::kFirst) return !c.anchored_urls.empty();
  return std::all_of(options_.urls.begin(), options_.urls.end(), [&](const std::string& url) {
    return std::find(c.anchored_urls.begin(), c.anchored_urls.end(), url) != c.anchored_urls.end();
  });
}

Result<std::optional<Checkpoint>> AnchorWorker::Target() {
  if (!options_.over_notes) {
    const LogHead head = log_.Head();
    if (head.size == 0) return std::optional<Checkpoint>();  // nothing issued yet
    return std::optional<Checkpoint>(Checkpoint{options_.origin, head.size, head.root, ""});
  }
  std::optional<store::SignedCheckpointRow> latest;
  TSA_TRY(log_.Read([&](store::LogStore& log) -> Status {
    TSA_ASSIGN_OR_RETURN(latest, log.LatestSignedCheckpoint());
    return Ok();
  }));
  if (!latest || latest->tree_size <= 0) return std::optional<Checkpoint>();
  TSA_ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(latest->note));
  if (!cp.is_note()) return MakeError(ErrorKind::kStorage, "the stored signed checkpoint is not a note");
  return std::optional<Checkpoint>(std::move(cp));
}

Status AnchorWorker::NewCheckpoint(const Checkpoint& cp) {
  const std::string text = cp.Text();
  TSA_ASSIGN_OR_RETURN(CheckpointToken token, signer_(cp.Imprint()));
  Current c;
  c.tree_size = cp.tree_size;
  c.text = text;
  c.is_note = cp.is_note();
  c.token_der = token.token_der;
  c.gen_time_us = token.gen_time_us;
  store::CheckpointRow row{0,
                           static_cast<std::int64_t>(cp.tree_size),
                           std::vector<std::uint8_t>(cp.root.begin(), cp.root.end()),
                           text,
                           token.token_der,
                           token.serial_hex,
                           token.gen_time_us,
                           clock_.Read().now};
  TSA_TRY(log_.Write([&](store::LogStore& log) -> Status {
    TSA_ASSIGN_OR_RETURN(c.checkpoint_id, log.InsertCheckpoint(row));
    return Ok();
  }));
  current_ = std::move(c);
  return Ok();
}

void AnchorWorker::Record(bool ok, const std::string& error) {
  std::lock_guard lock(status_mutex_);
  status_.last_attempt_us = clock_.Read().now;
  if (ok) {
    status_.last_success_us = status_.last_attempt_us;
    status_.last_error.clear();
    status_.consecutive_failures = 0;
    status_.succeeded += 1;
    if (current_) status_.anchored_tree_size = current_->tree_size;
  } else {
    status_.last_error = error;
    status_.consecutive_failures += 1;
    status_.failed += 1;
  }
}

Status AnchorWorker::Attempt(const std::string& url, int timeout_s) {
  Current& c = *current_;
  // The external TSA time-stamps the signed note itself, as tsad's token does, so that each
  // anchor ties the note to external time on its own. A legacy text: tsad's token over it.
  const Hash imprint = c.is_note ? Sha256(c.text) : Sha256(c.token_der.data(), c.token_der.size());
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha256;
  spec.digest.assign(imprint.begin(), imprint.end());
  spec.nonce = crypto::RandomNonce();
  spec.cert_req = true;
  TSA_ASSIGN_OR_RETURN(auto request, crypto::EncodeRequest(spec));

  std::string error;
  std::vector<std::uint8_t> reply;
  std::int64_t ext_gen_time = 0;
  std::string ext_serial;
  auto posted = transport_.PostQuery(url, request, timeout_s);
  if (!posted) {
    error = posted.error().message;
  } else {
    // Verify before storing: status granted, imprint, nonce, certReq, signature (and the chain
    // when a trust bundle is configured).
    crypto::VerifyOptions verify;
    verify.ca_pem = options_.ca_pem;
    verify.request_der = request;
    auto verified = crypto::Verify(*posted, verify);
    if (!verified) {
      error = "reply rejected: " + verified.error().message;
    } else {
      reply = std::move(*posted);
      ext_gen_time = verified->token->gen_time_us;
      ext_serial = verified->token->serial_hex;
    }
  }
  const bool ok = error.empty();
  const std::int64_t checkpoint_id = c.checkpoint_id;
  store::AnchorAttemptRow attempt{0,     checkpoint_id, url,   clock_.Read().now, ok,
                                  error, spec.nonce,    reply, ext_gen_time,      ext_serial};
  Status stored = log_.Write([&](store::LogStore& log) { return log.InsertAnchorAttempt(attempt); });
  if (!stored) error = ok ? "anchor reply could not be stored: " + stored.error().message : error;
  const bool success = ok && stored;
  if (success) c.anchored_urls.push_back(url);
  if (options_.on_attempt) options_.on_attempt(success, url, c.tree_size, error);
  Record(success, url + ": " + error);
  if (!success) return MakeError(ErrorKind::kUnavailable, url + ": " + error);
  return Ok();
}

Status AnchorWorker::RunCycle(int timeout_s, std::chrono::steady_clock::time_point deadline, std::stop_token stop) {
  std::lock_guard lock(cycle_mutex_);
  auto target = Target();
  if (!target) {
    Record(false, "checkpoint: " + target.error().message);
    return target.error();
  }
  if (!*target) return Ok();  // nothing issued (or signed) yet
  const Checkpoint& cp = **target;
  if (!current_ || current_->tree_size != cp.tree_size || current_->is_note != cp.is_note()) {
    if (Status st = NewCheckpoint(cp); !st) {
      Record(false, "checkpoint: " + st.error().message);
      return st;
    }
  }
  if (Satisfied(*current_)) return Ok();
  Status last = MakeError(ErrorKind::kUnavailable, "no anchor TSA configured");
  for (const auto& url : options_.urls) {
    if (std::find(current_->anchored_urls.begin(), current_->anchored_urls.end(), url) != current_->anchored_urls.end()) continue;
    if (stop.stop_requested()) return MakeError(ErrorKind::kUnavailable, "stopping");
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left < 1) return MakeError(ErrorKind::kUnavailable, "anchoring cycle out of time");
    last = Attempt(url, static_cast<int>(std::min<long long>(timeout_s, left)));
    if (last && options_.mode == AnchorMode::kFirst) return Ok();  // failover: the first success is enough
  }
  return Satisfied(*current_) ? Ok() : last;
}

Status AnchorWorker::GuardedCycle(int timeout_s, std::chrono::steady_clock::time_point deadline, std::stop_token stop) {
  // The anchoring thread's top: an exception here (a transport, the log, the operator's callback)
  // must not call std::terminate on the whole TSA. It counts as a failed attempt, which /health
  // shows, and the thread retries with its back-off. Issuance never depends on anchoring.
  std::string what;
  try {
    return RunCycle(timeout_s, deadline, stop);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  Record(false, "anchoring thread: exception: " + what);
  return MakeError(ErrorKind::kInternal, "anchoring thread: exception: " + what);
}

void AnchorWorker::Run(std::stop_token stop) {
  auto backoff = options_.min_backoff;
  auto next = std::chrono::steady_clock::now();  // start-up: anchor at once if the head moved
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(wait_mutex_);
      wake_.wait_until(lock, stop, next, [] { return false; });
    }
    if (stop.stop_requested()) break;
    const Status st = GuardedCycle(options_.timeout_s, std::chrono::steady_clock::time_point::max(), stop);
    if (st) {
      backoff = options_.min_backoff;
      next = std::chrono::steady_clock::now() + options_.interval;
    } else {
      next = std::chrono::steady_clock::now() + backoff;
      backoff = std::min<std::chrono::seconds>(backoff * 2, std::max(options_.interval, options_.min_backoff));
    }
  }
  // Shutdown: one last attempt when the head moved since the last anchored checkpoint, bounded as
  // a whole (not per TSA) so that hanging TSAs cannot hold the process.
  (void)GuardedCycle(options_.shutdown_timeout_s,
                     std::chrono::steady_clock::now() + std::chrono::seconds(options_.shutdown_timeout_s), {});
}

}  // namespace tsa::audit
