#include "tsa/audit/signed_note.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "tsa/core/response_info.h"

namespace tsa::audit {
namespace {

std::string CommonName(const std::string& subject) {
  for (std::size_t at = 0; at <= subject.size();) {
    const std::size_t end = subject.find_first_of(",/", at);
    const std::string rdn = subject.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (rdn.rfind("CN=", 0) == 0) return rdn.substr(3);
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return "";
}

std::string KeyNameChars(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    out.push_back(std::isalnum(c) || c == '.' || c == '-' ? static_cast<char>(std::tolower(c)) : '-');
  }
  return out;
}

}  // namespace

std::string DefaultLogOrigin(const std::string& subject) {
  std::string name = KeyNameChars(CommonName(subject));
  if (name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    name = KeyNameChars(host);
  }
  return (name.empty() ? std::string("tsad") : name) + "/log";
}

bool IsValidKeyName(const std::string& name) {
  // No ASCII space or control, no "+"; the note is UTF-8, so bytes >= 0x80 pass (Unicode spaces in
  // a name are the operator's choice of origin, which tsad derives from a hostname).
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) { return c > 0x20 && c != 0x7f && c != '+'; });
}

std::uint32_t NoteKeyId(const std::string& name, const std::vector<std::uint8_t>& ed25519_public_key) {
  std::string input = name;
  input.push_back('\n');
  input.push_back(static_cast<char>(kEd25519SignatureType));
  input.append(ed25519_public_key.begin(), ed25519_public_key.end());
  const Hash h = Sha256(input);
  return (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) | h[3];
}

std::string VerifierKeyString(const std::string& name, const std::vector<std::uint8_t>& ed25519_public_key) {
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", NoteKeyId(name, ed25519_public_key));
  std::vector<std::uint8_t> typed;
  typed.reserve(1 + ed25519_public_key.size());
  typed.push_back(kEd25519SignatureType);
  typed.insert(typed.end(), ed25519_public_key.begin(), ed25519_public_key.end());
  return name + "+" + id + "+" + core::Base64(typed);
}

std::string CheckpointBody(const std::string& origin, std::uint64_t tree_size, const Hash& root) {
  return origin + "\n" + std::to_string(tree_size) + "\n" + core::Base64(std::vector<std::uint8_t>(root.begin(), root.end())) +
         "\n";
}

Result<NoteSigner> NoteSigner::Make(std::string name, crypto::Ed25519Key key) {
  if (!IsValidKeyName(name)) {
    return MakeError(ErrorKind::kInvalidArgument,
                     "log origin \"" + name + "\" is not a signed-note key name (no spaces, no '+')");
  }
  return NoteSigner(std::move(name), std::move(key));
}

Result<std::string> NoteSigner::Sign(const std::string& body) const {
  if (body.empty() || body.back() != '\n') return MakeError(ErrorKind::kInvalidArgument, "a note text ends in a newline");
  TSA_ASSIGN_OR_RETURN(auto sig, key_.Sign(body));
  const std::uint32_t id = NoteKeyId(name_, key_.public_key());
  // signed-note §Signatures: the 4-byte key ID, big-endian, then the signature.
  std::vector<std::uint8_t> blob;
  blob.reserve(4 + sig.size());
  for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<std::uint8_t>(id >> shift));
  blob.insert(blob.end(), sig.begin(), sig.end());
  return body + "\n" + kNoteSignaturePrefix + name_ + " " + core::Base64(blob) + "\n";
}

}  // namespace tsa::audit
