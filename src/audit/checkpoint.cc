#include "tsa/audit/checkpoint.h"

#include <sstream>
#include <vector>

namespace tsa::audit {

namespace {
constexpr const char* kHeader = "tsad-checkpoint/v1";
}

std::string Checkpoint::Text() const {
  return std::string(kHeader) + "\n" + origin + "\n" + std::to_string(tree_size) + "\n" + HashHex(root) + "\n";
}

Result<Checkpoint> ParseCheckpoint(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string::npos) return MakeError(ErrorKind::kInvalidArgument, "checkpoint text must end with a newline");
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (lines.size() != 4 || lines[0] != kHeader) return MakeError(ErrorKind::kInvalidArgument, "not a tsad-checkpoint/v1 text");
  Checkpoint c;
  c.origin = lines[1];
  const std::string& size = lines[2];
  if (size.empty() || size.size() > 19 || size.find_first_not_of("0123456789") != std::string::npos ||
      (size.size() > 1 && size[0] == '0')) {
    return MakeError(ErrorKind::kInvalidArgument, "bad checkpoint tree size");
  }
  c.tree_size = std::stoull(size);
  TSA_ASSIGN_OR_RETURN(c.root, HashFromHex(lines[3]));
  if (c.Text() != text) return MakeError(ErrorKind::kInvalidArgument, "checkpoint text is not canonical");
  return c;
}

}  // namespace tsa::audit
