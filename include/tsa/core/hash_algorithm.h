// The message-imprint hash algorithms tsad knows, by OID and digest length (RFC 3161 §2.4.1:
// "the length of the hashedMessage MUST match the length of the hash value for that algorithm").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsa::core {

enum class HashAlgorithm { kSha1, kSha224, kSha256, kSha384, kSha512, kSha512_256, kSha3_256, kSha3_384, kSha3_512 };

struct HashAlgorithmInfo {
  HashAlgorithm algorithm;
  const char* name;  // lower-case name used in flags and JSON ("sha256")
  const char* oid;   // dotted OID
  std::size_t digest_length;
};

const HashAlgorithmInfo& Info(HashAlgorithm algorithm);
const std::vector<HashAlgorithmInfo>& AllHashAlgorithms();
std::optional<HashAlgorithm> HashAlgorithmFromName(std::string_view name);  // "sha256", "SHA-256", "sha3-256"
std::optional<HashAlgorithm> HashAlgorithmFromOid(std::string_view oid);

// MD5 is not even listed: it is never acceptable and is rejected as unknown (badAlg).
// SHA-1 is listed so that an operator can allow it for legacy clients (conformance §8.1).

}  // namespace tsa::core
