#include "tsa/core/rate_limit.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

namespace tsa::core {
namespace {

std::optional<double> Number(std::string_view s) {
  double v = 0;
  const auto [end, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (err != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v <= 0) return std::nullopt;
  return v;
}

}  // namespace

Result<RateSpec> ParseRate(std::string_view text) {
  const auto bad = [&] {
    return MakeError(ErrorKind::kInvalidArgument,
                     "bad rate '" + std::string(text) + "' (use RATE[/s|/min][:BURST], e.g. 10/s:20)");
  };
  std::string_view rate = text;
  std::optional<double> burst;
  if (const auto colon = text.find(':'); colon != std::string_view::npos) {
    burst = Number(text.substr(colon + 1));
    if (!burst) return bad();
    rate = text.substr(0, colon);
  }
  double divisor = 1;
  if (const auto slash = rate.find('/'); slash != std::string_view::npos) {
    const std::string_view unit = rate.substr(slash + 1);
    if (unit == "min" || unit == "m") {
      divisor = 60;
    } else if (unit != "s" && unit != "sec") {
      return bad();
    }
    rate = rate.substr(0, slash);
  }
  const auto count = Number(rate);
  if (!count) return bad();
  RateSpec spec;
  spec.per_second = *count / divisor;
  spec.burst = burst.value_or(std::max(1.0, std::floor(spec.per_second)));
  if (spec.burst < 1) return bad();
  return spec;
}

RateLimiter::RateLimiter(std::size_t capacity) : per_shard_(std::max<std::size_t>(1, capacity / kShards)), shards_(kShards) {}

int RateLimiter::Acquire(std::string_view identity, const RateSpec& spec, std::int64_t now_ns) {
  Shard& shard = shards_[std::hash<std::string_view>{}(identity) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(std::string(identity));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= per_shard_) {
      shard.buckets.erase(shard.lru.back());
      shard.lru.pop_back();
    }
    shard.lru.emplace_front(identity);
    it = shard.buckets.emplace(shard.lru.front(), Bucket{spec.burst, now_ns, shard.lru.begin()}).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
  }
  Bucket& b = it->second;
  const double elapsed_s = static_cast<double>(std::max<std::int64_t>(0, now_ns - b.last_ns)) / 1e9;
  b.tokens = std::min(spec.burst, b.tokens + elapsed_s * spec.per_second);
  b.last_ns = now_ns;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - b.tokens) / spec.per_second)));
}

int RateLimiter::Peek(std::string_view identity, const RateSpec& spec, std::int64_t now_ns) const {
  const Shard& shard = shards_[std::hash<std::string_view>{}(identity) % kShards];
  std::lock_guard lock(shard.mutex);
  const auto it = shard.buckets.find(std::string(identity));
  if (it == shard.buckets.end()) return 0;  // a new identity starts with a full bucket
  const Bucket& b = it->second;
  const double elapsed_s = static_cast<double>(std::max<std::int64_t>(0, now_ns - b.last_ns)) / 1e9;
  const double tokens = std::min(spec.burst, b.tokens + elapsed_s * spec.per_second);
  if (tokens >= 1) return 0;
  return std::max(1, static_cast<int>(std::ceil((1 - tokens) / spec.per_second)));
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mutex);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace tsa::core
