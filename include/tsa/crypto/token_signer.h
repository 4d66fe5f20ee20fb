// Signs time-stamp tokens (RFC 3161 §2.4.2, RFC 5816 ESSCertIDv2): by default with the direct DER
// encoder (TokenAssembler + DigestSigner), checked at start-up against OpenSSL's TS_RESP API,
// which stays as the fallback and as the benchmark's reference.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tsa/core/clock.h"
#include "tsa/core/decision.h"
#include "tsa/core/request.h"
#include "tsa/core/result.h"
#include "tsa/crypto/signer_material.h"

namespace tsa::crypto {

struct SignerOptions {
  core::IssuancePolicy policy;
  core::Accuracy accuracy;
  int clock_precision_digits = 3;  // digits of genTime's fraction (0..6); must support the accuracy
  bool include_tsa_name = true;    // TSTInfo.tsa = the certificate subject (RFC 3161 §2.4.2)
  // kDirect: TokenAssembler, used when its start-up self-test reproduces OpenSSL's token;
  // kOpenSsl: TS_RESP_create_response for every token (the reference, and the fallback).
  enum class Engine { kDirect, kOpenSsl };
  Engine engine = Engine::kDirect;
};

class TokenAssembler;
class DigestSigner;

// Thread-safe. A TS_RESP_CTX holds per-call state and is not thread-safe (conformance §5.2), so the
// signer keeps a pool of fully configured contexts, one per concurrent caller, built from the
// immutable SignerMaterial; a context is never configured while in use.
class TokenSigner {
 public:
  static Result<std::unique_ptr<TokenSigner>> Create(std::shared_ptr<const SignerMaterial> material, SignerOptions options);
  ~TokenSigner();

  // Signs a request that DecodeRequest and ValidateRequest have accepted, given as the DER that
  // DecodeRequest re-encoded (TimeStampRequest::der, not the client's bytes), with the given serial
  // (big-endian positive magnitude) and genTime. Returns the DER TimeStampResp with status
  // granted. Any other outcome of OpenSSL is an error: the caller answers systemFailure, never a
  // bare rejection (conformance §5.4).
  struct Signed {
    std::vector<std::uint8_t> response_der;  // the TimeStampResp to send
    std::vector<std::uint8_t> token_der;     // its TimeStampToken (ContentInfo), for the log
  };
  Result<Signed> Sign(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial, core::UnixMicros gen_time);

  const SignerMaterial& material() const { return *material_; }
  std::shared_ptr<const SignerMaterial> shared_material() const { return material_; }
  // The error of the last signature when it failed (an HSM removed, its module failing, its PIN
  // locked); nullopt once a signature succeeds again. For /health.
  std::optional<std::string> Failure() const;
  const SignerOptions& options() const { return options_; }
  // Which engine signs: kDirect only if it was asked for and passed the self-test.
  SignerOptions::Engine engine() const { return direct_ ? SignerOptions::Engine::kDirect : SignerOptions::Engine::kOpenSsl; }
  // Why the direct encoder was not used although asked for (empty otherwise): for the start log.
  const std::string& direct_fallback_reason() const { return direct_fallback_reason_; }

  struct PooledContext;  // defined in token_signer.cc; public only for the OpenSSL callbacks

 private:
  TokenSigner(std::shared_ptr<const SignerMaterial> material, SignerOptions options);
  Result<Signed> SignWithOpenSsl(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial,
                                 core::UnixMicros gen_time);
  Result<Signed> SignDirect(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial,
                            core::UnixMicros gen_time);
  // Builds the direct encoder and checks it against OpenSSL; on any difference it is not used.
  Result<void> EnableDirect();
  Result<std::unique_ptr<PooledContext>> NewContext() const;
  std::unique_ptr<PooledContext> Acquire();
  void Release(std::unique_ptr<PooledContext> ctx);
  Result<Signed> SignOnce(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial,
                          core::UnixMicros gen_time);
  void RecordOutcome(const Status& status);

  std::shared_ptr<const SignerMaterial> material_;
  SignerOptions options_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<PooledContext>> pool_;  // guarded by pool_mutex_
  std::unique_ptr<TokenAssembler> assembler_;
  std::unique_ptr<DigestSigner> direct_;  // set only after the self-test passed
  std::string direct_fallback_reason_;
  std::atomic<bool> failing_{false};  // fast path: no lock while signatures succeed
  mutable std::mutex failure_mutex_;
  std::string failure_;  // guarded by failure_mutex_
};

}  // namespace tsa::crypto
