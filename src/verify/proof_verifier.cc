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

// A bundle's fields, each checked for its type (AUDIT_CHAIN.md "Proof bundles").
struct ParsedBundle {
  std::uint64_t leaf_index = 0;
  std::uint64_t tree_size = 0;
  Hash leaf_hash{};
  std::vector<Hash> path;
  std::string checkpoint;  // the note (or a legacy text) the proof leads to
  std::vector<std::uint8_t> checkpoint_token;
  std::vector<ParsedAnchor> anchors;
  std::optional<std::vector<std::uint8_t>> token;
};

Result<std::vector<ParsedAnchor>> ParseAnchors(const json& bundle, const BundleReader& r) {
  auto anchors_it = bundle.find("anchors");
  if (anchors_it == bundle.end() || !anchors_it->is_array()) return BundleReader::Bad("anchors", "an array");
  std::vector<ParsedAnchor> anchors;
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
  return anchors;
}

Result<ParsedBundle> ParseBundle(const json& bundle) {
  if (!bundle.is_object())
    return MakeError(ErrorKind::kInvalidArgument, std::string("not a ") + kProofFormat + " bundle: not a JSON object");
  BundleReader r(bundle);
  TSA_ASSIGN_OR_RETURN(std::string format, r.Str(bundle, "format"));
  if (format != kProofFormat)
    return MakeError(ErrorKind::kInvalidArgument, "unknown proof format \"" + format + "\" (expected " + kProofFormat + ")");
  ParsedBundle b;
  TSA_ASSIGN_OR_RETURN(b.leaf_index, r.U64("leaf_index"));
  TSA_ASSIGN_OR_RETURN(b.tree_size, r.U64("tree_size"));
  TSA_ASSIGN_OR_RETURN(b.leaf_hash, r.HashField(bundle.value("leaf_hash", json()), "leaf_hash"));
  auto proof_it = bundle.find("inclusion_proof");
  if (proof_it == bundle.end() || !proof_it->is_array()) return BundleReader::Bad("inclusion_proof", "an array of hex hashes");
  for (const json& h : *proof_it) {
    TSA_ASSIGN_OR_RETURN(Hash p, r.HashField(h, "inclusion_proof"));
    b.path.push_back(p);
  }
  TSA_ASSIGN_OR_RETURN(b.checkpoint, r.Str(bundle, "checkpoint"));
  TSA_ASSIGN_OR_RETURN(b.checkpoint_token, r.B64(bundle, "checkpoint_token"));
  TSA_ASSIGN_OR_RETURN(b.anchors, ParseAnchors(bundle, r));
  if (bundle.contains("token")) {
    TSA_ASSIGN_OR_RETURN(b.token, r.B64(bundle, "token"));
  }
  return b;
}

// Each check below adds what fails to the report's errors and goes on, so that one run names
// every problem of a bundle.
void Fail(ProofReport& rep, std::string why) { rep.errors.push_back(std::move(why)); }

// The token is the leaf (and the one the bundle carries, if it carries one).
void CheckLeaf(const ParsedBundle& b, const Result<core::TokenInfo>& token, ProofReport& rep) {
  if (!token) {
    Fail(rep, token.error().message);
    return;
  }
  rep.serial_hex = token->serial_hex;
  rep.token_gen_time = token->gen_time;
  if (LeafHash(token->token_der) != b.leaf_hash) Fail(rep, "the token is not the leaf of this bundle (its leaf hash differs)");
  if (b.token && *b.token != token->token_der) Fail(rep, "the token differs from the one in the bundle");
}

// The leaf is in the checkpoint (RFC 9162 §2.1.3.2), whose note the pinned log key signed
// (c2sp.org/signed-note) when the relying party gave one.
void CheckInclusion(const ParsedBundle& b, const std::optional<VerifierKey>& log_key, ProofReport& rep) {
  auto cp = ParseCheckpoint(b.checkpoint);
  if (!cp) {
    Fail(rep, "the checkpoint text: " + cp.error().message);
    return;
  }
  rep.root_hex = HashHex(cp->root);
  if (cp->tree_size != rep.tree_size)
    Fail(rep, "tree_size differs from the checkpoint's (" + std::to_string(cp->tree_size) + ")");
  if (!VerifyInclusion(b.leaf_hash, rep.leaf_index, rep.tree_size, b.path, cp->root)) {
    Fail(rep, "the inclusion proof does not lead from leaf " + std::to_string(rep.leaf_index) + " to the checkpoint root");
  }
  rep.checkpoint_is_note = cp->is_note();
  if (!cp->is_note() || !log_key) return;
  auto opened = OpenNote(cp->note, *log_key);
  if (!opened) Fail(rep, "the checkpoint note: " + opened.error().message);
  if (cp->origin != log_key->name) Fail(rep, "the checkpoint note's origin \"" + cp->origin + "\" is not the key name");
  rep.note_signature_checked = opened.has_value();
}

