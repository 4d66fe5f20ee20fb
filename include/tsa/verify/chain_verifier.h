// The offline audit of a tsad token log (tsa-audit-verify): recomputes every leaf and every
// anchored root from the database alone and checks every anchor, in one streaming pass over the
// log (O(n) time, memory bounded by the number of checkpoints, not of tokens).
//
// What is checked (the chain itself is described in AUDIT_CHAIN.md):
//   leaves       idx contiguous from 0; leaf_hash == LeafHash(token) and token_sha256 ==
//                SHA-256(token) when the token is stored; the token parses and its serial, genTime,
//                imprint (hash_oid + digest) and policy equal the row; with a pinned TSA
//                certificate its signature too; serials unique.
//   tree         merkle_nodes level 0 at idx == the leaf hash; every stored perfect subtree of
//                level >= 1 == the hash recomputed from the leaves; no node outside the tree.
//   checkpoints  the text parses and matches tree_size/root_hash; tree_size <= log size; the root
//                recomputed from the leaf hashes (never from stored upper nodes) equals the one
//                tsad signed; tsad's token is over SHA-256(text) with SHA-256 and verifies; its
//                genTime is not before any leaf it covers; checkpoints never go back in tree size
//                or genTime (by id).
//   anchors      for each ok attempt: the reply is granted, its imprint is SHA-256 of tsad's
//                checkpoint token (SHA-256), its nonce is the stored one, its signature verifies,
//                ext_gen_time_us/ext_serial equal the token; skew = external - tsad genTime must be
//                within max_skew, and the external time may not precede tsad's by more than both
//                accuracies.
// The first bad index is the smallest leaf index any error names. A root mismatch that no single
// leaf explains (the attacker also rewrote leaf hashes and nodes) names the first leaf after the
// last checkpoint whose root still matched: the change lies in [that index, tree_size).
//
// Limits (what no offline check of this database can show):
//   - rows stored as hashes only (--store-token-hashes-only): the columns other than leaf_hash are
//     not covered by anything signed; their changes go unnoticed;
//   - leaves after the last checkpoint: removing them together with their merkle nodes, or
//     appending consistent rows, leaves no trace (tsad's own signature on a forged token is only
//     checked with tsa_cert_pem);
//   - without anchor_ca_pem, an anchor proves that *some* key time-stamped the checkpoint token.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tsa/audit/merkle.h"
#include "tsa/core/response_info.h"
#include "tsa/core/result.h"
#include "tsa/store/log_store.h"

namespace tsa::verify {

// tsad's trust roots, shared by the log and the proof bundle checks: tsa_cert_pem holds any
// number of pinned TSA certificates (several after a rollover), tsa_ca_pem a CA bundle. A token of
// tsad is accepted when one pinned certificate signed it (chaining to the CA when one is given),
// or, with a CA, when the certificate it carries has the timeStamping EKU and chains to the CA. A
// leaf token without certificate (certReq FALSE) is checked against the pinned certificates and
// the signers of the checkpoint tokens that verified against the CA. With neither set, tokens are
// checked against the certificates they carry: only the structure, not who signed, is proven.
struct ChainVerifyOptions {
  // When set (either), checkpoint tokens and (unless verify_leaf_signatures is false) every stored
  // leaf token must verify against them; when both are empty, checkpoint tokens are verified with
  // the signer certificate they carry and leaf token signatures are not checked.
  std::string tsa_cert_pem;
  std::string tsa_ca_pem;
  std::string anchor_ca_pem;               // trust bundle for the external TSAs; empty: embedded signer only
  std::int64_t max_skew_us = 300'000'000;  // |external - tsad genTime| bound (300 s)
  bool require_anchors = false;            // a checkpoint without a verified anchor is an error
  bool verify_leaf_signatures = true;      // only with tsa_cert_pem or tsa_ca_pem
  // The log's signed-note verifier key (GET /log/vkey): the signature of every anchored checkpoint
  // note is checked with it. Empty: notes are parsed but their signatures not checked (an info
  // finding says so).
  std::string log_vkey{};
  std::size_t max_findings = 1000;  // further findings are counted, not listed
};

enum class Severity { kInfo, kWarning, kError };
const char* SeverityName(Severity s);

struct Finding {
  Severity severity = Severity::kError;
  std::optional<std::uint64_t> index;  // leaf index
  std::optional<std::int64_t> checkpoint_id;
  std::optional<std::int64_t> anchor_id;  // anchor_attempts.id
  std::string what;

