// tsa-verify: checks a time-stamp reply or token against a TSA certificate (and optionally a CA,
// the data or its digest, and the request). Exit codes: 0 OK, 1 verification failed, 2 usage,
// 3 an input file cannot be read.
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "tsa/core/bytes.h"
#include "tsa/crypto/verifier.h"

int main(int argc, char** argv) try {
  std::string token_path, cert_path, ca_path, data_path, digest_hex, request_path;
  bool json = false;
  CLI::App app{"tsa-verify: verify an RFC 3161 time-stamp reply (.tsr) or token (.tst)"};
  app.add_option("token", token_path, "Reply or bare token (DER)")->required();
  app.add_option("tsa_cert", cert_path, "The TSA certificate (PEM) that must have signed it")->required();
  app.add_option("--ca", ca_path, "Trust anchors and intermediates (PEM); default: trust the TSA certificate itself");
  auto* data_opt = app.add_option("--data", data_path, "The time-stamped file: its hash must be the token's imprint");
  app.add_option("--digest", digest_hex, "The imprint (hex) the token must carry")->excludes(data_opt);
  app.add_option("--request", request_path, "The request (.tsq): nonce, policy, imprint and certReq must match");
  app.add_flag("--json", json, "Print the token as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "tsa-verify: " << e.what() << " (see --help)\n";
    return 2;
  }

  auto fail = [](int code, const std::string& msg) {
    std::cerr << "tsa-verify: " << msg << "\n";
    return code;
  };
  auto token = tsa::core::ReadFileBytes(token_path);
  if (!token) return fail(3, token.error().message);
  tsa::crypto::VerifyOptions options;
  auto cert = tsa::core::ReadFileText(cert_path);
  if (!cert) return fail(3, cert.error().message);
  options.tsa_cert_pem = *cert;
  if (!ca_path.empty()) {
    auto ca = tsa::core::ReadFileText(ca_path);
    if (!ca) return fail(3, ca.error().message);
    options.ca_pem = *ca;
  }
  if (!data_path.empty()) {
    auto data = tsa::core::ReadFileBytes(data_path);
    if (!data) return fail(3, data.error().message);
    options.data = *data;
  }
  if (!digest_hex.empty()) {
    options.digest = tsa::core::ParseHex(digest_hex);
    if (!options.digest) return fail(2, "--digest is not hex");
  }
  if (!request_path.empty()) {
    auto req = tsa::core::ReadFileBytes(request_path);
    if (!req) return fail(3, req.error().message);
    options.request_der = *req;
  }

  auto result = tsa::crypto::Verify(*token, options);
  if (!result) {
    if (json) std::cout << nlohmann::json{{"verified", false}, {"error", result.error().message}}.dump(2) << "\n";
    return fail(1, result.error().message);
  }
  const auto& t = *result->token;
  if (json) {
    auto j = tsa::core::ToJson(*result);
    j["verified"] = true;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "Signature OK\n"
            << "  gen_time:  " << t.gen_time << "\n"
            << "  serial:    " << t.serial_hex << "\n"
            << "  policy:    " << t.policy << "\n"
            << "  imprint:   " << t.hash_algorithm << " " << t.digest_hex << "\n"
            << "  nonce:     " << t.nonce_hex.value_or("-") << "\n"
            << "  tsa:       " << t.tsa.value_or("-") << "\n"
            << "  signature: " << t.signature_algorithm << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tsa-verify: " << e.what() << "\n";
  return 1;
}
