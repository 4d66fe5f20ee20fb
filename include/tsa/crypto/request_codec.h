// Decoding and building DER TimeStampReq values (RFC 3161 §2.4.1).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "tsa/core/decision.h"
#include "tsa/core/hash_algorithm.h"
#include "tsa/core/request.h"
#include "tsa/core/result.h"

namespace tsa::crypto {

// Step 1 of the processing order: decode exactly one TimeStampReq from `der`.
// Lenient about BER variants OpenSSL decodes (conformance §8.2), strict about framing: trailing
// bytes after the request are rejected (RFC 3161 §3.4 "ASN.1 DER-encoded"; OpenSSL alone ignores
// them). Every failure is a badDataFormat rejection. Thread-safe.
std::variant<core::TimeStampRequest, core::Rejection> DecodeRequest(std::span<const std::uint8_t> der);

struct RequestSpec {
  core::HashAlgorithm hash = core::HashAlgorithm::kSha256;
  std::vector<std::uint8_t> digest;                // must have the algorithm's length
  bool hash_parameters_null = true;                // what openssl ts -query sends
  std::optional<std::vector<std::uint8_t>> nonce;  // big-endian unsigned magnitude; nullopt = none
  bool cert_req = true;
  std::optional<std::string> policy;  // dotted OID
};

// Encodes a DER TimeStampReq. Used by tsa-request, by raw-data mode and by tests.
Result<std::vector<std::uint8_t>> EncodeRequest(const RequestSpec& spec);

// A random 64-bit positive nonce (as most clients send), big-endian.
std::vector<std::uint8_t> RandomNonce();

}  // namespace tsa::crypto
