#include "tsa/app/daemon_options.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>

#include "tsa/core/hash_algorithm.h"
#include "tsa/core/rate_limit.h"
#include "tsa/crypto/verifier.h"
#include "tsa/service/logging.h"

namespace tsa::app {
namespace {

// --tls-cert/--tls-key (both or neither), the client CA, --no-http.
Status ApplyTlsOptions(const Config& c, http::HttpOptions* o) {
  o->serve_http = c.serve_http;
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "--tls-cert and --tls-key go together (HTTPS needs both)");
  }
  if (c.tls_cert.empty()) {
    if (!c.tls_client_ca.empty() || c.tls_require_client_cert) {
      return MakeError(ErrorKind::kInvalidArgument,
                       "--tls-client-ca and --tls-require-client-cert need --tls-cert and --tls-key");
    }
    if (!c.serve_http) return MakeError(ErrorKind::kInvalidArgument, "--no-http needs --tls-cert and --tls-key");
    return Ok();
  }
  http::TlsOptions tls;
  tls.port = c.tls_port;
  tls.files.cert_path = c.tls_cert;
  tls.files.key_path = c.tls_key;
  tls.files.client_ca_path = c.tls_client_ca;
  tls.files.require_client_cert = c.tls_require_client_cert;
  tls.files.allow_readable_key = c.allow_readable_key;
  tls.files.pkcs11_module = c.pkcs11_module;
  o->tls = std::move(tls);
  return Ok();
}

// --rate-limit (per client) and --global-rate-limit, e.g. "100/s burst 200" (core/rate_limit.h).
Status ApplyRateLimits(const Config& c, http::HttpOptions* o) {
  for (const auto& [text, target, flag] : {std::tuple{&c.rate_limit, &o->rate_limit, "--rate-limit"},
                                           std::tuple{&c.global_rate_limit, &o->global_rate_limit, "--global-rate-limit"}}) {
    if (text->empty()) continue;
    auto spec = core::ParseRate(*text);
    if (!spec) return MakeError(ErrorKind::kInvalidArgument, std::string(flag) + ": " + spec.error().message);
    *target = *spec;
  }
  return Ok();
}

}  // namespace

Result<core::IssuancePolicy> BuildPolicy(const Config& c) {
  core::IssuancePolicy p;
  if (c.policy.empty()) return MakeError(ErrorKind::kInvalidArgument, "no default policy OID (--policy / TSA_POLICY)");
  p.default_policy = c.policy;
  p.accepted_policies = c.accepted_policies;
  for (const auto& name : c.hashes) {
    if (name.empty()) continue;
    const auto alg = core::HashAlgorithmFromName(name);
    if (!alg) return MakeError(ErrorKind::kInvalidArgument, "unknown hash algorithm '" + name + "' in --hash");
    if (*alg == core::HashAlgorithm::kSha1 && !c.allow_sha1) {
      return MakeError(ErrorKind::kInvalidArgument, "SHA-1 is listed in --hash but not allowed: add --allow-sha1");
    }
    p.accepted_hashes.push_back(*alg);
  }
  if (c.allow_sha1 && !p.Accepts(core::HashAlgorithm::kSha1)) p.accepted_hashes.push_back(core::HashAlgorithm::kSha1);
  if (p.accepted_hashes.empty())
    return MakeError(ErrorKind::kInvalidArgument, "the list of accepted hash algorithms (--hash) is empty");
  return p;
}

audit::TokenLogOptions LogOptionsFor(const Config& config, std::shared_ptr<service::Metrics> metrics) {
  audit::TokenLogOptions options;
  options.path = config.db_path;
  options.keep_token = config.store_tokens;
  if (config.log_layout_given) {
    options.layout = config.log_layout == "tiles" ? store::LogLayout::kTiles : store::LogLayout::kSqlite;
  }
  options.synchronous_full = config.synchronous_full;
  options.gather_us = config.log_gather_us;
  options.writer_nice = config.log_writer_nice;
  options.on_commit = [metrics = std::move(metrics)](std::size_t tokens, std::chrono::nanoseconds took, bool ok) {
    metrics->ObserveLogCommit(tokens, took, ok);
  };
  return options;
}

