// Offline checks of C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints
// (c2sp.org/tlog-checkpoint): what a relying party runs with the log's verifier key string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/audit/merkle.h"
#include "tsa/core/result.h"

namespace tsa::verify {

struct VerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::vector<std::uint8_t> public_key;  // Ed25519, 32 bytes
};

// "<name>+<8 hex digits>+<base64(0x01 || key)>"; the key ID must match the name and key.
Result<VerifierKey> ParseVerifierKey(const std::string& vkey);

// Splits the note, checks that one signature line is by `key` and verifies it; returns the text
// (body) that the signature covers. Lines by other keys (witnesses) are ignored, as the spec asks.
Result<std::string> OpenNote(const std::string& note, const VerifierKey& key);

struct CheckpointBody {
  std::string origin;
  std::uint64_t tree_size = 0;
  audit::Hash root{};
};
// tlog-checkpoint: origin, decimal size without leading zeros, base64 32-byte hash; extension
// lines after them are allowed and ignored.
Result<CheckpointBody> ParseCheckpointBody(const std::string& body);

}  // namespace tsa::verify