  std::string ToString() const;  // "error: leaf 17: leaf_hash differs from SHA-256(0x00 || token)"
};

struct AnchorResult {
  std::int64_t id = 0;
  std::string tsa_url;
  bool ok = false;    // the reply verified
  std::string error;  // why not
  std::int64_t ext_gen_time_us = 0;
  std::string ext_serial;
  std::optional<double> skew_seconds;  // external - tsad genTime
};

struct CheckpointResult {
  std::int64_t id = 0;
  std::uint64_t tree_size = 0;
  bool text_ok = false;        // parses, matches the tree_size/root_hash columns
  bool root_ok = false;        // equals the root recomputed from the leaves
  bool tsad_token_ok = false;  // imprint over the text, signature, columns
  std::int64_t tsad_gen_time_us = 0;
  std::vector<AnchorResult> anchors;  // ok attempts only
  std::uint64_t failed_attempts = 0;  // attempts stored with ok = 0
  bool anchored() const;              // text, root and token ok and at least one anchor ok
};

struct ChainReport {
  bool ok = false;  // no finding of severity error
  std::optional<std::uint64_t> first_bad_index;
  std::optional<std::int64_t> first_bad_checkpoint;  // smallest checkpoint id named by an error
  std::vector<Finding> findings;
  std::uint64_t findings_omitted = 0;         // beyond max_findings
  std::vector<CheckpointResult> checkpoints;  // by id

  std::uint64_t leaves = 0;         // rows in tokens
  std::uint64_t tokens_stored = 0;  // rows with the token DER
  std::uint64_t leaf_signatures_checked = 0;
  std::uint64_t anchors_verified = 0;
  std::uint64_t anchors_failed_attempts = 0;
  std::uint64_t anchored_size = 0;  // largest tree size of an anchored checkpoint
  std::uint64_t errors = 0, warnings = 0;
};

nlohmann::json ToJson(const ChainReport& report);

// Called every few thousand leaves and at the end: (leaves done, leaves expected).
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Errors (Result) only when the database cannot be used at all: kInvalidArgument when it is not a
// tsad audit database (missing tables), kStorage/kBusy from SQLite before anything was read. A read
// failure in the middle of the log (a truncated or corrupt file) becomes an error finding naming
// the first index that could not be read.
Result<ChainReport> VerifyChain(store::LogStore& log, const ChainVerifyOptions& options, ProgressFn progress = {});

// Helpers shared with the proof bundle verifier (proof_bundle.cc) and the tools.
namespace chain_detail {

inline constexpr char kSha256Oid[] = "2.16.840.1.101.3.4.2.1";

// Lower-case hex with leading zero digits removed ("00FF" -> "ff", "00" -> ""): serials and nonces
// stored in different widths compare by value.
std::string NormalizeHex(const std::string& hex);

// The genTime resolution a token shows: DER drops trailing zeros of the fraction, so a token whose
// genTime reads ...:12.34Z stands for any instant in [12.34, 12.35). Returns that width in
// microseconds (1 for a full 6-digit fraction, 1'000'000 without a fraction).
std::int64_t GenTimeResolutionUs(std::int64_t gen_time_us);

// A token of tsad against its trust roots (ChainVerifyOptions): `certs_pem` pinned certificates
// (any number), `ca_pem` a CA bundle; both empty: the certificate the token carries.
Result<core::ResponseInfo> VerifyTsadToken(const std::vector<std::uint8_t>& der, const std::string& certs_pem,
                                           const std::string& ca_pem);

// tsad's token over a checkpoint: granted, imprint = SHA-256(text) with the SHA-256 OID, signature
// valid against the trust roots (VerifyTsadToken).
Result<core::TokenInfo> VerifyCheckpointToken(const std::vector<std::uint8_t>& token_der, const std::string& text,
                                              const std::string& tsa_cert_pem, const std::string& ca_pem);

struct AnchorCheck {
  bool ok = false;
  std::string error;                     // the first problem found, when !ok
  std::optional<core::TokenInfo> token;  // the external token, when it parses
  std::optional<std::int64_t> skew_us;   // external - tsad genTime, when both are known
};

// What an external TSA time-stamps for a checkpoint (checkpoint.h): the signed note itself, or,
// for a legacy tsad-checkpoint/v1 text, tsad's checkpoint token DER.
struct AnchoredBytes {
  audit::Hash imprint{};
  std::string what;  // for messages: "the checkpoint note" / "tsad's checkpoint token"
};
AnchoredBytes AnchoredImprint(const std::string& checkpoint_text, const std::vector<std::uint8_t>& checkpoint_token_der);

// An external TSA's reply over a checkpoint: granted, signature valid (embedded signer, chained
// to anchor_ca_pem if set), imprint = `anchored` (AnchoredImprint) with SHA-256, nonce ==
// `nonce` (when given; a missing nonce must be missing in the token too), and, when the checkpoint
// token is known, |skew| <= max_skew_us and the external genTime not before tsad's by more than
// both accuracies.
AnchorCheck CheckAnchorReply(const std::vector<std::uint8_t>& reply, const AnchoredBytes& anchored,
                             const core::TokenInfo* checkpoint_token, const std::optional<std::vector<std::uint8_t>>& nonce,
                             const std::string& anchor_ca_pem, std::int64_t max_skew_us);

}  // namespace chain_detail

}  // namespace tsa::verify
