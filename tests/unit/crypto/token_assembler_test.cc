// Tests for src/crypto/token_assembler.cc and digest_signer.cc: the direct DER encoder writes
// exactly the TimeStampResp that OpenSSL's TS_RESP_create_response writes (byte for byte once
// OpenSSL's signature is put in; wholly for RSA, whose PKCS #1 v1.5 signature is deterministic),
// for every optional part of a request and every option, with RSA and ECDSA keys.
#include "tsa/crypto/token_assembler.h"

#include <gtest/gtest.h>
#include <openssl/pkcs7.h>

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "../unit_test_helpers.h"
#include "tsa/crypto/digest_signer.h"
#include "tsa/crypto/token_signer.h"
#include "tsa/crypto/verifier.h"

namespace tsa::crypto {
namespace {

using Bytes = std::vector<std::uint8_t>;

const unit_test::Pki& PkiFor(KeyType type) {
  static std::map<KeyType, std::unique_ptr<unit_test::PkiHolder>> pkis;
  auto& holder = pkis[type];
  if (!holder)
    holder = std::make_unique<unit_test::PkiHolder>(KeyTypeName(type), "/C=XX/O=tsad unit tests/CN=Assembler TSA", type);
  return holder->pki;
}

Bytes SignatureOf(const Bytes& token_der) {
  const unsigned char* p = token_der.data();
  UniquePtr<PKCS7> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
  EXPECT_TRUE(p7);
  if (!p7) return {};
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7.get()), 0);
  const auto* data = ASN1_STRING_get0_data(si->enc_digest);
  return Bytes(data, data + ASN1_STRING_length(si->enc_digest));
}

struct Case {
  std::string name;
  RequestSpec request;
  SignerOptions options = unit_test::DefaultSignerOptions();
  Bytes serial = {0x06, 0x61, 0x76, 0x60, 0x57, 0x72, 0xab, 0, 0, 0, 0, 0, 0, 0, 1};
  int micros = 123'456;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto base = [] {
    Case c;
    c.request.digest = unit_test::Filled(32, 0x3c);
    return c;
  };
  cases.push_back(base());
  cases.back().name = "plain";
  Case c = base();
  c.name = "nonce with the high bit set, no certReq";
  c.request.nonce = Bytes{0x80, 0x01, 0x02};
  c.request.cert_req = false;
  cases.push_back(c);
  c = base();
  c.name = "long nonce with leading zero, other policy";
  c.request.nonce = Bytes{0x00, 0x00, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  c.request.policy = unit_test::kOtherPolicy;
  cases.push_back(c);
  c = base();
  c.name = "SHA-512 imprint without NULL parameters";
  c.request.hash = core::HashAlgorithm::kSha512;
  c.request.digest = unit_test::Filled(64, 0xee);
  c.request.hash_parameters_null = false;
  c.request.nonce = Bytes{0x01};
  cases.push_back(c);
  c = base();
  c.name = "serial with the high bit set, zero fraction";
  c.serial = {0x80, 0, 0, 1};
  c.micros = 0;
  cases.push_back(c);
  c = base();
  c.name = "six clock digits, millisecond and microsecond accuracy, no TSA name";
  c.options.clock_precision_digits = 6;
  c.options.accuracy = core::Accuracy{0, 250, 100};
  c.options.include_tsa_name = false;
  c.micros = 100'200;
  cases.push_back(c);
  c = base();
  c.name = "no fraction digits, whole-second accuracy";
  c.options.clock_precision_digits = 0;
  c.options.accuracy = core::Accuracy{1, 0, 0};
  c.micros = 999'999;
  cases.push_back(c);
  return cases;
}

class TokenAssemblerTest : public ::testing::TestWithParam<KeyType> {};

// OpenSSL's signingTime is its wall clock: the gen time is now's second, retried at a boundary.
core::UnixMicros ThisSecond(int micros) { return static_cast<core::UnixMicros>(std::time(nullptr)) * 1'000'000 + micros; }

