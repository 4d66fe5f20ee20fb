#include "tsa/audit/witness_worker.h"

#include <algorithm>

#include "tsa/audit/merkle.h"
#include "tsa/core/response_info.h"
#include "tsa/core/thread_name.h"

namespace tsa::audit {
namespace {

// The note's body: the checkpoint text the cosignature covers (without signature lines).
std::string NoteBody(const std::string& note) {
  const auto split = note.rfind("\n\n");
  return split == std::string::npos ? note : note.substr(0, split + 1);
}

// tlog-witness: a 409 whose body is the witness's size ("<decimal>\n", text/x.tlog.size).
std::optional<std::uint64_t> WitnessSize(const WitnessReply& reply) {
  const std::string type = reply.content_type.substr(0, reply.content_type.find(';'));
  if (type != "text/x.tlog.size") return std::nullopt;
  const std::string& b = reply.body;
  if (b.size() < 2 || b.size() > 21 || b.back() != '\n') return std::nullopt;
  const std::string digits = b.substr(0, b.size() - 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

std::string FirstLine(const std::string& body) {
  std::string line = body.substr(0, std::min(body.find('\n'), std::size_t{200}));
  return line.empty() ? "" : ": " + line;
}

}  // namespace

Result<Witness> ParseWitnessSpec(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return MakeError(ErrorKind::kInvalidArgument, "--witness wants URL=VKEY, got \"" + spec + "\"");
  }
  Witness w;
  w.url = spec.substr(0, eq);
  while (!w.url.empty() && w.url.back() == '/') w.url.pop_back();
  if (w.url.rfind("http://", 0) != 0 && w.url.rfind("https://", 0) != 0) {
    return MakeError(ErrorKind::kInvalidArgument, "--witness URL must be http(s): " + w.url);
  }
  TSA_ASSIGN_OR_RETURN(w.key, ParseWitnessKey(spec.substr(eq + 1)));
  return w;
}

WitnessWorker::WitnessWorker(WitnessOptions options, TokenLog& log, LatestCheckpoint latest, WitnessTransport& transport,
                             core::ClockSource& clock)
    : options_(std::move(options)), log_(log), latest_(std::move(latest)), transport_(transport), clock_(clock) {
  for (const Witness& w : options_.witnesses) {
    states_.push_back(State{w});
    WitnessStatus st;
    st.name = w.key.name;
    st.url = w.url;
    statuses_.push_back(st);
  }
}

WitnessWorker::~WitnessWorker() { Stop(); }

Status WitnessWorker::Start() {
  if (states_.empty()) return Ok();
  TSA_TRY(LoadState());
  thread_ = std::jthread([this](std::stop_token st) {
    core::NameThisThread("tsad-witness");
    Run(st);
  });
  return Ok();
}

void WitnessWorker::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  transport_.CancelAll();
  wake_.notify_all();
  thread_.join();
}

Status WitnessWorker::LoadState() {
  std::lock_guard round(round_mutex_);
  const auto latest = latest_();
  return log_.Read([&](store::LogStore& log) -> Status {
    std::vector<store::CosignatureRow> rows;
    if (latest) {
      TSA_ASSIGN_OR_RETURN(rows, log.Cosignatures(latest->tree_size));
    }
    std::lock_guard lock(status_mutex_);
    lines_size_ = latest ? latest->tree_size : 0;
    for (std::size_t i = 0; i < states_.size(); ++i) {
      const WitnessKey& key = states_[i].witness.key;
      TSA_ASSIGN_OR_RETURN(states_[i].known_size, log.LatestCosignedSize(key.name, key.key_id));
      statuses_[i].cosigned_size = states_[i].known_size;
      for (const store::CosignatureRow& r : rows) {
        if (r.witness == key.name && r.key_id == static_cast<std::int64_t>(key.key_id)) {
          lines_[i] = r.line;
          statuses_[i].last_cosigned_timestamp = r.timestamp;
        }
      }
    }
    return Ok();
  });
}

void WitnessWorker::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(wait_mutex_);
      wake_.wait_for(lock, stop, options_.period, [] { return false; });
    }
    if (stop.stop_requested()) break;
    SubmitOnce();
  }
}

void WitnessWorker::SubmitOnce() {
  std::lock_guard round(round_mutex_);
  const auto latest = latest_();
  if (!latest || latest->tree_size == 0) return;
  for (State& s : states_) {
    if (s.known_size >= latest->tree_size) continue;  // cosigned (or ahead: reported when it was seen)
    if (std::chrono::steady_clock::now() < s.next_try) continue;
    Status result = MakeError(ErrorKind::kInternal, "no result");
    // The witness thread's top: whatever a witness or the log throws is this witness's failure.
    try {
      result = Submit(s, *latest);
    } catch (const std::exception& e) {
      result = MakeError(ErrorKind::kInternal, std::string("exception: ") + e.what());
    } catch (...) {
      result = MakeError(ErrorKind::kInternal, "unknown exception");
    }
    Record(s, *latest, result);
  }
}

