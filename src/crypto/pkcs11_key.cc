// Debian 12 has no PKCS#11 provider for OpenSSL 3; keys are reached through libp11's own API
// (pkcs11_module.h says why not through its engine).
#include "tsa/crypto/pkcs11_key.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "tsa/crypto/pkcs11_module.h"

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
  if (::access(module_path.c_str(), R_OK) != 0) {
    return MakeError(ErrorKind::kNotFound,
                     "PKCS#11 module " + module_path + " not found or not readable (--pkcs11-module / TSA_PKCS11_MODULE)");
  }
  pkcs11::KeySpec spec;
  spec.token_label = Pkcs11UriAttribute(uri, "token").value_or("");
  spec.token_serial = Pkcs11UriAttribute(uri, "serial").value_or("");
  spec.token_model = Pkcs11UriAttribute(uri, "model").value_or("");
  spec.token_manufacturer = Pkcs11UriAttribute(uri, "manufacturer").value_or("");
  spec.object_label = Pkcs11UriAttribute(uri, "object").value_or("");
  const std::string id = Pkcs11UriAttribute(uri, "id").value_or("");
  spec.object_id.assign(id.begin(), id.end());
  spec.display = RedactPkcs11Uri(uri);
  TSA_ASSIGN_OR_RETURN(spec.pin, ResolvePkcs11Pin(uri));
  auto key = pkcs11::LoadKey(module_path, spec);
  OPENSSL_cleanse(spec.pin.data(), spec.pin.size());
  return key;
}

}  // namespace tsa::crypto
