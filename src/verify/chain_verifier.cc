#include "tsa/verify/chain_verifier.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "tsa/audit/checkpoint.h"
#include "tsa/audit/merkle.h"
#include "tsa/core/bytes.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"
#include "tsa/verify/note_verifier.h"

namespace tsa::verify {

using audit::EmptyRoot;
using audit::Hash;
using audit::HashFromBytes;
using audit::HashHex;
using audit::LeafHash;
using audit::MerkleFrontier;
using audit::NodeHash;
using audit::ParseCheckpoint;
using audit::Sha256;

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kWarning: return "warning";
    case Severity::kError: return "error";
  }
  return "?";
}

std::string Finding::ToString() const {
  std::string out = std::string(SeverityName(severity)) + ": ";
  if (index) out += "leaf " + std::to_string(*index) + ": ";
  if (checkpoint_id) out += "checkpoint " + std::to_string(*checkpoint_id) + ": ";
  if (anchor_id) out += "anchor attempt " + std::to_string(*anchor_id) + ": ";
  return out + what;
}

bool CheckpointResult::anchored() const {
  return text_ok && root_ok && tsad_token_ok &&
         std::any_of(anchors.begin(), anchors.end(), [](const AnchorResult& a) { return a.ok; });
}

namespace chain_detail {

std::string NormalizeHex(const std::string& hex) {
  std::string out;
  out.reserve(hex.size());
  for (char c : hex) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? std::string() : out.substr(first);
}

std::int64_t GenTimeResolutionUs(std::int64_t gen_time_us) {
  std::int64_t frac = gen_time_us % 1'000'000;
  if (frac < 0) frac += 1'000'000;
  if (frac == 0) return 1'000'000;
  std::int64_t res = 1;
  while (frac % 10 == 0) {
    frac /= 10;
    res *= 10;
  }
  return res;
}

Result<core::TokenInfo> VerifyCheckpointToken(const std::vector<std::uint8_t>& token_der, const std::string& text,
                                              const std::string& tsa_cert_pem, const std::string& ca_pem) {
  auto info = crypto::DescribeResponse(token_der);
  if (!info) return MakeError(ErrorKind::kInvalidArgument, "tsad's checkpoint token does not parse: " + info.error().message);
  if (!info->granted()) return MakeError(ErrorKind::kInvalidArgument, "tsad's checkpoint token is not a granted time-stamp");
  const core::TokenInfo& t = *info->token;
  if (t.hash_oid != kSha256Oid) {
    return MakeError(ErrorKind::kInvalidArgument, "tsad's checkpoint token imprint uses " + t.hash_algorithm + ", not SHA-256");
  }
  if (t.digest_hex != HashHex(Sha256(text))) {
    return MakeError(ErrorKind::kInvalidArgument, "tsad's checkpoint token imprint is not SHA-256 of the checkpoint text");
  }
  auto verified = VerifyTsadToken(token_der, tsa_cert_pem, ca_pem);
  if (!verified) return MakeError(ErrorKind::kInvalidArgument, "tsad's checkpoint token: " + verified.error().message);
  return t;
}

Result<core::ResponseInfo> VerifyTsadToken(const std::vector<std::uint8_t>& der, const std::string& certs_pem,
                                           const std::string& ca_pem) {
  crypto::VerifyOptions vo;
  vo.tsa_cert_pem = certs_pem;
  vo.ca_pem = ca_pem;
  auto pinned = crypto::Verify(der, vo);
  if (pinned || certs_pem.empty() || ca_pem.empty()) return pinned;
  // Not a pinned certificate: with a CA, any timeStamping certificate chaining to it will do
  // (crypto::Verify checks the EKU), provided the token carries it.
  auto described = crypto::DescribeResponse(der);
  if (!described || !described->token || described->token->certificate_count == 0) return pinned;
  vo.tsa_cert_pem.clear();
  return crypto::Verify(der, vo);
}

AnchoredBytes AnchoredImprint(const std::string& checkpoint_text, const std::vector<std::uint8_t>& checkpoint_token_der) {
  auto parsed = ParseCheckpoint(checkpoint_text);
  if (parsed && parsed->is_note()) return {Sha256(checkpoint_text), "the checkpoint note"};
  return {Sha256(checkpoint_token_der.data(), checkpoint_token_der.size()), "tsad's checkpoint token"};
}

AnchorCheck CheckAnchorReply(const std::vector<std::uint8_t>& reply, const AnchoredBytes& anchored,
                             const core::TokenInfo* checkpoint_token, const std::optional<std::vector<std::uint8_t>>& nonce,
                             const std::string& anchor_ca_pem, std::int64_t max_skew_us) {
  AnchorCheck out;
  auto fail = [&out](std::string why) {
    if (out.error.empty()) out.error = std::move(why);
  };
  auto described = crypto::DescribeResponse(reply);
  if (!described) {
    fail("the reply does not parse: " + described.error().message);
    return out;
  }
  if (!described->granted()) {
    fail(std::string("the reply is not granted (status ") + core::PkiStatusName(described->status) + ")");
    return out;
  }
  out.token = *described->token;
  const core::TokenInfo& t = *out.token;
  if (checkpoint_token != nullptr) {
    out.skew_us = t.gen_time_us - checkpoint_token->gen_time_us;
  }
  crypto::VerifyOptions vo;
  vo.ca_pem = anchor_ca_pem;
  if (auto verified = crypto::Verify(reply, vo); !verified) fail("signature: " + verified.error().message);
  if (t.hash_oid != kSha256Oid) fail("the imprint uses " + t.hash_algorithm + ", not SHA-256");
  if (t.digest_hex != HashHex(anchored.imprint)) fail("the imprint is not SHA-256 of " + anchored.what);
  if (nonce) {
    if (!t.nonce_hex) {
      fail("the reply carries no nonce");
    } else if (NormalizeHex(*t.nonce_hex) != NormalizeHex(core::ToHex(*nonce))) {
      fail("the reply's nonce " + *t.nonce_hex + " is not the nonce sent (" + core::ToHex(*nonce) + ")");
    }
  } else if (t.nonce_hex) {
    fail("the reply carries a nonce but none is recorded as sent");
  }
  if (out.skew_us) {
    const std::int64_t skew = *out.skew_us;
    const std::int64_t tolerance = (t.accuracy ? t.accuracy->TotalMicros() : 0) +
                                   (checkpoint_token->accuracy ? checkpoint_token->accuracy->TotalMicros() : 0);
    if (std::llabs(skew) > max_skew_us) {
      fail("skew " + std::to_string(static_cast<double>(skew) / 1e6) + " s exceeds the bound of " +
           std::to_string(max_skew_us / 1'000'000) + " s");
    } else if (skew < -tolerance) {
      fail("the external genTime precedes tsad's by " + std::to_string(static_cast<double>(-skew) / 1e6) +
           " s, more than both accuracies (" + std::to_string(static_cast<double>(tolerance) / 1e6) + " s)");
    }
  }
  out.ok = out.error.empty();
  return out;
}

}  // namespace chain_detail

