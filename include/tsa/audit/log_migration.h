// The move of an audit log from the SQLite layout (every token a row of `tokens`, every perfect
// subtree a row of `merkle_nodes`) to the tiles layout (store/tile_files.h), at start-up.
#pragma once

#include <string>

#include "tsa/core/result.h"
#include "tsa/store/database.h"

namespace tsa::audit {

// Replays the leaves in index order into "<db>.tiles.migrating/" (entry bundles and hash tiles,
// the tree recomputed as the writer would), checks each leaf hash against its token and the final
// root against the stored tree, renames the directory to "<db>.tiles", then in one transaction
// fills leaf_index from the rows, deletes the rows of tokens and merkle_nodes and records the
// tiles layout. Restartable: a crash before that commit leaves the SQLite layout intact, and the
// next start removes the half-built directory (it carries a MIGRATING marker) and starts again.
// Refuses (kStorage) a log whose leaves are inconsistent (run tsa-audit-verify first).
Status MigrateToTiles(store::Database& db);

}  // namespace tsa::audit
