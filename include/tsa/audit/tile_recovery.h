// Start-up of the tiles layout (store/tile_files.h): what the files alone do not say, rebuilt from
// them. store/ computes no hashes, so the Merkle side of the recovery lives here.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/store/database.h"
#include "tsa/store/log_store.h"
#include "tsa/store/tile_files.h"

namespace tsa::audit {

// The partial hash tile of every level, recomputed from the tail's entries (level 0) and from the
// full tiles below (the root of each), and the last full hash tile of a level when a crash left it
// missing or short (it is written once per 256 leaves, after its bundle: only the last one can be
// lost). kStorage when an older tile is missing: the directory was damaged, run tsa-audit-verify.
// With !repair (a read-only tool), nothing is written: a missing tile stays missing.
Status RecoverHashTiles(store::TileFiles& tiles, bool repair = true);

// The leaves [from, tiles.size()) as serial-index rows, read from their entries (serial and
// genTime of each TimeStampToken): the leaves committed before a crash but not yet indexed.
// kStorage when an entry is not a time-stamp token.
Result<std::vector<store::LeafIndexRow>> IndexRowsFromEntries(store::TileFiles& tiles, std::uint64_t from);

// The log of a database opened by a tool (read-only), in its own layout (store::StoredLayout):
// the SQLite store, or the tiles with their partial tiles recomputed and the leaves not yet
// indexed read from their entries. A tiles log whose directory is missing is an error.
Result<std::unique_ptr<store::LogStore>> OpenLogForReading(store::Database& db);

}  // namespace tsa::audit