namespace {

using chain_detail::GenTimeResolutionUs;
using chain_detail::NormalizeHex;

class Reporter {
 public:
  Reporter(ChainReport& report, std::size_t max) : r_(report), max_(max) {}

  void Add(Severity severity, std::optional<std::uint64_t> index, std::optional<std::int64_t> checkpoint_id,
           std::optional<std::int64_t> anchor_id, std::string what) {
    if (severity == Severity::kError) {
      r_.errors += 1;
      if (index && (!r_.first_bad_index || *index < *r_.first_bad_index)) r_.first_bad_index = index;
      if (checkpoint_id && (!r_.first_bad_checkpoint || *checkpoint_id < *r_.first_bad_checkpoint)) {
        r_.first_bad_checkpoint = checkpoint_id;
      }
    } else if (severity == Severity::kWarning) {
      r_.warnings += 1;
    }
    if (r_.findings.size() >= max_) {
      r_.findings_omitted += 1;
      return;
    }
    r_.findings.push_back(Finding{severity, index, checkpoint_id, anchor_id, std::move(what)});
  }
  void Leaf(std::uint64_t index, std::string what) { Add(Severity::kError, index, std::nullopt, std::nullopt, std::move(what)); }
  void Cp(std::int64_t id, std::string what, Severity s = Severity::kError) {
    Add(s, std::nullopt, id, std::nullopt, std::move(what));
  }

 private:
  ChainReport& r_;
  std::size_t max_;
};

// A checkpoint as the leaf pass needs it, sorted by tree size.
struct CpRef {
  std::uint64_t tree_size = 0;
  std::int64_t id = 0;
  Hash root{};  // the root tsad signed (the text's), or the column's when the text is bad
  bool have_root = false;
  std::optional<std::int64_t> gen_time_us;  // tsad token genTime, when the token parses
  bool trusted = false;                     // text consistent and tsad's token verified
  std::size_t result = 0;                   // index into report.checkpoints
};

// Streams one level of merkle_nodes in idx order; the positions asked for only grow.
class LevelCursor {
 public:
  explicit LevelCursor(std::unique_ptr<store::Cursor<store::NodeRow>> rows) : rows_(std::move(rows)) {}
  static Result<std::unique_ptr<LevelCursor>> Open(store::LogStore& log, int level) {
    TSA_ASSIGN_OR_RETURN(auto rows, log.ScanLevel(level));
    auto c = std::make_unique<LevelCursor>(std::move(rows));
    TSA_TRY(c->Next());
    return c;
  }

  // The stored hash at `pos` (nullopt when missing). Nodes before pos that nobody asked for are
  // passed to `extra` (idx, bad hash or not).
  Result<std::optional<std::vector<std::uint8_t>>> At(std::int64_t pos, const std::function<void(std::int64_t)>& extra) {
    while (has_ && idx_ < pos) {
      if (extra) extra(idx_);
      TSA_TRY(Next());
    }
    if (!has_ || idx_ != pos) return std::optional<std::vector<std::uint8_t>>();
    std::optional<std::vector<std::uint8_t>> out = std::move(hash_);
    TSA_TRY(Next());
    return out;
  }

 private:
  Status Next() {
    TSA_ASSIGN_OR_RETURN(auto row, rows_->Next());
    has_ = row.has_value();
    if (has_) {
      idx_ = row->index;
      hash_ = std::move(row->hash);
    }
    return Ok();
  }
  std::unique_ptr<store::Cursor<store::NodeRow>> rows_;
  bool has_ = false;
  std::int64_t idx_ = 0;
  std::vector<std::uint8_t> hash_;
};

}  // namespace

namespace {

class ChainVerifier {
 public:
  ChainVerifier(store::LogStore& log, const ChainVerifyOptions& options, ProgressFn progress)
      : log_(log),
        opt_(options),
        progress_(std::move(progress)),
        rep_(report_, options.max_findings),
        leaf_certs_pem_(options.tsa_cert_pem) {}

