// The checkpoint an anchor covers: the text whose SHA-256 tsad's own token (and the external
// TSAs' tokens) time-stamp. Two forms (AUDIT_CHAIN.md "Checkpoints and anchors"):
//
// - a C2SP tlog-checkpoint signed note (c2sp.org/tlog-checkpoint), the form of every anchor made
//   with a log key: the note exactly as the log signed it (body, blank line, the log's signature
//   line; no witness cosignatures), so that a stranger hashes the bytes of /log/checkpoint;
// - the legacy `tsad-checkpoint/v1` text, made by tsads before anchors moved to notes and still by
//   a tsad without a log key; old logs keep verifying:
//     tsad-checkpoint/v1\n
//     <origin>\n            the TSA certificate subject (RFC 2253), identifies the log
//     <tree size>\n         decimal
//     <root hash>\n         lower-case hex of the RFC 9162 root
//
// imprint = SHA-256(text) in both forms.
#pragma once

#include <cstdint>
#include <string>

#include "tsa/audit/merkle.h"
#include "tsa/core/result.h"

namespace tsa::audit {

struct Checkpoint {
  std::string origin;
  std::uint64_t tree_size = 0;
  Hash root{};
  std::string note{};  // the signed note when this checkpoint is one; empty: the legacy text

  bool is_note() const { return !note.empty(); }
  // The anchored bytes: the note, or the canonical legacy text.
  std::string Text() const;
  Hash Imprint() const { return Sha256(Text()); }
};

// Parses either form. A note must have a body (origin, size, base64 root, optional extension
// lines), a blank line and at least one signature line; its signatures are NOT verified here
// (verify/note_verifier.h does, with the log's verifier key). The legacy text must be canonical.
Result<Checkpoint> ParseCheckpoint(const std::string& text);

// tlog-checkpoint body: origin, decimal size without leading zeros, base64 32-byte root;
// extension lines after them are allowed and ignored.
Result<Checkpoint> ParseCheckpointNoteBody(const std::string& body);

}  // namespace tsa::audit
