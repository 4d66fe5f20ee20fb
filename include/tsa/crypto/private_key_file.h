// Reading a private key for tsad: a PEM file (refused when other users can access it, wiped from
// memory after parsing), a file holding a pkcs11: URI, or a pkcs11: URI itself. Shared by the
// token signer's key (--key) and the TLS server's key (--tls-key).
#pragma once

#include <string>

#include "tsa/core/result.h"

struct evp_pkey_st;

namespace tsa::crypto {

struct PrivateKeySource {
  std::string path;              // PEM file, file with a pkcs11: URI, or a pkcs11: URI
  std::string what = "TSA key";  // how error lines name it ("TLS key")
  bool allow_readable = false;   // accept a file with group/other permissions
  std::string pkcs11_module;     // empty: kDefaultPkcs11Module
};

// The whole file as text; kNotFound with "cannot read <what> <path>".
Result<std::string> ReadFileText(const std::string& path, const std::string& what);

// Text that held secrets (a key file, a combined key+certificate PEM), cleansed when destroyed.
class SecretText {
 public:
  explicit SecretText(std::string text) : text_(std::move(text)) {}
  ~SecretText();
  SecretText(const SecretText&) = delete;
  SecretText& operator=(const SecretText&) = delete;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// The key, owned by the caller (EVP_PKEY_free). `token_uri` receives the pkcs11: URI without its
// PIN when the key is in a token (empty otherwise). Every failure is one line naming the file.
Result<evp_pkey_st*> LoadPrivateKey(const PrivateKeySource& source, std::string* token_uri);

}  // namespace tsa::crypto