  Result<ChainReport> Run() {
    if (!opt_.log_vkey.empty()) {
      TSA_ASSIGN_OR_RETURN(log_key_, ParseVerifierKey(opt_.log_vkey));
    }
    TSA_TRY(log_.CheckIsAuditLog());
    TSA_ASSIGN_OR_RETURN(store::LogExtent extent, log_.Extent());
    total_ = extent.next_index;

    if (Status st = Checkpoints(); !st)
      rep_.Add(Severity::kError, std::nullopt, std::nullopt, std::nullopt, "cannot read the checkpoints: " + st.error().message);
    SortCheckpoints();
    if (auto signed_cp = log_.LatestSignedCheckpoint(); !signed_cp) {
      rep_.Add(Severity::kError, std::nullopt, std::nullopt, std::nullopt,
               "cannot read the signed checkpoints: " + signed_cp.error().message);
    } else {
      latest_signed_ = std::move(*signed_cp);
    }
    if (Status st = Orphans(); !st)
      rep_.Add(Severity::kError, std::nullopt, std::nullopt, std::nullopt,
               "cannot read the anchor attempts: " + st.error().message);
    if (Status st = Leaves(); !st) {
      rep_.Leaf(position_, "the log cannot be read from here on (corrupt or truncated database?): " + st.error().message);
    }
    AfterLeaves();
    if (Status st = DuplicateSerials(); !st)
      rep_.Add(Severity::kError, std::nullopt, std::nullopt, std::nullopt,
               "cannot check serial uniqueness: " + st.error().message);
    if (Status st = StrayNodes(); !st)
      rep_.Add(Severity::kError, std::nullopt, std::nullopt, std::nullopt, "cannot check merkle_nodes: " + st.error().message);
    Summarise();
    if (progress_) progress_(report_.leaves, std::max(total_, report_.leaves));
    return std::move(report_);
  }

 private:
  // Pass 1: every checkpoint (by id) with its tsad token and anchor replies; one row in memory at a time.
  Status Checkpoints() {
    TSA_ASSIGN_OR_RETURN(auto checkpoints, log_.Checkpoints());
    std::optional<std::uint64_t> prev_size;
    std::optional<std::int64_t> prev_time;
    for (const store::CheckpointRow& row : checkpoints) {
      CheckpointResult res;
      res.id = row.id;
      const std::int64_t size_col = row.tree_size;
      const auto& root_col = row.root_hash;
      const std::string& text = row.checkpoint;
      const auto& token = row.tsa_token;
      const std::string& serial_col = row.tsa_serial;
      const std::int64_t time_col = row.tsa_gen_time_us;
      CpRef ref;
      ref.id = res.id;
      res.tree_size = size_col > 0 ? static_cast<std::uint64_t>(size_col) : 0;
      ref.tree_size = res.tree_size;

      // The text, the columns, and the root tsad signed.
      bool text_ok = true;
      if (size_col < 0) {
        rep_.Cp(res.id, "negative tree_size " + std::to_string(size_col));
        text_ok = false;
      }
      auto root = HashFromBytes(root_col);
      if (!root) {
        rep_.Cp(res.id, "root_hash column is not a 32-byte hash");
        text_ok = false;
      } else {
        ref.root = *root;
        ref.have_root = true;
      }
      auto parsed = ParseCheckpoint(text);
      if (!parsed) {
        rep_.Cp(res.id, "the checkpoint text does not parse: " + parsed.error().message);
        text_ok = false;
      } else {
        if (static_cast<std::int64_t>(parsed->tree_size) != size_col) {
          rep_.Cp(res.id, "tree_size column " + std::to_string(size_col) + " differs from the text's " +
                              std::to_string(parsed->tree_size));
          text_ok = false;
        }
        if (!root || parsed->root != *root) {
          rep_.Cp(res.id, "root_hash column differs from the text's root " + HashHex(parsed->root));
          text_ok = false;
        }
        if (Status signed_ok = CheckNoteSignature(*parsed); !signed_ok) {
          rep_.Cp(res.id, signed_ok.error().message);
          text_ok = false;
        }
        ref.tree_size = parsed->tree_size;
        ref.root = parsed->root;
        ref.have_root = true;
        res.tree_size = parsed->tree_size;
      }
      res.text_ok = text_ok;

      // tsad's own token over SHA-256(text).
      std::optional<core::TokenInfo> tsad;
      auto verified = chain_detail::VerifyCheckpointToken(token, text, opt_.tsa_cert_pem, opt_.tsa_ca_pem);
      if (verified) LearnSigner(token);
      if (!verified) {
        rep_.Cp(res.id, verified.error().message);
        // Keep the genTime for the ordering checks when the token at least parses.
        if (auto d = crypto::DescribeResponse(token); d && d->token) tsad = *d->token;
      } else {
        tsad = *verified;
        res.tsad_token_ok = true;
        if (NormalizeHex(serial_col) != NormalizeHex(tsad->serial_hex)) {
          rep_.Cp(res.id, "tsa_serial column " + serial_col + " differs from the token's serial " + tsad->serial_hex);
          res.tsad_token_ok = false;
        }
        if (time_col < tsad->gen_time_us || time_col >= tsad->gen_time_us + GenTimeResolutionUs(tsad->gen_time_us)) {
          rep_.Cp(res.id,
                  "tsa_gen_time_us column " + std::to_string(time_col) + " differs from the token's genTime " + tsad->gen_time);
          res.tsad_token_ok = false;
        }
        if (parsed && !parsed->is_note() && !tsad->signer_subject.empty() && tsad->signer_subject != parsed->origin) {
          rep_.Cp(res.id, "origin \"" + parsed->origin + "\" is not the token signer \"" + tsad->signer_subject + "\"",
                  Severity::kWarning);
        }
      }
      if (tsad) {
        res.tsad_gen_time_us = tsad->gen_time_us;
        ref.gen_time_us = tsad->gen_time_us;
      }

      // Checkpoints only move forward.
      if (prev_size && res.tree_size < *prev_size) {
        rep_.Cp(res.id, "tree size " + std::to_string(res.tree_size) + " is smaller than the previous checkpoint's " +
                            std::to_string(*prev_size));
      }
      if (prev_time && tsad && tsad->gen_time_us < *prev_time) {
        rep_.Cp(res.id, "tsad genTime " + tsad->gen_time + " is earlier than the previous checkpoint's " +
                            core::FormatTimeUs(*prev_time));
      }
      prev_size = res.tree_size;
      if (tsad) prev_time = tsad->gen_time_us;

      // The anchors.
      TSA_ASSIGN_OR_RETURN(auto attempts, log_.AnchorAttempts(res.id, /*ok_only=*/false));
      for (store::AnchorAttemptRow& attempt : attempts) {
        if (!attempt.ok) {
          res.failed_attempts += 1;
          report_.anchors_failed_attempts += 1;
          continue;
        }
        AnchorResult a;
        a.id = attempt.id;
        a.tsa_url = attempt.tsa_url;
        const std::optional<std::vector<std::uint8_t>>& nonce = attempt.nonce;
        const auto& reply = attempt.reply;
        a.ext_gen_time_us = attempt.ext_gen_time_us;
        a.ext_serial = attempt.ext_serial;
        if (reply.empty()) {
          a.error = "marked ok but no reply is stored";
        } else {
          auto check = chain_detail::CheckAnchorReply(reply, chain_detail::AnchoredImprint(text, token), tsad ? &*tsad : nullptr,
                                                      nonce, opt_.anchor_ca_pem, opt_.max_skew_us);
          if (check.skew_us) a.skew_seconds = static_cast<double>(*check.skew_us) / 1e6;
          a.error = check.error;
          if (check.ok && a.ext_gen_time_us != check.token->gen_time_us) {
            a.error = "ext_gen_time_us " + std::to_string(a.ext_gen_time_us) + " differs from the reply's genTime " +
                      check.token->gen_time;
          } else if (check.ok && NormalizeHex(a.ext_serial) != NormalizeHex(check.token->serial_hex)) {
            a.error = "ext_serial " + a.ext_serial + " differs from the reply's serial " + check.token->serial_hex;
          } else if (check.ok && !tsad) {
            a.error = "tsad's checkpoint token does not parse: the skew cannot be checked";
          }
        }
        a.ok = a.error.empty();
        if (a.ok) {
          report_.anchors_verified += 1;
        } else {
          rep_.Add(Severity::kError, std::nullopt, res.id, a.id, "anchor from " + a.tsa_url + ": " + a.error);
        }
        res.anchors.push_back(std::move(a));
      }
      ref.trusted = res.text_ok && res.tsad_token_ok;
      ref.result = report_.checkpoints.size();
      report_.checkpoints.push_back(std::move(res));
      cps_.push_back(ref);
    }
    return Ok();
  }

