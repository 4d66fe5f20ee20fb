#include "tsa/app/signer_reloader.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "tsa/core/serial.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/verifier.h"
#include "tsa/service/logging.h"
#include "tsa/store/schema.h"

namespace tsa::app {
namespace {

constexpr auto kRetryInterval = std::chrono::seconds(1);

crypto::SignerFiles SignerFilesOf(const Config& config) {
  crypto::SignerFiles files = crypto::SignerFilesInDirectory(config.cert_dir);
  if (!config.key_file.empty()) files.key_path = config.key_file;
  if (!config.cert_file.empty()) files.cert_path = config.cert_file;
  if (!config.chain_file.empty()) files.chain_path = config.chain_file;
  files.allow_readable_key = config.allow_readable_key;
  files.pkcs11_module = config.pkcs11_module;
  return files;
}

// Signs one token outside the log (serial counter 0, never used for a real token) and checks it
// with the shared verifier: the server checks its own signing path before it serves.
Status SelfTest(crypto::TokenSigner& signer, const core::SerialSpace& space, core::UnixMicros now_us) {
  crypto::RequestSpec spec;
  spec.hash = signer.options().policy.accepted_hashes.front();
  spec.digest.assign(core::Info(spec.hash).digest_length, 0x5a);
  spec.nonce = crypto::RandomNonce();
  TSA_ASSIGN_OR_RETURN(auto request, crypto::EncodeRequest(spec));
  TSA_ASSIGN_OR_RETURN(auto response, signer.Sign(request, core::EncodeSerial(space, 0), now_us));
  crypto::VerifyOptions verify;
  verify.tsa_cert_pem = signer.material().certificate_pem();
  verify.ca_pem = signer.material().chain_pem();
  verify.request_der = request;
  auto verified = crypto::Verify(response.response_der, verify);
  if (!verified) return MakeError(ErrorKind::kCrypto, "self-test token does not verify: " + verified.error().message);
  return Ok();
}

}  // namespace

Status RecordCertificate(audit::TokenLog& log, const crypto::SignerMaterial& m, const std::string& event, core::UnixMicros now) {
  store::CertificateEvent e{now, event, m.certificate_sha256(), m.subject(), m.certificate_pem()};
  return log.Write([&e](store::LogStore& store) { return store.RecordCertificateEvent(e); });
}

Result<std::shared_ptr<crypto::TokenSigner>> BuildSigner(const Config& config, const crypto::SignerOptions& options,
                                                         core::UnixMicros now) {
  TSA_ASSIGN_OR_RETURN(auto material, crypto::SignerMaterial::Load(SignerFilesOf(config), core::UnixSeconds(now)));
  TSA_ASSIGN_OR_RETURN(std::unique_ptr<crypto::TokenSigner> signer, crypto::TokenSigner::Create(material, options));
  if (!signer->direct_fallback_reason().empty()) {
    service::LogEvent(
        spdlog::level::warn, "direct_encoder_unused",
        {{"reason", signer->direct_fallback_reason()}, {"effect", "tokens are signed by OpenSSL's TS_RESP (slower)"}});
  }
  // The self-test token is never sent or logged: its serial (epoch 1, counter 0) is never used.
  TSA_TRY(SelfTest(*signer, core::SerialSpace{static_cast<std::uint16_t>(config.instance_id), 1}, now));
  return std::shared_ptr<crypto::TokenSigner>(std::move(signer));
}

SignerReloader::SignerReloader(const Config& config, crypto::SignerOptions options, service::Issuer& issuer)
    : config_(config), options_(std::move(options)), issuer_(issuer) {}

void SignerReloader::Reload() {
  const core::UnixMicros now = issuer_.ReadClock().now;
  auto next = BuildSigner(config_, options_, now);
  if (!next) {
    const auto current = issuer_.signer();
    service::LogEvent(spdlog::level::err, "reload_failed",
                      {{"error", next.error().message},
                       {"kept_cert", current->material().subject()},
                       {"kept_cert_sha256", current->material().certificate_sha256()}});
    issuer_.RecordReload({core::UnixSeconds(now), next.error().message});
    return;
  }
  Swap(std::move(*next), "reloaded");
  issuer_.RecordReload({core::UnixSeconds(now), ""});
}

void SignerReloader::RetryIfFailing() {
  const auto failure = issuer_.signer()->Failure();
  if (!failure) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_retry_ < kRetryInterval) return;
  last_retry_ = now;
  auto next = BuildSigner(config_, options_, issuer_.ReadClock().now);
  if (!next) {
    if (next.error().message != last_retry_error_) {
      last_retry_error_ = next.error().message;
      service::LogEvent(spdlog::level::err, "signing_key_unavailable",
                        {{"error", *failure}, {"retry", last_retry_error_}, {"effect", "requests get systemFailure"}});
    }
    return;
  }
  last_retry_error_.clear();
  Swap(std::move(*next), "signing_key_recovered");
}

void SignerReloader::Swap(std::shared_ptr<crypto::TokenSigner> next, const char* event) {
  const auto previous = issuer_.signer();
  const auto& m = next->material();
  const core::UnixMicros now = issuer_.ReadClock().now;
  service::LogEvent(spdlog::level::info, event,
                    {{"cert", m.subject()},
                     {"cert_sha256", m.certificate_sha256()},
                     {"previous_cert_sha256", previous->material().certificate_sha256()},
                     {"key", m.key_source()},
                     {"key_type", m.key_description()},
                     {"cert_days_left", (m.not_after() - core::UnixSeconds(now)) / 86400}});
  const std::string kind = std::string(event) == "reloaded" ? "reload" : "recovered";
  if (Status st = RecordCertificate(issuer_.log(), next->material(), kind, now); !st) {
    service::LogEvent(spdlog::level::err, "certificate_event_not_logged", {{"error", st.error().message}});
  }
  issuer_.ReplaceSigner(std::move(next));
}

}  // namespace tsa::app
