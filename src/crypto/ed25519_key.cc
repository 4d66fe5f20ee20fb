#include "tsa/crypto/ed25519_key.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tsa/core/bytes.h"

namespace tsa::crypto {

Result<Ed25519Key> Ed25519Key::Wrap(UniquePtr<EVP_PKEY> pkey) {
  if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_ED25519) {
    return MakeError(ErrorKind::kInvalidArgument, "not an Ed25519 private key");
  }
  Ed25519Key key;
  std::size_t len = 32;
  key.public_key_.resize(len);
  if (EVP_PKEY_get_raw_public_key(pkey.get(), key.public_key_.data(), &len) != 1 || len != 32) {
    return MakeError(ErrorKind::kCrypto, DrainOpensslErrors("cannot read the Ed25519 public key"));
  }
  key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  return key;
}

Result<Ed25519Key> Ed25519Key::FromPem(const std::string& pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  UniquePtr<EVP_PKEY> pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return MakeError(ErrorKind::kInvalidArgument, DrainOpensslErrors("not a PEM private key"));
  return Wrap(std::move(pkey));
}

Result<Ed25519Key> Ed25519Key::LoadPem(const std::string& path) {
  TSA_ASSIGN_OR_RETURN(std::string pem, core::ReadFileText(path));
  auto key = FromPem(pem);
  if (!key) return MakeError(key.error().kind, path + ": " + key.error().message);
  return key;
}

Result<Ed25519Key> Ed25519Key::FromSeed(const std::vector<std::uint8_t>& seed) {
  if (seed.size() != 32) return MakeError(ErrorKind::kInvalidArgument, "an Ed25519 seed has 32 bytes");
  return Wrap(UniquePtr<EVP_PKEY>(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size())));
}

Result<Ed25519Key> Ed25519Key::Generate() {
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return MakeError(ErrorKind::kCrypto, DrainOpensslErrors("Ed25519 key generation failed"));
  }
  return Wrap(UniquePtr<EVP_PKEY>(raw));
}

Result<std::string> Ed25519Key::PrivatePem() const {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return MakeError(ErrorKind::kCrypto, DrainOpensslErrors("cannot write the Ed25519 key"));
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Result<std::vector<std::uint8_t>> Ed25519Key::Sign(const std::string& message) const {
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  std::vector<std::uint8_t> sig(64);
  std::size_t len = sig.size();
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  // Ed25519 is "one-shot": no digest (RFC 8032 PureEdDSA), hence the NULL md.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, msg, message.size()) != 1 || len != 64) {
    return MakeError(ErrorKind::kCrypto, DrainOpensslErrors("Ed25519 signing failed"));
  }
  return sig;
}

bool VerifyEd25519(const std::vector<std::uint8_t>& public_key, const std::string& message,
                   const std::vector<std::uint8_t>& signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  const bool ok = pkey && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
                  EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), msg, message.size()) == 1;
  if (!ok) DrainOpensslErrors();
  return ok;
}

}  // namespace tsa::crypto