  // Orders what Checkpoints() read (all of it, even after a read error) for the leaf pass.
  void SortCheckpoints() {
    std::stable_sort(cps_.begin(), cps_.end(), [](const CpRef& a, const CpRef& b) { return a.tree_size < b.tree_size; });
    // min_time_[i] = earliest tsad genTime among the checkpoints cps_[i..]: every leaf below
    // cps_[i].tree_size must precede it.
    min_time_.assign(cps_.size() + 1, std::nullopt);
    for (std::size_t i = cps_.size(); i-- > 0;) {
      min_time_[i] = min_time_[i + 1];
      if (cps_[i].trusted && (!min_time_[i] || *cps_[i].gen_time_us < *min_time_[i])) min_time_[i] = cps_[i].gen_time_us;
    }
  }

  Status Orphans() {
    TSA_ASSIGN_OR_RETURN(auto orphans, log_.OrphanAnchorAttempts());
    for (const store::AnchorAttemptRow& a : orphans) {
      rep_.Add(Severity::kError, std::nullopt, a.checkpoint_id, a.id, "anchor attempt for a checkpoint that does not exist");
    }
    return Ok();
  }

  Result<LevelCursor*> Cursor(int level) {
    if (level < 0 || level >= 64) return MakeError(ErrorKind::kInternal, "bad merkle level");
    auto& c = cursors_[static_cast<std::size_t>(level)];
    if (!c) {
      TSA_ASSIGN_OR_RETURN(c, LevelCursor::Open(log_, level));
    }
    return c.get();
  }

  // Leaves known bad (or below a bad node): a difference further up that they explain is not
  // reported again.
  void MarkBad(std::uint64_t pos) {
    if (!first_bad_leaf_ || pos < *first_bad_leaf_) first_bad_leaf_ = pos;
    if (!last_bad_leaf_ || pos > *last_bad_leaf_) last_bad_leaf_ = pos;
  }

  void RememberStored(int level, const std::optional<Hash>& stored) {
    const auto l = static_cast<std::size_t>(level);
    stored_prev_[l] = stored_last_[l];
    stored_last_[l] = stored;
  }

