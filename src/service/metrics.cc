#include "tsa/service/metrics.h"

#include "tsa/core/build_version.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <ctime>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>

#include "tsa/core/decision.h"
#include "tsa/core/hash_algorithm.h"
#include "tsa/crypto/library_version.h"
#include "tsa/service/audit_service.h"
#include "tsa/service/issuer.h"
#include "tsa/service/process_stats.h"

namespace tsa::service {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr double kNanos = 1e-9;
constexpr std::size_t kFailInfoSlots = 32;  // FailInfo values are bit numbers below 32

// Seconds: from 100 µs (a signature) to 10 s (the log's append timeout).
const std::vector<double> kRequestBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const std::vector<double> kSigningBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1};
const std::vector<double> kCommitBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

ClientMetric Value(double v, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = v;
  return m;
}

MetricFamily Gauge(std::string name, std::string help, std::vector<ClientMetric> values) {
  return MetricFamily{std::move(name), std::move(help), MetricType::Gauge, std::move(values)};
}

// A counter whose values come from elsewhere (a worker's totals), as Gauge builds gauges.
MetricFamily CounterFamily(std::string name, std::string help, std::vector<ClientMetric> values) {
  for (ClientMetric& m : values) m.counter.value = m.gauge.value;
  return MetricFamily{std::move(name), std::move(help), MetricType::Counter, std::move(values)};
}

MetricFamily HistogramFamily(std::string name, std::string help,
                             const std::vector<std::pair<std::string, const AtomicHistogram*>>& series,
                             const std::string& label) {
  MetricFamily family{std::move(name), std::move(help), MetricType::Histogram, {}};
  for (const auto& [value, histogram] : series) {
    const auto snap = histogram->Read();
    ClientMetric m;
    if (!label.empty()) m.label.push_back({label, value});
    m.histogram.sample_count = snap.count;
    m.histogram.sample_sum = snap.sum;
    const auto& bounds = histogram->bounds();
    for (std::size_t i = 0; i < bounds.size(); ++i) m.histogram.bucket.push_back({snap.cumulative[i], bounds[i]});
    m.histogram.bucket.push_back({snap.cumulative.back(), std::numeric_limits<double>::infinity()});
    family.metric.push_back(std::move(m));
  }
  return family;
}

