// The signing key's life while tsad runs: SIGHUP reloads the key, certificate and chain (README
// "Reload and rollover"), and a key whose signatures fail (an HSM removed or failing) is re-opened
// until it signs again, without a restart.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tsa/app/config.h"
#include "tsa/crypto/token_signer.h"
#include "tsa/service/issuer.h"

namespace tsa::app {

// Loads and checks the key, certificate and chain of `config` (key matches certificate, one
// critical timeStamping EKU, valid now, chain builds) and signs a self-test token that must
// verify: at start-up, on SIGHUP and on each retry of a failing key. `now` (the injected clock's
// reading) is when the certificate must be valid and the self-test token's genTime.
Result<std::shared_ptr<crypto::TokenSigner>> BuildSigner(const Config& config, const crypto::SignerOptions& options,
                                                         core::UnixMicros now);

// Records the certificate of `m` in the log's tsa_certificates table (event "start", "reload" or
// "recovered"), so that a log spanning a rollover names each certificate (AUDIT_CHAIN.md).
Status RecordCertificate(audit::TokenLog& log, const crypto::SignerMaterial& m, const std::string& event, core::UnixMicros now);

// Runs on tsad's control (signal) thread only.
class SignerReloader {
 public:
  SignerReloader(const Config& config, crypto::SignerOptions options, service::Issuer& issuer);

  // SIGHUP: swaps in the new material only when all of it passes BuildSigner; otherwise keeps the
  // old one, logs one line and records the failure for /health. Requests in flight finish with
  // the signer they started with (they hold a reference to it).
  void Reload();

  // Called every few hundred milliseconds: when the current signer's last signature failed, opens
  // the key again (at most once per retry interval) and swaps it in once a self-test passes.
  void RetryIfFailing();

 private:
  void Swap(std::shared_ptr<crypto::TokenSigner> next, const char* event);

  const Config& config_;
  crypto::SignerOptions options_;
  service::Issuer& issuer_;
  std::chrono::steady_clock::time_point last_retry_{};
  std::string last_retry_error_;  // logged once per distinct error, not once per retry
};

}  // namespace tsa::app
