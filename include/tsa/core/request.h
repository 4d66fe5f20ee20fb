// The parsed content of a TimeStampReq (RFC 3161 §2.4.1), independent of OpenSSL, and the pure
// validation of it against the TSA's policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tsa/core/decision.h"
#include "tsa/core/hash_algorithm.h"

namespace tsa::core {

// How the AlgorithmIdentifier.parameters of the imprint hash were sent. RFC 5754 §2: a verifier
// MUST accept both absent and NULL; anything else is not a valid hash parameter.
enum class HashParameters { kAbsent, kNull, kOther };

struct TimeStampRequest {
  bool version_is_v1 = false;  // version INTEGER { v1(1) }
  std::string hash_oid;        // messageImprint.hashAlgorithm.algorithm, dotted
  HashParameters hash_parameters = HashParameters::kAbsent;
  std::vector<std::uint8_t> digest;   // messageImprint.hashedMessage
  std::optional<std::string> policy;  // reqPolicy, dotted
  bool has_nonce = false;
  bool cert_req = false;
  std::vector<std::string> extension_oids;  // [0] extensions, dotted OIDs in request order
  // The request re-encoded in DER: what the signer is given, so that OpenSSL never re-parses the
  // client's BER (indefinite lengths, empty [0], ...) differently from our own decoding.
  std::vector<std::uint8_t> der;
};

// What this TSA accepts. Immutable after start-up.
struct IssuancePolicy {
  std::vector<HashAlgorithm> accepted_hashes;  // conformance §8.1: SHA-1 only if the operator allows it
  std::string default_policy;                  // TSTInfo.policy when the request names none
  std::vector<std::string> accepted_policies;  // other OIDs a request may name (default is always accepted)

  bool Accepts(HashAlgorithm alg) const;
  bool AcceptsPolicy(const std::string& oid) const;
};

// Checks steps 2-7 of the processing order (conformance §1.3; decoding is step 1, done in crypto),
// in OpenSSL's order so the failInfo of a request with several faults is predictable:
// version -> badRequest, hash algorithm / parameters -> badAlg, digest length -> badDataFormat,
// policy -> unacceptedPolicy, extensions -> unacceptedExtension. Returns nullopt when acceptable.
std::optional<Rejection> ValidateRequest(const TimeStampRequest& request, const IssuancePolicy& policy);

// The policy OID that goes into TSTInfo.policy (RFC 3161 §2.4.2: equal to reqPolicy if present).
std::string EffectivePolicy(const TimeStampRequest& request, const IssuancePolicy& policy);

}  // namespace tsa::core
