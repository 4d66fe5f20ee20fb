// tsa-audit-verify --witness-vkey/--witness-quorum: the relying party's witnesses
// (verify/witness_quorum.h), and the exit code when the checkpoint a mode relies on lacks their
// cosignatures. Exit code 6 (README "Exit codes"): fewer than the quorum of the given witnesses
// validly cosigned it, or a cosignature by one of them does not verify.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/verify/witness_quorum.h"

namespace tsa::tool {

inline constexpr int kExitNotWitnessed = 6;

// A key string, or "@FILE": the file's first line (as GET /log/vkey and a witness publish it).
Result<std::string> ResolveVkey(const std::string& vkey);

// --witness-vkey values (strings or @FILE) and --witness-quorum (0: all); empty without keys.
Result<verify::WitnessPolicy> LoadWitnessPolicy(const std::vector<std::string>& vkeys, std::size_t quorum);

// "; cosigned by a, b (2 of 2 required)" for the summary line, or "" without a policy.
std::string CosignedSummary(const verify::WitnessPolicy& policy, const verify::QuorumReport& report);

// Checks the note (with its cosignature lines) against the policy; without a policy, nullopt.
// On failure prints "tsa-audit-verify: <what> is not witnessed: ..." and returns the exit code.
std::optional<int> RequireWitnessed(const verify::WitnessPolicy& policy, const std::string& note, const std::string& what,
                                    verify::QuorumReport& report);

}  // namespace tsa::tool
