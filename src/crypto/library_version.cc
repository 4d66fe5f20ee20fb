#include "tsa/crypto/library_version.h"

#include <openssl/crypto.h>

namespace tsa::crypto {

const char* OpenSslVersionText() { return OpenSSL_version(OPENSSL_VERSION); }

}  // namespace tsa::crypto
