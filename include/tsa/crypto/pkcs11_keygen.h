// Key generation inside a PKCS#11 token (tsa-certgen --pkcs11): the private key is created by the
// token, sensitive and not extractable, and never exists outside it.
#pragma once

#include <string>

#include "tsa/core/result.h"
#include "tsa/crypto/cert_factory.h"

namespace tsa::crypto {

// Generates a key pair of `type` (RSA-2048/3072, EC P-256/P-384) in the token named by the URI's
// token= attribute, labelled with its object= attribute (and id=, or a random 16-byte CKA_ID that
// pairs the private and public objects), logging in with the PIN of ResolvePkcs11Pin.
// kAlreadyExists-like refusal (kInvalidArgument) when a private key with that label exists.
Status GeneratePkcs11KeyPair(const std::string& uri, const std::string& module_path, KeyType type);

}  // namespace tsa::crypto
