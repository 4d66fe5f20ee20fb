#include "tsa/audit/proof_bundle.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"
#include "tsa/store/log_store.h"

namespace tsa::audit {

using core::FormatTimeUs;
using nlohmann::json;

namespace {

struct LeafRow {
  std::uint64_t index = 0;
  std::string serial;
  Hash leaf{};
  std::optional<std::vector<std::uint8_t>> token;
};

Result<LeafRow> ToLeaf(store::LeafRow found) {
  if (found.index < 0) return MakeError(ErrorKind::kStorage, "the token row has a negative idx (run tsa-audit-verify)");
  LeafRow r;
  r.index = static_cast<std::uint64_t>(found.index);
  r.serial = std::move(found.serial);
  TSA_ASSIGN_OR_RETURN(r.leaf, HashFromBytes(found.leaf_hash));
  r.token = std::move(found.token);
  return r;
}

// One indexed lookup (LogStore::FindLeafBySerial), whatever the spelling: an unknown serial costs
// no more than a known one on this unauthenticated path (GET /audit/proof).
Result<std::optional<LeafRow>> FindBySerial(store::LogStore& log, const std::string& serial_hex) {
  TSA_ASSIGN_OR_RETURN(auto found, log.FindLeafBySerial(serial_hex));
  if (!found) return std::optional<LeafRow>();
  TSA_ASSIGN_OR_RETURN(LeafRow r, ToLeaf(std::move(*found)));
  return std::optional<LeafRow>(std::move(r));
}

Result<std::optional<LeafRow>> FindByLeafHash(store::LogStore& log, const Hash& leaf_hash) {
  TSA_ASSIGN_OR_RETURN(auto found, log.FindLeafByHash(std::vector<std::uint8_t>(leaf_hash.begin(), leaf_hash.end())));
  if (!found) return std::optional<LeafRow>();
  TSA_ASSIGN_OR_RETURN(LeafRow r, ToLeaf(std::move(*found)));
  return std::optional<LeafRow>(std::move(r));
}

Result<json> BuildForLeaf(store::LogStore& log, const LeafRow& leaf, const ProofBuildOptions& options) {
  TSA_ASSIGN_OR_RETURN(auto cp, log.CoveringCheckpoint(leaf.index, /*anchored=*/true));
  if (!cp) {
    if (!options.allow_unanchored) {
      return MakeError(ErrorKind::kUnavailable,
                       "not anchored yet: no checkpoint with a successful anchor covers leaf " + std::to_string(leaf.index));
    }
    TSA_ASSIGN_OR_RETURN(cp, log.CoveringCheckpoint(leaf.index, /*anchored=*/false));
    if (!cp)
      return MakeError(ErrorKind::kUnavailable,
                       "not anchored yet: no checkpoint covers leaf " + std::to_string(leaf.index) + " yet");
  }
  const std::int64_t checkpoint_id = cp->id;
  const std::string& text = cp->checkpoint;
  const auto& checkpoint_token = cp->tsa_token;
  auto parsed = ParseCheckpoint(text);
  if (!parsed)
    return MakeError(ErrorKind::kStorage,
                     "checkpoint " + std::to_string(checkpoint_id) + " is damaged: " + parsed.error().message);
  auto proof = InclusionProof(TokenLog::Nodes(log), leaf.index, parsed->tree_size);
  if (!proof) return MakeError(ErrorKind::kStorage, "cannot build the inclusion proof: " + proof.error().message);
  if (!VerifyInclusion(leaf.leaf, leaf.index, parsed->tree_size, *proof, parsed->root)) {
    return MakeError(ErrorKind::kStorage, "the stored tree does not prove leaf " + std::to_string(leaf.index) +
                                              " in checkpoint " + std::to_string(checkpoint_id) + " (run tsa-audit-verify)");
  }

  json bundle;
  bundle["format"] = kProofFormat;
  bundle["serial"] = leaf.serial;
  bundle["leaf_index"] = leaf.index;
  bundle["leaf_hash"] = HashHex(leaf.leaf);
  bundle["tree_size"] = parsed->tree_size;
  bundle["inclusion_proof"] = json::array();
  for (const Hash& h : *proof) bundle["inclusion_proof"].push_back(HashHex(h));
  bundle["checkpoint"] = text;
  bundle["checkpoint_token"] = core::Base64(checkpoint_token);
  bundle["anchors"] = json::array();
  TSA_ASSIGN_OR_RETURN(auto anchors, log.AnchorAttempts(checkpoint_id, /*ok_only=*/true));
  for (const store::AnchorAttemptRow& a : anchors) {
    bundle["anchors"].push_back(json{{"tsa_url", a.tsa_url},
                                     {"gen_time", FormatTimeUs(a.ext_gen_time_us)},
                                     {"nonce", core::ToHex(a.nonce.value_or(std::vector<std::uint8_t>()))},
                                     {"reply", core::Base64(a.reply)}});
  }
  // c2sp.org/tlog-cosignature: what witnesses signed over this checkpoint's body, so that a relying
  // party can require them (tsa-audit-verify --witness-vkey); not part of "checkpoint", whose bytes
  // the anchors time-stamped.
  bundle["cosignatures"] = json::array();
  TSA_ASSIGN_OR_RETURN(auto cosignatures, log.Cosignatures(static_cast<std::uint64_t>(parsed->tree_size)));
  for (const store::CosignatureRow& c : cosignatures) bundle["cosignatures"].push_back(c.line);
  if (leaf.token) bundle["token"] = core::Base64(*leaf.token);
  return bundle;
}

}  // namespace

Result<core::TokenInfo> GrantedTokenOf(const std::vector<std::uint8_t>& der) {
  auto info = crypto::DescribeResponse(der);
  if (!info) return MakeError(ErrorKind::kInvalidArgument, "the token does not parse: " + info.error().message);
  if (!info->granted()) return MakeError(ErrorKind::kInvalidArgument, "the reply carries no granted token");
  return *info->token;
}

Result<json> BuildProofBundle(store::LogStore& log, const std::string& serial_hex, const ProofBuildOptions& options) {
  TSA_ASSIGN_OR_RETURN(auto leaf, FindBySerial(log, serial_hex));
  if (!leaf) return MakeError(ErrorKind::kNotFound, "serial " + serial_hex + " is not in the log");
  return BuildForLeaf(log, *leaf, options);
}

Result<json> BuildProofBundleForToken(store::LogStore& log, const std::vector<std::uint8_t>& token_der,
                                      const ProofBuildOptions& options) {
  TSA_ASSIGN_OR_RETURN(core::TokenInfo token, GrantedTokenOf(token_der));
  const Hash leaf_hash = LeafHash(token.token_der);
  TSA_ASSIGN_OR_RETURN(auto leaf, FindBySerial(log, token.serial_hex));
  if (!leaf || leaf->leaf != leaf_hash) {
    // Not under its serial (or a different token has that serial): look for the leaf hash itself.
    TSA_ASSIGN_OR_RETURN(leaf, FindByLeafHash(log, leaf_hash));
  }
  if (!leaf) return MakeError(ErrorKind::kNotFound, "this token (serial " + token.serial_hex + ") is not in the log");
  return BuildForLeaf(log, *leaf, options);
}

Result<json> ExportAuditJson(store::LogStore& log) {
  TSA_ASSIGN_OR_RETURN(store::LogExtent extent, log.Extent());
  json out;
  out["format"] = kExportFormat;
  out["log_size"] = extent.next_index;
  out["checkpoints"] = json::array();
  TSA_ASSIGN_OR_RETURN(auto checkpoints, log.Checkpoints());
  const NodeReader nodes = TokenLog::Nodes(log);
  std::optional<std::uint64_t> previous;
  for (const store::CheckpointRow& cp : checkpoints) {
    const auto tree_size = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cp.tree_size));
    json c{{"id", cp.id},
           {"tree_size", tree_size},
           {"root_hash", core::ToHex(cp.root_hash)},
           {"checkpoint", cp.checkpoint},
           {"checkpoint_token", core::Base64(cp.tsa_token)},
           {"tsa_serial", cp.tsa_serial},
           {"gen_time", FormatTimeUs(cp.tsa_gen_time_us)},
           {"anchors", json::array()}};
    c["consistency_from"] = previous ? json(*previous) : json(nullptr);
    c["consistency_proof"] = json::array();
    if (previous && *previous <= tree_size) {
      // A damaged tree gives no proof here; tsa-audit-verify says why.
      if (auto proof = ConsistencyProof(nodes, *previous, tree_size)) {
        for (const Hash& h : *proof) c["consistency_proof"].push_back(HashHex(h));
      } else {
        c["consistency_proof"] = nullptr;
      }
    }
    TSA_ASSIGN_OR_RETURN(auto anchors, log.AnchorAttempts(cp.id, /*ok_only=*/true));
    for (const store::AnchorAttemptRow& a : anchors) {
      c["anchors"].push_back(json{{"tsa_url", a.tsa_url},
                                  {"gen_time", FormatTimeUs(a.ext_gen_time_us)},
                                  {"serial", a.ext_serial},
                                  {"nonce", core::ToHex(a.nonce.value_or(std::vector<std::uint8_t>()))},
                                  {"reply", core::Base64(a.reply)}});
    }
    out["checkpoints"].push_back(std::move(c));
    previous = tree_size;
  }
  return out;
}

