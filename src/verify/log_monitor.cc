#include "tsa/verify/log_monitor.h"

#include "tsa/audit/tile_path.h"

namespace tsa::verify {
namespace {

using audit::Hash;
using audit::kTileHeight;
using audit::kTileWidth;

MonitorStatus StatusOf(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kIo:
    case ErrorKind::kNotFound:
    case ErrorKind::kUnavailable:
    case ErrorKind::kBusy:
    case ErrorKind::kStorage: return MonitorStatus::kUnavailable;
    default: return MonitorStatus::kTampered;  // the served bytes have the wrong shape
  }
}

// tlog-checkpoint: a note signed by the log key whose origin line is the key's name.
Result<CheckpointBody> OpenCheckpoint(const std::string& note, const VerifierKey& key) {
  TSA_ASSIGN_OR_RETURN(std::string body, OpenNote(note, key));
  TSA_ASSIGN_OR_RETURN(CheckpointBody cp, ParseCheckpointBody(body));
  if (cp.origin != key.name) return MakeError(ErrorKind::kInvalidArgument, "origin " + cp.origin + " is not " + key.name);
  return cp;
}

std::string Size(std::uint64_t n) { return "size " + std::to_string(n); }

// One run; each step returns false after recording the failure in the report.
class Run {
 public:
  Run(const LogFetcher& fetch, const MonitorOptions& options, MonitorReport& report)
      : options_(options), r_(report), tiles_(fetch, 0), fetch_(fetch) {}

  void Go() {
    if (!FetchCheckpoint() || !CompareWithPrevious()) return;
    if (r_.previous && r_.previous->tree_size == r_.checkpoint.tree_size) return;  // nothing new, same root
    tiles_ = TileReader(fetch_, r_.checkpoint.tree_size);
    if (ReadFrontier() && ReadProof() && ScanEntries() && CheckRoot()) CheckConsistency();
    r_.tiles_fetched = tiles_.tiles_fetched();
    r_.bundles_fetched = tiles_.bundles_fetched();
  }

 private:
  bool Fail(MonitorStatus status, std::string error) {
    r_.status = status;
    r_.error = std::move(error);
    return false;
  }

  bool FetchCheckpoint() {
    auto note = fetch_("checkpoint");
    if (!note) return Fail(MonitorStatus::kUnavailable, "cannot fetch the checkpoint: " + note.error().message);
    r_.note.assign(note->begin(), note->end());
    auto cp = OpenCheckpoint(r_.note, options_.key);
    if (!cp) return Fail(MonitorStatus::kBadCheckpoint, "the checkpoint does not verify: " + cp.error().message);
    r_.checkpoint = *cp;
    return true;
  }

  bool CompareWithPrevious() {
    if (options_.previous_note.empty()) {
      from_ = options_.skip_history ? r_.checkpoint.tree_size : 0;
      r_.history_skipped = options_.skip_history;
      r_.first_entry = from_;
      return true;
    }
    auto prev = OpenCheckpoint(options_.previous_note, options_.key);
    if (!prev) return Fail(MonitorStatus::kBadState, "the previous checkpoint is not one of this log: " + prev.error().message);
    r_.previous = *prev;
    const std::uint64_t old_size = prev->tree_size, size = r_.checkpoint.tree_size;
    if (size < old_size) {
      return Fail(MonitorStatus::kInconsistent, "the log shrank from " + Size(old_size) + " to " + std::to_string(size) +
                                                    ": it dropped signed entries (rollback or fork)");
    }
    if (size == old_size && prev->root != r_.checkpoint.root) {
      return Fail(MonitorStatus::kInconsistent,
                  "two different roots signed for " + Size(size) + ": the log forked (or was rewritten)");
    }
    from_ = old_size;
    r_.first_entry = from_;
    return true;
  }

  // The perfect subtrees that make up the first from_ leaves (from the tiles; proven when the
  // root is rebuilt from them).
  bool ReadFrontier() {
    std::vector<Hash> frontier(64);
    for (const auto& [level, index] : audit::MerkleFrontier::FrontierNodes(from_)) {
      auto node = tiles_.Node(level, index);
      if (!node) return Fail(StatusOf(node.error()), node.error().message);
      frontier[static_cast<std::size_t>(level)] = *node;
    }
    tree_ = audit::MerkleFrontier(from_, std::move(frontier));
    return true;
  }

  // Read before the scan so that its tiles stay cached: the proof then uses exactly the bytes the
  // scan proves against the new root.
  bool ReadProof() {
    if (!r_.previous || from_ == 0) return true;
    auto proof = audit::ConsistencyProof(tiles_.AsNodeReader(), from_, r_.checkpoint.tree_size);
    if (!proof) return Fail(StatusOf(proof.error()), "consistency proof: " + proof.error().message);
    proof_ = std::move(*proof);
    return true;
  }

