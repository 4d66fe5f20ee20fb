// tsa-verify: checks a time-stamp reply or token against a TSA certificate (and optionally a CA,
// the data or its digest, and the request). Exit codes: 0 OK, 1 verification failed, 2 usage,
// 3 an input file cannot be read (or a certificate file holds no certificate).
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/tool_cli.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/verifier.h"

namespace {

constexpr char kTool[] = "tsa-verify";
using tsa::tool::Fail;

void PrintSummary(const tsa::core::TokenInfo& t) {
  std::cout << "Signature OK\n"
            << "  gen_time:  " << t.gen_time << "\n"
            << "  serial:    " << t.serial_hex << "\n"
            << "  policy:    " << t.policy << "\n"
            << "  imprint:   " << t.hash_algorithm << " " << t.digest_hex << "\n"
            << "  nonce:     " << t.nonce_hex.value_or("-") << "\n"
            << "  tsa:       " << t.tsa.value_or("-") << "\n"
            << "  signature: " << t.signature_algorithm << "\n";
}

int Run(int argc, char** argv) {
  std::string token_path, cert_path, ca_path, data_path, digest_hex, request_path;
  bool json = false;
  CLI::App app{"Verify an RFC 3161 time-stamp reply (.tsr) or token (.tst)"};
  tsa::tool::Describe(app, kTool);
  app.add_option("token", token_path, "Reply or bare token (DER)")->required();
  app.add_option("tsa_cert", cert_path,
                 "The TSA certificate (PEM) that must have signed it; a file with several accepts any of them")
      ->required();
  app.add_option("--ca", ca_path, "Trust anchors and intermediates (PEM); default: trust the TSA certificate itself");
  auto* data_opt = app.add_option("--data", data_path, "The time-stamped file: its hash must be the token's imprint");
  app.add_option("--digest", digest_hex, "The imprint (hex) the token must carry")->excludes(data_opt);
  app.add_option("--request", request_path, "The request (.tsq): nonce, policy, imprint and certReq must match");
  app.add_flag("--json", json, "Print the token as JSON");
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv)) return *code;

  tsa::crypto::VerifyOptions options;
  if (!digest_hex.empty()) {
    options.digest = tsa::core::ParseHex(digest_hex);
    if (!options.digest) return Fail(kTool, tsa::tool::kExitUsage, "--digest is not hex");
  }
  auto token = tsa::core::ReadFileBytes(token_path);
  if (!token) return Fail(kTool, tsa::tool::kExitUnreadable, token.error().message);
  // An empty certificate file must not fall back to "the certificate the token carries".
  auto cert = tsa::tool::ReadTrustFile(cert_path, "TSA certificate");
  if (!cert) return Fail(kTool, tsa::tool::kExitUnreadable, cert.error().message);
  options.tsa_cert_pem = *cert;
  if (!ca_path.empty()) {
    auto ca = tsa::tool::ReadTrustFile(ca_path, "--ca");
    if (!ca) return Fail(kTool, tsa::tool::kExitUnreadable, ca.error().message);
    options.ca_pem = *ca;
  }
  if (!data_path.empty()) {
    auto data = tsa::core::ReadFileBytes(data_path);
    if (!data) return Fail(kTool, tsa::tool::kExitUnreadable, data.error().message);
    options.data = *data;
  }
  if (!request_path.empty()) {
    auto req = tsa::core::ReadFileBytes(request_path);
    if (!req) return Fail(kTool, tsa::tool::kExitUnreadable, req.error().message);
    options.request_der = *req;
  }

  auto result = tsa::crypto::Verify(*token, options);
  if (!result) {
    if (json) std::cout << nlohmann::json{{"verified", false}, {"error", result.error().message}}.dump(2) << "\n";
    return Fail(kTool, tsa::tool::kExitFailed, result.error().message);
  }
  if (json) {
    auto j = tsa::core::ToJson(*result);
    j["verified"] = true;
    std::cout << j.dump(2) << "\n";
  } else {
    PrintSummary(*result->token);
  }
  return tsa::tool::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    return Fail(kTool, tsa::tool::kExitFailed, e.what());
  }
}