Result<AuditStats> ComputeStats(store::LogStore& log) {
  AuditStats s;
  TSA_ASSIGN_OR_RETURN(store::TokenTotals totals, log.Totals());
  s.tokens = totals.tokens;
  s.tokens_stored = totals.tokens_stored;
  s.first_gen_time_us = totals.first_gen_time_us;
  s.last_gen_time_us = totals.last_gen_time_us;
  TSA_ASSIGN_OR_RETURN(s.checkpoints, log.CheckpointCount());
  TSA_ASSIGN_OR_RETURN(auto last_cp, log.LatestCheckpoint());
  if (last_cp) {
    s.last_checkpoint_size = static_cast<std::uint64_t>(std::max<std::int64_t>(0, last_cp->tree_size));
    s.last_checkpoint_time_us = last_cp->tsa_gen_time_us;
  }
  TSA_ASSIGN_OR_RETURN(s.anchored_size, log.MaxAnchoredTreeSize());
  TSA_ASSIGN_OR_RETURN(auto per_url, log.AnchorTotalsByUrl());
  for (store::AnchorUrlTotals& t : per_url) {
    s.anchors_succeeded += t.succeeded;
    s.anchors_failed += t.failed;
    s.per_tsa.push_back(TsaAnchorStats{std::move(t.tsa_url), t.succeeded, t.failed});
  }
  s.anchor_attempts = s.anchors_succeeded + s.anchors_failed;
  s.success_rate = s.anchor_attempts ? static_cast<double>(s.anchors_succeeded) / static_cast<double>(s.anchor_attempts) : 0.0;
  TSA_ASSIGN_OR_RETURN(auto last, log.LastAnchorAttempt());
  if (last) {
    s.last_anchor_url = last->tsa_url;
    s.last_anchor_status = last->ok ? "ok" : "failed";
    s.last_anchor_error = last->error;
    s.last_anchor_time_us = last->attempted_at_us;
  }
  TSA_ASSIGN_OR_RETURN(s.last_success_time_us, log.LastAnchorSuccessUs());
  return s;
}

