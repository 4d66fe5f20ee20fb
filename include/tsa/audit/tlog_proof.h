// c2sp.org/tlog-proof@v1 (https://c2sp.org/tlog-proof), the building side: one token's index, its
// RFC 9162 inclusion path (base64, one per line) and, after a blank line, the latest signed
// checkpoint note that contains it, with the witnesses' cosignature lines stored for its size
// (c2sp.org/tlog-cosignature; none before the witnesses answered):
//   c2sp.org/tlog-proof@v1\n index <N>\n <hash>\n ... \n \n <checkpoint note><cosignature lines>
#pragma once

#include <string>

#include "tsa/core/result.h"
#include "tsa/store/log_store.h"

namespace tsa::audit {

inline constexpr const char* kTlogProofHeader = "c2sp.org/tlog-proof@v1";

// kNotFound when the serial is not in the log; kUnavailable while no signed checkpoint covers it
// yet (it will within about a second).
Result<std::string> BuildTlogProof(store::LogStore& log, const std::string& serial_hex);

}  // namespace tsa::audit
