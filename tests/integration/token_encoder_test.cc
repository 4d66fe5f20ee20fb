// --token-encoder: tsad's direct DER encoder (the default) and OpenSSL's TS_RESP give tokens that
// the real `openssl ts -verify` accepts, and the start log names the one that signs.
#include <gtest/gtest.h>

#include <fstream>

#include "grant_checks.h"
#include "shared_tsad.h"
#include "support/der_builder.h"

namespace tsa::test {
namespace {

class TokenEncoder : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenEncoder, TokensVerifyWithOpensslAndTheStartLogNamesTheSigner) {
  SharedTsad env;
  env.Start({"--token-encoder", GetParam()});
  ASSERT_TRUE(env.Ready());
  const std::string expected = GetParam() == "direct" ? "direct DER encoder" : "OpenSSL TS_RESP";
  EXPECT_NE(env.tsad().log().find(expected), std::string::npos) << env.tsad().log();
  TempDir dir("tsa-encoder");
  for (auto cert_req : {RequestBuilder::CertReq::kTrue, RequestBuilder::CertReq::kAbsent}) {
    RequestBuilder request = RequestBuilder::Default();
    request.cert_req = cert_req;
    const HttpResponse reply = PostQuery(env.port(), request.Encode());
    ASSERT_TRUE(CheckGrant(reply, ExpectationsFor(request, env.pki().tsa_cert_pem, env.pki().ca_cert_pem)));
    const std::string q = dir.Sub("q.tsq"), r = dir.Sub("r.tsr");
    const Bytes query = request.Encode();
    std::ofstream(q, std::ios::binary)
        .write(reinterpret_cast<const char*>(query.data()), static_cast<std::streamsize>(query.size()));
    std::ofstream(r, std::ios::binary)
        .write(reinterpret_cast<const char*>(reply.body.data()), static_cast<std::streamsize>(reply.body.size()));
    auto verify = RunCommand({"openssl", "ts", "-verify", "-in", r, "-queryfile", q, "-CAfile", env.pki().files.ca_cert,
                              "-untrusted", env.pki().files.tsa_cert});
    EXPECT_EQ(verify.exit_code, 0) << verify.output;
  }
  env.Stop();
}

INSTANTIATE_TEST_SUITE_P(Engines, TokenEncoder, ::testing::Values("direct", "openssl"));

}  // namespace
}  // namespace tsa::test
