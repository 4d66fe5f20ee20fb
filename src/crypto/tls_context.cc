#include "tsa/crypto/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <vector>

#include "tsa/core/utc.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/private_key_file.h"
#include "tsa/crypto/sha256.h"

namespace tsa::crypto {
namespace {

// TLS 1.2 suites with forward secrecy (ECDHE) and an AEAD only, strongest first (the server's
// order is used): no CBC, no RSA key transport, no finite-field DHE, no SHA-1 MAC.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
// TLS 1.3 (RFC 8446 §9.1): all of its suites are AEAD; CCM is left out.
constexpr char kTls13Suites[] = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
constexpr char kGroups[] = "X25519:P-256:P-384";
// Sessions resumed from a ticket keep their verified client certificate only in this context.
constexpr unsigned char kSessionContext[] = "tsad";

std::string Date(std::time_t t) { return core::FormatRfc3339(static_cast<std::int64_t>(t) * 1'000'000, core::Fraction::kNone); }

Error Fail(const std::string& message) { return MakeError(ErrorKind::kInvalidArgument, message); }

Result<std::vector<UniquePtr<X509>>> ReadCertificates(const std::string& path, const std::string& what) {
  TSA_ASSIGN_OR_RETURN(std::string text, ReadFileText(path, what));
  const SecretText pem(std::move(text));  // may be a combined key+certificate file
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.text().data(), static_cast<int>(pem.text().size())));
  std::vector<UniquePtr<X509>> certs;
  while (UniquePtr<X509> cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) certs.push_back(std::move(cert));
  ERR_clear_error();  // the loop ends on "no start line"
  if (certs.empty()) return Fail("no PEM certificate in " + what + " " + path);
  return certs;
}

Status ApplyProtocolPolicy(SSL_CTX* ctx) {
  // NO_RENEGOTIATION refuses TLS 1.2 renegotiation from either side (OpenSSL 3.0 already refuses
  // client-initiated renegotiation unless SSL_OP_ALLOW_CLIENT_RENEGOTIATION; TLS 1.3 has none).
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle keep-alive connections give their read/write buffers back (tens of KiB each).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  std::string groups = kGroups;  // mutable: the SSL_CTX_set1_groups_list macro casts to char*
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, groups.data()) != 1 ||
      SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1) != 1) {
    return MakeError(ErrorKind::kCrypto, "cannot configure TLS: " + DrainOpensslErrors());
  }
  return Ok();
}

Status UseCertificate(SSL_CTX* ctx, const TlsFiles& files, std::time_t now, TlsCertificateInfo* info) {
  TSA_ASSIGN_OR_RETURN(auto certs, ReadCertificates(files.cert_path, "TLS certificate"));
  X509* leaf = certs.front().get();
  info->not_before = AsnTimeToTimeT(X509_get0_notBefore(leaf));
  info->not_after = AsnTimeToTimeT(X509_get0_notAfter(leaf));
  if (now < info->not_before) {
    return Fail("the TLS certificate " + files.cert_path + " is not valid before " + Date(info->not_before));
  }
  if (now >= info->not_after) {
    return Fail("the TLS certificate " + files.cert_path + " expired on " + Date(info->not_after) +
                ": renew it (clients refuse an expired certificate)");
  }
  info->subject = NameToString(X509_get_subject_name(leaf));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  X509_digest(leaf, EVP_sha256(), md, &md_len);
  info->sha256 = Hex(md, md_len);
  if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
    return Fail("cannot use the TLS certificate " + files.cert_path + ": " + DrainOpensslErrors());
  }
  for (std::size_t i = 1; i < certs.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx, certs[i].get()) != 1) {
      return Fail("cannot use the chain in " + files.cert_path + ": " + DrainOpensslErrors());
    }
  }
  return Ok();
}

Status UseKey(SSL_CTX* ctx, const TlsFiles& files, TlsCertificateInfo* info) {
  std::string token_uri;
  TSA_ASSIGN_OR_RETURN(
      EVP_PKEY * raw,
      LoadPrivateKey(PrivateKeySource{files.key_path, "TLS key", files.allow_readable_key, files.pkcs11_module}, &token_uri));
  const UniquePtr<EVP_PKEY> key(raw);
  info->key_source = token_uri.empty() ? files.key_path : token_uri;
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Fail("the TLS key " + info->key_source + " does not match the TLS certificate " + files.cert_path);
  }
  return Ok();
}

// Mutual TLS: the CA's certificates verify the client's and are named in the CertificateRequest.
// A certificate that does not verify ends the handshake, with --tls-require-client-cert or not.
Status RequestClientCertificates(SSL_CTX* ctx, const TlsFiles& files) {
  TSA_ASSIGN_OR_RETURN(auto cas, ReadCertificates(files.client_ca_path, "--tls-client-ca"));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (const auto& ca : cas) {
    if (X509_STORE_add_cert(store, ca.get()) != 1 || SSL_CTX_add_client_CA(ctx, ca.get()) != 1) {
      return Fail("cannot use --tls-client-ca " + files.client_ca_path + ": " + DrainOpensslErrors());
    }
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (files.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  return Ok();
}

}  // namespace

void SslCtxFree::operator()(ssl_ctx_st* ctx) const noexcept { SSL_CTX_free(ctx); }

Result<TlsServerContext> BuildTlsServerContext(const TlsFiles& files, std::time_t now) {
  ERR_clear_error();
  if (files.require_client_cert && files.client_ca_path.empty()) {
    return Fail("--tls-require-client-cert needs --tls-client-ca");
  }
  TlsServerContext out;
  out.ctx.reset(SSL_CTX_new(TLS_server_method()));
  if (!out.ctx) return MakeError(ErrorKind::kCrypto, "cannot create a TLS context: " + DrainOpensslErrors());
  TSA_TRY(ApplyProtocolPolicy(out.ctx.get()));
  TSA_TRY(UseCertificate(out.ctx.get(), files, now, &out.certificate));
  TSA_TRY(UseKey(out.ctx.get(), files, &out.certificate));
  if (!files.client_ca_path.empty()) TSA_TRY(RequestClientCertificates(out.ctx.get(), files));
  return out;
}

std::optional<PeerCertificate> VerifiedPeerCertificate(const ssl_st* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  auto spki = ToDer(X509_get_X509_PUBKEY(cert), i2d_X509_PUBKEY);
  if (!spki) return std::nullopt;
  const Sha256Digest digest = Sha256({std::span<const std::uint8_t>(*spki)});
  return PeerCertificate{NameToString(X509_get_subject_name(cert)), Hex(digest.data(), digest.size())};
}

const char* TlsVersionName(const ssl_st* ssl) { return SSL_get_version(ssl); }

}  // namespace tsa::crypto
