// The TLS server configuration of tsad's HTTPS listener (README "TLS"): an OpenSSL SSL_CTX with
// TLS 1.2 and 1.3 only, ECDHE key exchange and AEAD ciphers only (the server's order), no
// compression, no renegotiation; the certificate and key checked at load (a key that does not
// match, a certificate outside its validity: one line). Optionally client certificates (mutual
// TLS) verified against a CA file. The HTTP layer hands the built context to Asio's SSL streams.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "tsa/core/result.h"

// Opaque OpenSSL types: the HTTP layer passes them through without seeing OpenSSL.
struct ssl_ctx_st;
struct ssl_st;

namespace tsa::crypto {

struct TlsFiles {
  std::string cert_path;       // PEM: the server certificate, then its intermediates (if any)
  std::string key_path;        // PEM file, file with a pkcs11: URI, or a pkcs11: URI
  std::string client_ca_path;  // PEM CA bundle for client certificates; empty: none requested
  bool require_client_cert = false;
  bool allow_readable_key = false;  // as --allow-readable-key for the TSA key
  std::string pkcs11_module;        // for a pkcs11: key (empty: kDefaultPkcs11Module)
};

// What the logs and /health show about the TLS certificate in use.
struct TlsCertificateInfo {
  std::string subject;  // RFC 2253
  std::string sha256;   // of the certificate DER, hex
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  std::string key_source;  // the key file, or the pkcs11: URI without PIN
};

struct SslCtxFree {
  void operator()(ssl_ctx_st* ctx) const noexcept;
};
using SslCtxPtr = std::unique_ptr<ssl_ctx_st, SslCtxFree>;

struct TlsServerContext {
  SslCtxPtr ctx;
  TlsCertificateInfo certificate;
};

// Builds the context; `now` judges the certificate's validity (expired or not yet valid: refused).
Result<TlsServerContext> BuildTlsServerContext(const TlsFiles& files, std::time_t now);

// A client certificate that the handshake verified against --tls-client-ca.
struct PeerCertificate {
  std::string subject;      // RFC 2253, as the clients file's cert_subjects
  std::string spki_sha256;  // lower-case hex SHA-256 of its SubjectPublicKeyInfo DER
};
// nullopt when the client sent none or it did not verify (optional mTLS lets both through).
std::optional<PeerCertificate> VerifiedPeerCertificate(const ssl_st* ssl);

// "TLSv1.3", "TLSv1.2": the negotiated protocol of a connection (request log).
const char* TlsVersionName(const ssl_st* ssl);

}  // namespace tsa::crypto
