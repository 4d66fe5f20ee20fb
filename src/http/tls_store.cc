#include "tls_store.h"

#include <nlohmann/json.hpp>

#include "tsa/core/utc.h"

namespace tsa::http {
namespace {
std::string Date(std::time_t t) { return core::FormatRfc3339(static_cast<std::int64_t>(t) * 1'000'000, core::Fraction::kNone); }
}  // namespace

Result<std::unique_ptr<TlsContextStore>> TlsContextStore::Create(crypto::TlsFiles files, std::time_t now) {
  std::unique_ptr<TlsContextStore> store(new TlsContextStore(std::move(files)));  // NOLINT: private constructor of a factory
  TSA_TRY(store->Install(now));
  return store;
}

Status TlsContextStore::Install(std::time_t now) {
  TSA_ASSIGN_OR_RETURN(crypto::TlsServerContext built, crypto::BuildTlsServerContext(files_, now));
  // Asio's context takes ownership of the SSL_CTX.
  auto context = std::make_shared<boost::asio::ssl::context>(built.ctx.release());
  std::lock_guard lock(mutex_);
  current_ = std::move(context);
  certificate_ = std::move(built.certificate);
  return Ok();
}

std::shared_ptr<boost::asio::ssl::context> TlsContextStore::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

crypto::TlsCertificateInfo TlsContextStore::Certificate() const {
  std::lock_guard lock(mutex_);
  return certificate_;
}

Status TlsContextStore::Reload(std::time_t now) {
  Status st = Install(now);
  std::lock_guard lock(mutex_);
  reload_at_ = now;
  reload_error_ = st ? "" : st.error().message;
  return st;
}

nlohmann::json TlsContextStore::Health(std::time_t now, int warn_days, std::string* warning) const {
  std::lock_guard lock(mutex_);
  const long days_left = static_cast<long>((certificate_.not_after - now) / 86400);
  const bool valid = now >= certificate_.not_before && now < certificate_.not_after;
  nlohmann::json j = {{"ok", valid},
                      {"subject", certificate_.subject},
                      {"sha256", certificate_.sha256},
                      {"not_after", Date(certificate_.not_after)},
                      {"days_left", days_left},
                      {"key", certificate_.key_source},
                      {"client_certificates", files_.client_ca_path.empty() ? "off"
                                              : files_.require_client_cert  ? "required"
                                                                            : "optional"}};
  if (reload_at_ != 0) {
    j["reload"] = {{"ok", reload_error_.empty()}, {"at", Date(reload_at_)}};
    if (!reload_error_.empty()) j["reload"]["error"] = reload_error_;
  }
  warning->clear();
  if (!valid) {
    *warning = "the TLS certificate is not valid now (not after " + Date(certificate_.not_after) + "): renew it and SIGHUP";
  } else if (!reload_error_.empty()) {
    *warning = "the last TLS reload (SIGHUP) failed, the previous certificate is still in use: " + reload_error_;
  } else if (days_left < warn_days) {
    *warning = "the TLS certificate expires in " + std::to_string(days_left) + " days (" + Date(certificate_.not_after) +
               "): renew it and SIGHUP";
  }
  return j;
}

}  // namespace tsa::http