double Seconds(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

// The token log's size, queue and health (a failed writer or file problem makes it 0, as /health
// says too).
void AddLogGauges(std::vector<MetricFamily>& families, const audit::TokenLog& log) {
  const auto stats = log.Stats();
  const bool log_ok = stats.last_token_commit_ok && stats.writer_failed.empty() && stats.file_problem.empty();
  families.push_back(
      Gauge("tsad_log_tree_size", "Tokens in the audit log (RFC 9162 tree size)", {Value(static_cast<double>(log.Head().size))}));
  families.push_back(Gauge("tsad_log_healthy", "1 while the token log commits (0: tokens are refused)", {Value(log_ok ? 1 : 0)}));
  families.push_back(Gauge("tsad_log_queued", "Tokens waiting for the log writer", {Value(static_cast<double>(stats.queued))}));
}

// Checkpoints, anchors and witnesses (AUDIT_CHAIN.md): present only when each is configured.
void AddAuditChainGauges(std::vector<MetricFamily>& families, const AuditService& audit) {
  if (const auto checkpoint_us = audit.LastCheckpointGenTimeUs(); checkpoint_us && *checkpoint_us > 0) {
    families.push_back(Gauge("tsad_last_checkpoint_timestamp_seconds", "genTime of the latest signed checkpoint",
                             {Value(Seconds(*checkpoint_us))}));
  }
  if (const auto anchor = audit.AnchorStatusNow()) {
    families.push_back(
        Gauge("tsad_anchor_enabled", "1 when checkpoints are anchored at external TSAs", {Value(anchor->enabled ? 1 : 0)}));
    families.push_back(Gauge("tsad_last_anchor_success_timestamp_seconds", "Last successful anchor (0: none since start)",
                             {Value(Seconds(anchor->last_success_us))}));
    families.push_back(Gauge("tsad_anchor_consecutive_failures", "Failed anchoring attempts since the last success",
                             {Value(static_cast<double>(anchor->consecutive_failures))}));
  }
  if (const auto witnesses = audit.WitnessStatuses(); !witnesses.empty()) {
    std::vector<ClientMetric> last, size, failures, cosignatures;
    for (const audit::WitnessStatus& w : witnesses) {
      const std::vector<ClientMetric::Label> label = {{"witness", w.name}};
      last.push_back(Value(static_cast<double>(w.last_cosigned_timestamp), label));
      size.push_back(Value(static_cast<double>(w.cosigned_size), label));
      failures.push_back(Value(static_cast<double>(w.failures), label));
      cosignatures.push_back(Value(static_cast<double>(w.cosignatures), label));
    }
    families.push_back(Gauge("tsad_witness_last_cosigned_timestamp_seconds",
                             "Timestamp of the latest stored cosignature of each witness (0: none)", std::move(last)));
    families.push_back(
        Gauge("tsad_witness_cosigned_tree_size", "Largest checkpoint size each witness cosigned", std::move(size)));
    families.push_back(CounterFamily("tsad_witness_failures_total", "Failed add-checkpoint submissions since start, by witness",
                                     std::move(failures)));
    families.push_back(CounterFamily("tsad_witness_cosignatures_total", "Verified cosignatures stored since start, by witness",
                                     std::move(cosignatures)));
  }
}

// The signing key and certificate, and the clock every token's genTime comes from.
void AddSigningGauges(std::vector<MetricFamily>& families, Issuer& issuer) {
  const auto clock = issuer.ReadClock();
  const std::time_t now = core::UnixSeconds(clock.now);
  const auto signer = issuer.signer();  // held: a reload may swap it meanwhile
  const auto& material = signer->material();
  families.push_back(Gauge("tsad_certificate_not_after_timestamp_seconds", "notAfter of the TSA signing certificate",
                           {Value(static_cast<double>(material.not_after()))}));
  families.push_back(Gauge("tsad_signing_key_healthy",
                           "1 when the signing key and certificate may sign now (validity, key usage period)",
                           {Value(material.UsableAt(now) ? 1 : 0)}));
  families.push_back(Gauge("tsad_clock_synchronised", "1 when the kernel reports the clock synchronised (adjtimex)",
                           {Value(clock.synchronised ? 1 : 0)}));
  if (clock.max_error_us >= 0) {
    families.push_back(Gauge("tsad_clock_max_error_seconds", "The kernel's maximum clock error (adjtimex maxerror)",
                             {Value(Seconds(clock.max_error_us))}));
  }
}

// The standard process_* families (Prometheus client conventions), from /proc.
void AddProcessGauges(std::vector<MetricFamily>& families) {
  const auto p = ReadProcessStats();
  if (!p) return;
  families.push_back(MetricFamily{"process_cpu_seconds_total", "User and system CPU time", MetricType::Counter, {}});
  families.back().metric.emplace_back().counter.value = p->cpu_seconds;
  families.push_back(Gauge("process_resident_memory_bytes", "Resident memory", {Value(p->resident_bytes)}));
  families.push_back(Gauge("process_virtual_memory_bytes", "Virtual memory", {Value(p->virtual_bytes)}));
  families.push_back(
      Gauge("process_start_time_seconds", "Start time of the process (Unix seconds)", {Value(p->start_time_seconds)}));
  families.push_back(Gauge("process_open_fds", "Open file descriptors", {Value(p->open_fds)}));
  families.push_back(Gauge("process_max_fds", "Limit of open file descriptors", {Value(p->max_fds)}));
  families.push_back(Gauge("process_threads", "Threads of the process", {Value(static_cast<double>(p->threads))}));
}

}  // namespace

AtomicHistogram::AtomicHistogram(std::vector<double> bounds, double unit)
    : bounds_(std::move(bounds)), unit_(unit), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void AtomicHistogram::ObserveUnits(std::uint64_t units) {
  const double value = static_cast<double>(units) * unit_;
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_units_.fetch_add(units, std::memory_order_relaxed);
}

void AtomicHistogram::Observe(double value) { ObserveUnits(value <= 0 ? 0 : static_cast<std::uint64_t>(value / unit_)); }

AtomicHistogram::Snapshot AtomicHistogram::Read() const {
  // The count is the buckets' total (no counter of its own: one atomic less per observation), so
  // the exposition stays consistent (+Inf == _count) even while observations race the read.
  Snapshot s;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = static_cast<double>(sum_units_.load(std::memory_order_relaxed)) * unit_;
  return s;
}

void RouteMetrics::Observe(int status, std::chrono::nanoseconds duration) {
  std::size_t i = 0;
  while (i < kCodes.size() && kCodes[i] != status) ++i;
  prometheus::Counter* counter = i < kCodes.size() ? by_code_[i].load(std::memory_order_acquire) : nullptr;
  if (counter == nullptr) {
    // Family::Add returns the existing child for the same labels: racing first uses agree.
    counter = &family_->Add({{"code", std::to_string(status)}, {"route", route_}});
    if (i < kCodes.size()) by_code_[i].store(counter, std::memory_order_release);
  }
  counter->Increment();
  duration_->ObserveUnits(static_cast<std::uint64_t>(duration.count()));
}

