// tsa-audit-verify on the tiles layout: full tiles on disk that a tree of `size` leaves does not
// have (an entry bundle or a hash tile beyond the tree size: a rollback of the size, a copy from
// another log, a leftover of a restore). The SQLite layout's counterpart is a merkle_nodes row
// outside the tree (SqliteLogStore::StrayNodes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"
#include "tsa/store/log_store.h"

namespace tsa::store {

// Lists <tiles_dir>/tile/ (c2sp.org/tlog-tiles paths: entries/<N> and <L>/<N>, N in the x001/234
// encoding). A full hash tile <L>/<N> holds the nodes [256·N, 256·N + 256) of tree level 8·L and
// belongs to the tree when 256·(N + 1) ≤ size >> 8·L; an entry bundle <N> when 256·(N + 1) ≤ size.
// Each stray file is one NodePosition: level 8·L (0 for a bundle), index 256·N, and its path
// relative to tiles_dir. Names that are not full tile paths (partial tiles, temporary files of an
// interrupted write) are not tiles of the log and are skipped. At most `limit`, by level and index.
Result<std::vector<NodePosition>> StrayTiles(const std::string& tiles_dir, std::uint64_t size, std::size_t limit);

}  // namespace tsa::store
