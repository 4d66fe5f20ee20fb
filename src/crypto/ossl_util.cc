#include "tsa/crypto/ossl_util.h"

#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

namespace tsa::crypto {

std::string OidToString(const ASN1_OBJECT* oid) {
  if (oid == nullptr) return {};
  char buf[128];
  const int n = OBJ_obj2txt(buf, sizeof(buf), oid, 1);
  if (n <= 0) return {};
  if (static_cast<std::size_t>(n) < sizeof(buf)) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  OBJ_obj2txt(big.data(), static_cast<int>(big.size()), oid, 1);
  big.resize(static_cast<std::size_t>(n));
  return big;
}

std::string Hex(const std::uint8_t* data, std::size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (std::size_t i = 0; i < len; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

std::string IntegerHex(const ASN1_INTEGER* value) {
  if (value == nullptr) return {};
  // Re-encode to get the exact two's complement content octets.
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_INTEGER(value, &der);
  if (len <= 2) {
    OPENSSL_free(der);
    return {};
  }
  // Skip tag and length octets.
  int header = 2;
  if (der[1] & 0x80) header += der[1] & 0x7f;
  std::string out = Hex(der + header, static_cast<std::size_t>(len - header));
  OPENSSL_free(der);
  return out;
}

std::string IntegerDecimal(const ASN1_INTEGER* value) {
  if (value == nullptr) return {};
  UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(value, nullptr));
  if (!bn) return {};
  char* dec = BN_bn2dec(bn.get());
  if (dec == nullptr) return {};
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

std::string GeneralizedTimeToRfc3339(const ASN1_GENERALIZEDTIME* t) {
  if (t == nullptr) return {};
  std::string s(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)), static_cast<std::size_t>(ASN1_STRING_length(t)));
  if (s.size() < 15) return s;
  std::string out = s.substr(0, 4) + "-" + s.substr(4, 2) + "-" + s.substr(6, 2) + "T" + s.substr(8, 2) + ":" + s.substr(10, 2) +
                    ":" + s.substr(12, 2);
  out += s.substr(14);  // ".fff" (if any) and "Z"
  return out;
}

std::string NameToString(const X509_NAME* name) {
  if (name == nullptr) return {};
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::time_t AsnTimeToTimeT(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return timegm(&tm);
}

}  // namespace tsa::crypto
