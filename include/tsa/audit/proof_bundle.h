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
//     "cosignatures": ["— <witness> <base64>\n", ...],  witnesses' cosignature/v1 lines over the
//                                              note's body (c2sp.org/tlog-cosignature); may be []
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

#include "tsa/core/response_info.h"
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

// The granted TimeStampToken inside a TimeStampResp, or a bare token: kInvalidArgument when it
// does not parse or carries no granted token.
Result<core::TokenInfo> GrantedTokenOf(const std::vector<std::uint8_t>& der);

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
}  // namespace tsa::audit
