// Throwaway PKIs for tests: a good one (tsa::crypto::CreateDevPki; EC P-256 by default for speed)
// and deliberately bad TSA certificates for the start-up cases of conformance §6.7 (K01-K07), each
// in its own directory with the layout tsad's --cert-dir expects:
//   ca_key.pem, ca_cert.pem, tsa_key.pem, tsa_cert.pem, chain.pem (= the CA certificate).
#pragma once

#include <functional>
#include <string>

#include "tsa/core/result.h"
#include "tsa/crypto/cert_factory.h"

namespace tsa::test {

struct TestPki {
  std::string dir;
  crypto::DevPkiFiles files;
  std::string ca_cert_pem;
  std::string tsa_cert_pem;
};

// Writes a CA and a good TSA certificate into dir (created if missing).
Result<TestPki> CreateTestPki(const std::string& dir, crypto::KeyType key_type = crypto::KeyType::kEcP256);

enum class BadTsaCert {
  kEkuNotCritical,     // K01: EKU timeStamping, not critical
  kEkuPlusServerAuth,  // K02: timeStamping + serverAuth
  kNoEku,              // K03: no extendedKeyUsage
  kKeyMismatch,        // K04: tsa_key.pem is not the key of tsa_cert.pem
  kExpired,            // K05: notAfter in the past
  kNotYetValid,        // K06: notBefore in the future
  kEd25519Key,         // K07: the TS_RESP signer cannot sign with it
  kRsaPssKey,          // K07: RSA-PSS-only key (id-RSASSA-PSS SPKI)
};

const char* BadTsaCertName(BadTsaCert kind);

// Writes a CA and a good TSA certificate (EC P-256, valid from 5 minutes ago for 30 days) after
// `adjust` changed its profile: short validity, privateKeyUsagePeriod, ...
Result<TestPki> CreateCustomTsaPki(const std::string& dir, const std::function<void(crypto::CertProfile&)>& adjust);

// Writes a good CA and a bad TSA certificate of the given kind into dir (created if missing).
Result<TestPki> CreateBadTsaPki(const std::string& dir, BadTsaCert kind);

// Whole-file read (text); "" when the file cannot be read.
std::string ReadTextFile(const std::string& path);

}  // namespace tsa::test
