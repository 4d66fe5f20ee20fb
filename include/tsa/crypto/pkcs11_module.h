// A PKCS#11 module opened with libp11's own API (PKCS11_CTX), and the keys tsad keeps from it.
//
// Why not libp11's OpenSSL engine: the engine opens the module once per process and caches its
// slots and key handles; when the token goes away and comes back (SoftHSM2: its directory deleted
// and the token re-created, or moved away and back) those handles stay stale and no engine call
// re-opens the module (ENGINE_finish/ENGINE_init, a second ENGINE_by_id and the RE_ENUMERATE
// control were all tried; docs/pkcs11-recovery.md). Re-opening needs C_Finalize and C_Initialize,
// which are process-wide for a module, so no key handle of the old session may be in use then.
//
// Hence each key tsad gets is a proxy: an RSA or EC key with the token key's public half whose
// private operation runs, under the module's shared lock, on the module's current libp11 key.
// When that fails (token removed, session lost), the module is re-opened under the exclusive lock
// (at most once a second): every libp11 key is freed, C_Finalize, C_Initialize (SoftHSM2 rescans
// its token directory), login, and each key is found again by its URI; it is used only if its
// public key is the one first loaded. The keys tsad holds never change, so the signer, its
// TS_RESP contexts and in-flight requests need to know nothing about it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"

struct evp_pkey_st;

namespace tsa::crypto::pkcs11 {

// The RFC 7512 attributes that name a key (empty: not constrained).
struct KeySpec {
  std::string token_label, token_serial, token_model, token_manufacturer;
  std::string object_label;
  std::vector<std::uint8_t> object_id;
  std::string pin;      // empty: no login
  std::string display;  // the URI without its PIN, for messages
};

// Loads the private key `spec` names through the module at `module_path` (opened at first use,
// kept for the life of the process). The caller owns the returned key (EVP_PKEY_free). Errors are
// one line: the module cannot be loaded, wrong or locked PIN, no such token or key.
Result<evp_pkey_st*> LoadKey(const std::string& module_path, const KeySpec& spec);

}  // namespace tsa::crypto::pkcs11
