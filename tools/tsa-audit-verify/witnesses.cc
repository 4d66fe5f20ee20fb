#include "tsa-audit-verify/witnesses.h"

#include "common/tool_cli.h"
#include "tsa/core/bytes.h"

namespace tsa::tool {

Result<std::string> ResolveVkey(const std::string& vkey) {
  if (vkey.empty() || vkey[0] != '@') return vkey;
  TSA_ASSIGN_OR_RETURN(std::string text, core::ReadFileText(vkey.substr(1)));
  return text.substr(0, text.find_first_of("\r\n"));
}

Result<verify::WitnessPolicy> LoadWitnessPolicy(const std::vector<std::string>& vkeys, std::size_t quorum) {
  std::vector<std::string> resolved;
  for (const std::string& v : vkeys) {
    TSA_ASSIGN_OR_RETURN(std::string key, ResolveVkey(v));
    resolved.push_back(std::move(key));
  }
  return verify::MakeWitnessPolicy(resolved, quorum);
}

std::string CosignedSummary(const verify::WitnessPolicy& policy, const verify::QuorumReport& report) {
  if (policy.empty()) return "";
  std::string names;
  for (const std::string& n : report.cosigned_by) names += (names.empty() ? "" : ", ") + n;
  return "; cosigned by " + names + " (" + std::to_string(policy.quorum) + " of " + std::to_string(policy.keys.size()) +
         " witness(es) required)";
}

std::optional<int> RequireWitnessed(const verify::WitnessPolicy& policy, const std::string& note, const std::string& what,
                                    verify::QuorumReport& report) {
  if (policy.empty()) return std::nullopt;
  auto checked = verify::CheckNoteWitnessQuorum(note, policy);
  if (!checked) return Fail("tsa-audit-verify", kExitNotWitnessed, what + " is not witnessed: " + checked.error().message);
  report = std::move(*checked);
  return std::nullopt;
}

}  // namespace tsa::tool