struct Metrics::Families {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  core::IssuancePolicy policy;
  prometheus::Family<prometheus::Counter>& granted = prometheus::BuildCounter()
                                                         .Name("tsad_tokens_granted_total")
                                                         .Help("Time-stamp tokens sent, by policy and hash")
                                                         .Register(*registry);
  prometheus::Family<prometheus::Counter>& rejected = prometheus::BuildCounter()
                                                          .Name("tsad_rejections_total")
                                                          .Help("Time-stamp rejections sent (status rejection), by failInfo")
                                                          .Register(*registry);
  prometheus::Family<prometheus::Counter>& responses = prometheus::BuildCounter()
                                                           .Name("tsad_http_responses_total")
                                                           .Help("HTTP responses, by status code and route")
                                                           .Register(*registry);
  prometheus::Family<prometheus::Counter>& auth_failures = prometheus::BuildCounter()
                                                               .Name("tsad_auth_failures_total")
                                                               .Help("Requests refused 401 (missing or wrong credentials)")
                                                               .Register(*registry);
  prometheus::Family<prometheus::Counter>& connections = prometheus::BuildCounter()
                                                             .Name("tsad_connections_total")
                                                             .Help("Connections accepted, by transport (http, https)")
                                                             .Register(*registry);
  prometheus::Family<prometheus::Counter>& tls_failures =
      prometheus::BuildCounter()
          .Name("tsad_tls_handshake_failures_total")
          .Help("HTTPS connections that ended before a request: failed handshake, handshake timeout, plain HTTP")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& rate_limited = prometheus::BuildCounter()
                                                              .Name("tsad_rate_limited_total")
                                                              .Help("Requests refused 429 (over a rate limit)")
                                                              .Register(*registry);
  prometheus::Family<prometheus::Counter>& log_commit_failures = prometheus::BuildCounter()
                                                                     .Name("tsad_log_commit_failures_total")
                                                                     .Help("Token log transactions that failed to commit")
                                                                     .Register(*registry);
  prometheus::Family<prometheus::Counter>& anchor_attempts = prometheus::BuildCounter()
                                                                 .Name("tsad_anchor_attempts_total")
                                                                 .Help(
                                                                     "Anchoring requests to external TSAs, by TSA URL and result")
                                                                 .Register(*registry);

  // [policy index][hash algorithm]; null for a hash this TSA does not accept.
  std::vector<std::array<prometheus::Counter*, 16>> granted_by;
  std::array<prometheus::Counter*, kFailInfoSlots> rejected_by{};
  prometheus::Counter* auth_failure = &auth_failures.Add({});
  prometheus::Counter* rate_limit = &rate_limited.Add({});
  std::array<prometheus::Counter*, 2> connections_by{&connections.Add({{"transport", "http"}}),
                                                     &connections.Add({{"transport", "https"}})};
  // Indexed by TlsFailure.
  std::array<prometheus::Counter*, 3> tls_failure_by{&tls_failures.Add({{"reason", "handshake"}}),
                                                     &tls_failures.Add({{"reason", "timeout"}}),
                                                     &tls_failures.Add({{"reason", "plaintext"}})};
  prometheus::Counter* commit_failure = &log_commit_failures.Add({});

  AtomicHistogram signing{kSigningBounds, kNanos};
  AtomicHistogram commit{kCommitBounds, kNanos};
  AtomicHistogram batch{kBatchBounds, 1};

  std::mutex routes_mutex;  // start-up only
  std::map<std::string, std::pair<std::unique_ptr<RouteMetrics>, std::unique_ptr<AtomicHistogram>>> routes;

  explicit Families(const core::IssuancePolicy& p) : policy(p) {
    std::vector<std::string> oids = {p.default_policy};
    oids.insert(oids.end(), p.accepted_policies.begin(), p.accepted_policies.end());
    for (const auto& oid : oids) {
      auto& row = granted_by.emplace_back();
      row.fill(nullptr);
      for (const auto alg : p.accepted_hashes) {
        row.at(static_cast<std::size_t>(alg)) = &granted.Add({{"policy", oid}, {"hash", core::Info(alg).name}});
      }
    }
    for (const auto info :
         {core::FailInfo::kBadAlg, core::FailInfo::kBadRequest, core::FailInfo::kBadDataFormat, core::FailInfo::kTimeNotAvailable,
          core::FailInfo::kUnacceptedPolicy, core::FailInfo::kUnacceptedExtension, core::FailInfo::kAddInfoNotAvailable,
          core::FailInfo::kSystemFailure}) {
      rejected_by.at(static_cast<std::size_t>(info)) = &rejected.Add({{"failinfo", core::FailInfoName(info)}});
    }
  }
};

