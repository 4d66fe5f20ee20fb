#include "tsa/service/clients.h"

#include <argon2.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "tsa/core/bytes.h"
#include "tsa/crypto/random.h"
#include "tsa/crypto/sha256.h"

namespace tsa::service {
namespace {

constexpr std::string_view kKeyPrefix = "tsak_";
constexpr std::size_t kKeyIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;
// argon2id at OWASP's second recommended setting (19 MiB, t=2, p=1): ~30 ms here, paid once per
// key and tsad start (then the digest cache answers), and by every attempt with a wrong key.
constexpr std::uint32_t kArgonTime = 2;
constexpr std::uint32_t kArgonMemoryKiB = 19 * 1024;
constexpr std::uint32_t kArgonLanes = 1;
constexpr std::size_t kArgonSaltBytes = 16;
constexpr std::size_t kArgonHashBytes = 32;

std::vector<std::string> Strings(const nlohmann::json& entry, const char* field) {
  std::vector<std::string> out;
  if (!entry.contains(field)) return out;
  for (const auto& v : entry.at(field)) out.push_back(v.get<std::string>());
  return out;
}

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@';
  });
}

Result<Client> ParseClient(const nlohmann::json& e) {
  Client c;
  c.name = e.at("name").get<std::string>();
  if (!ValidName(c.name))
    return MakeError(ErrorKind::kInvalidArgument, "bad client name '" + c.name + "' (letters, digits, - _ . @)");
  c.enabled = e.value("enabled", true);
  if (e.contains("keys")) {
    for (const auto& k : e.at("keys")) {
      ClientKey key{k.at("id").get<std::string>(), k.at("hash").get<std::string>()};
      if (key.hash.rfind("$argon2id$", 0) != 0) {
        return MakeError(ErrorKind::kInvalidArgument, "client " + c.name + ": key " + key.id + " is not an argon2id hash");
      }
      c.keys.push_back(std::move(key));
    }
  }
  c.cert_subjects = Strings(e, "cert_subjects");
  c.cert_spki_sha256 = Strings(e, "cert_spki_sha256");
  c.policies = Strings(e, "policies");
  c.rate = e.value("rate", "");
  if (!c.rate.empty()) {
    auto spec = core::ParseRate(c.rate);
    if (!spec) return MakeError(ErrorKind::kInvalidArgument, "client " + c.name + ": " + spec.error().message);
    c.rate_spec = *spec;
  }
  return c;
}

// "user:password" of an HTTP Basic credential (RFC 7617).
std::optional<std::pair<std::string, std::string>> DecodeBasic(std::string_view b64) {
  auto decoded = core::Base64Decode(std::string(b64));
  if (!decoded) return std::nullopt;
  const std::string text(decoded->begin(), decoded->end());
  const auto colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(text.substr(0, colon), text.substr(colon + 1));
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

std::array<std::uint8_t, 32> Digest(std::string_view key) {
  return crypto::Sha256({std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())});
}

}  // namespace

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Result<std::vector<Client>> ParseClients(std::string_view json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("clients") || !doc.at("clients").is_array()) {
    return MakeError(ErrorKind::kInvalidArgument, "not a clients file: expected JSON {\"clients\": [...]}");
  }
  std::vector<Client> out;
  std::set<std::string> names, ids;
  try {
    for (const auto& entry : doc.at("clients")) {
      TSA_ASSIGN_OR_RETURN(Client c, ParseClient(entry));
      if (!names.insert(c.name).second) return MakeError(ErrorKind::kInvalidArgument, "client " + c.name + " appears twice");
      for (const auto& k : c.keys) {
        if (!ids.insert(k.id).second) return MakeError(ErrorKind::kInvalidArgument, "key id " + k.id + " appears twice");
      }
      out.push_back(std::move(c));
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kInvalidArgument, std::string("malformed client entry: ") + e.what());
  }
  return out;
}

std::string SerializeClients(const std::vector<Client>& clients) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : clients) {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : c.keys) keys.push_back({{"id", k.id}, {"hash", k.hash}});
    nlohmann::json e = {{"name", c.name}, {"enabled", c.enabled}, {"keys", keys}};
    if (!c.cert_subjects.empty()) e["cert_subjects"] = c.cert_subjects;
    if (!c.cert_spki_sha256.empty()) e["cert_spki_sha256"] = c.cert_spki_sha256;
    if (!c.policies.empty()) e["policies"] = c.policies;
    if (!c.rate.empty()) e["rate"] = c.rate;
    list.push_back(std::move(e));
  }
  return nlohmann::json{{"clients", list}}.dump(2) + "\n";
}

