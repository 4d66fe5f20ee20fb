#include "tsa/audit/checkpoint.h"

#include <vector>

#include "tsa/audit/signed_note.h"
#include "tsa/core/bytes.h"

namespace tsa::audit {

namespace {
constexpr const char* kHeader = "tsad-checkpoint/v1";

Error Bad(const std::string& what) { return MakeError(ErrorKind::kInvalidArgument, what); }

// The lines of `text`; false when it does not end in a newline.
bool SplitLines(const std::string& text, std::vector<std::string>& lines) {
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string::npos) return false;
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return !text.empty();
}

bool ParseDecimal(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  out = std::stoull(s);
  return true;
}

Result<Checkpoint> ParseLegacy(const std::string& text) {
  std::vector<std::string> lines;
  if (!SplitLines(text, lines)) return Bad("checkpoint text must end with a newline");
  if (lines.size() != 4 || lines[0] != kHeader) return Bad("not a tsad-checkpoint/v1 text");
  Checkpoint c;
  c.origin = lines[1];
  if (!ParseDecimal(lines[2], c.tree_size)) return Bad("bad checkpoint tree size");
  TSA_ASSIGN_OR_RETURN(c.root, HashFromHex(lines[3]));
  if (c.Text() != text) return Bad("checkpoint text is not canonical");
  return c;
}

// signed-note: the body ends at the last blank line; signature lines follow, each "— ...".
Result<Checkpoint> ParseNote(const std::string& note) {
  const auto split = note.rfind("\n\n");
  if (note.back() != '\n' || split == std::string::npos) return Bad("not a signed note (no blank line before signatures)");
  TSA_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpointNoteBody(note.substr(0, split + 1)));
  std::vector<std::string> sigs;
  if (!SplitLines(note.substr(split + 2), sigs) || sigs.empty()) return Bad("signed note without a signature line");
  for (const std::string& line : sigs) {
    if (line.rfind(kNoteSignaturePrefix, 0) != 0) return Bad("malformed signature line in note");
  }
  c.note = note;
  return c;
}

}  // namespace

std::string Checkpoint::Text() const {
  if (is_note()) return note;
  return std::string(kHeader) + "\n" + origin + "\n" + std::to_string(tree_size) + "\n" + HashHex(root) + "\n";
}

Result<Checkpoint> ParseCheckpointNoteBody(const std::string& body) {
  std::vector<std::string> lines;
  if (!SplitLines(body, lines) || lines.size() < 3) return Bad("a checkpoint has origin, size and hash lines");
  Checkpoint c;
  c.origin = lines[0];
  if (c.origin.empty()) return Bad("empty checkpoint origin");
  if (!ParseDecimal(lines[1], c.tree_size)) return Bad("bad checkpoint tree size: " + lines[1]);
  auto root = core::Base64Decode(lines[2]);
  if (!root || root->size() != 32) return Bad("bad checkpoint root hash: " + lines[2]);
  std::copy(root->begin(), root->end(), c.root.begin());
  return c;
}

Result<Checkpoint> ParseCheckpoint(const std::string& text) {
  if (text.rfind(std::string(kHeader) + "\n", 0) == 0) return ParseLegacy(text);
  if (text.empty()) return Bad("empty checkpoint");
  return ParseNote(text);
}

}  // namespace tsa::audit
