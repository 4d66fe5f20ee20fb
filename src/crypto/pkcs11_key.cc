// The ENGINE API is deprecated in OpenSSL 3, but Debian 12 has no PKCS#11 provider: libp11's
// engine is the packaged bridge (ARCHITECTURE.md "Keys in an HSM").
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "tsa/crypto/pkcs11_key.h"

#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "tsa/crypto/ossl_util.h"

namespace tsa::crypto {

namespace {

constexpr std::string_view kScheme = "pkcs11:";

// A URI attribute "name=value" split at the first '='.
struct Attribute {
  std::string name;
  std::string value;
};

// The attributes of both the path (';'-separated) and the query ('&'-separated) components of an
// RFC 7512 URI. pin-value and pin-source are query attributes in RFC 7512 §2.3, but many tools
// (and libp11) accept them in the path too; both are honoured.
std::vector<Attribute> Attributes(std::string_view uri) {
  std::vector<Attribute> out;
  std::string_view rest = uri.substr(kScheme.size());
  std::size_t start = 0;
  while (start <= rest.size()) {
    std::size_t end = rest.find_first_of(";?&", start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view part = rest.substr(start, end - start);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      out.push_back({std::string(part.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1))});
    }
    start = end + 1;
  }
  return out;
}

bool IsPinAttribute(const Attribute& a) { return a.name == "pin-value" || a.name == "pin-source"; }

// The URI given to libp11: path attributes only, without the PIN (passed through the PIN control).
std::string UriWithoutPin(std::string_view uri) {
  std::string out(kScheme);
  bool first = true;
  for (const auto& a : Attributes(uri)) {
    if (IsPinAttribute(a)) continue;
    out += (first ? "" : ";") + a.name + "=" + a.value;
    first = false;
  }
  return out;
}

// RFC 3986 percent-decoding of an attribute value (a PIN may hold reserved characters).
std::string PercentDecode(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      out += static_cast<char>(std::strtol(in.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// One initialised libp11 engine per module, kept for the life of the process: every key loaded
// through it calls back into it, and keys from an earlier load may still be signing.
struct EngineRegistry {
  std::mutex mutex;  // also serialises key loads: the engine's PIN is per engine, not per call
  std::map<std::string, ENGINE*> engines;
};

EngineRegistry& Registry() {
  static auto* registry = new EngineRegistry();  // NOLINT: never destroyed, keys may outlive static destructors
  return *registry;
}

Result<ENGINE*> EngineFor(const std::string& module_path) {
  auto& engines = Registry().engines;
  if (auto it = engines.find(module_path); it != engines.end()) return it->second;
  if (::access(module_path.c_str(), R_OK) != 0) {
    return MakeError(ErrorKind::kNotFound,
                     "PKCS#11 module " + module_path + " not found or not readable (--pkcs11-module / TSA_PKCS11_MODULE)");
  }
  ENGINE_load_builtin_engines();
  ENGINE* engine = ENGINE_by_id("pkcs11");
  if (engine == nullptr) {
    ERR_clear_error();
    return MakeError(ErrorKind::kNotFound,
                     "the OpenSSL pkcs11 engine is not installed (Debian package libengine-pkcs11-openssl)");
  }
  // QUIET: libp11 would otherwise print its own diagnostics on stderr; tsad reports one line.
  ENGINE_ctrl_cmd_string(engine, "QUIET", nullptr, 0);
  if (ENGINE_ctrl_cmd_string(engine, "MODULE_PATH", module_path.c_str(), 0) != 1 || ENGINE_init(engine) != 1) {
    const std::string detail = DrainOpensslErrors();
    ENGINE_free(engine);
    return MakeError(ErrorKind::kCrypto, "cannot load the PKCS#11 module " + module_path + ": " + detail);
  }
  engines[module_path] = engine;  // keeps the structural and the functional reference
  return engine;
}

// One line for the failure of ENGINE_load_private_key, from libp11's error queue.
std::string DescribeLoadFailure(const std::string& uri, const std::string& module_path) {
  const std::string errors = DrainOpensslErrors();
  const std::string where = RedactPkcs11Uri(uri);
  if (errors.find("PIN incorrect") != std::string::npos) return "wrong PIN for the PKCS#11 key " + where;
  if (errors.find("PIN locked") != std::string::npos) return "the PIN of the token of " + where + " is locked";
  if (errors.find("PIN") != std::string::npos) return "PKCS#11 login failed for " + where + ": " + errors;
  if (errors.find("Unable to load PKCS#11 module") != std::string::npos) return "cannot load the PKCS#11 module " + module_path;
  if (errors.find("object not found") != std::string::npos || errors.find("failed loading private key") != std::string::npos) {
    return "no private key at " + where + " in module " + module_path +
           " (token or object not found: check token= and object=/id= with pkcs11-tool --list-objects)";
  }
  return "cannot load the PKCS#11 key " + where + ": " + errors;
}

}  // namespace

bool IsPkcs11Uri(std::string_view key) { return key.substr(0, kScheme.size()) == kScheme; }

std::optional<std::string> Pkcs11UriAttribute(const std::string& uri, std::string_view name) {
  if (!IsPkcs11Uri(uri)) return std::nullopt;
  for (const auto& a : Attributes(uri)) {
    if (a.name == name) return PercentDecode(a.value);
  }
  return std::nullopt;
}

std::string RedactPkcs11Uri(const std::string& uri) {
  if (!IsPkcs11Uri(uri)) return uri;
  std::string out(kScheme);
  bool first = true;
  for (const auto& a : Attributes(uri)) {
    if (a.name == "pin-value") continue;
    out += (first ? "" : ";") + a.name + "=" + a.value;
    first = false;
  }
  return out;
}

Result<std::string> ResolvePkcs11Pin(const std::string& uri) {
  for (const auto& a : Attributes(uri)) {
    if (a.name == "pin-value") return PercentDecode(a.value);
  }
  for (const auto& a : Attributes(uri)) {
    if (a.name != "pin-source") continue;
    std::string path = PercentDecode(a.value);
    if (path.rfind("file:", 0) == 0) path = path.substr(5);
    std::ifstream in(path);
    std::string pin;
    if (!in || !std::getline(in, pin)) return MakeError(ErrorKind::kNotFound, "cannot read the PKCS#11 PIN file " + path);
    if (!pin.empty() && pin.back() == '\r') pin.pop_back();
    return pin;
  }
  const char* env = std::getenv("TSA_PKCS11_PIN");
  return std::string(env != nullptr ? env : "");
}

Result<evp_pkey_st*> LoadPkcs11PrivateKey(const std::string& uri, const std::string& module_path) {
  TSA_ASSIGN_OR_RETURN(std::string pin, ResolvePkcs11Pin(uri));
  std::lock_guard lock(Registry().mutex);
  ERR_clear_error();
  TSA_ASSIGN_OR_RETURN(ENGINE * engine, EngineFor(module_path));
  if (!pin.empty() && ENGINE_ctrl_cmd_string(engine, "PIN", pin.c_str(), 0) != 1) {
    OPENSSL_cleanse(pin.data(), pin.size());
    return MakeError(ErrorKind::kCrypto, "the pkcs11 engine refused the PIN: " + DrainOpensslErrors());
  }
  OPENSSL_cleanse(pin.data(), pin.size());
  EVP_PKEY* key = ENGINE_load_private_key(engine, UriWithoutPin(uri).c_str(), nullptr, nullptr);
  if (key == nullptr) return MakeError(ErrorKind::kNotFound, DescribeLoadFailure(uri, module_path));
  return key;
}

}  // namespace tsa::crypto
