#include "tsa/crypto/token_signer.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#include <ctime>

#include "tsa/core/der.h"
#include "tsa/crypto/digest_signer.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/token_assembler.h"

namespace tsa::crypto {

// Per-call inputs the callbacks read. Set before TS_RESP_create_response, owned by the context.
struct TokenSigner::PooledContext {
  UniquePtr<TS_RESP_CTX> ctx;
  std::span<const std::uint8_t> serial;
  core::UnixMicros gen_time = 0;
  std::vector<UniquePtr<ASN1_OBJECT>> policies;  // keep OIDs alive: the context only references them
};

namespace {

ASN1_INTEGER* SerialCallback(TS_RESP_CTX* ctx, void* data) {
  auto* state = static_cast<TokenSigner::PooledContext*>(data);
  UniquePtr<BIGNUM> bn(BN_bin2bn(state->serial.data(), static_cast<int>(state->serial.size()), nullptr));
  ASN1_INTEGER* serial = bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr;
  if (serial == nullptr) {
    // Order matters: set_status_info replaces the whole status, then the failInfo bit is added.
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_SYSTEM_FAILURE);
  }
  return serial;  // OpenSSL takes ownership
}

int TimeCallback(TS_RESP_CTX* /*ctx*/, void* data, long* sec, long* usec) {
  auto* state = static_cast<TokenSigner::PooledContext*>(data);
  *sec = static_cast<long>(state->gen_time / 1'000'000);
  *usec = static_cast<long>(state->gen_time % 1'000'000);
  return 1;
}

}  // namespace

TokenSigner::TokenSigner(std::shared_ptr<const SignerMaterial> material, SignerOptions options)
    : material_(std::move(material)), options_(std::move(options)) {}

TokenSigner::~TokenSigner() = default;

Result<std::unique_ptr<TokenSigner>> TokenSigner::Create(std::shared_ptr<const SignerMaterial> material, SignerOptions options) {
  if (options.policy.default_policy.empty()) return MakeError(ErrorKind::kInvalidArgument, "no default policy OID configured");
  if (options.policy.accepted_hashes.empty())
    return MakeError(ErrorKind::kInvalidArgument, "the list of accepted hash algorithms is empty");
  if (options.clock_precision_digits < 0 || options.clock_precision_digits > 6) {
    return MakeError(ErrorKind::kInvalidArgument, "clock precision must be 0..6 digits");
  }
  // EN 319 422 §5.2.2: genTime's precision must support the declared accuracy.
  std::int64_t resolution_us = 1'000'000;
  for (int i = 0; i < options.clock_precision_digits; ++i) resolution_us /= 10;
  if (resolution_us > options.accuracy.TotalMicros()) {
    return MakeError(ErrorKind::kInvalidArgument, "clock precision of " + std::to_string(options.clock_precision_digits) +
                                                      " digits is too coarse for an accuracy of " + options.accuracy.ToString());
  }
  std::unique_ptr<TokenSigner> signer(
      new TokenSigner(std::move(material), std::move(options)));  // NOLINT: private constructor of a factory
  // Build one context now so that configuration errors surface at start-up, not per request.
  TSA_ASSIGN_OR_RETURN(auto ctx, signer->NewContext());
  signer->Release(std::move(ctx));
  if (signer->options_.engine == SignerOptions::Engine::kDirect) {
    if (auto enabled = signer->EnableDirect(); !enabled) {
      signer->direct_.reset();
      signer->direct_fallback_reason_ = enabled.error().message;
    }
  }
  return signer;
}

