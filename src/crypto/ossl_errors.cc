#include <openssl/err.h>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

std::string DrainOpensslErrors(const std::string& fallback) {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    // Keep the reason part (after the last ':') short but keep the library for context.
    out += buf;
  }
  return out.empty() ? fallback : out;
}

}  // namespace tsa::crypto
