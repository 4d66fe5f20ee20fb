#include "tsa/crypto/random.h"

#include <openssl/rand.h>

namespace tsa::crypto {

Result<std::vector<std::uint8_t>> RandomBytes(std::size_t count) {
  std::vector<std::uint8_t> out(count);
  if (count > 0 && RAND_bytes(out.data(), static_cast<int>(count)) != 1) {
    return MakeError(ErrorKind::kCrypto, "the random generator failed (RAND_bytes)");
  }
  return out;
}

}  // namespace tsa::crypto
