// tsa-request: asks a TSA for a time-stamp over data, a file or a digest, checks that the reply
// answers the request, and saves it. Exit codes: 0 granted, 1 rejected or transport failure,
// 2 usage, 3 an input file cannot be read.
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>

#include "tsa/core/bytes.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/streaming_hash.h"
#include "tsa/http/client.h"

int main(int argc, char** argv) try {
  std::string url = "http://127.0.0.1:5000/tsa", data, file, digest_hex, hash = "sha256", policy, out = "timestamp.tsr",
              query_out;
  bool no_cert_req = false, no_nonce = false, json = false;
  int timeout = 30;
  CLI::App app{"tsa-request: get an RFC 3161 time-stamp from a TSA"};
  app.add_option("--url", url, "TSA URL")->capture_default_str();
  auto* g = app.add_option_group("input", "what to time-stamp (exactly one)");
  g->add_option("--data", data, "Text to time-stamp");
  g->add_option("--file", file, "File to time-stamp");
  g->add_option("--digest", digest_hex, "Digest (hex) to time-stamp");
  g->require_option(1);
  app.add_option("--hash", hash, "sha256, sha384, sha512")->capture_default_str();
  app.add_flag("--no-cert-req", no_cert_req, "Do not ask for the TSA certificate in the token");
  app.add_flag("--no-nonce", no_nonce, "Send no nonce");
  app.add_option("--policy", policy, "Requested policy OID");
  app.add_option("--out", out, "Where to save the reply (DER)")->capture_default_str();
  app.add_option("--query-out", query_out, "Also save the request (DER, for openssl ts -verify -queryfile)");
  app.add_option("--timeout", timeout, "Seconds")->capture_default_str();
  app.add_flag("--json", json, "Print the reply as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "tsa-request: " << e.what() << " (see --help)\n";
    return 2;
  }
  auto fail = [](int code, const std::string& msg) {
    std::cerr << "tsa-request: " << msg << "\n";
    return code;
  };

  const auto alg = tsa::core::HashAlgorithmFromName(hash);
  if (!alg) return fail(2, "unknown --hash " + hash);
  tsa::crypto::RequestSpec spec;
  spec.hash = *alg;
  if (!digest_hex.empty()) {
    auto d = tsa::core::ParseHex(digest_hex);
    if (!d) return fail(2, "--digest is not hex");
    spec.digest = *d;
  } else {
    std::vector<std::uint8_t> bytes(data.begin(), data.end());
    if (!file.empty()) {
      auto f = tsa::core::ReadFileBytes(file);
      if (!f) return fail(3, f.error().message);
      bytes = std::move(*f);
    }
    auto d = tsa::crypto::Digest(*alg, bytes);
    if (!d) return fail(1, d.error().message);
    spec.digest = *d;
  }
  spec.cert_req = !no_cert_req;
  if (!no_nonce) spec.nonce = tsa::crypto::RandomNonce();
  if (!policy.empty()) spec.policy = policy;
  auto request = tsa::crypto::EncodeRequest(spec);
  if (!request) return fail(2, request.error().message);
  if (!query_out.empty()) {
    if (auto st = tsa::core::WriteFileBytes(query_out, *request); !st) return fail(1, st.error().message);
  }

  tsa::http::ClientOptions options;
  options.timeout_s = timeout;
  auto reply = tsa::http::Post(url, *request, "application/timestamp-query", options);
  if (!reply) return fail(1, reply.error().message);
  if (reply->status != 200) return fail(1, "HTTP " + std::to_string(reply->status) + " from " + url);
  auto info = tsa::crypto::DescribeResponse(reply->body);
  if (!info) return fail(1, "the reply is not a TimeStampResp: " + info.error().message);
  if (auto st = tsa::core::WriteFileBytes(out, reply->body); !st) return fail(1, st.error().message);

  if (json) std::cout << tsa::core::ToJson(*info).dump(2) << "\n";
  if (!info->granted()) {
    std::string why = info->fail_info.empty() ? "" : std::string(" (") + tsa::core::FailInfoName(info->fail_info.front()) + ")";
    return fail(1, std::string("rejected") + why + ": " + info->status_string);
  }
  // The reply must answer this request (RFC 3161 §2.4.2): imprint and nonce.
  if (info->token->digest_hex != tsa::core::ToHex(spec.digest)) return fail(1, "the token's imprint does not match the request");
  if (spec.nonce && info->token->nonce_hex != tsa::core::ToHex(*spec.nonce))
    return fail(1, "the token's nonce does not match the request");
  if (!json)
    std::cout << "granted serial=" << info->token->serial_hex << " gen_time=" << info->token->gen_time << " saved to " << out
              << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tsa-request: " << e.what() << "\n";
  return 1;
}