namespace {

// A TimeStampReq with a nonce and certReq, so that the self-test covers every optional part.
core::Bytes SelfTestRequest() {
  using core::Bytes;
  const Bytes sha256 = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
  const Bytes algorithm = core::DerTlvOf(0x30, {sha256, Bytes{0x05, 0x00}});
  const Bytes imprint = core::DerTlvOf(0x30, {algorithm, core::DerTlv(0x04, Bytes(32, 0x5a))});
  const Bytes nonce = {0x02, 0x08, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
  return core::DerTlvOf(0x30, {Bytes{0x02, 0x01, 0x01}, imprint, nonce, Bytes{0x01, 0x01, 0xff}});
}

Result<std::vector<std::uint8_t>> TokenSignature(const std::vector<std::uint8_t>& token_der) {
  const unsigned char* p = token_der.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
  STACK_OF(PKCS7_SIGNER_INFO)* infos = p7 ? PKCS7_get_signer_info(p7.get()) : nullptr;
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_num(infos) == 1 ? sk_PKCS7_SIGNER_INFO_value(infos, 0) : nullptr;
  if (si == nullptr || si->enc_digest == nullptr) return MakeError(ErrorKind::kCrypto, "cannot read OpenSSL's token");
  const auto* sig = ASN1_STRING_get0_data(si->enc_digest);
  return std::vector<std::uint8_t>(sig, sig + ASN1_STRING_length(si->enc_digest));
}

}  // namespace

Result<void> TokenSigner::EnableDirect() {
  TSA_ASSIGN_OR_RETURN(assembler_, TokenAssembler::Create(*material_, options_));
  TSA_ASSIGN_OR_RETURN(direct_, DigestSigner::Create(material_->key(), assembler_->signer_digest()));
  const core::Bytes request = SelfTestRequest();
  const core::Bytes serial = {0x01, 0x02, 0x03};
  // OpenSSL puts the wall clock's second into signingTime, the assembler genTime's: try again
  // when a second boundary fell between the two.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const auto now = static_cast<core::UnixMicros>(std::time(nullptr)) * 1'000'000 + 123'456;
    TSA_ASSIGN_OR_RETURN(auto reference, SignWithOpenSsl(request, serial, now));
    if (static_cast<core::UnixMicros>(std::time(nullptr)) != now / 1'000'000) continue;
    TSA_ASSIGN_OR_RETURN(auto reference_signature, TokenSignature(reference.token_der));
    TSA_ASSIGN_OR_RETURN(auto unsigned_token, assembler_->BuildUnsigned(request, serial, now));
    if (assembler_->Finish(unsigned_token, reference_signature).response_der != reference.response_der) {
      return MakeError(ErrorKind::kInternal, "the direct encoder's token differs from OpenSSL's");
    }
    TSA_ASSIGN_OR_RETURN(auto own, SignDirect(request, serial, now));
    TSA_ASSIGN_OR_RETURN(auto own_signature, TokenSignature(own.token_der));
    if (!VerifySignature(material_->certificate(), assembler_->signer_digest(), unsigned_token.signed_attributes,
                         own_signature)) {
      return MakeError(ErrorKind::kCrypto, "the direct encoder's signature does not verify");
    }
    return {};
  }
  return MakeError(ErrorKind::kInternal, "the clock moved during every self-test");
}

Result<std::unique_ptr<TokenSigner::PooledContext>> TokenSigner::NewContext() const {
  ERR_clear_error();
  auto pooled = std::make_unique<PooledContext>();
  pooled->ctx.reset(TS_RESP_CTX_new());
  TS_RESP_CTX* c = pooled->ctx.get();
  if (c == nullptr) return MakeError(ErrorKind::kCrypto, "TS_RESP_CTX_new: " + DrainOpensslErrors());

  auto fail = [](const char* what) { return MakeError(ErrorKind::kCrypto, std::string(what) + ": " + DrainOpensslErrors()); };
  // set_signer_cert checks the timestampsign purpose (critical, timeStamping-only EKU).
  if (!TS_RESP_CTX_set_signer_cert(c, material_->certificate())) return fail("TSA certificate refused");
  if (!TS_RESP_CTX_set_signer_key(c, material_->key())) return fail("TSA key refused");
  if (sk_X509_num(material_->embedded_chain()) > 0 && !TS_RESP_CTX_set_certs(c, material_->embedded_chain())) {
    return fail("certificate chain refused");
  }
  if (!TS_RESP_CTX_set_signer_digest(c, material_->signer_digest())) return fail("signer digest");
  // RFC 5816 §2.2.1: SigningCertificateV2 with SHA-256 (OpenSSL's default is v1/SHA-1).
  if (!TS_RESP_CTX_set_ess_cert_id_digest(c, EVP_sha256())) return fail("ESS certificate id digest");

  const auto& policy = options_.policy;
  UniquePtr<ASN1_OBJECT> def(OBJ_txt2obj(policy.default_policy.c_str(), 1));
  if (!def) return MakeError(ErrorKind::kInvalidArgument, "default policy is not a dotted OID: " + policy.default_policy);
  if (!TS_RESP_CTX_set_def_policy(c, def.get())) return fail("default policy");
  for (const auto& oid : policy.accepted_policies) {
    UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid.c_str(), 1));
    if (!obj) return MakeError(ErrorKind::kInvalidArgument, "policy is not a dotted OID: " + oid);
    if (!TS_RESP_CTX_add_policy(c, obj.get())) return fail("policy");
    pooled->policies.push_back(std::move(obj));
  }
  for (auto alg : policy.accepted_hashes) {
    // EVP_get_digestbyname returns static method tables that live as long as the library.
    const EVP_MD* md = EVP_get_digestbyname(core::Info(alg).name);
    if (md == nullptr) md = EVP_get_digestbyname(core::Info(alg).oid);
    if (md == nullptr || !TS_RESP_CTX_add_md(c, md)) return fail("hash algorithm not available in OpenSSL");
  }
  const auto& acc = options_.accuracy;
  if (!TS_RESP_CTX_set_accuracy(c, acc.seconds, acc.millis, acc.micros)) return fail("accuracy");
  if (!TS_RESP_CTX_set_clock_precision_digits(c, static_cast<unsigned>(options_.clock_precision_digits)))
    return fail("clock precision");
  if (options_.include_tsa_name) TS_RESP_CTX_add_flags(c, TS_TSA_NAME);
  TS_RESP_CTX_set_serial_cb(c, SerialCallback, pooled.get());
  TS_RESP_CTX_set_time_cb(c, TimeCallback, pooled.get());
  // The default extension callback rejects every request extension (unacceptedExtension), as
  // RFC 3161 §2.4.1 requires; tsad's own validation already refused them before signing.
  return pooled;
}

