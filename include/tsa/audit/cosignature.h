// Witness cosignatures (c2sp.org/tlog-cosignature, type cosignature/v1 over Ed25519): what a
// witness returns from add-checkpoint (c2sp.org/tlog-witness) and what tsad appends to the
// checkpoint it serves. A cosignature is a signed-note signature line
//   "— <witness name> base64(key ID || u64 timestamp, big-endian || Ed25519 signature)"
// over "cosignature/v1\ntime <timestamp>\n" followed by the checkpoint body (the note text
// without its signature lines). The key ID is SHA-256(name || "\n" || 0x04 || public key)[:4].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::audit {

inline constexpr std::uint8_t kCosignatureV1Type = 0x04;

// A witness as the operator configures it: its verifier key "<name>+<hex key ID>+<base64(0x04 ||
// 32-byte Ed25519 key)>" (signed-note §Verifier keys with the cosignature/v1 type).
struct WitnessKey {
  std::string name;
  std::uint32_t key_id = 0;
  std::vector<std::uint8_t> public_key;
  std::string vkey;  // as given
};

// kInvalidArgument with the reason: not name+id+key, not type 0x04, or a key ID that does not
// match the name and key.
Result<WitnessKey> ParseWitnessKey(const std::string& vkey);
std::uint32_t CosignatureKeyId(const std::string& name, const std::vector<std::uint8_t>& public_key);

// The message a cosignature/v1 signs (tlog-cosignature §Ed25519 signed message).
std::string CosignedMessage(std::uint64_t timestamp, const std::string& checkpoint_body);

struct Cosignature {
  std::string line;  // the signature line as received, with its final "\n"
  std::uint64_t timestamp = 0;
};

// From a 200 reply of add-checkpoint: the lines by `witness` (name and key ID), each verified over
// `checkpoint_body`; lines by other keys are ignored (tlog-witness: "MUST ignore any cosignatures
// from unknown keys"). kCrypto when a line by this key does not verify or is malformed,
// kNotFound when there is none.
Result<std::vector<Cosignature>> VerifyCosignatures(const std::string& reply_body, const WitnessKey& witness,
                                                    const std::string& checkpoint_body);

// A line "— <name> base64(...)\n" that a test or tool builds; here for symmetry with the checks.
std::string CosignatureLine(const std::string& name, std::uint32_t key_id, std::uint64_t timestamp,
                            const std::vector<std::uint8_t>& signature);

}  // namespace tsa::audit
