#include "tsa/audit/proof_bundle.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

#include "tsa/audit/chain_verifier.h"
#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/token_log.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"
#include "tsa/store/log_store.h"

namespace tsa::audit {

using chain_detail::FormatTimeUs;
using chain_detail::NormalizeHex;
using nlohmann::json;

Result<std::vector<std::uint8_t>> Base64Decode(const std::string& text) {
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t symbols = 0, padding = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) continue;
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      padding += 1;
      symbols += 1;
      continue;
    } else {
      return MakeError(ErrorKind::kInvalidArgument, "not base64: unexpected character");
    }
    if (padding > 0) return MakeError(ErrorKind::kInvalidArgument, "not base64: data after padding");
    symbols += 1;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (symbols % 4 != 0 || padding > 2 || acc != 0)
    return MakeError(ErrorKind::kInvalidArgument, "not base64: bad length or padding");
  return out;
}

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
  if (leaf.token) bundle["token"] = core::Base64(*leaf.token);
  return bundle;
}

// The bare token inside a TimeStampResp or a bare token.
Result<core::TokenInfo> TokenOf(const std::vector<std::uint8_t>& der) {
  auto info = crypto::DescribeResponse(der);
  if (!info) return MakeError(ErrorKind::kInvalidArgument, "the token does not parse: " + info.error().message);
  if (!info->granted()) return MakeError(ErrorKind::kInvalidArgument, "the reply carries no granted token");
  return *info->token;
}

}  // namespace

Result<json> BuildProofBundle(store::LogStore& log, const std::string& serial_hex, const ProofBuildOptions& options) {
  TSA_ASSIGN_OR_RETURN(auto leaf, FindBySerial(log, serial_hex));
  if (!leaf) return MakeError(ErrorKind::kNotFound, "serial " + serial_hex + " is not in the log");
  return BuildForLeaf(log, *leaf, options);
}

Result<json> BuildProofBundleForToken(store::LogStore& log, const std::vector<std::uint8_t>& token_der,
                                      const ProofBuildOptions& options) {
  TSA_ASSIGN_OR_RETURN(core::TokenInfo token, TokenOf(token_der));
  const Hash leaf_hash = LeafHash(token.token_der);
  TSA_ASSIGN_OR_RETURN(auto leaf, FindBySerial(log, token.serial_hex));
  if (!leaf || leaf->leaf != leaf_hash) {
    // Not under its serial (or a different token has that serial): look for the leaf hash itself.
    TSA_ASSIGN_OR_RETURN(leaf, FindByLeafHash(log, leaf_hash));
  }
  if (!leaf) return MakeError(ErrorKind::kNotFound, "this token (serial " + token.serial_hex + ") is not in the log");
  return BuildForLeaf(log, *leaf, options);
}

namespace {

// Field access that reports what is missing instead of throwing.
class BundleReader {
 public:
  explicit BundleReader(const json& j) : j_(j) {}
  Result<std::string> Str(const json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) return Bad(key, "a string");
    return it->get<std::string>();
  }
  Result<std::uint64_t> U64(const char* key) const {
    auto it = j_.find(key);
    if (it == j_.end() || !it->is_number_integer() || (!it->is_number_unsigned() && it->get<std::int64_t>() < 0)) {
      return Bad(key, "a non-negative integer");
    }
    return it->get<std::uint64_t>();
  }
  Result<std::vector<std::uint8_t>> B64(const json& obj, const char* key) const {
    TSA_ASSIGN_OR_RETURN(std::string s, Str(obj, key));
    auto bytes = Base64Decode(s);
    if (!bytes) return Bad(key, "base64");
    return bytes;
  }
  Result<Hash> HashField(const json& value, const char* key) const {
    if (!value.is_string()) return Bad(key, "a hex hash");
    auto h = HashFromHex(value.get<std::string>());
    if (!h) return Bad(key, "a hex hash");
    return h;
  }
  static Error Bad(const char* key, const char* what) {
    return MakeError(ErrorKind::kInvalidArgument,
                     std::string("not a ") + kProofFormat + " bundle: \"" + key + "\" must be " + what);
  }

