// crypto/tls_context: what the HTTPS listener's SSL_CTX refuses at load (one line each) and what
// it allows on the wire (protocol range, cipher list), checked on the built context itself.
#include "tsa/crypto/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <ctime>
#include <fstream>
#include <string>

#include "../unit_test_helpers.h"

namespace tsa::crypto {
namespace {

using unit_test::OtherPki;
using unit_test::SharedPki;

TlsFiles Files(const unit_test::Pki& pki) {
  TlsFiles f;
  f.cert_path = pki.files.tsa_cert;
  f.key_path = pki.files.tsa_key;
  return f;
}

std::string BuildError(const TlsFiles& files, std::time_t now = std::time(nullptr)) {
  auto built = BuildTlsServerContext(files, now);
  return built ? "" : built.error().message;
}

TEST(TlsContextTest, BuildsTls12To13WithEcdheAeadSuitesOnly) {
  auto built = BuildTlsServerContext(Files(SharedPki()), std::time(nullptr));
  ASSERT_TRUE(built) << built.error().message;
  SSL_CTX* ctx = built->ctx.get();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  EXPECT_EQ(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
  const long options = static_cast<long>(SSL_CTX_get_options(ctx));
  EXPECT_NE(options & SSL_OP_NO_COMPRESSION, 0);
  EXPECT_NE(options & SSL_OP_NO_RENEGOTIATION, 0);
  EXPECT_NE(options & SSL_OP_CIPHER_SERVER_PREFERENCE, 0);
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  ASSERT_NE(ciphers, nullptr);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
    const std::string name = SSL_CIPHER_get_name(c);
    EXPECT_TRUE(SSL_CIPHER_is_aead(c)) << name;
    if (std::string(SSL_CIPHER_get_version(c)) != "TLSv1.3") {
      EXPECT_EQ(name.rfind("ECDHE-", 0), 0u) << name;  // TLS 1.2: forward secrecy
    }
  }
  EXPECT_NE(built->certificate.subject.find("CN="), std::string::npos) << built->certificate.subject;
  EXPECT_EQ(built->certificate.sha256.size(), 64u);
  EXPECT_EQ(built->certificate.key_source, SharedPki().files.tsa_key);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE) << "no client CA: no client certificate requested";
}

TEST(TlsContextTest, AClientCaRequestsAndOptionallyRequiresCertificates) {
  TlsFiles files = Files(SharedPki());
  files.client_ca_path = OtherPki().files.ca_cert;
  auto optional = BuildTlsServerContext(files, std::time(nullptr));
  ASSERT_TRUE(optional) << optional.error().message;
  EXPECT_EQ(SSL_CTX_get_verify_mode(optional->ctx.get()), SSL_VERIFY_PEER);
  files.require_client_cert = true;
  auto required = BuildTlsServerContext(files, std::time(nullptr));
  ASSERT_TRUE(required) << required.error().message;
  EXPECT_EQ(SSL_CTX_get_verify_mode(required->ctx.get()), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  files.client_ca_path.clear();
  EXPECT_NE(BuildError(files).find("--tls-require-client-cert needs --tls-client-ca"), std::string::npos);
}

TEST(TlsContextTest, RefusesExpiredOrNotYetValidCertificates) {
  auto built = BuildTlsServerContext(Files(SharedPki()), std::time(nullptr));
  ASSERT_TRUE(built);
  const std::time_t after = built->certificate.not_after + 1;
  EXPECT_NE(BuildError(Files(SharedPki()), after).find("expired on"), std::string::npos) << BuildError(Files(SharedPki()), after);
  const std::time_t before = built->certificate.not_before - 1;
  EXPECT_NE(BuildError(Files(SharedPki()), before).find("is not valid before"), std::string::npos);
}

TEST(TlsContextTest, RefusesAMismatchedMissingOrGarbledKey) {
  TlsFiles files = Files(SharedPki());
  files.key_path = OtherPki().files.tsa_key;
  EXPECT_NE(BuildError(files).find("does not match the TLS certificate"), std::string::npos) << BuildError(files);
  files.key_path = "/nonexistent/tls.key";
  EXPECT_NE(BuildError(files).find("cannot read TLS key /nonexistent/tls.key"), std::string::npos) << BuildError(files);
  files = Files(SharedPki());
  files.cert_path = "/nonexistent/tls.pem";
  EXPECT_NE(BuildError(files).find("cannot read TLS certificate"), std::string::npos) << BuildError(files);
  unit_test::TempDir dir;
  const std::string junk = (dir.path() / "junk.pem").string();
  std::ofstream(junk) << "junk\n";
  files = Files(SharedPki());
  files.client_ca_path = junk;
  EXPECT_NE(BuildError(files).find("no PEM certificate in --tls-client-ca"), std::string::npos) << BuildError(files);
}

}  // namespace
}  // namespace tsa::crypto
