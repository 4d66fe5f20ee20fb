#include "tsa/crypto/tsa_certificate_check.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

Status CheckTsaCertificate(const std::string& cert_pem, const std::string& ca_pem) {
  ERR_clear_error();
  UniquePtr<BIO> cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  UniquePtr<X509> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument, "not a PEM certificate");
  }
  UniquePtr<X509_STORE> store(X509_STORE_new());
  UniquePtr<BIO> ca_bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  int anchors = 0;
  for (UniquePtr<X509> ca; (ca = UniquePtr<X509>(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr)));) {
    anchors += X509_STORE_add_cert(store.get(), ca.get()) == 1 ? 1 : 0;  // the store up-refs it
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (anchors == 0) return MakeError(ErrorKind::kInvalidArgument, "no CA certificate to check against");
  UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    ERR_clear_error();
    return MakeError(ErrorKind::kCrypto, "cannot set up the certificate check");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_TIMESTAMP_SIGN);
  X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument, X509_verify_cert_error_string(err));
  }
  return Ok();
}

}  // namespace tsa::crypto
