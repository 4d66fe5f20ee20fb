// Client authentication for POST /tsa (--clients FILE). A client has a name, API keys and/or
// mutual-TLS identities, the policies it may request, its own rate and an enabled flag. Keys are
// stored only as argon2id hashes (libargon2); a key carries a public id ("tsak_<id>_<secret>"),
// so one presented key costs one slow hash at most, and after the first success a per-key cache
// of SHA-256(presented key) makes every later request a constant-time 32-byte compare.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tsa/core/rate_limit.h"
#include "tsa/core/result.h"

namespace tsa::service {

struct ClientKey {
  std::string id;    // public part of the key (16 hex digits), also the lookup index
  std::string hash;  // argon2id encoded hash ("$argon2id$v=19$m=...,t=...,p=...$salt$hash")
};

struct Client {
  std::string name;
  bool enabled = true;
  std::vector<ClientKey> keys;
  std::vector<std::string> cert_subjects;     // RFC 2253 subject of a mutual-TLS client certificate
  std::vector<std::string> cert_spki_sha256;  // lower-case hex SHA-256 of its SubjectPublicKeyInfo
  std::vector<std::string> policies;          // policy OIDs it may request; empty: any the TSA accepts
  std::string rate;                           // its own --rate-limit (RATE[/s|/min][:BURST]); empty: default
  std::optional<core::RateSpec> rate_spec;    // `rate` parsed
};

// The clients file: JSON {"clients": [{"name", "enabled", "keys": [{"id", "hash"}], "cert_subjects",
// "cert_spki_sha256", "policies", "rate"}]}. Refuses (one line) duplicates and malformed entries.
Result<std::vector<Client>> ParseClients(std::string_view json_text);
std::string SerializeClients(const std::vector<Client>& clients);

// A new API key for a client: the key to hand out once, and what the file stores.
struct NewKey {
  std::string key;  // tsak_<id>_<secret>
  ClientKey stored;
};
Result<NewKey> MakeApiKey();

// Constant-time equality of two equally long byte strings (no early exit on the first difference).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// The outcome of checking a request's credentials.
struct AuthResult {
  const Client* client = nullptr;  // set when authenticated (valid while the ClientSet lives)
  std::string claimed;             // the name or key id the request claimed (for the failure log)
  std::string failure;             // why not, for the log ("no credentials", "wrong key", "disabled")
  bool throttled = false;          // refused unchecked: the key needed argon2id and that was not allowed
  bool wrong_after_hash = false;   // a known key id whose secret argon2id found wrong
};

// One loaded clients file; immutable apart from the verified-key cache. Thread-safe.
class ClientSet {
 public:
  static Result<std::shared_ptr<ClientSet>> Load(const std::string& path);
  static std::shared_ptr<ClientSet> FromClients(std::vector<Client> clients);

  // `authorization`: the Authorization header ("Bearer KEY", or "Basic base64(user:KEY)" where
  // user may be the client's name or empty).
  // `allow_slow_hash` false: a key not in the verified cache is refused (throttled) instead of
  // paying argon2id, for an address that failed too often (http/routes.cc).
  AuthResult Authenticate(std::string_view authorization, bool allow_slow_hash = true) const;
  // A mutual-TLS client certificate (its subject and SPKI hash), verified by the TLS layer.
  AuthResult AuthenticateCertificate(const std::string& subject, const std::string& spki_sha256_hex) const;
  std::size_t size() const { return clients_.size(); }

 private:
  explicit ClientSet(std::vector<Client> clients);
  AuthResult CheckKey(std::string_view key, std::string_view user, bool allow_slow_hash) const;

  struct KeyRef {
    std::size_t client;
    std::size_t key;
  };
  std::vector<Client> clients_;
  std::unordered_map<std::string, KeyRef> by_key_id_;
  // SHA-256 of the presented key, per stored key, once argon2id accepted it (the cache).
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::array<std::uint8_t, 32>> verified_;  // key id -> digest
};

// The clients in force; swapped whole on SIGHUP (a malformed file keeps the old set).
class ClientRegistry {
 public:
  explicit ClientRegistry(std::string path) : path_(std::move(path)) {}
  Status Reload();  // reads path_; on error keeps the current set
  std::shared_ptr<const ClientSet> Current() const { return std::atomic_load(&current_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::shared_ptr<const ClientSet> current_;
};

}  // namespace tsa::service
