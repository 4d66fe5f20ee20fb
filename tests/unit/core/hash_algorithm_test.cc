// Tests for src/core/hash_algorithm.cc: names, OIDs and digest lengths of the imprint hashes.
#include "tsa/core/hash_algorithm.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include <set>
#include <string>

namespace tsa::core {
namespace {

TEST(HashAlgorithmTest, FromNameAcceptsLowerCaseNames) {
  EXPECT_EQ(HashAlgorithmFromName("sha1"), HashAlgorithm::kSha1);
  EXPECT_EQ(HashAlgorithmFromName("sha224"), HashAlgorithm::kSha224);
  EXPECT_EQ(HashAlgorithmFromName("sha256"), HashAlgorithm::kSha256);
  EXPECT_EQ(HashAlgorithmFromName("sha384"), HashAlgorithm::kSha384);
  EXPECT_EQ(HashAlgorithmFromName("sha512"), HashAlgorithm::kSha512);
  EXPECT_EQ(HashAlgorithmFromName("sha512-256"), HashAlgorithm::kSha512_256);
  EXPECT_EQ(HashAlgorithmFromName("sha3-256"), HashAlgorithm::kSha3_256);
  EXPECT_EQ(HashAlgorithmFromName("sha3-384"), HashAlgorithm::kSha3_384);
  EXPECT_EQ(HashAlgorithmFromName("sha3-512"), HashAlgorithm::kSha3_512);
}

TEST(HashAlgorithmTest, FromNameAcceptsUpperCaseDashedAndSlashedSpellings) {
  EXPECT_EQ(HashAlgorithmFromName("SHA-256"), HashAlgorithm::kSha256);
  EXPECT_EQ(HashAlgorithmFromName("SHA256"), HashAlgorithm::kSha256);
  EXPECT_EQ(HashAlgorithmFromName("Sha-384"), HashAlgorithm::kSha384);
  EXPECT_EQ(HashAlgorithmFromName("SHA-1"), HashAlgorithm::kSha1);
  EXPECT_EQ(HashAlgorithmFromName("SHA512/256"), HashAlgorithm::kSha512_256);
  EXPECT_EQ(HashAlgorithmFromName("SHA-512/256"), HashAlgorithm::kSha512_256);
  EXPECT_EQ(HashAlgorithmFromName("SHA3-256"), HashAlgorithm::kSha3_256);
}

TEST(HashAlgorithmTest, FromNameRejectsMd5UnknownAndEmptyNames) {
  EXPECT_FALSE(HashAlgorithmFromName("md5").has_value());
  EXPECT_FALSE(HashAlgorithmFromName("MD5").has_value());
  EXPECT_FALSE(HashAlgorithmFromName("").has_value());
  EXPECT_FALSE(HashAlgorithmFromName("sha").has_value());
  EXPECT_FALSE(HashAlgorithmFromName("sha257").has_value());
  EXPECT_FALSE(HashAlgorithmFromName("sha256 ").has_value());
}

TEST(HashAlgorithmTest, FromOidMapsTheStandardOids) {
  EXPECT_EQ(HashAlgorithmFromOid("1.3.14.3.2.26"), HashAlgorithm::kSha1);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.1"), HashAlgorithm::kSha256);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.2"), HashAlgorithm::kSha384);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.3"), HashAlgorithm::kSha512);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.4"), HashAlgorithm::kSha224);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.6"), HashAlgorithm::kSha512_256);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.8"), HashAlgorithm::kSha3_256);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.9"), HashAlgorithm::kSha3_384);
  EXPECT_EQ(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.10"), HashAlgorithm::kSha3_512);
}

TEST(HashAlgorithmTest, FromOidRejectsMd5AndPrefixesOfKnownOids) {
  EXPECT_FALSE(HashAlgorithmFromOid("1.2.840.113549.2.5").has_value());  // MD5
  EXPECT_FALSE(HashAlgorithmFromOid("2.16.840.1.101.3.4.2").has_value());
  EXPECT_FALSE(HashAlgorithmFromOid("2.16.840.1.101.3.4.2.1.0").has_value());
  EXPECT_FALSE(HashAlgorithmFromOid("").has_value());
}

TEST(HashAlgorithmTest, TableAgreesWithOpenSslOnOidAndDigestLength) {
  std::set<std::string> names, oids;
  for (const auto& info : AllHashAlgorithms()) {
    SCOPED_TRACE(info.name);
    EXPECT_TRUE(names.insert(info.name).second);
    EXPECT_TRUE(oids.insert(info.oid).second);
    const EVP_MD* md = EVP_get_digestbyname(info.name);
    ASSERT_NE(md, nullptr);
    EXPECT_EQ(static_cast<std::size_t>(EVP_MD_get_size(md)), info.digest_length);
    char oid[64];
    ASSERT_GT(OBJ_obj2txt(oid, sizeof(oid), OBJ_nid2obj(EVP_MD_get_type(md)), 1), 0);
    EXPECT_EQ(std::string(oid), info.oid);
  }
}

TEST(HashAlgorithmTest, InfoRoundTripsThroughNameAndOid) {
  for (const auto& info : AllHashAlgorithms()) {
    EXPECT_EQ(&Info(info.algorithm), &info);
    EXPECT_EQ(HashAlgorithmFromName(info.name), info.algorithm);
    EXPECT_EQ(HashAlgorithmFromOid(info.oid), info.algorithm);
  }
}

}  // namespace
}  // namespace tsa::core
