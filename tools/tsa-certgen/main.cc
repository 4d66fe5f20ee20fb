// tsa-certgen: writes a development CA and an RFC 3161 TSA certificate issued by it (see
// tsa/crypto/cert_factory.h). Flags -> CreateDevPki -> exit code.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "common/tool_cli.h"
#include "tsa/crypto/cert_factory.h"

namespace {

// Exit codes are part of the interface: scripts tell "already there" apart from real failures.
constexpr int kExitOk = tsa::tool::kExitOk;
constexpr int kExitRuntime = tsa::tool::kExitFailed;  // crypto or file system failure
constexpr int kExitUsage = tsa::tool::kExitUsage;     // bad flags or flag values
constexpr int kExitExists = 3;                        // refused to overwrite existing files (no --force)

int Fail(int code, const std::string& message) { return tsa::tool::Fail("tsa-certgen", code, message); }

int Run(int argc, char** argv) {
  CLI::App app{"Create a development CA and a time-stamping (TSA) certificate issued by it."};
  tsa::tool::Describe(app, "tsa-certgen");
  tsa::crypto::DevPkiOptions options;
  options.dir = "certs";
  std::string key_type = "rsa3072";
  app.add_option("--dir", options.dir, "Output directory (created if missing)")->capture_default_str();
  // ed25519 and rsa-pss are left out on purpose: not every RFC 3161 client verifies them.
  app.add_option("--key-type", key_type, "TSA key type")
      ->check(CLI::IsMember({"rsa2048", "rsa3072", "ec-p256", "ec-p384"}))
      ->capture_default_str();
  app.add_option("--subject", options.subject, "TSA certificate subject (OpenSSL /C=../O=../CN=.. format)")
      ->capture_default_str();
  app.add_option("--days", options.days, "TSA certificate validity in days (the CA gets twice as long)")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  app.add_flag("--force", options.force, "Overwrite existing files");
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv)) return *code;

  const auto type = tsa::crypto::KeyTypeFromName(key_type);
  if (!type) return Fail(kExitUsage, "unknown key type " + key_type);
  options.key_type = *type;
  if (auto valid = tsa::crypto::ValidateDevPkiOptions(options); !valid) {
    return Fail(kExitUsage, valid.error().message);
  }

  auto files = tsa::crypto::CreateDevPki(options);
  if (!files) {
    // The options were validated above, so an invalid-argument error here can only be the refusal
    // to overwrite existing files (see CreateDevPki).
    const bool refused = files.error().kind == tsa::ErrorKind::kInvalidArgument;
    return Fail(refused ? kExitExists : kExitRuntime, files.error().message);
  }
  for (const std::string& path : files->All()) std::cout << "wrote " << path << '\n';
  std::cout << "verify tokens with: tsa-verify timestamp.tsr " << files->tsa_cert << " --ca " << files->ca_cert << '\n';
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    return Fail(kExitRuntime, e.what());
  } catch (...) {
    return Fail(kExitRuntime, "unknown exception");
  }
}