  // Appends a leaf at position_ (with the level-0 node stored for it) and checks the perfect
  // subtrees it completes, then the checkpoints of that size.
  Status AppendLeaf(const Hash& leaf, const std::optional<Hash>& stored_leaf) {
    const auto nodes = tree_.Append(leaf);
    for (const auto& node : nodes) {
      if (node.level == 0) {
        RememberStored(0, stored_leaf);
        continue;
      }
      // Levels the store derives (the tiles keep every 8th) are recomputed, not compared.
      if (!log_.Keeps(node.level, node.index, total_)) {
        RememberStored(node.level, node.hash);
        continue;
      }
      TSA_ASSIGN_OR_RETURN(LevelCursor * cursor, Cursor(node.level));
      const std::uint64_t first = node.index << node.level;
      const std::string name = "merkle node (level " + std::to_string(node.level) + ", idx " + std::to_string(node.index) + ")";
      TSA_ASSIGN_OR_RETURN(auto stored_bytes, cursor->At(static_cast<std::int64_t>(node.index), [&](std::int64_t idx) {
        rep_.Leaf(first, "unexpected merkle node (level " + std::to_string(node.level) + ", idx " + std::to_string(idx) + ")");
      }));
      std::optional<Hash> stored;
      if (stored_bytes) {
        if (auto h = HashFromBytes(*stored_bytes)) stored = *h;
      }
      // The children stored for it: the two latest nodes of the level below, both just checked.
      const auto below = static_cast<std::size_t>(node.level - 1);
      const std::optional<Hash> left = stored_prev_[below], right = stored_last_[below];
      RememberStored(node.level, stored);
      if (!stored_bytes) {
        rep_.Leaf(first, name + " is missing");
        MarkBad(first);
        continue;
      }
      if (stored && *stored == node.hash) continue;
      // The stored node differs from the one recomputed from the leaves. If it does not even match
      // its stored children, it was modified itself; otherwise the change is below it, and already
      // reported unless nothing below was found bad.
      const bool matches_children = stored && left && right && *stored == NodeHash(*left, *right);
      if (matches_children && last_bad_leaf_ && *last_bad_leaf_ >= first) continue;
      rep_.Leaf(first, name +
                           (matches_children ? " differs from the hash recomputed from leaves ["
                                             : " is not the hash of its children (leaves [") +
                           std::to_string(first) + ", " + std::to_string(first + (std::uint64_t{1} << node.level)) +
                           (matches_children ? ")" : "))"));
      MarkBad(first);
    }
    position_ += 1;
    PassCheckpoints();
    if (latest_signed_ && latest_signed_->tree_size >= 0 && position_ == static_cast<std::uint64_t>(latest_signed_->tree_size))
      root_at_signed_ = tree_.Root();
    return Ok();
  }

  // Checks the roots of the checkpoints the tree has now reached, and reports progress.
  void PassCheckpoints() {
    while (next_cp_ < cps_.size() && cps_[next_cp_].tree_size <= position_) {
      CheckRoot(cps_[next_cp_]);
      next_cp_ += 1;
    }
    if (progress_ && position_ % 4096 == 0) progress_(position_, std::max(total_, position_));
  }

  void CheckRoot(const CpRef& cp) {
    CheckpointResult& res = report_.checkpoints[cp.result];
    if (!cp.have_root) return;
    const Hash root = tree_.Root();
    if (root == cp.root && !broken_) {
      res.root_ok = true;
      if (res.text_ok && res.tsad_token_ok) last_good_size_ = cp.tree_size;
      return;
    }
    if (broken_) {
      rep_.Add(Severity::kError, *broken_, cp.id, std::nullopt,
               "the root cannot be recomputed: leaf " + std::to_string(*broken_) + " is missing");
    } else if (first_bad_leaf_) {
      rep_.Add(Severity::kError, *first_bad_leaf_, cp.id, std::nullopt,
               "the root recomputed from the leaves differs from the signed one (leaf " + std::to_string(*first_bad_leaf_) +
                   " is bad)");
    } else if (res.text_ok && res.tsad_token_ok) {
      // Every leaf looks fine on its own: the change was made consistently to leaves, leaf hashes and
      // nodes, somewhere after the last checkpoint whose root still matched.
      rep_.Add(Severity::kError, last_good_size_, cp.id, std::nullopt,
               "the root recomputed from the leaves differs from the signed one: leaves in [" + std::to_string(last_good_size_) +
                   ", " + std::to_string(cp.tree_size) + ") were changed");
    } else {
      rep_.Cp(cp.id, "the root recomputed from the leaves (" + HashHex(root) + ") differs from the checkpoint's");
    }
  }

