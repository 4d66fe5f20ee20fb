// The reference ceiling for the loopback benchmark: how many tokens per second the signing step
// alone (OpenSSL's TS_RESP_create_response with the same key and settings as tsad, one context per
// thread) reaches in this process, on as many threads as there are cores. Prints one JSON line.
// `--engine direct` measures tsad's own encoder (TokenAssembler) the same way instead.
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "tsa/core/bytes.h"
#include "tsa/core/serial.h"
#include "tsa/crypto/signer_material.h"
#include "tsa/crypto/token_signer.h"

int main(int argc, char** argv) {
  std::string cert_dir, request_path;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  double seconds = 5;
  CLI::App app{"tsa-bench-ceiling: in-process signing ceiling"};
  app.add_option("--cert-dir", cert_dir, "tsa-certgen directory")->required();
  app.add_option("--request", request_path, "DER TimeStampReq to sign")->required();
  app.add_option("--threads", threads);
  app.add_option("--seconds", seconds);
  std::string engine = "openssl";
  app.add_option("--engine", engine, "openssl (TS_RESP, the reference) or direct (tsad's encoder)")
      ->check(CLI::IsMember({"openssl", "direct"}));
  CLI11_PARSE(app, argc, argv);

  auto material = tsa::crypto::SignerMaterial::Load(tsa::crypto::SignerFilesInDirectory(cert_dir), std::time(nullptr));
  if (!material) {
    std::cerr << "tsa-bench-ceiling: " << material.error().message << "\n";
    return 1;
  }
  tsa::crypto::SignerOptions options;
  options.policy.default_policy = "1.3.6.1.4.1.99999.1.1";
  options.policy.accepted_hashes = {tsa::core::HashAlgorithm::kSha256, tsa::core::HashAlgorithm::kSha384,
                                    tsa::core::HashAlgorithm::kSha512};
  options.engine = engine == "direct" ? tsa::crypto::SignerOptions::Engine::kDirect
                                      : tsa::crypto::SignerOptions::Engine::kOpenSsl;
  auto signer = tsa::crypto::TokenSigner::Create(*material, options);
  if (signer && (*signer)->engine() != options.engine) {
    std::cerr << "tsa-bench-ceiling: the direct encoder is not usable: " << (*signer)->direct_fallback_reason() << "\n";
    return 1;
  }
  auto request = tsa::core::ReadFileBytes(request_path);
  if (!signer || !request) {
    std::cerr << "tsa-bench-ceiling: cannot set up the signer or read the request\n";
    return 1;
  }
  std::atomic<std::uint64_t> total{0};
  std::atomic<bool> failed{false};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const tsa::core::SerialSpace space{static_cast<std::uint16_t>(t), 1};
      std::uint64_t n = 0;
      while (std::chrono::steady_clock::now() < deadline) {
        const auto now =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        if (!(*signer)->Sign(*request, tsa::core::EncodeSerial(space, ++n), now)) failed = true;
      }
      total += n;
    });
  }
  for (auto& w : workers) w.join();
  if (failed) {
    std::cerr << "tsa-bench-ceiling: a signature failed\n";
    return 1;
  }
  std::cout << "{\"threads\":" << threads << ",\"seconds\":" << seconds << ",\"tokens\":" << total
            << ",\"tokens_per_s\":" << static_cast<double>(total) / seconds << "}\n";
  return 0;
}