 private:
  const json& j_;
};

struct ParsedAnchor {
  std::string tsa_url, gen_time;
  std::optional<std::vector<std::uint8_t>> nonce;
  std::vector<std::uint8_t> reply;
};

}  // namespace

Result<ProofReport> VerifyProofBundle(const json& bundle, const std::vector<std::uint8_t>& token_der,
                                      const ProofVerifyOptions& options) {
  if (!bundle.is_object())
    return MakeError(ErrorKind::kInvalidArgument, std::string("not a ") + kProofFormat + " bundle: not a JSON object");
  BundleReader r(bundle);
  TSA_ASSIGN_OR_RETURN(std::string format, r.Str(bundle, "format"));
  if (format != kProofFormat)
    return MakeError(ErrorKind::kInvalidArgument, "unknown proof format \"" + format + "\" (expected " + kProofFormat + ")");
  ProofReport rep;
  TSA_ASSIGN_OR_RETURN(rep.leaf_index, r.U64("leaf_index"));
  TSA_ASSIGN_OR_RETURN(rep.tree_size, r.U64("tree_size"));
  TSA_ASSIGN_OR_RETURN(Hash leaf_hash, r.HashField(bundle.value("leaf_hash", json()), "leaf_hash"));
  std::vector<Hash> path;
  auto proof_it = bundle.find("inclusion_proof");
  if (proof_it == bundle.end() || !proof_it->is_array()) return BundleReader::Bad("inclusion_proof", "an array of hex hashes");
  for (const json& h : *proof_it) {
    TSA_ASSIGN_OR_RETURN(Hash p, r.HashField(h, "inclusion_proof"));
    path.push_back(p);
  }
  TSA_ASSIGN_OR_RETURN(std::string text, r.Str(bundle, "checkpoint"));
  TSA_ASSIGN_OR_RETURN(auto checkpoint_token, r.B64(bundle, "checkpoint_token"));
  std::vector<ParsedAnchor> anchors;
  auto anchors_it = bundle.find("anchors");
  if (anchors_it == bundle.end() || !anchors_it->is_array()) return BundleReader::Bad("anchors", "an array");
  for (const json& a : *anchors_it) {
    if (!a.is_object()) return BundleReader::Bad("anchors", "an array of objects");
    ParsedAnchor pa;
    TSA_ASSIGN_OR_RETURN(pa.tsa_url, r.Str(a, "tsa_url"));
    TSA_ASSIGN_OR_RETURN(pa.reply, r.B64(a, "reply"));
    pa.gen_time = a.value("gen_time", "");
    if (a.contains("nonce")) {
      TSA_ASSIGN_OR_RETURN(std::string hex, r.Str(a, "nonce"));
      pa.nonce = core::ParseHex(hex);
      if (!pa.nonce) return BundleReader::Bad("nonce", "hex");
    }
    anchors.push_back(std::move(pa));
  }
  std::optional<std::vector<std::uint8_t>> bundled_token;
  if (bundle.contains("token")) {
    TSA_ASSIGN_OR_RETURN(bundled_token, r.B64(bundle, "token"));
  }

  auto fail = [&rep](std::string why) { rep.errors.push_back(std::move(why)); };

  // The token is the leaf.
  auto token = TokenOf(token_der);
  if (!token) {
    fail(token.error().message);
  } else {
    rep.serial_hex = token->serial_hex;
    rep.token_gen_time = token->gen_time;
    if (LeafHash(token->token_der) != leaf_hash) fail("the token is not the leaf of this bundle (its leaf hash differs)");
    if (bundled_token && *bundled_token != token->token_der) fail("the token differs from the one in the bundle");
  }

  // The leaf is in the checkpoint.
  auto cp = ParseCheckpoint(text);
  if (!cp) {
    fail("the checkpoint text: " + cp.error().message);
  } else {
    rep.root_hex = HashHex(cp->root);
    if (cp->tree_size != rep.tree_size) fail("tree_size differs from the checkpoint's (" + std::to_string(cp->tree_size) + ")");
    if (!VerifyInclusion(leaf_hash, rep.leaf_index, rep.tree_size, path, cp->root)) {
      fail("the inclusion proof does not lead from leaf " + std::to_string(rep.leaf_index) + " to the checkpoint root");
    }
  }

  // tsad signed the checkpoint.
  std::optional<core::TokenInfo> cp_token;
  auto verified_cp = chain_detail::VerifyCheckpointToken(checkpoint_token, text, options.tsa_cert_pem, options.tsa_ca_pem);
  if (!verified_cp) {
    fail(verified_cp.error().message);
    if (auto d = crypto::DescribeResponse(checkpoint_token); d && d->token) cp_token = *d->token;
  } else {
    cp_token = *verified_cp;
  }
  if (cp_token) rep.checkpoint_gen_time = cp_token->gen_time;

  // External TSAs time-stamped tsad's checkpoint token.
  for (const ParsedAnchor& a : anchors) {
    ProofAnchorResult ar;
    ar.tsa_url = a.tsa_url;
    auto check = chain_detail::CheckAnchorReply(a.reply, checkpoint_token, cp_token ? &*cp_token : nullptr, a.nonce,
                                                options.anchor_ca_pem, options.max_skew_us);
    ar.error = check.error;
    if (check.token) ar.gen_time = check.token->gen_time;
    if (check.skew_us) ar.skew_seconds = static_cast<double>(*check.skew_us) / 1e6;
    if (check.ok && !a.gen_time.empty() && check.token && a.gen_time != FormatTimeUs(check.token->gen_time_us)) {
      ar.error = "gen_time " + a.gen_time + " differs from the reply's " + check.token->gen_time;
    }
    if (check.ok && !cp_token) ar.error = "tsad's checkpoint token does not parse: the skew cannot be checked";
    ar.ok = ar.error.empty();
    if (!ar.ok) fail("anchor from " + a.tsa_url + ": " + ar.error);
    rep.anchored = rep.anchored || ar.ok;
    rep.anchors.push_back(std::move(ar));
  }
  if (anchors.empty() && !options.allow_unanchored)
    fail("not anchored: the bundle carries no anchor (built before any external time-stamp)");

  // The token itself: tsad's signature, and made before the checkpoint.
  if (token) {
    // A token without a certificate (certReq FALSE) may also be signed by the certificate of the
    // checkpoint token, once that one verified against the CA.
    std::string certs = options.tsa_cert_pem;
    if (verified_cp && !options.tsa_ca_pem.empty() && token->certificate_count == 0) {
      if (auto signer = crypto::EmbeddedSignerPem(checkpoint_token)) certs += "\n" + *signer;
    }
    auto v = chain_detail::VerifyTsadToken(token->token_der, certs, options.tsa_ca_pem);
    if (!v) {
      fail("the token: " + v.error().message +
           (options.tsa_cert_pem.empty() && token->certificate_count == 0 ? " (pass tsad's certificate)" : ""));
    }
    if (cp_token && token->gen_time_us >= cp_token->gen_time_us + chain_detail::GenTimeResolutionUs(cp_token->gen_time_us)) {
      fail("the token's genTime " + token->gen_time + " is after the checkpoint token's " + cp_token->gen_time);
    }
  }
  rep.ok = rep.errors.empty();
  return rep;
}

json ToJson(const ProofReport& r) {
  json j{{"ok", r.ok},
         {"errors", r.errors},
         {"serial", r.serial_hex},
         {"token_gen_time", r.token_gen_time},
         {"leaf_index", r.leaf_index},
         {"tree_size", r.tree_size},
         {"root_hash", r.root_hex},
         {"checkpoint_gen_time", r.checkpoint_gen_time},
         {"anchored", r.anchored},
         {"anchors", json::array()}};
  for (const ProofAnchorResult& a : r.anchors) {
    json aj{{"tsa_url", a.tsa_url}, {"ok", a.ok}, {"gen_time", a.gen_time}};
    aj["skew_seconds"] = a.skew_seconds ? json(*a.skew_seconds) : json(nullptr);
    if (!a.ok) aj["error"] = a.error;
    j["anchors"].push_back(std::move(aj));
  }
  return j;
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