  // Pass 2: the leaves in idx order, the tree recomputed alongside.
  Status Leaves() {
    for (const CpRef& cp : cps_) {
      if (cp.tree_size == 0) {
        report_.checkpoints[cp.result].root_ok = cp.have_root && cp.root == EmptyRoot();
        if (!report_.checkpoints[cp.result].root_ok) rep_.Cp(cp.id, "an empty checkpoint must have the empty root");
      }
    }
    while (next_cp_ < cps_.size() && cps_[next_cp_].tree_size == 0) next_cp_ += 1;

    TSA_ASSIGN_OR_RETURN(auto rows, log_.ScanTokens());
    TSA_ASSIGN_OR_RETURN(LevelCursor * level0, Cursor(0));
    auto extra0 = [&](std::int64_t idx) {
      rep_.Leaf(idx < 0 ? 0 : static_cast<std::uint64_t>(idx),
                "merkle node (level 0, idx " + std::to_string(idx) + ") has no token row");
    };
    while (true) {
      TSA_ASSIGN_OR_RETURN(auto row, rows->Next());
      if (!row) break;
      const std::int64_t idx = row->index;
      report_.leaves += 1;
      if (idx < 0) {
        rep_.Leaf(0, "row with out-of-range idx " + std::to_string(idx));
        continue;
      }
      const auto uidx = static_cast<std::uint64_t>(idx);
      if (uidx < position_) {
        rep_.Leaf(uidx, "duplicate idx " + std::to_string(idx));
        continue;
      }
      if (uidx > position_) {
        rep_.Leaf(position_, uidx - position_ == 1 ? "leaf " + std::to_string(position_) + " is missing (deleted row)"
                                                   : "leaves [" + std::to_string(position_) + ", " + std::to_string(uidx) +
                                                         ") are missing (deleted rows)");
        // Keep the tree aligned with the level-0 nodes left behind, as long as there are some.
        while (position_ < uidx) {
          MarkBad(position_);
          if (!broken_) {
            TSA_ASSIGN_OR_RETURN(auto node, level0->At(static_cast<std::int64_t>(position_), extra0));
            auto h = node ? HashFromBytes(*node) : Result<Hash>(MakeError(ErrorKind::kNotFound, ""));
            if (h) {
              TSA_TRY(AppendLeaf(*h, *h));
              continue;
            }
            broken_ = position_;
          }
          // Without the leaf hash the tree cannot be recomputed past this point.
          position_ = uidx;
          PassCheckpoints();
        }
      }
      TSA_TRY(CheckRow(*row, uidx, level0, extra0));
    }
    return Ok();
  }

  Status CheckRow(const store::TokenRow& row, std::uint64_t idx, LevelCursor* level0,
                  const std::function<void(std::int64_t)>& extra0) {
    const std::string& serial = row.serial;
    const std::int64_t gen_time_us = row.gen_time_us;
    const bool has_token = row.token.has_value();
    bool bad = false;
    auto bad_leaf = [&](std::string what) {
      rep_.Leaf(idx, std::move(what));
      bad = true;
    };
    // The tiles layout keeps no leaf_hash for the tail (tsad holds it in memory) and no columns
    // besides the serial index: what it does not store is not checked (TokenRow::tiles).
    const bool no_leaf_col = row.tiles && row.leaf_hash.empty();
    auto leaf_col = no_leaf_col ? Result<Hash>(MakeError(ErrorKind::kNotFound, "")) : HashFromBytes(row.leaf_hash);
    if (!leaf_col && !no_leaf_col) bad_leaf("leaf_hash is not a 32-byte hash");
    Hash leaf = leaf_col ? *leaf_col : Hash{};
    std::int64_t leaf_time = gen_time_us;
    if (has_token) {
      report_.tokens_stored += 1;
      const auto& token = *row.token;
      leaf = LeafHash(token);
      if (leaf_col && leaf != *leaf_col)
        bad_leaf("leaf_hash differs from SHA-256(0x00 || token): the token or its hash was modified");
      const Hash token_sha256 = Sha256(token.data(), token.size());
      if (!row.tiles && row.token_sha256 != std::vector<std::uint8_t>(token_sha256.begin(), token_sha256.end())) {
        bad_leaf("token_sha256 differs from SHA-256(token)");
      }
      auto info = crypto::DescribeResponse(token);
      if (!info || !info->token) {
        bad_leaf("the token does not parse: " + (info ? std::string("not a token") : info.error().message));
      } else {
        const core::TokenInfo& t = *info->token;
        leaf_time = t.gen_time_us;
        if (row.tiles && serial.empty()) {
          // Not in the serial index yet (tsad writes it about every second): nothing to compare.
        } else if (NormalizeHex(serial) != NormalizeHex(t.serial_hex))
          bad_leaf("serial column " + serial + " differs from the token's " + t.serial_hex);
        const bool has_time = !(row.tiles && serial.empty());
        if (has_time && (gen_time_us < t.gen_time_us || gen_time_us >= t.gen_time_us + GenTimeResolutionUs(t.gen_time_us))) {
          bad_leaf("gen_time_us column " + std::to_string(gen_time_us) + " differs from the token's genTime " + t.gen_time);
        }
        if (row.tiles) {
          // No policy, hash_oid or digest columns: the token is the only copy.
        } else if (row.hash_oid != t.hash_oid)
          bad_leaf("hash_oid column " + row.hash_oid + " differs from the token's " + t.hash_oid);
        if (!row.tiles && core::ToHex(row.digest) != t.digest_hex) bad_leaf("digest column differs from the token's imprint");
        if (!row.tiles && row.policy != t.policy)
          bad_leaf("policy column " + row.policy + " differs from the token's " + t.policy);
        if (HasTrustRoots() && opt_.verify_leaf_signatures) {
          report_.leaf_signatures_checked += 1;
          const std::string& pinned = t.certificate_count == 0 ? leaf_certs_pem_ : opt_.tsa_cert_pem;
          if (pinned.empty() && t.certificate_count == 0) {
            bad_leaf("the token carries no certificate and no given or learned TSA certificate can check it (pass --tsa-cert)");
          } else if (auto v = chain_detail::VerifyTsadToken(token, pinned, opt_.tsa_ca_pem); !v) {
            bad_leaf("the token's signature: " + v.error().message);
          }
        }
      }
    }
    // Covered by a checkpoint whose token says it was made earlier than this leaf?
    if (min_time_[next_cp_]) {
      const std::int64_t cp_time = *min_time_[next_cp_];
      if (leaf_time >= cp_time + GenTimeResolutionUs(cp_time)) {
        bad_leaf("genTime " + core::FormatTimeUs(leaf_time) + " is later than a checkpoint covering it (" +
                 core::FormatTimeUs(cp_time) + ")");
      }
    }
    if (broken_) {
      // The tree cannot be recomputed any more; only the row itself is checked.
      (void)level0->At(static_cast<std::int64_t>(idx), nullptr);
      if (bad) MarkBad(idx);
      position_ = idx + 1;
      PassCheckpoints();
      return Ok();
    }
    if (!log_.Keeps(0, idx, total_)) {
      // The tiles layout's tail: its leaf hashes are not stored (the entry is the leaf).
      if (bad) MarkBad(idx);
      return AppendLeaf(leaf, leaf);
    }
    TSA_ASSIGN_OR_RETURN(auto node, level0->At(static_cast<std::int64_t>(idx), extra0));
    std::optional<Hash> stored;
    if (node) {
      if (auto h = HashFromBytes(*node)) stored = *h;
    }
    if (!node) {
      bad_leaf("merkle node (level 0, idx " + std::to_string(idx) + ") is missing");
    } else if (!stored || *stored != leaf) {
      bad_leaf("merkle node (level 0) differs from the leaf hash: the row was replaced, moved or swapped");
    }
    if (bad) MarkBad(idx);
    return AppendLeaf(leaf, stored);
  }

