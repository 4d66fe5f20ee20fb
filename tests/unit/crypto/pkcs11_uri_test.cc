// RFC 7512 URI handling of --key (no token needed: tests/integration/hsm_test.cc uses SoftHSM2) and
// the PKCS#10 request of tsa-certgen csr.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <fstream>

#include "../unit_test_helpers.h"
#include "tsa/crypto/cert_factory.h"
#include "tsa/crypto/pkcs11_key.h"

namespace tsa::crypto {
namespace {

TEST(Pkcs11UriTest, RecognisesTheSchemeOnly) {
  EXPECT_TRUE(IsPkcs11Uri("pkcs11:token=t;object=k"));
  EXPECT_FALSE(IsPkcs11Uri("certs/tsa_key.pem"));
  EXPECT_FALSE(IsPkcs11Uri("PKCS11-key.pem"));
}

TEST(Pkcs11UriTest, RedactionDropsPinValueFromPathAndQuery) {
  EXPECT_EQ(RedactPkcs11Uri("pkcs11:token=t;object=k;pin-value=1234"), "pkcs11:token=t;object=k");
  EXPECT_EQ(RedactPkcs11Uri("pkcs11:token=t;object=k?pin-value=1234"), "pkcs11:token=t;object=k");
  EXPECT_EQ(RedactPkcs11Uri("pkcs11:token=t;object=k?pin-source=file:/run/pin"),
            "pkcs11:token=t;object=k;pin-source=file:/run/pin");
  EXPECT_EQ(RedactPkcs11Uri("/etc/tsad/key.pem"), "/etc/tsad/key.pem");
}

TEST(Pkcs11UriTest, AttributesArePercentDecoded) {
  EXPECT_EQ(Pkcs11UriAttribute("pkcs11:token=my%20token;object=k", "token"), "my token");
  EXPECT_EQ(Pkcs11UriAttribute("pkcs11:token=t", "object"), std::nullopt);
}

TEST(Pkcs11UriTest, PinComesFromValueThenSourceThenEnvironment) {
  unit_test::TempDir dir;
  std::ofstream(dir.Sub("pin")) << "s3cret\n";
  ::setenv("TSA_PKCS11_PIN", "from-env", 1);
  EXPECT_EQ(*ResolvePkcs11Pin("pkcs11:token=t?pin-value=12%2534"), "12%34");
  EXPECT_EQ(*ResolvePkcs11Pin("pkcs11:token=t?pin-source=file:" + dir.Sub("pin")), "s3cret");
  EXPECT_EQ(*ResolvePkcs11Pin("pkcs11:token=t"), "from-env");
  EXPECT_FALSE(ResolvePkcs11Pin("pkcs11:token=t?pin-source=file:" + dir.Sub("missing")).has_value());
  ::unsetenv("TSA_PKCS11_PIN");
  EXPECT_EQ(*ResolvePkcs11Pin("pkcs11:token=t"), "");
}

TEST(Pkcs11UriTest, MissingModuleIsOneLineNamingIt) {
  auto key = LoadPkcs11PrivateKey("pkcs11:token=t;object=k", "/nonexistent/module.so");
  ASSERT_FALSE(key.has_value());
  EXPECT_NE(key.error().message.find("/nonexistent/module.so"), std::string::npos) << key.error().message;
  EXPECT_EQ(key.error().message.find('\n'), std::string::npos);
}

TEST(TsaCsrTest, RequestsTheCriticalTimeStampingEkuAndIsSelfSigned) {
  auto key = GenerateKey(KeyType::kEcP256);
  ASSERT_TRUE(key);
  auto csr = CreateTsaCsr(key->get(), "/C=XX/O=Example/CN=Example TSA");
  ASSERT_TRUE(csr) << csr.error().message;
  EXPECT_EQ(X509_REQ_verify(csr->get(), key->get()), 1);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(csr->get());
  ASSERT_NE(exts, nullptr);
  const int at = X509v3_get_ext_by_NID(exts, NID_ext_key_usage, -1);
  ASSERT_GE(at, 0);
  X509_EXTENSION* eku = sk_X509_EXTENSION_value(exts, at);
  EXPECT_EQ(X509_EXTENSION_get_critical(eku), 1);
  auto* usages = static_cast<EXTENDED_KEY_USAGE*>(X509V3_EXT_d2i(eku));
  ASSERT_NE(usages, nullptr);
  ASSERT_EQ(sk_ASN1_OBJECT_num(usages), 1);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(usages, 0)), NID_time_stamp);
  EXTENDED_KEY_USAGE_free(usages);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

}  // namespace
}  // namespace tsa::crypto
