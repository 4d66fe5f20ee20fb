// tsa-request: asks a TSA for a time-stamp over data, a file or a digest, checks that the reply
// answers the request, and only then saves it. Exit codes: 0 granted and matching, 1 rejected,
// transport failure or a reply that does not answer the request (nothing saved), 2 usage, 3 an
// input file cannot be read.
#include <CLI/CLI.hpp>

#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <variant>

#include "common/tool_cli.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/streaming_hash.h"
#include "tsa/http/client.h"

namespace {

constexpr char kTool[] = "tsa-request";
using tsa::tool::Fail;

struct Flags {
  std::string url = "http://127.0.0.1:5000/tsa", data, file, digest_hex, hash = "sha256", policy, out = "timestamp.tsr",
              query_out, ca_file;
  bool no_cert_req = false, no_nonce = false, json = false;
  int timeout = 30;
};

std::string HashNames() {
  std::string names;
  for (const auto& h : tsa::core::AllHashAlgorithms()) names += (names.empty() ? "" : ", ") + std::string(h.name);
  return names;
}

void DefineFlags(CLI::App& app, Flags& f) {
  app.add_option("--url", f.url, "The TSA's http:// or https:// URL (user:key@ in it: HTTP Basic credentials)")
      ->capture_default_str();
  app.add_option("--ca-file", f.ca_file,
                 "PEM CA certificates that an https:// TSA's certificate must chain to (default: the system's)");
  auto* g = app.add_option_group("input", "What to time-stamp (exactly one)");
  g->add_option("--data", f.data, "Text to time-stamp (hashed here)");
  g->add_option("--file", f.file, "File to time-stamp (hashed here, never sent)");
  g->add_option("--digest", f.digest_hex, "Digest (hex) to time-stamp, of the --hash algorithm");
  g->require_option(1);
  app.add_option("--hash", f.hash, "Imprint hash: " + HashNames() + " (the TSA decides which it accepts)")->capture_default_str();
  app.add_flag("--no-cert-req", f.no_cert_req, "Do not ask for the TSA certificate in the token");
  app.add_flag("--no-nonce", f.no_nonce, "Send no nonce (default: a random 64-bit nonce)");
  app.add_option("--policy", f.policy, "Requested policy OID (default: the TSA's)");
  app.add_option("--out", f.out, "Where to save the reply (DER), only when granted and answering the request")
      ->capture_default_str();
  app.add_option("--query-out", f.query_out, "Also save the request (DER, for openssl ts -verify -queryfile)");
  app.add_option("--timeout", f.timeout, "Seconds the whole exchange may take")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_flag("--json", f.json, "Print the reply as JSON");
}

// The request the flags describe; the exit code on failure.
std::variant<tsa::crypto::RequestSpec, int> BuildSpec(const Flags& f) {
  const auto alg = tsa::core::HashAlgorithmFromName(f.hash);
  tsa::crypto::RequestSpec spec;
  spec.hash = *alg;  // checked by the command-line validation
  if (!f.digest_hex.empty()) {
    auto d = tsa::core::ParseHex(f.digest_hex);
    if (!d) return Fail(kTool, tsa::tool::kExitUsage, "--digest is not hex");
    spec.digest = *d;
  } else {
    std::vector<std::uint8_t> bytes(f.data.begin(), f.data.end());
    if (!f.file.empty()) {
      auto read = tsa::core::ReadFileBytes(f.file);
      if (!read) return Fail(kTool, tsa::tool::kExitUnreadable, read.error().message);
      bytes = std::move(*read);
    }
    auto d = tsa::crypto::Digest(*alg, bytes);
    if (!d) return Fail(kTool, tsa::tool::kExitFailed, d.error().message);
    spec.digest = *d;
  }
  spec.cert_req = !f.no_cert_req;
  if (!f.no_nonce) spec.nonce = tsa::crypto::RandomNonce();
  if (!f.policy.empty()) spec.policy = f.policy;
  return spec;
}

// RFC 3161 §2.4.2: a granted reply must answer this request (imprint and nonce). "" when it does.
std::string Mismatch(const tsa::core::ResponseInfo& info, const tsa::crypto::RequestSpec& spec) {
  if (info.token->digest_hex != tsa::core::ToHex(spec.digest)) return "the token's imprint does not match the request";
  if (spec.nonce && info.token->nonce_hex != tsa::core::ToHex(*spec.nonce)) return "the token's nonce does not match the request";
  return "";
}

int Run(int argc, char** argv) {
  Flags f;
  CLI::App app{"Get an RFC 3161 time-stamp from a TSA"};
  tsa::tool::Describe(app, kTool);
  DefineFlags(app, f);
  auto validate = [&f] {
    if (!tsa::http::IsHttpUrl(f.url)) throw CLI::ValidationError("--url", "not an http:// or https:// URL: " + f.url);
    if (!tsa::core::HashAlgorithmFromName(f.hash)) throw CLI::ValidationError("--hash", "unknown algorithm " + f.hash);
  };
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv, validate)) return *code;

  auto built = BuildSpec(f);
  if (const int* code = std::get_if<int>(&built)) return *code;
  const auto& spec = std::get<tsa::crypto::RequestSpec>(built);
  auto request = tsa::crypto::EncodeRequest(spec);
  if (!request) return Fail(kTool, tsa::tool::kExitUsage, request.error().message);
  if (!f.query_out.empty()) {
    if (auto st = tsa::core::WriteFileBytes(f.query_out, *request); !st) return Fail(kTool, 1, st.error().message);
  }

  tsa::http::ClientOptions options;
  options.timeout_s = f.timeout;
  options.ca_bundle = f.ca_file;
  auto reply = tsa::http::Post(f.url, *request, "application/timestamp-query", options);
  if (!reply) return Fail(kTool, tsa::tool::kExitFailed, reply.error().message);
  if (reply->status != 200)
    return Fail(kTool, tsa::tool::kExitFailed,
                "HTTP " + std::to_string(reply->status) + " from " + std::regex_replace(f.url, std::regex("://[^@/]*@"), "://"));
  auto info = tsa::crypto::DescribeResponse(reply->body);
  if (!info) return Fail(kTool, tsa::tool::kExitFailed, "the reply is not a TimeStampResp: " + info.error().message);

  if (f.json) std::cout << tsa::core::ToJson(*info).dump(2) << "\n";
  if (!info->granted()) {
    std::string why = info->fail_info.empty() ? "" : std::string(" (") + tsa::core::FailInfoName(info->fail_info.front()) + ")";
    return Fail(kTool, tsa::tool::kExitFailed, std::string("rejected") + why + ": " + info->status_string);
  }
  // Checked before saving: a reply to another request must not end up where the caller's goes.
  if (const std::string why = Mismatch(*info, spec); !why.empty()) {
    return Fail(kTool, tsa::tool::kExitFailed, why + " (not saved)");
  }
  if (auto st = tsa::core::WriteFileBytes(f.out, reply->body); !st)
    return Fail(kTool, tsa::tool::kExitFailed, st.error().message);
  if (!f.json) {
    std::cout << "granted serial=" << info->token->serial_hex << " gen_time=" << info->token->gen_time << " saved to " << f.out
              << "\n";
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