  // The latest C2SP checkpoint tsad published (GET /log/checkpoint, about every second; anchored or
  // not) commits to the first tree_size leaves: a log that lost leaves from its end, or whose
  // leaves changed, no longer gives its root. Without it, cutting whole entries off the end of
  // an unanchored log would go unnoticed offline.
  void CheckLatestSignedCheckpoint() {
    if (!latest_signed_) return;
    const std::string which = "the latest signed checkpoint (C2SP note, tree size " + std::to_string(latest_signed_->tree_size) +
                              ")";
    if (latest_signed_->tree_size < 0 || static_cast<std::uint64_t>(latest_signed_->tree_size) > position_) {
      rep_.Add(Severity::kError, position_, std::nullopt, std::nullopt,
               which + " is beyond the end of the log (" + std::to_string(position_) + " leaves): leaves were removed");
      return;
    }
    if (latest_signed_->tree_size == 0) root_at_signed_ = EmptyRoot();
    if (!root_at_signed_ ||
        std::vector<std::uint8_t>(root_at_signed_->begin(), root_at_signed_->end()) != latest_signed_->root_hash) {
      rep_.Add(Severity::kError, static_cast<std::uint64_t>(latest_signed_->tree_size), std::nullopt, std::nullopt,
               which + " does not match the root of the log's first " + std::to_string(latest_signed_->tree_size) + " leaves");
    }
  }

  void AfterLeaves() {
    CheckLatestSignedCheckpoint();
    // Checkpoints beyond the end of the log: the rows were deleted from its tail.
    for (; next_cp_ < cps_.size(); ++next_cp_) {
      const CpRef& cp = cps_[next_cp_];
      rep_.Add(Severity::kError, position_, cp.id, std::nullopt,
               "tree size " + std::to_string(cp.tree_size) + " is beyond the end of the log (" + std::to_string(position_) +
                   " leaves)");
    }
  }

  Status DuplicateSerials() {
    TSA_ASSIGN_OR_RETURN(auto duplicates, log_.DuplicateSerials(opt_.max_findings));
    for (const store::DuplicateSerial& d : duplicates) {
      const std::int64_t idx = d.second_index;
      rep_.Leaf(idx < 0 ? 0 : static_cast<std::uint64_t>(idx), "serial " + d.serial + " appears more than once");
    }
    return Ok();
  }

  // Stored nodes that no complete perfect subtree of the log accounts for.
  Status StrayNodes() {
    TSA_ASSIGN_OR_RETURN(auto stray, log_.StrayNodes(position_, opt_.max_findings));
    for (const store::NodePosition& node : stray) {
      const std::int64_t level = node.level, idx = node.index;
      // The node says leaves up to the end of its range existed: the first one missing is the bad one.
      const std::uint64_t first = (level < 0 || level > 62 || idx < 0)
                                      ? position_
                                      : std::max(static_cast<std::uint64_t>(idx) << level, position_);
      const std::string what = node.path.empty()
                                   ? "merkle node (level " + std::to_string(level) + ", idx " + std::to_string(idx) + ")"
                                   : "tile file " + node.path;
      rep_.Leaf(first, what + " lies outside the tree of " + std::to_string(position_) + " leaves");
    }
    return Ok();
  }

  void Summarise() {
    for (const CheckpointResult& cp : report_.checkpoints) {
      if (cp.anchored()) {
        report_.anchored_size = std::max(report_.anchored_size, cp.tree_size);
      } else if (cp.text_ok && cp.root_ok && cp.tsad_token_ok) {
        rep_.Cp(cp.id, "no verified anchor (tree size " + std::to_string(cp.tree_size) + ")",
                opt_.require_anchors ? Severity::kError : Severity::kWarning);
      }
    }
    if (report_.anchored_size < position_) {
      rep_.Add(Severity::kInfo, report_.anchored_size, std::nullopt, std::nullopt,
               "leaves [" + std::to_string(report_.anchored_size) + ", " + std::to_string(position_) + ") are not yet anchored");
    }
    report_.ok = report_.errors == 0;
  }

