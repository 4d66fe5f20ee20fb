#include <openssl/err.h>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

std::string DrainOpensslErrors(const std::string& fallback) {
  std::string out;
  unsigned long code = 0;
  const char* data = nullptr;
  int flags = 0;
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    // Keep the reason part (after the last ':') short but keep the library for context.
    out += buf;
    // The text a caller attached (ERR_raise_data), e.g. which PKCS#11 key is unavailable.
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') out += std::string(" (") + data + ")";
  }
  return out.empty() ? fallback : out;
}

}  // namespace tsa::crypto
