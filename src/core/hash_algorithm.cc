#include "tsa/core/hash_algorithm.h"

#include <algorithm>
#include <cctype>

namespace tsa::core {

const std::vector<HashAlgorithmInfo>& AllHashAlgorithms() {
  // OIDs: RFC 3279 (SHA-1), RFC 5754 §2 (SHA-2), NIST CSOR (SHA-512/256, SHA-3).
  static const std::vector<HashAlgorithmInfo> kAll = {
      {HashAlgorithm::kSha1, "sha1", "1.3.14.3.2.26", 20},
      {HashAlgorithm::kSha224, "sha224", "2.16.840.1.101.3.4.2.4", 28},
      {HashAlgorithm::kSha256, "sha256", "2.16.840.1.101.3.4.2.1", 32},
      {HashAlgorithm::kSha384, "sha384", "2.16.840.1.101.3.4.2.2", 48},
      {HashAlgorithm::kSha512, "sha512", "2.16.840.1.101.3.4.2.3", 64},
      {HashAlgorithm::kSha512_256, "sha512-256", "2.16.840.1.101.3.4.2.6", 32},
      {HashAlgorithm::kSha3_256, "sha3-256", "2.16.840.1.101.3.4.2.8", 32},
      {HashAlgorithm::kSha3_384, "sha3-384", "2.16.840.1.101.3.4.2.9", 48},
      {HashAlgorithm::kSha3_512, "sha3-512", "2.16.840.1.101.3.4.2.10", 64},
  };
  return kAll;
}

const HashAlgorithmInfo& Info(HashAlgorithm algorithm) {
  const auto& all = AllHashAlgorithms();
  return *std::find_if(all.begin(), all.end(), [&](const auto& i) { return i.algorithm == algorithm; });
}

std::optional<HashAlgorithm> HashAlgorithmFromName(std::string_view name) {
  // Accept "SHA-256", "sha256", "SHA512/256", "sha512-256".
  std::string norm;
  for (char c : name) {
    if (c == '/') c = '-';
    norm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (norm.rfind("sha-", 0) == 0) norm.erase(3, 1);
  for (const auto& i : AllHashAlgorithms()) {
    if (norm == i.name) return i.algorithm;
  }
  return std::nullopt;
}

std::optional<HashAlgorithm> HashAlgorithmFromOid(std::string_view oid) {
  for (const auto& i : AllHashAlgorithms()) {
    if (oid == i.oid) return i.algorithm;
  }
  return std::nullopt;
}

}  // namespace tsa::core
