// Rate limits (--rate-limit RATE[/s|/min][:BURST]): a token bucket per identity (client name,
// client-certificate subject, or remote address), in a map bounded by least-recently-used
// eviction so that spoofed identities cannot grow it. Pure: the caller passes the (steady) time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::core {

struct RateSpec {
  double per_second = 0;  // refill rate
  double burst = 0;       // bucket size (default: one second's worth, at least 1)
};

// "10" or "10/s", "600/min", optionally ":BURST" ("5/s:20"). Refuses 0, negatives and junk.
Result<RateSpec> ParseRate(std::string_view text);

class RateLimiter {
 public:
  // At most `capacity` identities are remembered (split over shards); the least recently used are
  // forgotten first (a forgotten identity starts again with a full bucket).
  explicit RateLimiter(std::size_t capacity = 100'000);

  // Takes one token from `identity`'s bucket. Returns 0 when granted, otherwise the whole seconds
  // to wait (at least 1) for the next token (HTTP Retry-After).
  int Acquire(std::string_view identity, const RateSpec& spec, std::int64_t now_ns);
  // What Acquire would answer now, without taking a token or remembering a new identity.
  int Peek(std::string_view identity, const RateSpec& spec, std::int64_t now_ns) const;

  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ns = 0;
    std::list<std::string>::iterator lru;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
    std::list<std::string> lru;  // front: most recently used
  };
  static constexpr std::size_t kShards = 16;
  std::size_t per_shard_;
  std::vector<Shard> shards_;
};

}  // namespace tsa::core
