// RAII owners for OpenSSL handles (as BoringSSL's bssl::UniquePtr). Whatever a *_new, d2i_*,
// *_get1_*, PEM_read_* or *_dup call returns goes into one of these in the same statement.
// Only src/crypto and the tool/test code that talks to it include this header.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace tsa::crypto {

template <typename T>
struct OsslDeleter;

// NOLINTBEGIN(bugprone-macro-parentheses): Type is a type name, "(Type)* p" would not compile
#define TSA_OSSL_DELETER(Type, free_fn)                     \
  template <>                                               \
  struct OsslDeleter<Type> {                                \
    void operator()(Type* p) const noexcept { free_fn(p); } \
  };
// NOLINTEND(bugprone-macro-parentheses)

TSA_OSSL_DELETER(BIO, BIO_free_all)
TSA_OSSL_DELETER(BIGNUM, BN_free)
TSA_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free)
TSA_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
TSA_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free)
TSA_OSSL_DELETER(EVP_MD, EVP_MD_free)
TSA_OSSL_DELETER(X509, X509_free)
TSA_OSSL_DELETER(X509_NAME, X509_NAME_free)
TSA_OSSL_DELETER(X509_REQ, X509_REQ_free)
TSA_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free)
TSA_OSSL_DELETER(X509_STORE, X509_STORE_free)
TSA_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free)
// ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_TIME, ASN1_UTF8STRING... are all ASN1_STRING.
TSA_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free)
TSA_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free)
TSA_OSSL_DELETER(TS_TST_INFO, TS_TST_INFO_free)
TSA_OSSL_DELETER(GENERAL_NAME, GENERAL_NAME_free)
TSA_OSSL_DELETER(ASN1_TYPE, ASN1_TYPE_free)
TSA_OSSL_DELETER(TS_REQ, TS_REQ_free)
TSA_OSSL_DELETER(TS_RESP, TS_RESP_free)
TSA_OSSL_DELETER(TS_RESP_CTX, TS_RESP_CTX_free)
TSA_OSSL_DELETER(TS_VERIFY_CTX, TS_VERIFY_CTX_free)
TSA_OSSL_DELETER(TS_MSG_IMPRINT, TS_MSG_IMPRINT_free)
TSA_OSSL_DELETER(TS_STATUS_INFO, TS_STATUS_INFO_free)
TSA_OSSL_DELETER(PKCS7, PKCS7_free)
TSA_OSSL_DELETER(X509_ALGOR, X509_ALGOR_free)
TSA_OSSL_DELETER(TS_ACCURACY, TS_ACCURACY_free)
TSA_OSSL_DELETER(PKEY_USAGE_PERIOD, PKEY_USAGE_PERIOD_free)
#undef TSA_OSSL_DELETER

// STACK_OF(X509) owns its certificates.
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};

template <typename T>
using UniquePtr = std::unique_ptr<T, OsslDeleter<T>>;
using X509Stack = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// Drains this thread's OpenSSL error queue into one line ("; "-separated), for error messages.
// Returns `fallback` when the queue is empty.
std::string DrainOpensslErrors(const std::string& fallback = "no OpenSSL error reported");

}  // namespace tsa::crypto
