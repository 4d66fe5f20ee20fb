// The C2SP checkpoint signer from the configuration: the Ed25519 log key (--log-key, default
// <cert-dir>/log_key.pem) and the origin (--log-origin, default "<TSA certificate CN>/log").
#pragma once

#include <optional>
#include <string>

#include "tsa/app/config.h"
#include "tsa/audit/signed_note.h"
#include "tsa/core/result.h"

namespace tsa::app {

struct LogSignerChoice {
  std::optional<audit::NoteSigner> signer;  // nullopt: no C2SP checkpoints
  std::string warning;                      // why not, when the default key file is absent
};
// An explicit --log-key that cannot be read is an error; an absent default key is a warning.
Result<LogSignerChoice> BuildLogSigner(const Config& config, const std::string& subject_rfc2253);

}  // namespace tsa::app