std::unique_ptr<TokenSigner::PooledContext> TokenSigner::Acquire() {
  std::lock_guard lock(pool_mutex_);
  if (pool_.empty()) return nullptr;
  auto ctx = std::move(pool_.back());
  pool_.pop_back();
  return ctx;
}

void TokenSigner::Release(std::unique_ptr<PooledContext> ctx) {
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(std::move(ctx));
}

std::optional<std::string> TokenSigner::Failure() const {
  if (!failing_.load(std::memory_order_acquire)) return std::nullopt;
  std::lock_guard lock(failure_mutex_);
  return failure_;
}

void TokenSigner::RecordOutcome(const Status& status) {
  if (status && !failing_.load(std::memory_order_acquire)) return;
  std::lock_guard lock(failure_mutex_);
  failing_.store(!status, std::memory_order_release);
  failure_ = status ? "" : status.error().message;
}

Result<TokenSigner::Signed> TokenSigner::Sign(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial,
                                              core::UnixMicros gen_time) {
  auto signed_token = SignOnce(der_request, serial, gen_time);
  RecordOutcome(signed_token ? Ok() : Status(signed_token.error()));
  return signed_token;
}

Result<TokenSigner::Signed> TokenSigner::SignOnce(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial,
                                                  core::UnixMicros gen_time) {
  return direct_ ? SignDirect(der_request, serial, gen_time) : SignWithOpenSsl(der_request, serial, gen_time);
}

Result<TokenSigner::Signed> TokenSigner::SignDirect(std::span<const std::uint8_t> der_request,
                                                    std::span<const std::uint8_t> serial, core::UnixMicros gen_time) {
  TSA_ASSIGN_OR_RETURN(auto unsigned_token, assembler_->BuildUnsigned(der_request, serial, gen_time));
  TSA_ASSIGN_OR_RETURN(auto digest, assembler_->SignedAttributesDigest(unsigned_token));
  TSA_ASSIGN_OR_RETURN(auto signature, direct_->Sign(digest));
  auto encoded = assembler_->Finish(unsigned_token, signature);
  return Signed{std::move(encoded.response_der), std::move(encoded.token_der)};
}

Result<TokenSigner::Signed> TokenSigner::SignWithOpenSsl(std::span<const std::uint8_t> der_request,
                                                         std::span<const std::uint8_t> serial, core::UnixMicros gen_time) {
  auto pooled = Acquire();
  if (!pooled) {
    TSA_ASSIGN_OR_RETURN(pooled, NewContext());
  }
  ERR_clear_error();
  pooled->serial = serial;
  pooled->gen_time = gen_time;
  UniquePtr<BIO> in(BIO_new_mem_buf(der_request.data(), static_cast<int>(der_request.size())));
  UniquePtr<TS_RESP> resp(in ? TS_RESP_create_response(pooled->ctx.get(), in.get()) : nullptr);
  pooled->serial = {};
  Release(std::move(pooled));
  if (!resp) return MakeError(ErrorKind::kCrypto, "TS_RESP_create_response: " + DrainOpensslErrors());

  const TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
  const long code = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status));
  if (code != TS_STATUS_GRANTED || TS_RESP_get_token(resp.get()) == nullptr) {
    std::string text;
    const auto* texts = TS_STATUS_INFO_get0_text(status);
    if (texts != nullptr && sk_ASN1_UTF8STRING_num(texts) > 0) {
      const ASN1_UTF8STRING* t = sk_ASN1_UTF8STRING_value(texts, 0);
      text.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)), static_cast<std::size_t>(ASN1_STRING_length(t)));
    }
    return MakeError(ErrorKind::kCrypto, "OpenSSL did not grant a validated request (status " + std::to_string(code) + ": " +
                                             text + "): " + DrainOpensslErrors());
  }
  Signed out;
  TSA_ASSIGN_OR_RETURN(out.response_der, ToDer(resp.get(), i2d_TS_RESP));
  TSA_ASSIGN_OR_RETURN(out.token_der, ToDer(TS_RESP_get_token(resp.get()), i2d_PKCS7));
  return out;
}

}  // namespace tsa::crypto
