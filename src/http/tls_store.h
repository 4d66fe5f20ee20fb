// The TLS context new HTTPS connections take: built from --tls-cert/--tls-key (and the client CA)
// at start-up, rebuilt on SIGHUP. A connection keeps the context it started with (a shared_ptr),
// so a reload never disturbs open connections; a reload that fails keeps the current context and
// is reported by /health until one succeeds.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tsa/core/result.h"
#include "tsa/crypto/tls_context.h"

namespace tsa::http {

class TlsContextStore {
 public:
  // Fails (one line) when the files do not make a usable context at `now`.
  static Result<std::unique_ptr<TlsContextStore>> Create(crypto::TlsFiles files, std::time_t now);

  std::shared_ptr<boost::asio::ssl::context> Current() const;
  crypto::TlsCertificateInfo Certificate() const;
  Status Reload(std::time_t now);

  // /health's "tls" check, and a warning line (empty: none): a failed reload, an expiring certificate.
  nlohmann::json Health(std::time_t now, int warn_days, std::string* warning) const;

 private:
  explicit TlsContextStore(crypto::TlsFiles files) : files_(std::move(files)) {}
  Status Install(std::time_t now);

  const crypto::TlsFiles files_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;  // guarded by mutex_
  crypto::TlsCertificateInfo certificate_;              // guarded by mutex_
  std::time_t reload_at_ = 0;                           // guarded by mutex_; 0: no reload yet
  std::string reload_error_;                            // guarded by mutex_; empty: it succeeded
};

}  // namespace tsa::http