int PolicyIndex(const core::IssuancePolicy& policy, const std::string& oid) {
  if (oid == policy.default_policy) return 0;
  for (std::size_t i = 0; i < policy.accepted_policies.size(); ++i) {
    if (policy.accepted_policies[i] == oid) return static_cast<int>(i) + 1;
  }
  return -1;
}

Metrics::Metrics(const core::IssuancePolicy& policy) : f_(std::make_unique<Families>(policy)) {}
Metrics::~Metrics() = default;

void Metrics::CountOutcome(const IssueOutcome& outcome) {
  if (outcome.rejection) {
    const auto slot = static_cast<std::size_t>(outcome.rejection->fail_info);
    if (slot < kFailInfoSlots && f_->rejected_by[slot] != nullptr) f_->rejected_by[slot]->Increment();
    return;
  }
  if (outcome.policy_index < 0 || !outcome.hash) return;
  const auto policy = static_cast<std::size_t>(outcome.policy_index);
  const auto hash = static_cast<std::size_t>(*outcome.hash);
  if (policy < f_->granted_by.size() && hash < 16 && f_->granted_by[policy][hash] != nullptr)
    f_->granted_by[policy][hash]->Increment();
}

void Metrics::ObserveSigning(std::chrono::nanoseconds d) { f_->signing.ObserveUnits(static_cast<std::uint64_t>(d.count())); }

void Metrics::ObserveLogCommit(std::size_t tokens, std::chrono::nanoseconds d, bool ok) {
  if (!ok) f_->commit_failure->Increment();
  if (tokens == 0) return;  // probes, checkpoints and epoch claims are not token commits
  f_->commit.ObserveUnits(static_cast<std::uint64_t>(d.count()));
  f_->batch.ObserveUnits(tokens);
}

void Metrics::CountAuthFailure() { f_->auth_failure->Increment(); }
void Metrics::CountRateLimited() { f_->rate_limit->Increment(); }
void Metrics::CountConnection(bool tls) { f_->connections_by[tls ? 1 : 0]->Increment(); }
void Metrics::CountTlsHandshakeFailure(TlsFailure reason) { f_->tls_failure_by[static_cast<std::size_t>(reason)]->Increment(); }

RouteMetrics* Metrics::ForRoute(const std::string& route) {
  std::lock_guard lock(f_->routes_mutex);
  auto& entry = f_->routes[route];
  if (!entry.first) {
    entry.second = std::make_unique<AtomicHistogram>(kRequestBounds, kNanos);
    entry.first = std::make_unique<RouteMetrics>();
    RouteMetrics& r = *entry.first;
    r.route_ = route;
    r.family_ = &f_->responses;
    r.duration_ = entry.second.get();
  }
  return entry.first.get();
}

void Metrics::CountAnchorAttempt(const std::string& tsa_url, bool ok) {
  f_->anchor_attempts.Add({{"tsa", tsa_url}, {"result", ok ? "ok" : "failed"}}).Increment();
}

std::string Metrics::Render(Issuer& issuer, const AuditService& audit, const ServerGauges& server) const {
  std::vector<MetricFamily> families = f_->registry->Collect();
  {
    std::vector<std::pair<std::string, const AtomicHistogram*>> routes;
    std::lock_guard lock(f_->routes_mutex);
    for (const auto& [name, entry] : f_->routes) routes.emplace_back(name, entry.second.get());
    families.push_back(
        HistogramFamily("tsad_http_request_duration_seconds", "From the request's head to its reply, by route", routes, "route"));
  }
  families.push_back(
      HistogramFamily("tsad_signing_duration_seconds", "Signing one token (TS_RESP_create_response)", {{"", &f_->signing}}, ""));
  families.push_back(HistogramFamily("tsad_log_commit_duration_seconds",
                                     "One token log transaction (group commit) including fsync", {{"", &f_->commit}}, ""));
  families.push_back(HistogramFamily("tsad_log_batch_size", "Tokens per token log transaction", {{"", &f_->batch}}, ""));
  families.push_back(Gauge("tsad_build_info", "Always 1; the labels say which build runs",
                           {Value(1, {{"version", std::string(core::BuildVersion())},
                                      {"commit", std::string(core::BuildCommit())},
                                      {"openssl", crypto::OpenSslVersionText()}})}));
  AddLogGauges(families, issuer.log());
  AddAuditChainGauges(families, audit);
  AddSigningGauges(families, issuer);
  families.push_back(
      Gauge("tsad_open_connections", "Open HTTP connections", {Value(static_cast<double>(server.open_connections))}));
  families.push_back(Gauge("tsad_worker_threads", "I/O threads plus the pool for blocking handlers",
                           {Value(static_cast<double>(server.worker_threads))}));
  AddProcessGauges(families);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace tsa::service
