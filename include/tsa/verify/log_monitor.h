// A monitor of a tlog-tiles log (c2sp.org/tlog-tiles, c2sp.org/tlog-checkpoint), as
// tsa-audit-verify --url runs it: one run checks the log's latest signed checkpoint against the
// previous one the caller kept, and every entry added since.
//
// One run:
//   1. the checkpoint note carries a valid signature by the log key and its origin is the key name;
//   2. with a previous checkpoint (the state): the tree did not shrink, and the same size has the
//      same root;
//   3. every entry bundle from the previous size to the new one is fetched; each entry hashes
//      (RFC 9162 leaf hash, SHA-256(0x00 ‖ TimeStampToken DER)) to its hash in the level-0 tile;
//      the new leaves, appended to the previous tree's perfect subtrees (read from the tiles),
//      rebuild the signed root, and every tile row they complete (levels 1, 2, ...) matches the
//      served tile: the tiles and entries are the log's, not a cache's or a proxy's damage;
//   4. the RFC 9162 §2.1.4 consistency proof from the previous size to the new one, computed from
//      those now-proven tile hashes, verifies against the two signed roots (§2.1.4.2).
// Because the tiles are proven against the new root before step 4, a failed consistency proof
// can only mean that the log changed what it had signed (a fork or a rewrite), never damage in
// transit. The first run (no state) checks every entry from 0, or, with skip_history, only that
// the tiles rebuild the root (the history before it is taken on trust).
// Memory stays flat: level-0 tiles and bundles are dropped as the scan passes them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/verify/note_verifier.h"
#include "tsa/verify/tile_reader.h"

namespace tsa::verify {

enum class MonitorStatus {
  kOk,
  kUnavailable,    // the checkpoint, a tile or a bundle could not be fetched
  kBadCheckpoint,  // the checkpoint is not signed by the key, or not a checkpoint of its origin
  kBadState,       // the previous checkpoint given is not one signed by this key
  kTampered,       // tiles or entries do not rebuild the signed root, or an entry fails its check
  kInconsistent,   // the signed tree is not an extension of the previous one (fork, rewrite, rollback)
};
const char* MonitorStatusName(MonitorStatus s);

struct MonitorOptions {
  VerifierKey key;
  std::string previous_note;  // the last verified checkpoint note (the state); empty: first run
  bool skip_history = false;  // first run only: do not fetch the entries before the checkpoint
  // Optional, for each entry checked (index, TimeStampToken DER): an error fails the run as
  // kTampered with its message (e.g. the token's signature against tsad's certificates).
  std::function<Status(std::uint64_t index, const std::vector<std::uint8_t>& der)> check_entry;
  // Called after each bundle: (entries done, entries to check).
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct MonitorReport {
  MonitorStatus status = MonitorStatus::kOk;
  std::string error;  // one line, when status != kOk

  std::string note;           // the checkpoint note fetched (store it once status is kOk)
  CheckpointBody checkpoint;  // its parsed body (when the signature verified)
  std::optional<CheckpointBody> previous;
  bool consistency_proved = false;  // a proof from previous->tree_size verified (sizes differ)
  bool history_skipped = false;
  std::uint64_t first_entry = 0, entries_checked = 0;
  std::uint64_t tiles_fetched = 0, bundles_fetched = 0;
  bool ok() const { return status == MonitorStatus::kOk; }
};

MonitorReport MonitorLog(const LogFetcher& fetch, const MonitorOptions& options);

}  // namespace tsa::verify