  bool ScanEntries() {
    const std::uint64_t size = r_.checkpoint.tree_size;
    if (from_ == size) return true;
    for (std::uint64_t bundle = from_ / kTileWidth; bundle * kTileWidth < size; ++bundle) {
      if (!ScanBundle(bundle)) return false;
      if (options_.progress) options_.progress(r_.entries_checked, size - from_);
    }
    return true;
  }

  bool ScanBundle(std::uint64_t bundle) {
    auto entries = tiles_.Entries(bundle);
    if (!entries) return Fail(StatusOf(entries.error()), entries.error().message);
    const bool cached = tiles_.HasTile(0, bundle);
    auto level0 = tiles_.Tile(0, bundle);
    if (!level0) return Fail(StatusOf(level0.error()), level0.error().message);
    const std::string bundle_path = audit::TilePath({true, 0, bundle, entries->size()});
    const std::string tile_path = audit::TilePath({false, 0, bundle, entries->size()});
    for (std::uint64_t j = 0; j < entries->size(); ++j) {
      const std::uint64_t index = bundle * kTileWidth + j;
      const Hash leaf = audit::LeafHash((*entries)[j]);
      if (leaf != (**level0)[j]) {
        std::string what = "entry " + std::to_string(index) + " (" + bundle_path;
        what += ") does not hash to its leaf hash in ";
        what += tile_path;
        return Fail(MonitorStatus::kTampered, what);
      }
      // Entries before from_ share this bundle: their tile row is proven through the frontier
      // (levels < 8), so the comparison above holds them too; an earlier run checked the rest.
      if (index < from_) continue;
      if (options_.check_entry) {
        if (Status st = options_.check_entry(index, (*entries)[j]); !st) {
          return Fail(MonitorStatus::kTampered, "entry " + std::to_string(index) + ": " + st.error().message);
        }
      }
      if (!AppendLeaf(leaf)) return false;
      ++r_.entries_checked;
    }
    if (!cached) tiles_.Forget(0, bundle);
    return true;
  }

  // Appends a leaf; each tile row it completes above level 0 must be the served tile's hash.
  bool AppendLeaf(const Hash& leaf) {
    for (const auto& node : tree_.Append(leaf)) {
      if (node.level == 0 || node.level % kTileHeight != 0) continue;
      auto served = tiles_.Node(node.level, node.index);
      if (!served) return Fail(StatusOf(served.error()), served.error().message);
      if (*served != node.hash) {
        const int tile_level = node.level / kTileHeight;
        const std::uint64_t tile = node.index / kTileWidth;
        const std::string path = audit::TilePath(
            {false, tile_level, tile, TileReader::TileWidth(r_.checkpoint.tree_size >> node.level, tile)});
        return Fail(MonitorStatus::kTampered,
                    path + ": hash " + std::to_string(node.index % kTileWidth) + " is not the one its entries give");
      }
    }
    return true;
  }

  bool CheckRoot() {
    if (tree_.Root() != r_.checkpoint.root) {
      return Fail(MonitorStatus::kTampered,
                  "the tiles and entries do not rebuild the signed root of " + Size(r_.checkpoint.tree_size));
    }
    return true;
  }

  // RFC 9162 §2.1.4.2 over hashes the root check has just proven: a failure is the log's.
  void CheckConsistency() {
    if (!r_.previous) return;
    const CheckpointBody& old = *r_.previous;
    const bool ok = old.tree_size == 0
                        ? old.root == audit::EmptyRoot()
                        : audit::VerifyConsistency(old.tree_size, r_.checkpoint.tree_size, old.root, r_.checkpoint.root, proof_);
    if (!ok) {
      Fail(MonitorStatus::kInconsistent, "the log of " + Size(r_.checkpoint.tree_size) +
                                             " is not an extension of the previous checkpoint (" + Size(old.tree_size) +
                                             "): the RFC 9162 consistency proof fails; signed entries were changed (fork)");
      return;
    }
    r_.consistency_proved = true;
  }

  const MonitorOptions& options_;
  MonitorReport& r_;
  TileReader tiles_;
  const LogFetcher& fetch_;
  std::uint64_t from_ = 0;
  audit::MerkleFrontier tree_;
  std::vector<Hash> proof_;
};

}  // namespace

const char* MonitorStatusName(MonitorStatus s) {
  switch (s) {
    case MonitorStatus::kOk: return "ok";
    case MonitorStatus::kUnavailable: return "unavailable";
    case MonitorStatus::kBadCheckpoint: return "bad checkpoint";
    case MonitorStatus::kBadState: return "bad state";
    case MonitorStatus::kTampered: return "tampered";
    case MonitorStatus::kInconsistent: return "inconsistent";
  }
  return "?";
}

MonitorReport MonitorLog(const LogFetcher& fetch, const MonitorOptions& options) {
  MonitorReport report;
  Run(fetch, options, report).Go();
  return report;
}

}  // namespace tsa::verify
