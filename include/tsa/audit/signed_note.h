// C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints (c2sp.org/tlog-checkpoint), the
// signing side. A note is UTF-8 text ending in a newline, then a blank line, then signature lines
//   "\u2014 <key name> <base64(key ID || signature)>\n"
// The key ID is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key) for Ed25519
// (signature type 0x01); the verifier key string is "<name>+<hex key ID>+<base64(0x01 || key)>".
// The checkpoint body is "<origin>\n<tree size, decimal>\n<base64 root hash>\n".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/audit/merkle.h"
#include "tsa/core/result.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::audit {

// "— " (U+2014 EM DASH, space) that starts every signature line (signed-note §Format).
inline constexpr const char* kNoteSignaturePrefix = "\xE2\x80\x94 ";
inline constexpr std::uint8_t kEd25519SignatureType = 0x01;

// signed-note: a key name is non-empty, has no Unicode spaces and no "+".
bool IsValidKeyName(const std::string& name);
// "<cn>/log" from a subject (RFC 2253 "CN=x,O=y" or OpenSSL "/O=y/CN=x"): the CN lower-cased,
// every character outside [a-z0-9.-] as "-" (a key name has no spaces and no "+");
// "<hostname>/log" without a CN.
std::string DefaultLogOrigin(const std::string& subject);
std::uint32_t NoteKeyId(const std::string& name, const std::vector<std::uint8_t>& ed25519_public_key);
std::string VerifierKeyString(const std::string& name, const std::vector<std::uint8_t>& ed25519_public_key);

// tlog-checkpoint body (no extension lines).
std::string CheckpointBody(const std::string& origin, std::uint64_t tree_size, const Hash& root);

// Signs a log's checkpoints: the key name is the origin, as tlog-checkpoint recommends.
class NoteSigner {
 public:
  static Result<NoteSigner> Make(std::string name, crypto::Ed25519Key key);
  const std::string& name() const { return name_; }
  std::string VerifierKey() const { return VerifierKeyString(name_, key_.public_key()); }
  // `body` + "\n" + the signature line. `body` must end in "\n".
  Result<std::string> Sign(const std::string& body) const;

 private:
  NoteSigner(std::string name, crypto::Ed25519Key key) : name_(std::move(name)), key_(std::move(key)) {}
  std::string name_;
  crypto::Ed25519Key key_;
};

}  // namespace tsa::audit
