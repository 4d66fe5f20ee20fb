#include "tsa/audit/cosignature.h"

#include <cstdio>

#include "tsa/audit/merkle.h"
#include "tsa/audit/signed_note.h"
#include "tsa/core/bytes.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/ed25519_key.h"

namespace tsa::audit {
namespace {

Error Bad(const std::string& what) { return MakeError(ErrorKind::kInvalidArgument, what); }

std::uint64_t BigEndian(const std::vector<std::uint8_t>& bytes, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | bytes[at + i];
  return v;
}

}  // namespace

std::uint32_t CosignatureKeyId(const std::string& name, const std::vector<std::uint8_t>& public_key) {
  std::string input = name;
  input.push_back('\n');
  input.push_back(static_cast<char>(kCosignatureV1Type));
  input.append(public_key.begin(), public_key.end());
  const Hash h = Sha256(input);
  return static_cast<std::uint32_t>(BigEndian(std::vector<std::uint8_t>(h.begin(), h.begin() + 4), 0, 4));
}

Result<WitnessKey> ParseWitnessKey(const std::string& vkey) {
  const auto p1 = vkey.find('+');
  const auto p2 = p1 == std::string::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == std::string::npos || p2 - p1 != 9) return Bad("not a witness verifier key (name+keyid+base64): " + vkey);
  WitnessKey key;
  key.vkey = vkey;
  key.name = vkey.substr(0, p1);
  if (!IsValidKeyName(key.name)) return Bad("bad key name in witness verifier key: " + key.name);
  auto typed = core::Base64Decode(vkey.substr(p2 + 1));
  if (!typed || typed->size() != 33 || (*typed)[0] != kCosignatureV1Type) {
    return Bad("witness verifier key " + key.name + " is not a cosignature/v1 (type 0x04) Ed25519 key");
  }
  key.public_key.assign(typed->begin() + 1, typed->end());
  key.key_id = CosignatureKeyId(key.name, key.public_key);
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", key.key_id);
  if (vkey.substr(p1 + 1, 8) != id) return Bad("witness verifier key ID does not match its name and key: " + key.name);
  return key;
}

std::string CosignedMessage(std::uint64_t timestamp, const std::string& checkpoint_body) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + checkpoint_body;
}

std::string CosignatureLine(const std::string& name, std::uint32_t key_id, std::uint64_t timestamp,
                            const std::vector<std::uint8_t>& signature) {
  std::vector<std::uint8_t> blob;
  blob.reserve(12 + signature.size());
  for (int shift = 24; shift >= 0; shift -= 8) blob.push_back(static_cast<std::uint8_t>(key_id >> shift));
  for (int shift = 56; shift >= 0; shift -= 8) blob.push_back(static_cast<std::uint8_t>(timestamp >> shift));
  blob.insert(blob.end(), signature.begin(), signature.end());
  return kNoteSignaturePrefix + name + " " + core::Base64(blob) + "\n";
}

Result<std::vector<Cosignature>> VerifyCosignatures(const std::string& reply_body, const WitnessKey& witness,
                                                    const std::string& checkpoint_body) {
  const std::string prefix = kNoteSignaturePrefix + witness.name + " ";
  std::vector<Cosignature> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = reply_body.find('\n', start)) != std::string::npos; start = nl + 1) {
    const std::string line = reply_body.substr(start, nl - start);
    if (line.rfind(kNoteSignaturePrefix, 0) != 0) {
      return MakeError(ErrorKind::kCrypto, "the reply is not signature lines: \"" + line.substr(0, 80) + "\"");
    }
    if (line.rfind(prefix, 0) != 0) continue;
    auto blob = core::Base64Decode(line.substr(prefix.size()));
    if (!blob || blob->size() < 4) return MakeError(ErrorKind::kCrypto, "malformed cosignature line by " + witness.name);
    if (BigEndian(*blob, 0, 4) != witness.key_id) continue;  // another key of the same name
    if (blob->size() != 4 + 8 + 64) {
      return MakeError(ErrorKind::kCrypto, "cosignature by " + witness.name + " is not a cosignature/v1 (wrong length)");
    }
    Cosignature c;
    c.timestamp = BigEndian(*blob, 4, 8);
    if (c.timestamp > static_cast<std::uint64_t>(INT64_MAX)) {
      return MakeError(ErrorKind::kCrypto, "cosignature by " + witness.name + " has a timestamp above 2^63-1");
    }
    const std::vector<std::uint8_t> sig(blob->begin() + 12, blob->end());
    if (!crypto::VerifyEd25519(witness.public_key, CosignedMessage(c.timestamp, checkpoint_body), sig)) {
      return MakeError(ErrorKind::kCrypto, "cosignature by " + witness.name + " does not verify");
    }
    c.line = line + "\n";
    out.push_back(std::move(c));
  }
  if (start != reply_body.size()) return MakeError(ErrorKind::kCrypto, "the reply does not end in a newline");
  if (out.empty()) return MakeError(ErrorKind::kNotFound, "the reply has no cosignature by " + witness.name);
  return out;
}

}  // namespace tsa::audit
