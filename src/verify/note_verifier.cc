#include "tsa/verify/note_verifier.h"

#include <cstdio>

#include "tsa/audit/checkpoint.h"
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
  TSA_ASSIGN_OR_RETURN(audit::Checkpoint cp, audit::ParseCheckpointNoteBody(body));
  return CheckpointBody{std::move(cp.origin), cp.tree_size, cp.root};
}

}  // namespace tsa::verify
