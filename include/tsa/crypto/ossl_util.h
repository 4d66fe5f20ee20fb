// Small OpenSSL conversions shared inside src/crypto (and by tools/tests that use OpenSSL types).
#pragma once

#include <openssl/asn1.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

// Dotted form of an OID ("2.16.840.1.101.3.4.2.1").
std::string OidToString(const ASN1_OBJECT* oid);

// i2d into a vector; kCrypto error when encoding fails. `i2d` is any i2d_* function.
template <typename T, typename I2d>
Result<std::vector<std::uint8_t>> ToDer(T* object, I2d i2d) {
  const int len = i2d(object, nullptr);
  if (len <= 0) return MakeError(ErrorKind::kCrypto, "DER encoding failed: " + DrainOpensslErrors());
  std::vector<std::uint8_t> out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  if (i2d(object, &p) != len) return MakeError(ErrorKind::kCrypto, "DER encoding failed: " + DrainOpensslErrors());
  return out;
}

// Lower-case hex of bytes, and back (nullopt on odd length or non-hex characters).
std::string Hex(const std::uint8_t* data, std::size_t len);
inline std::string Hex(const std::vector<std::uint8_t>& v) { return Hex(v.data(), v.size()); }

// The content octets of an INTEGER as hex (two's complement, as encoded): nonce and serial echo.
std::string IntegerHex(const ASN1_INTEGER* value);
// Decimal of an INTEGER (may be negative, any size).
std::string IntegerDecimal(const ASN1_INTEGER* value);

// "YYYY-MM-DDThh:mm:ss[.fff]Z" from a GeneralizedTime "YYYYMMDDhhmmss[.fff]Z".
std::string GeneralizedTimeToRfc3339(const ASN1_GENERALIZEDTIME* t);

// One-line RFC 2253 form of a name ("CN=...,O=...").
std::string NameToString(const X509_NAME* name);

// Seconds since the epoch of an ASN1_TIME (UTCTime or GeneralizedTime); 0 when unreadable.
std::time_t AsnTimeToTimeT(const ASN1_TIME* t);

}  // namespace tsa::crypto
