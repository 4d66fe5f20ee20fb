// tsa-certgen: writes a development CA and an RFC 3161 TSA certificate issued by it (see
// tsa/crypto/cert_factory.h), for a new PEM key, an existing key (PEM or pkcs11: URI) or a key it
// generates inside a PKCS#11 token; `tsa-certgen csr` writes a PKCS#10 request for a real CA.
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "common/tool_cli.h"
#include "tsa/audit/signed_note.h"
#include "tsa/crypto/cert_factory.h"
#include "tsa/crypto/ed25519_key.h"
#include "tsa/crypto/pkcs11_key.h"
#include "tsa/crypto/pkcs11_keygen.h"

namespace {

// Exit codes are part of the interface: scripts tell "already there" apart from real failures.
constexpr int kExitOk = tsa::tool::kExitOk;
constexpr int kExitRuntime = tsa::tool::kExitFailed;  // crypto or file system failure
constexpr int kExitUsage = tsa::tool::kExitUsage;     // bad flags or flag values
constexpr int kExitExists = 3;                        // refused to overwrite existing files (no --force)

int Fail(int code, const std::string& message) { return tsa::tool::Fail("tsa-certgen", code, message); }

// Where the TSA key comes from: --key (existing PEM or pkcs11: URI) or --pkcs11 (generated in the
// token first), else a new PEM key (dev PKI only).
struct KeyChoice {
  std::string key;
  std::string pkcs11_uri;
  std::string module = tsa::crypto::kDefaultPkcs11Module;
  std::string type_name = "rsa3072";
};

void AddKeyOptions(CLI::App& app, KeyChoice& k) {
  auto* key = app.add_option("--key", k.key, "Existing TSA key to use: a PEM file or an RFC 7512 pkcs11: URI");
  auto* gen = app.add_option("--pkcs11", k.pkcs11_uri,
                             "Generate the TSA key inside this PKCS#11 token first (pkcs11:token=T;object=LABEL; PIN from "
                             "pin-source/pin-value or TSA_PKCS11_PIN)");
  key->excludes(gen);
  app.add_option("--pkcs11-module", k.module, "PKCS#11 module")->envname("TSA_PKCS11_MODULE")->capture_default_str();
  // ed25519 and rsa-pss are left out on purpose: not every RFC 3161 client verifies them.
  app.add_option("--key-type", k.type_name, "TSA key type (new keys only)")
      ->check(CLI::IsMember({"rsa2048", "rsa3072", "ec-p256", "ec-p384"}))
      ->capture_default_str();
}

// Generates the key in the token when --pkcs11 was given; returns the key to use ("" = new PEM).
tsa::Result<std::string> ResolveKey(const KeyChoice& k) {
  if (k.pkcs11_uri.empty()) return k.key;
  if (!tsa::crypto::IsPkcs11Uri(k.pkcs11_uri))
    return tsa::Error{tsa::ErrorKind::kInvalidArgument, "--pkcs11 needs a pkcs11: URI"};
  TSA_TRY(tsa::crypto::GeneratePkcs11KeyPair(k.pkcs11_uri, k.module, *tsa::crypto::KeyTypeFromName(k.type_name)));
  std::cout << "generated a " << k.type_name << " key in " << tsa::crypto::RedactPkcs11Uri(k.pkcs11_uri) << '\n';
  return k.pkcs11_uri;
}

int RunCsr(const KeyChoice& k, const std::string& subject, const std::string& out, bool force) {
  auto key_name = ResolveKey(k);
  if (!key_name) return Fail(kExitRuntime, key_name.error().message);
  if (key_name->empty()) return Fail(kExitUsage, "csr needs --key KEY_OR_URI or --pkcs11 URI");
  auto key = tsa::crypto::LoadPrivateKey(*key_name, k.module);
  if (!key) return Fail(kExitRuntime, key.error().message);
  auto csr = tsa::crypto::CreateTsaCsr(key->get(), subject);
  if (!csr) return Fail(csr.error().kind == tsa::ErrorKind::kInvalidArgument ? kExitUsage : kExitRuntime, csr.error().message);
  const auto policy = force ? tsa::crypto::WritePolicy::kOverwrite : tsa::crypto::WritePolicy::kCreateNew;
  if (auto st = tsa::crypto::WriteCsrPem(out, csr->get(), policy); !st) {
    return Fail(st.error().kind == tsa::ErrorKind::kIo && !force ? kExitExists : kExitRuntime, st.error().message);
  }
  std::cout << "wrote " << out << " (PKCS#10, subject " << subject
            << ", requests a critical extendedKeyUsage timeStamping): have your CA sign it, then start tsad with "
               "--key "
            << tsa::crypto::RedactPkcs11Uri(*key_name) << " --cert CERT.pem --chain CA.pem\n";
  return kExitOk;
}

// The Ed25519 key of the log's C2SP checkpoints (AUDIT_CHAIN.md). An existing key is kept even
// with --force: it is the log's identity, and replacing it breaks every verifier that pinned it.
int WriteLogKey(const std::string& dir, const std::string& origin) {
  const std::filesystem::path path = std::filesystem::path(dir) / "log_key.pem";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  tsa::Result<tsa::crypto::Ed25519Key> key = tsa::crypto::Ed25519Key::LoadPem(path.string());
  if (std::filesystem::exists(path)) {
    if (!key) return Fail(kExitRuntime, key.error().message);
    std::cout << "kept " << path.string() << '\n';
  } else {
    key = tsa::crypto::Ed25519Key::Generate();
    if (!key) return Fail(kExitRuntime, key.error().message);
    auto pem = key->PrivatePem();
    if (!pem) return Fail(kExitRuntime, pem.error().message);
    const mode_t old = umask(077);  // a private key: owner only
    std::ofstream out(path);
    out << *pem;
    out.close();
    umask(old);
    if (!out) return Fail(kExitRuntime, "cannot write " + path.string());
    std::cout << "wrote " << path.string() << '\n';
  }
  auto signer = tsa::audit::NoteSigner::Make(origin, *key);
  if (!signer) return Fail(kExitUsage, signer.error().message);
  std::cout << "log origin: " << origin << "\nlog verifier key: " << signer->VerifierKey() << '\n';
  return kExitOk;
}

int Run(int argc, char** argv) {
  CLI::App app{"Create a development CA and a time-stamping (TSA) certificate issued by it, or (csr) a certificate request."};
  tsa::tool::Describe(app, "tsa-certgen");
  tsa::crypto::DevPkiOptions options;
  options.dir = "certs";
  KeyChoice key;
  app.add_option("--dir", options.dir, "Output directory (created if missing)")->capture_default_str();
  AddKeyOptions(app, key);
  app.add_option("--subject", options.subject, "TSA certificate subject (OpenSSL /C=../O=../CN=.. format)")
      ->capture_default_str();
  app.add_option("--days", options.days, "TSA certificate validity in days (the CA gets twice as long)")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  app.add_flag("--force", options.force, "Overwrite existing files (an existing log_key.pem is always kept)");
  bool log_key_only = false;
  std::string log_origin;
  app.add_flag("--log-key-only", log_key_only, "Only write <dir>/log_key.pem (the C2SP checkpoint key) if missing");
  app.add_option("--log-origin", log_origin, "Log origin printed with the verifier key (default <CN>/log, as tsad)");

  auto* csr = app.add_subcommand("csr", "Write a PKCS#10 request for a TSA certificate (critical timeStamping EKU requested)");
  KeyChoice csr_key;
  std::string csr_subject = options.subject;
  std::string csr_out;
  bool csr_force = false;
  AddKeyOptions(*csr, csr_key);
  csr->add_option("--subject", csr_subject, "Subject (OpenSSL /C=../O=../CN=.. format)")->capture_default_str();
  csr->add_option("-o,--out", csr_out, "Output file (PEM)")->required();
  csr->add_flag("--force", csr_force, "Overwrite the output file");
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv)) return *code;
  if (csr->parsed()) return RunCsr(csr_key, csr_subject, csr_out, csr_force);
  if (log_origin.empty()) log_origin = tsa::audit::DefaultLogOrigin(options.subject);
  if (log_key_only) return WriteLogKey(options.dir, log_origin);

  const auto type = tsa::crypto::KeyTypeFromName(key.type_name);
  if (!type) return Fail(kExitUsage, "unknown key type " + key.type_name);
  options.key_type = *type;
  options.pkcs11_module = key.module;
  if (auto valid = tsa::crypto::ValidateDevPkiOptions(options); !valid) {
    return Fail(kExitUsage, valid.error().message);
  }
  auto key_name = ResolveKey(key);
  if (!key_name) return Fail(kExitRuntime, key_name.error().message);
  options.existing_key = *key_name;

  auto files = tsa::crypto::CreateDevPki(options);
  if (!files) {
    // The options were validated above, so an invalid-argument error here can only be the refusal
    // to overwrite existing files (see CreateDevPki).
    const bool refused = files.error().kind == tsa::ErrorKind::kInvalidArgument;
    return Fail(refused ? kExitExists : kExitRuntime, files.error().message);
  }
  for (const std::string& path : files->All()) std::cout << "wrote " << path << '\n';
  if (!options.existing_key.empty()) {
    std::cout << "start tsad with: --key '" << tsa::crypto::RedactPkcs11Uri(options.existing_key) << "' --cert "
              << files->tsa_cert << " --chain " << files->chain << '\n';
  }
  std::cout << "verify tokens with: tsa-verify timestamp.tsr " << files->tsa_cert << " --ca " << files->ca_cert << '\n';
  return WriteLogKey(options.dir, log_origin);
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
