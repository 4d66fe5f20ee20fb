// libFuzzer harness over tsad's request-handling path: the bytes are a POST /tsa body, fed to
// service::Issuer::Issue (decode -> validate -> clock gate -> sign -> token log), and
// every answer must have the properties of request_checks.h (conformance row E13). A violation
// aborts, so libFuzzer saves the input as a crash.
//
// Build and run: see fuzz/README.md. Environment:
//   TSA_FUZZ_VERBOSE=1  print the outcome of every input (useful when replaying one file).
//   TSA_FUZZ_TOLERATE_SIGNER_FAILURE=1  do not stop at a systemFailure from signing for a request
//                       the oracle calls valid (E13 still enforced); to fuzz past a known finding.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define TSA_FUZZ_HAVE_DEATH_CALLBACK 1
#endif

#include "request_checks.h"

namespace {

tsa::fuzz::IssuerEnv* g_env = nullptr;  // built once; never destroyed while inputs run
bool g_verbose = false;
tsa::fuzz::CheckOptions g_check_options;

void RemoveEnv() {
  delete g_env;  // stops the log writer and removes the temp directory
  g_env = nullptr;
}

// On a crash nothing is torn down; at least do not leave the PKI and database in $TMPDIR.
void RemoveTempDirOnDeath() {
  if (g_env == nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(g_env->dir, ec);
}

void PrintBody(std::span<const std::uint8_t> body) {
  std::fprintf(stderr, "body (%zu bytes):", body.size());
  for (std::size_t i = 0; i < body.size() && i < 512; ++i) std::fprintf(stderr, "%s%02x", i % 32 == 0 ? "\n  " : "", body[i]);
  std::fprintf(stderr, "%s\n", body.size() > 512 ? "\n  ..." : "");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  g_verbose = std::getenv("TSA_FUZZ_VERBOSE") != nullptr;
  g_check_options.tolerate_signer_system_failure = std::getenv("TSA_FUZZ_TOLERATE_SIGNER_FAILURE") != nullptr;
  tsa::fuzz::IssuerEnvOptions options;
  options.keep_token = false;  // long runs grant many tokens: keep the log file small
  auto env = tsa::fuzz::MakeIssuerEnv(options);
  if (!env) {
    std::fprintf(stderr, "request_fuzzer: cannot set up the issuer: %s\n", env.error().ToString().c_str());
    std::exit(1);
  }
  g_env = env->release();
  std::atexit(RemoveEnv);
#ifdef TSA_FUZZ_HAVE_DEATH_CALLBACK
  __sanitizer_set_death_callback(RemoveTempDirOnDeath);
#endif
  std::fprintf(stderr, "request_fuzzer: issuer ready in %s (EC P-256 TSA, policy %s)%s\n", g_env->dir.c_str(),
               tsa::fuzz::kDefaultPolicy,
               g_check_options.tolerate_signer_system_failure ? "; tolerating systemFailure from signing" : "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> body(data, size);
  const tsa::fuzz::CheckResult result = tsa::fuzz::IssueAndCheck(*g_env, body, g_check_options);
  if (g_verbose) {
    std::fprintf(stderr, "request_fuzzer: %zu bytes -> %s (oracle: %s)\n", size,
                 result.outcome.granted() ? "granted" : tsa::core::FailInfoName(result.outcome.rejection->fail_info),
                 result.expected_rejection ? tsa::core::FailInfoName(*result.expected_rejection) : "grant");
  }
  if (!result.ok()) {
    std::fprintf(stderr, "\n==== request_fuzzer: E13 VIOLATION: %s\n", result.violation.c_str());
    if (!result.outcome.internal_error.empty())
      std::fprintf(stderr, "internal error: %s\n", result.outcome.internal_error.c_str());
    PrintBody(body);
    RemoveTempDirOnDeath();
    std::abort();
  }
  return 0;
}