// External TSAs time-stamped the checkpoint note (or, for a legacy text, tsad's token), close
// enough to tsad's checkpoint token.
void CheckAnchors(const ParsedBundle& b, const core::TokenInfo* cp_token, const ProofVerifyOptions& options, ProofReport& rep) {
  for (const ParsedAnchor& a : b.anchors) {
    ProofAnchorResult ar;
    ar.tsa_url = a.tsa_url;
    auto check = chain_detail::CheckAnchorReply(a.reply, chain_detail::AnchoredImprint(b.checkpoint, b.checkpoint_token),
                                                cp_token, a.nonce, options.anchor_ca_pem, options.max_skew_us);
    ar.error = check.error;
    if (check.token) ar.gen_time = check.token->gen_time;
    if (check.skew_us) ar.skew_seconds = static_cast<double>(*check.skew_us) / 1e6;
    if (check.ok && !a.gen_time.empty() && check.token && a.gen_time != FormatTimeUs(check.token->gen_time_us)) {
      ar.error = "gen_time " + a.gen_time + " differs from the reply's " + check.token->gen_time;
    }
    if (check.ok && cp_token == nullptr) ar.error = "tsad's checkpoint token does not parse: the skew cannot be checked";
    ar.ok = ar.error.empty();
    if (!ar.ok) Fail(rep, "anchor from " + a.tsa_url + ": " + ar.error);
    rep.anchored = rep.anchored || ar.ok;
    rep.anchors.push_back(std::move(ar));
  }
  if (b.anchors.empty() && !options.allow_unanchored)
    Fail(rep, "not anchored: the bundle carries no anchor (built before any external time-stamp)");
}

// The token itself: tsad's signature, and made before the checkpoint.
void CheckToken(const core::TokenInfo& token, const ParsedBundle& b, bool checkpoint_verified, const core::TokenInfo* cp_token,
                const ProofVerifyOptions& options, ProofReport& rep) {
  // A token without a certificate (certReq FALSE) may also be signed by the certificate of the
  // checkpoint token, once that one verified against the CA.
  std::string certs = options.tsa_cert_pem;
  if (checkpoint_verified && !options.tsa_ca_pem.empty() && token.certificate_count == 0) {
    if (auto signer = crypto::EmbeddedSignerPem(b.checkpoint_token)) certs += "\n" + *signer;
  }
  auto v = chain_detail::VerifyTsadToken(token.token_der, certs, options.tsa_ca_pem);
  if (!v) {
    Fail(rep, "the token: " + v.error().message +
                  (options.tsa_cert_pem.empty() && token.certificate_count == 0 ? " (pass tsad's certificate)" : ""));
  }
  if (cp_token && token.gen_time_us >= cp_token->gen_time_us + chain_detail::GenTimeResolutionUs(cp_token->gen_time_us)) {
    Fail(rep, "the token's genTime " + token.gen_time + " is after the checkpoint token's " + cp_token->gen_time);
  }
}

}  // namespace

Result<ProofReport> VerifyProofBundle(const json& bundle, const std::vector<std::uint8_t>& token_der,
                                      const ProofVerifyOptions& options) {
  TSA_ASSIGN_OR_RETURN(ParsedBundle b, ParseBundle(bundle));
  std::optional<VerifierKey> log_key;
  if (!options.log_vkey.empty()) {
    TSA_ASSIGN_OR_RETURN(log_key, ParseVerifierKey(options.log_vkey));
  }
  ProofReport rep;
  rep.leaf_index = b.leaf_index;
  rep.tree_size = b.tree_size;
  const auto token = GrantedTokenOf(token_der);
  CheckLeaf(b, token, rep);
  CheckInclusion(b, log_key, rep);
  // tsad signed the checkpoint.
  std::optional<core::TokenInfo> cp_token;
  auto verified_cp = chain_detail::VerifyCheckpointToken(b.checkpoint_token, b.checkpoint, options.tsa_cert_pem,
                                                         options.tsa_ca_pem);
  if (!verified_cp) {
    Fail(rep, verified_cp.error().message);
    if (auto d = crypto::DescribeResponse(b.checkpoint_token); d && d->token) cp_token = *d->token;
  } else {
    cp_token = *verified_cp;
  }
  if (cp_token) rep.checkpoint_gen_time = cp_token->gen_time;
  CheckAnchors(b, cp_token ? &*cp_token : nullptr, options, rep);
  if (token) CheckToken(*token, b, verified_cp.has_value(), cp_token ? &*cp_token : nullptr, options, rep);
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