Result<audit::AnchorOptions> AnchorOptionsFor(const Config& config, const std::string& origin,
                                              std::shared_ptr<service::Metrics> metrics) {
  audit::AnchorOptions options;
  if (config.anchor_enabled) options.urls = config.anchor_tsas;
  options.interval = std::chrono::seconds(config.anchor_interval_s);
  options.mode = config.anchor_mode == "all" ? audit::AnchorMode::kAll : audit::AnchorMode::kFirst;
  options.timeout_s = config.anchor_timeout_s;
  options.min_backoff = std::chrono::seconds(config.anchor_retry_min_s);
  options.origin = origin;
  options.on_attempt = [metrics = std::move(metrics)](bool ok, const std::string& url, std::uint64_t tree_size,
                                                      const std::string& error) {
    metrics->CountAnchorAttempt(url, ok);
    if (ok) {
      service::LogEvent(spdlog::level::info, "anchored", {{"tsa", url}, {"tree_size", tree_size}});
    } else {
      service::LogEvent(spdlog::level::warn, "anchor_failed", {{"tsa", url}, {"tree_size", tree_size}, {"error", error}});
    }
  };
  if (!config.anchor_ca.empty()) {
    std::ifstream in(config.anchor_ca);
    if (!in) return MakeError(ErrorKind::kInvalidArgument, "cannot read --anchor-ca " + config.anchor_ca);
    options.ca_pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    TSA_TRY(crypto::CountPemCertificates(options.ca_pem, "--anchor-ca " + config.anchor_ca));
  }
  return options;
}

Result<std::vector<audit::Witness>> WitnessesFor(const Config& config) {
  std::vector<audit::Witness> witnesses;
  for (const std::string& spec : config.witnesses) {
    TSA_ASSIGN_OR_RETURN(audit::Witness witness, audit::ParseWitnessSpec(spec));
    witnesses.push_back(std::move(witness));
  }
  return witnesses;
}

audit::WitnessOptions WitnessOptionsFor(const Config& config, std::vector<audit::Witness> witnesses) {
  audit::WitnessOptions options;
  options.witnesses = std::move(witnesses);
  options.timeout_s = config.witness_timeout_s;
  options.on_result = [](const std::string& witness, bool ok, std::uint64_t tree_size, const std::string& error) {
    if (ok) {
      service::LogEvent(spdlog::level::debug, "witness_cosigned", {{"witness", witness}, {"tree_size", tree_size}});
    } else {
      service::LogEvent(spdlog::level::warn, "witness_failed",
                        {{"witness", witness}, {"tree_size", tree_size}, {"error", error}});
    }
  };
  return options;
}

Result<http::HttpOptions> HttpOptionsFor(const Config& config) {
  http::HttpOptions o;
  o.host = config.host;
  o.port = config.port;
  o.io_threads = config.io_threads;
  o.max_connections = config.max_connections;
  o.max_in_flight = config.max_in_flight;
  o.max_request_bytes = config.max_request_bytes;
  o.max_data_bytes = config.max_data_bytes;
  o.max_header_bytes = config.max_header_bytes;
  o.max_headers = config.max_headers;
  o.max_uri_bytes = config.max_uri_bytes;
  o.read_timeout_s = config.read_timeout_s;
  o.keep_alive_timeout_s = config.keep_alive_timeout_s;
  o.cert_warn_days = config.cert_warn_days;
  o.metrics_from = config.metrics_from == "any"      ? http::MetricsAccess::kAny
                   : config.metrics_from == "client" ? http::MetricsAccess::kClient
                                                     : http::MetricsAccess::kLoopback;
  if (o.metrics_from == http::MetricsAccess::kClient && config.clients_file.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "--metrics-from client needs --clients");
  }
  TSA_TRY(ApplyRateLimits(config, &o));
  TSA_TRY(ApplyTlsOptions(config, &o));
  return o;
}

}  // namespace tsa::app
