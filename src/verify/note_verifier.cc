#include "tsa/verify/note_verifier.h"

#include <cstdio>

#include "tsa/audit/signed_note.h"
#include "tsa/core/bytes.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::verify {
namespace {

Error Bad(const std::string& what) { return MakeError(ErrorKind::kInvalidArgument, what); }

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  return lines;  // the text after the last newline is dropped: callers require a final newline
}

bool ParseDecimal(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t next = out * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != out) return false;
    out = next;
  }
  return true;
}

}  // namespace

Result<VerifierKey> ParseVerifierKey(const std::string& vkey) {
  const auto p1 = vkey.find('+');
  const auto p2 = p1 == std::string::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == std::string::npos || p2 - p1 != 9) return Bad("not a verifier key (name+keyid+base64): " + vkey);
  VerifierKey key;
  key.name = vkey.substr(0, p1);
  if (!audit::IsValidKeyName(key.name)) return Bad("bad key name in verifier key: " + key.name);
  auto typed = core::Base64Decode(vkey.substr(p2 + 1));
  if (!typed || typed->size() != 33 || (*typed)[0] != audit::kEd25519SignatureType) {
    return Bad("verifier key is not an Ed25519 (type 0x01) key");
  }
  key.public_key.assign(typed->begin() + 1, typed->end());
  key.key_id = audit::NoteKeyId(key.name, key.public_key);
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", key.key_id);
  if (vkey.substr(p1 + 1, 8) != id) return Bad("verifier key ID does not match its name and key");
  return key;
}

Result<std::string> OpenNote(const std::string& note, const VerifierKey& key) {
  const auto split = note.rfind("\n\n");
  if (note.empty() || note.back() != '\n' || split == std::string::npos) return Bad("not a signed note");
  const std::string body = note.substr(0, split + 1);
  const std::string prefix = audit::kNoteSignaturePrefix + key.name + " ";
  bool seen = false;
  for (const std::string& line : SplitLines(note.substr(split + 2))) {
    if (line.rfind(audit::kNoteSignaturePrefix, 0) != 0) return Bad("malformed signature line in note");
    if (line.rfind(prefix, 0) != 0) continue;
    auto blob = core::Base64Decode(line.substr(prefix.size()));
    if (!blob || blob->size() < 4) return Bad("malformed signature line in note");
    const std::uint32_t id = (std::uint32_t{(*blob)[0]} << 24) | (std::uint32_t{(*blob)[1]} << 16) |
                             (std::uint32_t{(*blob)[2]} << 8) | (*blob)[3];
    if (id != key.key_id) continue;
    seen = true;
    if (!crypto::VerifyEd25519(key.public_key, body, std::vector<std::uint8_t>(blob->begin() + 4, blob->end()))) {
      return MakeError(ErrorKind::kCrypto, "note signature by " + key.name + " does not verify");
    }
  }
  if (!seen) return MakeError(ErrorKind::kNotFound, "note has no signature by " + key.name);
  return body;
}

Result<CheckpointBody> ParseCheckpointBody(const std::string& body) {
  const std::vector<std::string> lines = SplitLines(body);
  if (lines.size() < 3 || body.back() != '\n') return Bad("a checkpoint has origin, size and hash lines");
  CheckpointBody cp;
  cp.origin = lines[0];
  if (cp.origin.empty()) return Bad("empty checkpoint origin");
  if (!ParseDecimal(lines[1], cp.tree_size)) return Bad("bad checkpoint tree size: " + lines[1]);
  auto root = core::Base64Decode(lines[2]);
  if (!root || root->size() != 32) return Bad("bad checkpoint root hash: " + lines[2]);
  std::copy(root->begin(), root->end(), cp.root.begin());
  return cp;
}

}  // namespace tsa::verify