json ToJson(const AuditStats& s) {
  auto time = [](const std::optional<std::int64_t>& us) { return us ? json(FormatTimeUs(*us)) : json(nullptr); };
  json j{{"tokens", s.tokens},
         {"tokens_stored", s.tokens_stored},
         {"hashes_only", s.tokens - std::min(s.tokens, s.tokens_stored)},
         {"first_gen_time", time(s.first_gen_time_us)},
         {"last_gen_time", time(s.last_gen_time_us)},
         {"checkpoints", s.checkpoints},
         {"last_checkpoint_size", s.last_checkpoint_size},
         {"last_checkpoint_time", time(s.last_checkpoint_time_us)},
         {"anchored_size", s.anchored_size},
         {"not_yet_anchored", s.tokens > s.anchored_size ? s.tokens - s.anchored_size : 0},
         {"anchor_attempts", s.anchor_attempts},
         {"anchors_succeeded", s.anchors_succeeded},
         {"anchors_failed", s.anchors_failed},
         {"success_rate", s.success_rate},
         {"last_anchor_time", time(s.last_anchor_time_us)},
         {"last_anchor_status", s.last_anchor_status.empty() ? json(nullptr) : json(s.last_anchor_status)},
         {"last_anchor_url", s.last_anchor_url.empty() ? json(nullptr) : json(s.last_anchor_url)},
         {"last_anchor_error", s.last_anchor_error.empty() ? json(nullptr) : json(s.last_anchor_error)},
         {"last_success_time", time(s.last_success_time_us)},
         {"per_tsa", json::array()}};
  for (const TsaAnchorStats& t : s.per_tsa)
    j["per_tsa"].push_back(json{{"tsa_url", t.tsa_url}, {"succeeded", t.succeeded}, {"failed", t.failed}});
  return j;
}

std::string ToText(const AuditStats& s) {
  auto time = [](const std::optional<std::int64_t>& us) { return us ? FormatTimeUs(*us) : std::string("-"); };
  char rate[32];
  std::snprintf(rate, sizeof(rate), "%.1f%%", s.success_rate * 100.0);
  std::ostringstream o;
  o << "Tokens:              " << s.tokens << " (" << s.tokens_stored << " stored, "
    << (s.tokens - std::min(s.tokens, s.tokens_stored)) << " hashes only)\n"
    << "  first / last:      " << time(s.first_gen_time_us) << " / " << time(s.last_gen_time_us) << "\n"
    << "Checkpoints:         " << s.checkpoints << " (last: size " << s.last_checkpoint_size << " at "
    << time(s.last_checkpoint_time_us) << ")\n"
    << "Anchored size:       " << s.anchored_size << " (" << (s.tokens > s.anchored_size ? s.tokens - s.anchored_size : 0)
    << " tokens not yet anchored)\n"
    << "Anchor attempts:     " << s.anchor_attempts << " (" << s.anchors_succeeded << " succeeded, " << s.anchors_failed
    << " failed)\n"
    << "Success rate:        " << (s.anchor_attempts ? rate : "-") << "\n"
    << "Last anchor:         ";
  if (s.last_anchor_status.empty()) {
    o << "never\n";
  } else {
    o << time(s.last_anchor_time_us) << " " << s.last_anchor_status << " (" << s.last_anchor_url << ")"
      << (s.last_anchor_error.empty() ? "" : ": " + s.last_anchor_error) << "\n";
  }
  o << "Last success:        " << time(s.last_success_time_us) << "\n";
  for (const TsaAnchorStats& t : s.per_tsa) o << "  " << t.tsa_url << ": " << t.succeeded << " ok, " << t.failed << " failed\n";
  return o.str();
}

}  // namespace tsa::audit
