// What tsad tells its operator once it listens: the "started" event (every setting that decides
// how tokens are issued and logged, README "Logging") and the warnings about settings that are
// not for production (an unlogged TSA, an unsynchronised clock, obsolete flags).
#pragma once

#include <optional>

#include "tsa/app/config.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"
#include "tsa/core/request.h"
#include "tsa/crypto/signer_material.h"
#include "tsa/crypto/tls_context.h"
#include "tsa/crypto/token_signer.h"
#include "tsa/service/clients.h"

namespace tsa::app {

struct StartupFacts {
  const Config& config;
  int port = 0;      // the bound HTTP port (port 0 asks the kernel for one)
  int tls_port = 0;  // the bound HTTPS port, when tls_cert is set
  std::optional<crypto::TlsCertificateInfo> tls_cert;
  const crypto::SignerMaterial& material;
  crypto::SignerOptions::Engine engine;
  const core::IssuancePolicy& policy;
  const core::Accuracy& accuracy;
  const core::ClockReading& clock;
  bool trust_unsynced = false;
  const audit::TokenLog& log;
  std::size_t witnesses = 0;
  const service::ClientRegistry* clients = nullptr;  // null: POST /tsa is open
};

void LogStarted(const StartupFacts& facts);
void LogStartupWarnings(const StartupFacts& facts);

}  // namespace tsa::app
