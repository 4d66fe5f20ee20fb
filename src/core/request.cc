#include "tsa/core/request.h"

#include <algorithm>

namespace tsa::core {

bool IssuancePolicy::Accepts(HashAlgorithm alg) const {
  return std::find(accepted_hashes.begin(), accepted_hashes.end(), alg) != accepted_hashes.end();
}

bool IssuancePolicy::AcceptsPolicy(const std::string& oid) const {
  return oid == default_policy || std::find(accepted_policies.begin(), accepted_policies.end(), oid) != accepted_policies.end();
}

std::optional<Rejection> ValidateRequest(const TimeStampRequest& request, const IssuancePolicy& policy) {
  // RFC 3161 §2.4.1: version v1(1) only.
  if (!request.version_is_v1) return Reject(FailInfo::kBadRequest, "Bad request version.");

  // RFC 3161 §2.4.1: the TSA SHOULD refuse unknown or weak hash algorithms with badAlg.
  const auto alg = HashAlgorithmFromOid(request.hash_oid);
  if (!alg || !policy.Accepts(*alg)) return Reject(FailInfo::kBadAlg, "Message digest algorithm is not supported.");

  // RFC 5754 §2: parameters absent or NULL; anything else is not a hash algorithm identifier.
  if (request.hash_parameters == HashParameters::kOther) {
    return Reject(FailInfo::kBadAlg, "Superfluous message digest parameter.");
  }

  // RFC 3161 §2.4.1 / §2.1 item 7: the digest length must match the algorithm.
  if (request.digest.size() != Info(*alg).digest_length) {
    return Reject(FailInfo::kBadDataFormat, "Bad message digest.");
  }

  // RFC 3161 §2.4.2: a requested policy must be honoured or the request refused.
  if (request.policy && !policy.AcceptsPolicy(*request.policy)) {
    return Reject(FailInfo::kUnacceptedPolicy, "Requested policy is not supported.");
  }

  // RFC 3161 §2.4.1: any extension "whether it is marked critical or not critical" that the server
  // does not recognise -> unacceptedExtension. tsad supports no request extension.
  if (!request.extension_oids.empty()) {
    return Reject(FailInfo::kUnacceptedExtension, "Unsupported extension.");
  }
  return std::nullopt;
}

std::string EffectivePolicy(const TimeStampRequest& request, const IssuancePolicy& policy) {
  return request.policy ? *request.policy : policy.default_policy;
}

}  // namespace tsa::core
