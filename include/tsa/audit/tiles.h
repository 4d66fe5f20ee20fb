// Reads tlog-tiles (c2sp.org/tlog-tiles) from the log store: a hash tile of level L holds the
// stored perfect-subtree hashes of tree level 8·L, 32 bytes each; an entry bundle holds each
// leaf's TimeStampToken DER behind a big-endian uint16 length (the leaf hash is SHA-256(0x00 ‖ DER)).
#pragma once

#include <cstdint>
#include <vector>

#include "tsa/audit/tile_path.h"
#include "tsa/core/result.h"
#include "tsa/store/log_store.h"

namespace tsa::audit {

// The tile as served, within a tree of `tree_size` leaves (the latest signed checkpoint's).
// kNotFound for a tile the tree does not hold yet; kUnavailable for an entry bundle whose tokens
// are not stored (--store-token-hashes-only) or do not fit a uint16 length.
Result<std::vector<std::uint8_t>> ReadTile(store::LogStore& store, const TileId& tile, std::uint64_t tree_size);

}  // namespace tsa::audit
