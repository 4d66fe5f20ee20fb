#include "tsa/crypto/private_key_file.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>

#include "tsa/core/bytes.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/pkcs11_key.h"

namespace tsa::crypto {
namespace {

// A key that others on the host can read is a key that may have leaked (ETSI EN 319 421 §7.6.4:
// the TSU key is kept confidential). Group- or world-accessible key files are refused unless the
// operator says otherwise.
Status CheckKeyFileMode(const PrivateKeySource& source) {
  struct stat st {};
  if (::stat(source.path.c_str(), &st) != 0) return Ok();  // ReadFileText reports the missing file
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0 || source.allow_readable) return Ok();
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return MakeError(ErrorKind::kInvalidArgument, "the " + source.what + " " + source.path +
                                                    " is accessible to other users (mode " + mode +
                                                    "): chmod 600 it, or start with --allow-readable-key");
}

std::string ModuleOf(const PrivateKeySource& source) {
  return source.pkcs11_module.empty() ? kDefaultPkcs11Module : source.pkcs11_module;
}

}  // namespace

Result<std::string> ReadFileText(const std::string& path, const std::string& what) {
  auto text = core::ReadFileText(path);
  if (text) return text;
  // core's "cannot read /x: No such file or directory" becomes "cannot read TLS key /x: ...".
  constexpr std::string_view kPrefix = "cannot read ";
  const std::string& message = text.error().message;
  const std::string detail = message.rfind(kPrefix, 0) == 0 ? message.substr(kPrefix.size()) : message;
  return MakeError(text.error().kind, "cannot read " + what + " " + detail);
}

SecretText::~SecretText() { OPENSSL_cleanse(text_.data(), text_.size()); }

Result<EVP_PKEY*> LoadPrivateKey(const PrivateKeySource& source, std::string* token_uri) {
  token_uri->clear();
  if (IsPkcs11Uri(source.path)) {
    *token_uri = RedactPkcs11Uri(source.path);
    return LoadPkcs11PrivateKey(source.path, ModuleOf(source));
  }
  TSA_TRY(CheckKeyFileMode(source));
  TSA_ASSIGN_OR_RETURN(std::string key_text, ReadFileText(source.path, source.what));
  const SecretText key_pem(std::move(key_text));
  // A key file may hold a pkcs11: URI instead of a PEM key: the URI (and any pin-value in it)
  // stays out of argv, and a rollover to a new token key is "rewrite the file, SIGHUP".
  if (IsPkcs11Uri(key_pem.text())) {
    const std::string uri = key_pem.text().substr(0, key_pem.text().find_first_of("\r\n"));
    *token_uri = RedactPkcs11Uri(uri) + " (from " + source.path + ")";
    return LoadPkcs11PrivateKey(uri, ModuleOf(source));
  }
  UniquePtr<BIO> bio(BIO_new_mem_buf(key_pem.text().data(), static_cast<int>(key_pem.text().size())));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    return MakeError(ErrorKind::kInvalidArgument,
                     "cannot parse the private key in " + source.path + " (" + source.what + ": PEM, unencrypted)");
  }
  return key;
}

}  // namespace tsa::crypto
