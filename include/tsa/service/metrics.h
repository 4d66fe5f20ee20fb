// Prometheus metrics for GET /metrics, built on prometheus-cpp's core (registry, families, text
// serializer); tsad's own HTTP server serves them. The hot path only touches atomics: every label
// child is resolved at start-up (per policy x hash, per failInfo, per route x status code), and
// the histograms are lock-free bucket arrays (prometheus-cpp's Histogram takes a mutex per
// Observe). Gauges that describe state (log size, clock, certificate, process) are read at scrape
// time. Names and meanings: README "Metrics".
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tsa/core/request.h"

namespace prometheus {
class Counter;
template <typename T>
class Family;
class Registry;
}  // namespace prometheus

namespace tsa::service {

class AuditService;
class Issuer;
struct IssueOutcome;

// A histogram with fixed upper bounds, observed with two relaxed atomic increments (no lock): its
// bucket and the sum (in integer units of `unit`, e.g. nanoseconds).
class AtomicHistogram {
 public:
  AtomicHistogram(std::vector<double> bounds, double unit);
  void Observe(double value);
  void ObserveUnits(std::uint64_t units);  // value = units * unit, without a floating-point sum
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    std::uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  double unit_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<std::uint64_t> sum_units_{0};
};

// What only the HTTP server knows at scrape time.
struct ServerGauges {
  std::size_t open_connections = 0;
  std::size_t worker_threads = 0;  // I/O threads plus the blocking pool
};

// The responses of one route, by status code, and their duration. A (route, code) child is added
// to the family on its first use (under prometheus-cpp's lock) and cached in an atomic slot, so
// that the exposition shows only codes that happened and later requests count lock-free.
class RouteMetrics {
 public:
  void Observe(int status, std::chrono::nanoseconds duration);

 private:
  friend class Metrics;
  static constexpr std::array<int, 14> kCodes = {200, 400, 401, 403, 404, 405, 408, 413, 414, 429, 431, 500, 503, 505};
  std::string route_;
  prometheus::Family<prometheus::Counter>* family_ = nullptr;
  std::array<std::atomic<prometheus::Counter*>, kCodes.size()> by_code_{};
  AtomicHistogram* duration_ = nullptr;
};

// Why an HTTPS connection ended before its first request (tsad_tls_handshake_failures_total).
enum class TlsFailure { kHandshake, kTimeout, kPlaintext };

class Metrics {
 public:
  // Pre-resolves the token counters for the policies and hashes this TSA accepts.
  explicit Metrics(const core::IssuancePolicy& policy);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- hot path: atomics only ---
  // A time-stamp reply that left: granted (by policy and hash) or rejected (by failInfo).
  void CountOutcome(const IssueOutcome& outcome);
  void ObserveSigning(std::chrono::nanoseconds duration);
  // One token log transaction: how many tokens it held, how long it took, whether it committed.
  void ObserveLogCommit(std::size_t tokens, std::chrono::nanoseconds duration, bool ok);
  void CountAuthFailure();
  void CountRateLimited();
  // An accepted connection, by transport (tsad_connections_total{transport="http"|"https"}).
  void CountConnection(bool tls);
  void CountTlsHandshakeFailure(TlsFailure reason);
  // The counters of one route (resolved once at start-up; the pointer lives as long as this).
  RouteMetrics* ForRoute(const std::string& route);

  // --- rare ---
  void CountAnchorAttempt(const std::string& tsa_url, bool ok);

  // The text exposition format (Prometheus 0.0.4) of every metric, with the state gauges read now.
  std::string Render(Issuer& issuer, const AuditService& audit, const ServerGauges& server) const;

 private:
  struct Families;
  std::unique_ptr<Families> f_;
};

// The policy's index in what Metrics resolved: 0 the default policy, i + 1 accepted_policies[i].
int PolicyIndex(const core::IssuancePolicy& policy, const std::string& oid);

}  // namespace tsa::service
