#include "tsa/verify/proof_verifier.h"

#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/proof_bundle.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"
#include "tsa/verify/chain_verifier.h"
#include "tsa/verify/note_verifier.h"

namespace tsa::verify {

using audit::GrantedTokenOf;
using audit::Hash;
using audit::HashFromHex;
using audit::HashHex;
using audit::kProofFormat;
using audit::LeafHash;
using audit::ParseCheckpoint;
using audit::VerifyInclusion;
using chain_detail::NormalizeHex;
using core::Base64Decode;
using core::FormatTimeUs;
using nlohmann::json;

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
  std::optional<VerifierKey> log_key;
  if (!options.log_vkey.empty()) {
    TSA_ASSIGN_OR_RETURN(log_key, ParseVerifierKey(options.log_vkey));
  }
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
  auto token = GrantedTokenOf(token_der);
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
    rep.checkpoint_is_note = cp->is_note();
    if (cp->is_note() && log_key) {
      // The note is signed by the log key the relying party pinned (c2sp.org/signed-note).
      auto opened = OpenNote(cp->note, *log_key);
      if (!opened) fail("the checkpoint note: " + opened.error().message);
      if (cp->origin != log_key->name) fail("the checkpoint note's origin \"" + cp->origin + "\" is not the key name");
      rep.note_signature_checked = opened.has_value();
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

  // External TSAs time-stamped the checkpoint note (or, for a legacy text, tsad's token).
  for (const ParsedAnchor& a : anchors) {
    ProofAnchorResult ar;
    ar.tsa_url = a.tsa_url;
    auto check = chain_detail::CheckAnchorReply(a.reply, chain_detail::AnchoredImprint(text, checkpoint_token),
                                                cp_token ? &*cp_token : nullptr, a.nonce, options.anchor_ca_pem,
                                                options.max_skew_us);
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
         {"checkpoint_is_note", r.checkpoint_is_note},
         {"note_signature_checked", r.note_signature_checked},
         {"anchors", json::array()}};
  for (const ProofAnchorResult& a : r.anchors) {
    json aj{{"tsa_url", a.tsa_url}, {"ok", a.ok}, {"gen_time", a.gen_time}};
    aj["skew_seconds"] = a.skew_seconds ? json(*a.skew_seconds) : json(nullptr);
    if (!a.ok) aj["error"] = a.error;
    j["anchors"].push_back(std::move(aj));
  }
  return j;
}

}  // namespace tsa::verify
