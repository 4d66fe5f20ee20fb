// Reads of the token log that other layers need (start-up checks, lookups for proofs, the clock
// gate's seed). Each one is a single indexed query or a bounded check, so that it is safe on an
// unauthenticated path and on a log of millions of rows. AUDIT_CHAIN.md documents the tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/store/database.h"
#include "tsa/store/log_store.h"

namespace tsa::store {

// The hex digits of a serial as the tokens_serial_digits index keys them: lower case, without
// leading zeros. nullopt when `hex` is not hex or is zero.
std::optional<std::string> SerialIndexKey(const std::string& hex);

// The statement of FindLeafBySerial, bound to the SerialIndexKey (tests check its query plan).
inline constexpr char kFindLeafBySerialSql[] =
    "SELECT idx, serial, leaf_hash, token FROM tokens WHERE ltrim(lower(serial), '0') = ? ORDER BY idx LIMIT 1";

// The leaf whose serial equals `hex` as a number (any case, any leading zeros), through the
// tokens_serial_digits expression index (schema version 2): O(log n). kInvalidArgument when `hex`
// is not a positive hex number.
Result<std::optional<LeafRow>> FindLeafBySerial(Database& db, const std::string& hex);

// The latest genTime ever recorded: the maximum of tokens.gen_time_us and
// checkpoints.tsa_gen_time_us (both indexed: two index lookups), 0 for an empty log.
Result<std::int64_t> MaxGenTimeUs(Database& db);

// The latest checkpoint (highest id).
struct CheckpointHead {
  std::int64_t id = 0;
  std::uint64_t tree_size = 0;
  std::vector<std::uint8_t> root_hash;
  std::int64_t gen_time_us = 0;  // of tsad's own token over the checkpoint
};
Result<std::optional<CheckpointHead>> LatestCheckpoint(Database& db);

// SQLite's PRAGMA quick_check (https://sqlite.org/pragma.html#pragma_quick_check): b-tree
// structure, page and record formats, NOT NULL and UNIQUE, without comparing index content. It
// reads every page, so a database of more than `max_pages` pages is checked table by table for the
// small tables only (meta, serial_epochs, checkpoints, anchor_attempts); the large ones (tokens,
// merkle_nodes) are then covered by the Merkle checks at start-up and by tsa-audit-verify.
// kStorage with SQLite's first findings when damaged.
Status QuickCheck(Database& db, std::int64_t max_pages);

}  // namespace tsa::store
