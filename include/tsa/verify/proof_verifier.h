// Offline verification of a tsad-proof/v1 bundle (audit/proof_bundle.h builds them): the token's
// leaf, its inclusion path to a checkpoint, tsad's token over that checkpoint, and the external
// anchor replies. AUDIT_CHAIN.md describes the checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsa/core/result.h"

namespace tsa::verify {

struct ProofVerifyOptions {
  // tsad's trust roots, as ChainVerifyOptions (chain_verifier.h): pinned certificates (any
  // number) and/or a CA bundle; both empty: the signer certificates the tokens carry.
  std::string tsa_cert_pem;
  std::string tsa_ca_pem;
  std::string anchor_ca_pem;  // trust bundle for the external TSAs (optional)
  std::int64_t max_skew_us = 300'000'000;
  bool allow_unanchored = false;  // accept a bundle with no anchor (reported, not an error)
  // The log's signed-note verifier key: a checkpoint note in the bundle must be signed by it.
  // Empty: the note's signature is not checked (ProofReport::note_signature_checked stays false).
  std::string log_vkey{};
};

struct ProofAnchorResult {
  std::string tsa_url;
  bool ok = false;
  std::string error;
  std::string gen_time;                // the external token's
  std::optional<double> skew_seconds;  // external - checkpoint token genTime
};

struct ProofReport {
  bool ok = false;
  std::vector<std::string> errors;  // every check that failed, in order
  std::string serial_hex;           // the token's
  std::string token_gen_time;
  std::uint64_t leaf_index = 0;
  std::uint64_t tree_size = 0;
  std::string root_hex;
  std::string checkpoint_gen_time;
  bool anchored = false;                // at least one anchor verified
  bool checkpoint_is_note = false;      // a C2SP signed note (false: a legacy tsad-checkpoint/v1 text)
  bool note_signature_checked = false;  // verified with ProofVerifyOptions::log_vkey
  std::vector<ProofAnchorResult> anchors;
};

nlohmann::json ToJson(const ProofReport& report);

// Offline: needs only the bundle, the token (bare or TimeStampResp) and optional certificates.
// Checks LeafHash(token) == leaf_hash, the inclusion proof up to the checkpoint root, the checkpoint
// text or note (its signature with log_vkey when given), tsad's checkpoint token (imprint and
// signature), every anchor reply (imprint = SHA-256 of the note, or of the checkpoint token for a
// legacy text; nonce, signature, skew), the token's own signature, and that the token's
// genTime is not after the checkpoint token's. kInvalidArgument only when the bundle is not a
// tsad-proof/v1 document (missing or ill-typed fields); failed checks are in the report.
Result<ProofReport> VerifyProofBundle(const nlohmann::json& bundle, const std::vector<std::uint8_t>& token_der,
                                      const ProofVerifyOptions& options = {});

// tsa-audit export: every checkpoint (by id) with tsad's token, the ok anchor replies, and the
// RFC 9162 consistency proof from the previous checkpoint, so a customer can follow the log head:
//   {"format": "tsad-audit-export/v1", "log_size": n,
//    "checkpoints": [{"id", "tree_size", "root_hash", "checkpoint", "checkpoint_token", "tsa_serial",
//                     "gen_time", "consistency_from": <previous tree size or null>,
//                     "consistency_proof": [hex...], "anchors": [{"tsa_url", "gen_time", "serial",
//                     "nonce", "reply"}]}]}
}  // namespace tsa::verify