Result<NewKey> MakeApiKey() {
  TSA_ASSIGN_OR_RETURN(auto id, crypto::RandomBytes(kKeyIdBytes));
  TSA_ASSIGN_OR_RETURN(auto secret, crypto::RandomBytes(kSecretBytes));
  TSA_ASSIGN_OR_RETURN(auto salt, crypto::RandomBytes(kArgonSaltBytes));
  NewKey out;
  out.stored.id = core::ToHex(id);
  out.key = std::string(kKeyPrefix) + out.stored.id + "_" + core::ToHex(secret);
  std::string encoded(argon2_encodedlen(kArgonTime, kArgonMemoryKiB, kArgonLanes, kArgonSaltBytes, kArgonHashBytes, Argon2_id),
                      '\0');
  const int rc = argon2id_hash_encoded(kArgonTime, kArgonMemoryKiB, kArgonLanes, out.key.data(), out.key.size(), salt.data(),
                                       salt.size(), kArgonHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return MakeError(ErrorKind::kInternal, std::string("argon2id: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0'));
  out.stored.hash = encoded;
  return out;
}

ClientSet::ClientSet(std::vector<Client> clients) : clients_(std::move(clients)) {
  for (std::size_t c = 0; c < clients_.size(); ++c) {
    for (std::size_t k = 0; k < clients_[c].keys.size(); ++k) by_key_id_[clients_[c].keys[k].id] = KeyRef{c, k};
  }
}

std::shared_ptr<ClientSet> ClientSet::FromClients(std::vector<Client> clients) {
  return std::shared_ptr<ClientSet>(new ClientSet(std::move(clients)));  // NOLINT: private constructor
}

Result<std::shared_ptr<ClientSet>> ClientSet::Load(const std::string& path) {
  auto text = core::ReadFileText(path);
  if (!text) return MakeError(ErrorKind::kIo, "cannot read the clients file " + path + ": " + text.error().message);
  auto clients = ParseClients(*text);
  if (!clients) return MakeError(ErrorKind::kInvalidArgument, "clients file " + path + ": " + clients.error().message);
  return FromClients(std::move(*clients));
}

AuthResult ClientSet::Authenticate(std::string_view authorization, bool allow_slow_hash) const {
  if (StartsWithNoCase(authorization, "Bearer ")) return CheckKey(authorization.substr(7), "", allow_slow_hash);
  if (StartsWithNoCase(authorization, "Basic ")) {
    const auto credentials = DecodeBasic(authorization.substr(6));
    if (!credentials) return AuthResult{nullptr, "", "malformed Basic credentials"};
    return CheckKey(credentials->second, credentials->first, allow_slow_hash);
  }
  return AuthResult{nullptr, "", authorization.empty() ? "no credentials" : "unsupported Authorization scheme"};
}

AuthResult ClientSet::CheckKey(std::string_view key, std::string_view user, bool allow_slow_hash) const {
  AuthResult out;
  out.claimed = std::string(user);
  // tsak_<16 hex id>_<secret>: the id selects the one stored hash to check.
  const std::size_t id_len = 2 * kKeyIdBytes;
  if (key.size() < kKeyPrefix.size() + id_len + 2 || key.substr(0, kKeyPrefix.size()) != kKeyPrefix ||
      key[kKeyPrefix.size() + id_len] != '_') {
    out.failure = "not a tsad API key";
    return out;
  }
  const std::string id(key.substr(kKeyPrefix.size(), id_len));
  if (out.claimed.empty()) out.claimed = "key " + id;
  const auto found = by_key_id_.find(id);
  if (found == by_key_id_.end()) {
    out.failure = "unknown key";
    return out;
  }
  const Client& client = clients_[found->second.client];
  if (!user.empty() && user != client.name) {
    out.failure = "the key belongs to another client";
    return out;
  }
  const auto digest = Digest(key);
  const std::string_view digest_view(reinterpret_cast<const char*>(digest.data()), digest.size());
  bool verified = false;
  {
    std::lock_guard lock(cache_mutex_);
    const auto cached = verified_.find(id);
    if (cached != verified_.end()) {
      verified = ConstantTimeEqual(digest_view, std::string_view(reinterpret_cast<const char*>(cached->second.data()), 32));
    }
  }
  if (!verified && !allow_slow_hash) {
    out.failure = "too many failed attempts from this address";
    out.throttled = true;
    return out;
  }
  if (!verified) {
    // argon2id_verify compares in constant time itself.
    const std::string& hash = client.keys[found->second.key].hash;
    verified = argon2id_verify(hash.c_str(), key.data(), key.size()) == ARGON2_OK;
    if (verified) {
      std::lock_guard lock(cache_mutex_);
      verified_[id] = digest;
    }
  }
  if (!verified) {
    out.failure = "wrong key";
    out.wrong_after_hash = true;
    return out;
  }
  if (!client.enabled) {
    out.failure = "client disabled";
    return out;
  }
  out.client = &client;
  out.claimed = client.name;
  return out;
}

AuthResult ClientSet::AuthenticateCertificate(const std::string& subject, const std::string& spki_sha256_hex) const {
  for (const auto& c : clients_) {
    const bool by_subject = std::find(c.cert_subjects.begin(), c.cert_subjects.end(), subject) != c.cert_subjects.end();
    const bool by_spki = std::find(c.cert_spki_sha256.begin(), c.cert_spki_sha256.end(), spki_sha256_hex) !=
                         c.cert_spki_sha256.end();
    if (!by_subject && !by_spki) continue;
    if (!c.enabled) return AuthResult{nullptr, c.name, "client disabled"};
    return AuthResult{&c, c.name, ""};
  }
  return AuthResult{nullptr, subject, "unknown client certificate"};
}

Status ClientRegistry::Reload() {
  TSA_ASSIGN_OR_RETURN(std::shared_ptr<ClientSet> loaded, ClientSet::Load(path_));
  std::atomic_store(&current_, std::shared_ptr<const ClientSet>(std::move(loaded)));
  return Ok();
}

}  // namespace tsa::service
