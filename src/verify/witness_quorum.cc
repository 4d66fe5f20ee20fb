#include "tsa/verify/witness_quorum.h"

namespace tsa::verify {

Result<WitnessPolicy> MakeWitnessPolicy(const std::vector<std::string>& vkeys, std::size_t quorum) {
  WitnessPolicy policy;
  for (const std::string& vkey : vkeys) {
    TSA_ASSIGN_OR_RETURN(audit::WitnessKey key, audit::ParseWitnessKey(vkey));
    for (const audit::WitnessKey& k : policy.keys) {
      if (k.name == key.name && k.key_id == key.key_id) {
        return MakeError(ErrorKind::kInvalidArgument, "witness key " + key.name + " is given twice");
      }
    }
    policy.keys.push_back(std::move(key));
  }
  if (quorum > policy.keys.size()) {
    return MakeError(ErrorKind::kInvalidArgument, "witness quorum " + std::to_string(quorum) + " is more than the " +
                                                      std::to_string(policy.keys.size()) + " witness key(s) given");
  }
  policy.quorum = quorum == 0 ? policy.keys.size() : quorum;
  return policy;
}

Result<QuorumReport> CheckWitnessQuorum(const std::string& signature_lines, const std::string& checkpoint_body,
                                        const WitnessPolicy& policy) {
  QuorumReport report;
  for (const audit::WitnessKey& key : policy.keys) {
    auto cosigned = audit::VerifyCosignatures(signature_lines, key, checkpoint_body);
    if (cosigned) {
      report.cosigned_by.push_back(key.name);
    } else if (cosigned.error().kind != ErrorKind::kNotFound) {
      return cosigned.error();
    }
  }
  if (report.cosigned_by.size() < policy.quorum) {
    return MakeError(ErrorKind::kNotFound, "cosigned by " + std::to_string(report.cosigned_by.size()) + " of the required " +
                                               std::to_string(policy.quorum) + " witness(es) (" +
                                               std::to_string(policy.keys.size()) + " given)");
  }
  return report;
}

Result<QuorumReport> CheckNoteWitnessQuorum(const std::string& note, const WitnessPolicy& policy) {
  const auto split = note.rfind("\n\n");
  if (note.empty() || note.back() != '\n' || split == std::string::npos) {
    return MakeError(ErrorKind::kInvalidArgument, "not a signed note");
  }
  return CheckWitnessQuorum(note.substr(split + 2), note.substr(0, split + 1), policy);
}

}  // namespace tsa::verify
