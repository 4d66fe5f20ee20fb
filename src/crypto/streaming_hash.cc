#include "tsa/crypto/streaming_hash.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "tsa/crypto/ossl_ptr.h"

namespace tsa::crypto {

Result<StreamingHash> StreamingHash::Create(core::HashAlgorithm algorithm) {
  ERR_clear_error();
  const EVP_MD* md = EVP_get_digestbyname(core::Info(algorithm).name);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return MakeError(ErrorKind::kCrypto, std::string("cannot start ") + core::Info(algorithm).name + ": " + DrainOpensslErrors());
  }
  return StreamingHash(algorithm, ctx);
}

StreamingHash::StreamingHash(StreamingHash&& other) noexcept : algorithm_(other.algorithm_), ctx_(other.ctx_) {
  other.ctx_ = nullptr;
}

StreamingHash& StreamingHash::operator=(StreamingHash&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    algorithm_ = other.algorithm_;
    ctx_ = other.ctx_;
    other.ctx_ = nullptr;
  }
  return *this;
}

StreamingHash::~StreamingHash() { EVP_MD_CTX_free(ctx_); }

void StreamingHash::Update(const void* data, std::size_t len) { EVP_DigestUpdate(ctx_, data, len); }

std::vector<std::uint8_t> StreamingHash::Finish() {
  std::vector<std::uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.data(), &len);
  out.resize(len);
  return out;
}

Result<std::vector<std::uint8_t>> Digest(core::HashAlgorithm algorithm, std::span<const std::uint8_t> data) {
  TSA_ASSIGN_OR_RETURN(StreamingHash h, StreamingHash::Create(algorithm));
  h.Update(data.data(), data.size());
  return h.Finish();
}

}  // namespace tsa::crypto
