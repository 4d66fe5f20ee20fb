// What tsad hands to customers about its log (tsa-audit): the proof bundle of one token, the JSON
// export of all checkpoints with their anchors, and the log statistics.
//
// Proof bundle (format "tsad-proof/v1"), everything a customer needs to check offline that their
// token is in the log and that the log head covering it was time-stamped by external TSAs:
//   {
//     "format": "tsad-proof/v1",
//     "serial": "<row serial, hex>", "leaf_index": N, "leaf_hash": "<hex>",
//     "tree_size": S,                          the checkpoint's tree size (N < S)
//     "inclusion_proof": ["<hex>", ...],       RFC 9162 §2.1.3 path from the leaf to the root
//     "checkpoint": "tsad-checkpoint/v1\n...", the canonical text (checkpoint.h)
//     "checkpoint_token": "<base64 DER>",      tsad's token over SHA-256(checkpoint)
//     "anchors": [{"tsa_url", "gen_time", "nonce": "<hex>", "reply": "<base64 DER TimeStampResp>"}],
//     "token": "<base64 DER>"                  only when the log keeps tokens
//   }
// The checkpoint is the FIRST one (smallest tree size) covering the leaf that has at least one ok
// anchor. When none has, the bundle can still be built (ProofBuildOptions::allow_unanchored) over
// the latest checkpoint covering the leaf, with "anchors": []; it then proves inclusion and tsad's
// own signature only, and VerifyProofBundle refuses it unless told to accept unanchored bundles.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsa/core/result.h"
#include "tsa/store/log_store.h"

namespace tsa::audit {

inline constexpr char kProofFormat[] = "tsad-proof/v1";
inline constexpr char kExportFormat[] = "tsad-audit-export/v1";

struct ProofBuildOptions {
  // Without an anchored checkpoint covering the leaf, build over the latest checkpoint covering it
  // (with "anchors": []) instead of failing with kUnavailable.
  bool allow_unanchored = false;
};

// kNotFound: unknown serial (hex, any case, leading zeros optional) or token not in the log.
// kUnavailable "not anchored yet": no checkpoint with an ok anchor covers it (and, with
// allow_unanchored, no checkpoint covers it at all). kStorage: the stored nodes do not give a proof
// that verifies against the checkpoint root (run tsa-audit-verify).
Result<nlohmann::json> BuildProofBundle(store::LogStore& log, const std::string& serial_hex,
                                        const ProofBuildOptions& options = {});
// Locates the token by its serial and leaf hash (SHA-256(0x00 || token)); `token_der` may be the
// bare token or the TimeStampResp that carried it.
Result<nlohmann::json> BuildProofBundleForToken(store::LogStore& log, const std::vector<std::uint8_t>& token_der,
                                                const ProofBuildOptions& options = {});

struct ProofVerifyOptions {
  // tsad's trust roots, as ChainVerifyOptions (chain_verifier.h): pinned certificates (any
  // number) and/or a CA bundle; both empty: the signer certificates the tokens carry.
  std::string tsa_cert_pem;
  std::string tsa_ca_pem;
  std::string anchor_ca_pem;  // trust bundle for the external TSAs (optional)
  std::int64_t max_skew_us = 300'000'000;
  bool allow_unanchored = false;  // accept a bundle with no anchor (reported, not an error)
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
  bool anchored = false;  // at least one anchor verified
  std::vector<ProofAnchorResult> anchors;
};

nlohmann::json ToJson(const ProofReport& report);

// Offline: needs only the bundle, the token (bare or TimeStampResp) and optional certificates.
// Checks LeafHash(token) == leaf_hash, the inclusion proof up to the checkpoint root, the checkpoint
// text, tsad's checkpoint token (imprint and signature), every anchor reply (imprint = SHA-256 of
// the checkpoint token, nonce, signature, skew), the token's own signature, and that the token's
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
Result<nlohmann::json> ExportAuditJson(store::LogStore& log);

struct TsaAnchorStats {
  std::string tsa_url;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
};

struct AuditStats {
  std::uint64_t tokens = 0;
  std::uint64_t tokens_stored = 0;  // with the token DER (the rest: hashes only)
  std::optional<std::int64_t> first_gen_time_us, last_gen_time_us;
  std::uint64_t checkpoints = 0;
  std::uint64_t last_checkpoint_size = 0;
  std::optional<std::int64_t> last_checkpoint_time_us;
  std::uint64_t anchor_attempts = 0;
  std::uint64_t anchors_succeeded = 0;
  std::uint64_t anchors_failed = 0;
  double success_rate = 0;                          // succeeded / attempts, 0..1 (0 without attempts)
  std::optional<std::int64_t> last_anchor_time_us;  // the last attempt
  std::string last_anchor_status;                   // "ok" / "failed" / "" (never)
  std::string last_anchor_url, last_anchor_error;
  std::optional<std::int64_t> last_success_time_us;
  std::uint64_t anchored_size = 0;  // tree size of the last checkpoint with an ok anchor
  std::vector<TsaAnchorStats> per_tsa;
};

// From the tables alone (no verification: that is tsa-audit-verify).
Result<AuditStats> ComputeStats(store::LogStore& log);
nlohmann::json ToJson(const AuditStats& stats);
std::string ToText(const AuditStats& stats);

// Standard base64 (RFC 4648 §4, padding required; whitespace ignored). kInvalidArgument otherwise.
Result<std::vector<std::uint8_t>> Base64Decode(const std::string& text);

}  // namespace tsa::audit
