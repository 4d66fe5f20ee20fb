#include "tsa/crypto/verifier.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/response_inspector.h"

namespace tsa::crypto {
namespace {

constexpr char kBeginCertificate[] = "-----BEGIN CERTIFICATE-----";

std::size_t CountBeginMarkers(const std::string& pem) {
  std::size_t n = 0;
  for (auto at = pem.find(kBeginCertificate); at != std::string::npos; at = pem.find(kBeginCertificate, at + 1)) ++n;
  return n;
}

// Every certificate of a PEM text. A text with none, or with a certificate block that does not
// parse, is an error: a trust file that silently yields fewer certificates than it shows would
// loosen the check it was given for.
Result<X509Stack> ParsePemCertificates(const std::string& pem, const std::string& what) {
  X509Stack certs(sk_X509_new_null());
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    sk_X509_push(certs.get(), cert);
  }
  ERR_clear_error();
  const auto parsed = static_cast<std::size_t>(sk_X509_num(certs.get()));
  if (parsed == 0) return MakeError(ErrorKind::kInvalidArgument, "no PEM certificate in the " + what);
  if (parsed != CountBeginMarkers(pem)) {
    return MakeError(ErrorKind::kInvalidArgument, "a certificate in the " + what + " does not parse");
  }
  return certs;
}

// The one certificate of `pinned` that signed the token, or an error when none did.
Result<X509*> PinnedSigner(PKCS7* token, STACK_OF(X509) * pinned) {
  STACK_OF(X509)* found = PKCS7_get0_signers(token, pinned, 0);
  if (found == nullptr || sk_X509_num(found) != 1) {
    sk_X509_free(found);
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument,
                     "the token is not signed by exactly one signer identified by the given TSA certificate");
  }
  X509* signer = sk_X509_value(found, 0);
  sk_X509_free(found);
  // PKCS7_get0_signers also looks in the certificates the token carries: the signer must be one of
  // the pinned ones, not a certificate with the same issuer and serial brought by the token.
  for (int i = 0; i < sk_X509_num(pinned); ++i) {
    if (X509_cmp(signer, sk_X509_value(pinned, i)) == 0) return sk_X509_value(pinned, i);
  }
  return MakeError(ErrorKind::kInvalidArgument, "the token was signed by a different certificate than the given TSA certificate");
}

// The first OpenSSL reason, shortened for a one-line message.
std::string Reason() {
  const unsigned long code = ERR_peek_last_error();
  std::string out = code ? ERR_reason_error_string(code) ? ERR_reason_error_string(code) : "unknown error"
                         : "verification failed";
  ERR_clear_error();
  return out;
}

}  // namespace

Result<std::size_t> CountPemCertificates(const std::string& pem, const std::string& what) {
  ERR_clear_error();
  TSA_ASSIGN_OR_RETURN(X509Stack certs, ParsePemCertificates(pem, what));
  return static_cast<std::size_t>(sk_X509_num(certs.get()));
}

Result<std::string> EmbeddedSignerPem(std::span<const std::uint8_t> der) {
  TSA_ASSIGN_OR_RETURN(core::ResponseInfo info, DescribeResponse(der));
  if (!info.token) return MakeError(ErrorKind::kInvalidArgument, "not a time-stamp token");
  ERR_clear_error();
  const unsigned char* p = info.token->token_der.data();
  UniquePtr<PKCS7> token(d2i_PKCS7(nullptr, &p, static_cast<long>(info.token->token_der.size())));
  if (!token) return MakeError(ErrorKind::kInvalidArgument, "cannot decode the token");
  STACK_OF(X509)* found = PKCS7_get0_signers(token.get(), nullptr, 0);
  const bool one = found != nullptr && sk_X509_num(found) == 1;
  UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  const bool written = one && PEM_write_bio_X509(out.get(), sk_X509_value(found, 0)) == 1;
  sk_X509_free(found);
  ERR_clear_error();
  if (!written) return MakeError(ErrorKind::kInvalidArgument, "the token does not carry its signer certificate");
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

namespace {

Status RequireGranted(const core::ResponseInfo& info) {
  if (info.granted()) return Ok();
  std::string why = std::string("status ") + core::PkiStatusName(info.status);
  if (!info.fail_info.empty()) why += std::string(" (") + core::FailInfoName(info.fail_info.front()) + ")";
  if (!info.status_string.empty()) why += ": " + info.status_string;
  return MakeError(ErrorKind::kInvalidArgument, "not a granted time-stamp: " + why);
}

// The certificates the signer may be: the expected TSA certificate(s), or without one the signer
// certificate carried in the token (certReq TRUE); with a CA bundle it must then chain to it,
// otherwise only the signature is proven.
Result<X509Stack> SignerCandidates(PKCS7* token, const VerifyOptions& options) {
  if (!options.tsa_cert_pem.empty()) return ParsePemCertificates(options.tsa_cert_pem, "TSA certificate file");
  STACK_OF(X509)* found = PKCS7_get0_signers(token, nullptr, 0);
  if (found == nullptr || sk_X509_num(found) != 1) {
    sk_X509_free(found);
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument, "the token does not carry its signer certificate");
  }
  X509Stack certs(sk_X509_new_null());
  X509* signer = sk_X509_value(found, 0);
  X509_up_ref(signer);
  sk_X509_push(certs.get(), signer);
  sk_X509_free(found);
  return certs;
}

// The trust anchors: the CA bundle's self-signed certificates (its others join `untrusted` as
// intermediates), or without a bundle the TSA certificate itself. Checked at `at` (genTime unless
// the caller names a time).
Result<UniquePtr<X509_STORE>> TrustStore(X509* tsa_cert, const VerifyOptions& options, std::int64_t at,
                                         STACK_OF(X509) * untrusted) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  if (options.ca_pem.empty()) {
    X509_STORE_add_cert(store.get(), tsa_cert);
    X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  } else {
    TSA_ASSIGN_OR_RETURN(X509Stack cas, ParsePemCertificates(options.ca_pem, "CA file"));
    for (int i = 0; i < sk_X509_num(cas.get()); ++i) {
      X509* c = sk_X509_value(cas.get(), i);
      if (X509_check_issued(c, c) == X509_V_OK) {
        X509_STORE_add_cert(store.get(), c);
      } else {
        X509_up_ref(c);
        sk_X509_push(untrusted, c);
      }
    }
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<time_t>(at));
  return store;
}