TEST_P(TokenAssemblerTest, ReproducesOpenSslsResponseByteForByteForEveryOption) {
  auto material = unit_test::LoadMaterial(PkiFor(GetParam()));
  ASSERT_NE(material, nullptr);
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    SignerOptions reference_options = c.options;
    reference_options.engine = SignerOptions::Engine::kOpenSsl;
    auto reference = TokenSigner::Create(material, reference_options);
    auto assembler = TokenAssembler::Create(*material, c.options);
    ASSERT_TRUE(reference && assembler);
    const Bytes request = unit_test::RequestDer(c.request);
    bool compared = false;
    for (int attempt = 0; attempt < 3 && !compared; ++attempt) {
      const core::UnixMicros t = ThisSecond(c.micros);
      auto openssl = (*reference)->Sign(request, c.serial, t);
      ASSERT_TRUE(openssl) << openssl.error().ToString();
      if (std::time(nullptr) != t / 1'000'000) continue;
      auto u = (*assembler)->BuildUnsigned(request, c.serial, t);
      ASSERT_TRUE(u) << u.error().ToString();
      const auto encoded = (*assembler)->Finish(*u, SignatureOf(openssl->token_der));
      EXPECT_EQ(encoded.response_der, openssl->response_der);
      EXPECT_EQ(encoded.token_der, openssl->token_der);
      compared = true;
    }
    EXPECT_TRUE(compared);
  }
}

TEST_P(TokenAssemblerTest, TheDirectSignerIsChosenAndItsTokensVerify) {
  auto signer = unit_test::MakeSigner(PkiFor(GetParam()));
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->engine(), SignerOptions::Engine::kDirect) << signer->direct_fallback_reason();
  const Bytes nonce = {0x11, 0x22};
  const Bytes request = unit_test::Sha256Request(0x42, true, nonce);
  auto signed_token = signer->Sign(request, Bytes{0x2a}, unit_test::NowMicros());
  ASSERT_TRUE(signed_token) << signed_token.error().ToString();
  VerifyOptions options;
  options.ca_pem = PkiFor(GetParam()).ca_cert_pem;
  options.request_der = request;
  auto verdict = Verify(signed_token->response_der, options);
  EXPECT_TRUE(verdict) << verdict.error().ToString();
}

INSTANTIATE_TEST_SUITE_P(Keys, TokenAssemblerTest, ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048),
                         [](const auto& param_info) {
                           std::string name = KeyTypeName(param_info.param);
                           std::erase(name, '-');
                           return name;
                         });

TEST(TokenSignerEngine, RsaTokensAreIdenticalToOpenSslsWholeSignatureIncluded) {
  auto material = unit_test::LoadMaterial(PkiFor(KeyType::kRsa2048));
  ASSERT_NE(material, nullptr);
  SignerOptions openssl_options = unit_test::DefaultSignerOptions();
  openssl_options.engine = SignerOptions::Engine::kOpenSsl;
  auto direct = TokenSigner::Create(material, unit_test::DefaultSignerOptions());
  auto openssl = TokenSigner::Create(material, openssl_options);
  ASSERT_TRUE(direct && openssl);
  ASSERT_EQ((*direct)->engine(), SignerOptions::Engine::kDirect);
  const Bytes request = unit_test::Sha256Request(0x99, true, Bytes{0x01, 0x02});
  for (int attempt = 0; attempt < 3; ++attempt) {
    const core::UnixMicros t = ThisSecond(500'000);
    auto a = (*direct)->Sign(request, Bytes{0x07}, t);
    auto b = (*openssl)->Sign(request, Bytes{0x07}, t);
    ASSERT_TRUE(a && b);
    if (std::time(nullptr) != t / 1'000'000) continue;
    EXPECT_EQ(a->response_der, b->response_der);
    return;
  }
  FAIL() << "the second changed during every attempt";
}

TEST(DigestSignerTest, ASignatureOverOtherDataDoesNotVerify) {
  auto material = unit_test::LoadMaterial(unit_test::SharedPki());
  ASSERT_NE(material, nullptr);
  auto signer = DigestSigner::Create(material->key(), EVP_sha256());
  ASSERT_TRUE(signer);
  const Bytes data = {1, 2, 3};
  Bytes digest(32);
  unsigned len = 0;
  ASSERT_EQ(EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr), 1);
  auto sig = (*signer)->Sign(digest);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(VerifySignature(material->certificate(), EVP_sha256(), data, *sig));
  EXPECT_FALSE(VerifySignature(material->certificate(), EVP_sha256(), Bytes{1, 2, 4}, *sig));
}

}  // namespace
}  // namespace tsa::crypto