Result<std::string> WitnessWorker::RequestBody(std::uint64_t old_size, const PublishedCheckpoint& cp) {
  std::string body = "old " + std::to_string(old_size) + "\n";
  if (old_size > 0 && old_size < cp.tree_size) {
    std::vector<Hash> proof;
    TSA_TRY(log_.Read([&](store::LogStore& log) -> Status {
      TSA_ASSIGN_OR_RETURN(proof, ConsistencyProof(TokenLog::Nodes(log), old_size, cp.tree_size));
      return Ok();
    }));
    for (const Hash& h : proof) body += core::Base64(std::vector<std::uint8_t>(h.begin(), h.end())) + "\n";
  }
  return body + "\n" + cp.note;
}

Status WitnessWorker::Submit(State& s, const PublishedCheckpoint& cp) {
  std::uint64_t old_size = s.known_size;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (old_size > cp.tree_size) {
      return MakeError(ErrorKind::kUnavailable, "the witness has cosigned size " + std::to_string(old_size) +
                                                    ", beyond this log's " + std::to_string(cp.tree_size));
    }
    TSA_ASSIGN_OR_RETURN(std::string body, RequestBody(old_size, cp));
    TSA_ASSIGN_OR_RETURN(WitnessReply reply, transport_.Post(s.witness.url + "/add-checkpoint", body, options_.timeout_s));
    if (reply.status == 200) return StoreCosignatures(s, cp, reply.body);
    if (reply.status == 409) {
      const auto size = WitnessSize(reply);
      if (!size) {
        return MakeError(ErrorKind::kUnavailable,
                         "HTTP 409: the witness holds another root for size " + std::to_string(old_size) + FirstLine(reply.body));
      }
      std::lock_guard lock(status_mutex_);
      statuses_[static_cast<std::size_t>(&s - states_.data())].conflicts += 1;
      if (*size == old_size) break;  // no progress possible: report
      old_size = *size;              // tlog-witness: retry from the size the witness has
      s.known_size = *size;          // and start from it next time too
      continue;
    }
    return MakeError(ErrorKind::kUnavailable, "HTTP " + std::to_string(reply.status) + FirstLine(reply.body));
  }
  return MakeError(ErrorKind::kUnavailable, "HTTP 409: the witness's size stays inconsistent (" + std::to_string(old_size) + ")");
}

Status WitnessWorker::StoreCosignatures(State& s, const PublishedCheckpoint& cp, const std::string& reply_body) {
  auto cosigs = VerifyCosignatures(reply_body, s.witness.key, NoteBody(cp.note));
  if (!cosigs) return MakeError(cosigs.error().kind, "rejected: " + cosigs.error().message);
  const core::ClockReading now = clock_.Read();
  const std::int64_t limit_s = now.now / 1'000'000 + options_.max_future_timestamp.count();
  for (const Cosignature& c : *cosigs) {
    if (static_cast<std::int64_t>(c.timestamp) > limit_s) {
      return MakeError(ErrorKind::kCrypto, "rejected: the cosignature is dated " + std::to_string(c.timestamp) +
                                               ", in the future (now " + std::to_string(now.now / 1'000'000) + ")");
    }
  }
  const Cosignature& best = cosigs->back();
  store::CosignatureRow row{s.witness.key.name,
                            static_cast<std::int64_t>(s.witness.key.key_id),
                            static_cast<std::int64_t>(cp.tree_size),
                            static_cast<std::int64_t>(best.timestamp),
                            best.line,
                            now.now};
  TSA_TRY(log_.Write([&](store::LogStore& log) { return log.InsertCosignature(row); }));
  s.known_size = cp.tree_size;
  const std::size_t i = static_cast<std::size_t>(&s - states_.data());
  std::lock_guard lock(status_mutex_);
  if (lines_size_ != cp.tree_size) {
    lines_.clear();
    lines_size_ = cp.tree_size;
  }
  lines_[i] = best.line;
  statuses_[i].cosigned_size = cp.tree_size;
  statuses_[i].last_cosigned_timestamp = row.timestamp;
  statuses_[i].cosignatures += 1;
  return Ok();
}

void WitnessWorker::Record(State& s, const PublishedCheckpoint& cp, const Status& result) {
  const std::size_t i = static_cast<std::size_t>(&s - states_.data());
  const std::int64_t now_us = clock_.Read().now;
  if (result) {
    s.backoff = std::chrono::seconds(1);
    s.next_try = {};
  } else {
    s.next_try = std::chrono::steady_clock::now() + s.backoff;
    s.backoff = std::min(s.backoff * 2, options_.max_backoff);
  }
  {
    std::lock_guard lock(status_mutex_);
    WitnessStatus& st = statuses_[i];
    st.last_attempt_us = now_us;
    if (result) {
      st.last_success_us = now_us;
      st.last_error.clear();
      st.consecutive_failures = 0;
    } else {
      st.last_error = result.error().message;
      st.consecutive_failures += 1;
      st.failures += 1;
    }
  }
  if (options_.on_result)
    options_.on_result(s.witness.key.name, result.has_value(), cp.tree_size, result ? "" : result.error().message);
}

std::vector<WitnessStatus> WitnessWorker::Statuses() const {
  std::lock_guard lock(status_mutex_);
  return statuses_;
}

std::string WitnessWorker::CosignatureLines(std::uint64_t tree_size) const {
  std::lock_guard lock(status_mutex_);
  if (tree_size != lines_size_) return "";
  std::string out;
  for (const auto& [index, line] : lines_) out += line;
  return out;
}

}  // namespace tsa::audit