// With the request: everything TS_REQ_to_TS_VERIFY_CTX checks (version, policy, imprint, nonce),
// and RFC 3161 §2.4.1 / RFC 5816 §2.1: certificates present exactly when certReq was TRUE.
// Without it: the version and the signature.
Result<UniquePtr<TS_VERIFY_CTX>> VerifyContext(const VerifyOptions& options, const core::ResponseInfo& info) {
  UniquePtr<TS_VERIFY_CTX> ctx;
  if (!options.request_der) {
    ctx.reset(TS_VERIFY_CTX_new());
    if (!ctx) return MakeError(ErrorKind::kCrypto, "TS_VERIFY_CTX_new: " + DrainOpensslErrors());
    TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE);
    return ctx;
  }
  const unsigned char* rp = options.request_der->data();
  UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &rp, static_cast<long>(options.request_der->size())));
  if (!req) return MakeError(ErrorKind::kInvalidArgument, "cannot decode the request");
  ctx.reset(TS_REQ_to_TS_VERIFY_CTX(req.get(), nullptr));
  if (!ctx) return MakeError(ErrorKind::kCrypto, "TS_REQ_to_TS_VERIFY_CTX: " + DrainOpensslErrors());
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE);
  const bool has_certs = info.token->certificate_count > 0;
  if (has_certs != (TS_REQ_get_cert_req(req.get()) != 0)) {
    return MakeError(ErrorKind::kInvalidArgument, has_certs ? "the token carries certificates although certReq was FALSE"
                                                            : "the token carries no certificate although certReq was TRUE");
  }
  return ctx;
}

// The data (hashed by OpenSSL) or the digest the imprint must match, when the caller has one.
Status ExpectImprint(TS_VERIFY_CTX* ctx, const VerifyOptions& options) {
  if (options.data) {
    BIO* data = BIO_new_mem_buf(options.data->data(), static_cast<int>(options.data->size()));
    TS_VERIFY_CTX_add_flags(ctx, TS_VFY_DATA);
    TS_VERIFY_CTX_set_data(ctx, data);  // takes ownership
  } else if (options.digest) {
    auto* buf = static_cast<unsigned char*>(OPENSSL_malloc(options.digest->size()));
    if (buf == nullptr) return MakeError(ErrorKind::kInternal, "out of memory");
    std::copy(options.digest->begin(), options.digest->end(), buf);
    TS_VERIFY_CTX_add_flags(ctx, TS_VFY_IMPRINT);
    TS_VERIFY_CTX_set_imprint(ctx, buf, static_cast<long>(options.digest->size()));  // takes ownership
  }
  return Ok();
}

}  // namespace

Result<core::ResponseInfo> Verify(std::span<const std::uint8_t> der, const VerifyOptions& options) {
  TSA_ASSIGN_OR_RETURN(core::ResponseInfo info, DescribeResponse(der));
  TSA_TRY(RequireGranted(info));
  ERR_clear_error();
  const auto& token_der = info.token->token_der;
  const unsigned char* p = token_der.data();
  UniquePtr<PKCS7> token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
  if (!token) return MakeError(ErrorKind::kInvalidArgument, "cannot decode the token");

  TSA_ASSIGN_OR_RETURN(X509Stack tsa_certs, SignerCandidates(token.get(), options));
  // The signer must be one of the given TSA certificates (or the one found in the token).
  TSA_ASSIGN_OR_RETURN(X509 * tsa_cert, PinnedSigner(token.get(), tsa_certs.get()));
  X509Stack untrusted(sk_X509_new_null());
  X509_up_ref(tsa_cert);
  sk_X509_push(untrusted.get(), tsa_cert);
  const std::int64_t at = options.check_time.value_or(info.token->gen_time_us / 1'000'000);
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509_STORE> store, TrustStore(tsa_cert, options, at, untrusted.get()));
  TSA_ASSIGN_OR_RETURN(UniquePtr<TS_VERIFY_CTX> ctx, VerifyContext(options, info));
  TSA_TRY(ExpectImprint(ctx.get(), options));
  // OpenSSL 3.0: set_store and set_certs take ownership (renamed set0_* in 3.4).
  TS_VERIFY_CTX_set_store(ctx.get(), store.release());
  TS_VERIFY_CTX_set_certs(ctx.get(), untrusted.release());

  ERR_clear_error();
  if (TS_RESP_verify_token(ctx.get(), token.get()) != 1) {
    return MakeError(ErrorKind::kInvalidArgument, "verification failed: " + Reason());
  }
  return info;
}

}  // namespace tsa::crypto
