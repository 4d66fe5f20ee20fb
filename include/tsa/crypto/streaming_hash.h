// Incremental hashing of request bodies in raw-data mode, in constant memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tsa/core/hash_algorithm.h"
#include "tsa/core/result.h"

struct evp_md_ctx_st;

namespace tsa::crypto {

class StreamingHash {
 public:
  static Result<StreamingHash> Create(core::HashAlgorithm algorithm);
  StreamingHash(StreamingHash&&) noexcept;
  StreamingHash& operator=(StreamingHash&&) noexcept;
  ~StreamingHash();

  void Update(const void* data, std::size_t len);
  std::vector<std::uint8_t> Finish();
  core::HashAlgorithm algorithm() const { return algorithm_; }

 private:
  StreamingHash(core::HashAlgorithm algorithm, evp_md_ctx_st* ctx) : algorithm_(algorithm), ctx_(ctx) {}
  core::HashAlgorithm algorithm_;
  evp_md_ctx_st* ctx_;
};

// One-shot digest.
Result<std::vector<std::uint8_t>> Digest(core::HashAlgorithm algorithm, std::span<const std::uint8_t> data);

}  // namespace tsa::crypto
