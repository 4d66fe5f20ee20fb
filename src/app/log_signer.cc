#include "tsa/app/log_signer.h"

#include <filesystem>

#include "tsa/crypto/ed25519_key.h"

namespace tsa::app {
Result<LogSignerChoice> BuildLogSigner(const Config& config, const std::string& subject_rfc2253) {
  const bool explicit_key = !config.log_key.empty();
  const std::string path = explicit_key ? config.log_key : (std::filesystem::path(config.cert_dir) / "log_key.pem").string();
  LogSignerChoice choice;
  if (!explicit_key && !std::filesystem::exists(path)) {
    choice.warning = "no log key " + path + " (make one with tsa-certgen --log-key-only --dir DIR, or give --log-key): " +
                     "no C2SP checkpoints, tiles or tlog-proofs are served";
    return choice;
  }
  auto key = crypto::Ed25519Key::LoadPem(path);
  if (!key) return MakeError(key.error().kind, "--log-key: " + key.error().message);
  const std::string origin = config.log_origin.empty() ? audit::DefaultLogOrigin(subject_rfc2253) : config.log_origin;
  TSA_ASSIGN_OR_RETURN(auto signer, audit::NoteSigner::Make(origin, std::move(*key)));
  choice.signer = std::move(signer);
  return choice;
}

}  // namespace tsa::app
