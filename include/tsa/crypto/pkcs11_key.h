// Private keys that live in a PKCS#11 token (an HSM, SoftHSM2), named by an RFC 7512 "pkcs11:" URI
// and reached through Debian's libp11 (pkcs11_module.h). The key never leaves the token: the
// EVP_PKEY returned signs by calling the module, so TS_RESP signing needs no change.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tsa/core/result.h"

struct evp_pkey_st;

namespace tsa::crypto {

// Debian 12's SoftHSM2 module (package libsofthsm2), the default of --pkcs11-module.
inline constexpr char kDefaultPkcs11Module[] = "/usr/lib/softhsm/libsofthsm2.so";

// True for an RFC 7512 URI ("pkcs11:token=...;object=..."): --key takes either this or a PEM path.
bool IsPkcs11Uri(std::string_view key);

// The percent-decoded value of a URI attribute ("token", "object", "id", ...); nullopt if absent.
std::optional<std::string> Pkcs11UriAttribute(const std::string& uri, std::string_view name);

// The URI without its pin-value attribute: what logs and /health may show.
std::string RedactPkcs11Uri(const std::string& uri);

// The PIN: the URI's pin-value, else the file named by pin-source=file:PATH (RFC 7512 §2.3, first
// line), else the environment variable TSA_PKCS11_PIN, else none (a token without login).
// Never from a command-line flag: argv shows in ps.
Result<std::string> ResolvePkcs11Pin(const std::string& uri);

// Loads the private key object the URI names through `module_path`. The returned key is owned by
// the caller (EVP_PKEY_free). Errors are one line naming the problem: the module cannot be loaded,
// the PIN is wrong or locked, no such token or object. The module is opened once per process; it
// is re-opened behind the returned key when a signature fails (pkcs11_module.h).
Result<evp_pkey_st*> LoadPkcs11PrivateKey(const std::string& uri, const std::string& module_path);

}  // namespace tsa::crypto