  // An anchored note must be signed by the log key (when the caller gave its verifier key).
  Status CheckNoteSignature(const audit::Checkpoint& cp) {
    if (!cp.is_note()) return Ok();
    if (!log_key_) {
      if (!note_unchecked_reported_) {
        rep_.Add(Severity::kInfo, std::nullopt, std::nullopt, std::nullopt,
                 "checkpoint notes are anchored but their signatures were not checked (no log verifier key given)");
        note_unchecked_reported_ = true;
      }
      return Ok();
    }
    auto opened = OpenNote(cp.note, *log_key_);
    if (!opened) return MakeError(ErrorKind::kCrypto, "the checkpoint note: " + opened.error().message);
    if (cp.origin != log_key_->name) {
      return MakeError(ErrorKind::kCrypto, "the checkpoint note's origin \"" + cp.origin + "\" is not the key name");
    }
    return Ok();
  }

  bool HasTrustRoots() const { return !opt_.tsa_cert_pem.empty() || !opt_.tsa_ca_pem.empty(); }

  // A checkpoint token that verified against the CA names a trusted signer: remember its
  // certificate for the leaf tokens that carry none (certReq FALSE). The pinned ones come first.
  void LearnSigner(const std::vector<std::uint8_t>& checkpoint_token) {
    if (opt_.tsa_ca_pem.empty()) return;
    auto pem = crypto::EmbeddedSignerPem(checkpoint_token);
    if (!pem || !learned_.insert(*pem).second) return;
    if (!leaf_certs_pem_.empty() && leaf_certs_pem_.back() != '\n') leaf_certs_pem_ += '\n';
    leaf_certs_pem_ += *pem;
  }

  store::LogStore& log_;
  const ChainVerifyOptions& opt_;
  ProgressFn progress_;
  ChainReport report_;
  Reporter rep_;
  std::uint64_t total_ = 0;

  std::vector<CpRef> cps_;  // by tree size
  std::vector<std::optional<std::int64_t>> min_time_;
  std::size_t next_cp_ = 0;  // first checkpoint with tree_size > position_
  std::array<std::unique_ptr<LevelCursor>, 64> cursors_;
  std::array<std::optional<Hash>, 64> stored_prev_, stored_last_;  // the two latest stored nodes per level
  MerkleFrontier tree_;
  std::uint64_t position_ = 0;  // leaves appended to tree_ (next expected idx)
  std::optional<std::uint64_t> first_bad_leaf_, last_bad_leaf_;
  std::optional<std::uint64_t> broken_;  // a missing leaf without a level-0 node
  std::uint64_t last_good_size_ = 0;     // largest verified checkpoint size whose root matched
  std::set<std::string> learned_;        // signer certificates (PEM) of CA-verified checkpoint tokens
  std::string leaf_certs_pem_;           // pinned + learned: for leaf tokens without a certificate
  std::optional<VerifierKey> log_key_;   // from opt_.log_vkey
  std::optional<store::SignedCheckpointRow> latest_signed_;
  std::optional<Hash> root_at_signed_;  // the tree's root when it reached latest_signed_'s size
  bool note_unchecked_reported_ = false;
};

}  // namespace

Result<ChainReport> VerifyChain(store::LogStore& log, const ChainVerifyOptions& options, ProgressFn progress) {
  ChainVerifier verifier(log, options, std::move(progress));
  return verifier.Run();
}

nlohmann::json ToJson(const ChainReport& r) {
  using nlohmann::json;
  json j;
  j["ok"] = r.ok;
  j["first_bad_index"] = r.first_bad_index ? json(*r.first_bad_index) : json(nullptr);
  j["first_bad_checkpoint"] = r.first_bad_checkpoint ? json(*r.first_bad_checkpoint) : json(nullptr);
  j["leaves"] = r.leaves;
  j["tokens_stored"] = r.tokens_stored;
  j["leaf_signatures_checked"] = r.leaf_signatures_checked;
  j["anchored_size"] = r.anchored_size;
  j["anchors_verified"] = r.anchors_verified;
  j["anchors_failed_attempts"] = r.anchors_failed_attempts;
  j["errors"] = r.errors;
  j["warnings"] = r.warnings;
  j["findings"] = json::array();
  for (const Finding& f : r.findings) {
    json fj{{"severity", SeverityName(f.severity)}, {"what", f.what}};
    fj["index"] = f.index ? json(*f.index) : json(nullptr);
    fj["checkpoint_id"] = f.checkpoint_id ? json(*f.checkpoint_id) : json(nullptr);
    fj["anchor_id"] = f.anchor_id ? json(*f.anchor_id) : json(nullptr);
    j["findings"].push_back(std::move(fj));
  }
  j["findings_omitted"] = r.findings_omitted;
  j["checkpoints"] = json::array();
  for (const CheckpointResult& c : r.checkpoints) {
    json cj{{"id", c.id},
            {"tree_size", c.tree_size},
            {"text_ok", c.text_ok},
            {"root_ok", c.root_ok},
            {"tsad_token_ok", c.tsad_token_ok},
            {"tsad_gen_time", c.tsad_gen_time_us ? json(core::FormatTimeUs(c.tsad_gen_time_us)) : json(nullptr)},
            {"anchored", c.anchored()},
            {"failed_attempts", c.failed_attempts},
            {"anchors", json::array()}};
    for (const AnchorResult& a : c.anchors) {
      json aj{{"id", a.id}, {"tsa_url", a.tsa_url}, {"ok", a.ok}, {"ext_serial", a.ext_serial}};
      aj["ext_gen_time"] = a.ext_gen_time_us ? json(core::FormatTimeUs(a.ext_gen_time_us)) : json(nullptr);
      aj["skew_seconds"] = a.skew_seconds ? json(*a.skew_seconds) : json(nullptr);
      if (!a.ok) aj["error"] = a.error;
      cj["anchors"].push_back(std::move(aj));
    }
    j["checkpoints"].push_back(std::move(cj));
  }
  return j;
}

}  // namespace tsa::verify
