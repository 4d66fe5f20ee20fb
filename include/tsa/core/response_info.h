// A readable description of a TimeStampResp / TimeStampToken (RFC 3161 §2.4.2), filled by
// crypto::DescribeResponse and rendered as JSON for `?format=json`, tsa-request and tsa-verify.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tsa/core/clock.h"
#include "tsa/core/decision.h"

namespace tsa::core {

struct TstExtension {
  std::string oid;
  bool critical = false;
  std::string value_hex;
};

struct TokenInfo {
  int version = 0;
  std::string policy;          // dotted OID
  std::string hash_algorithm;  // "sha256", or the dotted OID when unknown
  std::string hash_oid;
  std::string digest_hex;
  std::string gen_time;  // RFC 3339 UTC, "2026-11-25T09:31:26.123Z"
  UnixMicros gen_time_us = 0;
  std::string serial_hex;  // content octets of the INTEGER
  std::optional<Accuracy> accuracy;
  bool ordering = false;
  std::optional<std::string> nonce_hex;  // content octets of the INTEGER, two's complement as sent
  std::optional<std::string> tsa;        // the GeneralName, printed
  std::vector<TstExtension> extensions;
  std::string signature_algorithm;  // "sha256WithRSAEncryption", "ecdsa-with-SHA256"
  std::string signature_hex;
  std::string digest_algorithm;         // SignerInfo digest
  int certificate_count = 0;            // certificates in SignedData (certReq)
  std::string signer_subject;           // when the signer certificate is in the token
  std::vector<std::uint8_t> token_der;  // the ContentInfo
};

struct ResponseInfo {
  int status = -1;                  // PKIStatus: 0 granted, 2 rejection, ...
  std::vector<FailInfo> fail_info;  // bits set (tsad always sets exactly one on rejection)
  std::string status_string;
  std::optional<TokenInfo> token;

  bool granted() const { return (status == 0 || status == 1) && token.has_value(); }
};

// "granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification".
const char* PkiStatusName(int status);

// JSON as documented in the README (`?format=json`).
nlohmann::json ToJson(const ResponseInfo& info);
nlohmann::json ToJson(const TokenInfo& token);

std::string Base64(const std::vector<std::uint8_t>& data);

}  // namespace tsa::core
