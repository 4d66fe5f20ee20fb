#include "tsa/crypto/request_codec.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

#include <chrono>

#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"

namespace tsa::crypto {

std::variant<core::TimeStampRequest, core::Rejection> DecodeRequest(std::span<const std::uint8_t> der) {
  ERR_clear_error();
  const unsigned char* p = der.data();
  UniquePtr<TS_REQ> req(d2i_TS_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) {
    ERR_clear_error();
    return core::Reject(core::FailInfo::kBadDataFormat, "Bad request format or system error.");
  }
  // RFC 3161 §3.4: the body is one DER TimeStampReq; anything after it is not part of the protocol.
  if (p != der.data() + der.size()) {
    return core::Reject(core::FailInfo::kBadDataFormat, "Trailing data after the request.");
  }

  core::TimeStampRequest out;
  out.version_is_v1 = TS_REQ_get_version(req.get()) == 1;
  // TS_REQ_get_version returns -1 for values that do not fit a long (e.g. 2^70): not v1 either.

  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(req.get());
  X509_ALGOR* algor = TS_MSG_IMPRINT_get_algo(imprint);
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = 0;
  const void* param_value = nullptr;
  X509_ALGOR_get0(&alg_oid, &param_type, &param_value, algor);
  out.hash_oid = OidToString(alg_oid);
  if (param_type == V_ASN1_UNDEF) {
    out.hash_parameters = core::HashParameters::kAbsent;
  } else if (param_type == V_ASN1_NULL) {
    out.hash_parameters = core::HashParameters::kNull;
  } else {
    out.hash_parameters = core::HashParameters::kOther;
  }
  const ASN1_OCTET_STRING* digest = TS_MSG_IMPRINT_get_msg(imprint);
  out.digest.assign(ASN1_STRING_get0_data(digest), ASN1_STRING_get0_data(digest) + ASN1_STRING_length(digest));

  if (const ASN1_OBJECT* policy = TS_REQ_get_policy_id(req.get())) out.policy = OidToString(policy);
  out.has_nonce = TS_REQ_get_nonce(req.get()) != nullptr;
  out.cert_req = TS_REQ_get_cert_req(req.get()) != 0;
  const int ext_count = TS_REQ_get_ext_count(req.get());
  for (int i = 0; i < ext_count; ++i) {
    X509_EXTENSION* ext = TS_REQ_get_ext(req.get(), i);
    out.extension_oids.push_back(OidToString(X509_EXTENSION_get_object(ext)));
  }
  auto der_out = ToDer(req.get(), i2d_TS_REQ);
  if (!der_out) {
    ERR_clear_error();
    return core::Reject(core::FailInfo::kBadDataFormat, "Bad request format or system error.");
  }
  out.der = std::move(*der_out);
  return out;
}

Result<std::vector<std::uint8_t>> EncodeRequest(const RequestSpec& spec) {
  ERR_clear_error();
  const auto& info = core::Info(spec.hash);
  if (spec.digest.size() != info.digest_length) {
    return MakeError(ErrorKind::kInvalidArgument,
                     std::string("digest must be ") + std::to_string(info.digest_length) + " bytes for " + info.name);
  }
  UniquePtr<TS_REQ> req(TS_REQ_new());
  UniquePtr<TS_MSG_IMPRINT> imprint(TS_MSG_IMPRINT_new());
  UniquePtr<X509_ALGOR> algor(X509_ALGOR_new());
  UniquePtr<ASN1_OBJECT> oid(OBJ_txt2obj(info.oid, 1));
  if (!req || !imprint || !algor || !oid) return MakeError(ErrorKind::kCrypto, "allocating a request: " + DrainOpensslErrors());
  if (!X509_ALGOR_set0(algor.get(), oid.get(), spec.hash_parameters_null ? V_ASN1_NULL : V_ASN1_UNDEF, nullptr)) {
    return MakeError(ErrorKind::kCrypto, "setting the hash algorithm: " + DrainOpensslErrors());
  }
  static_cast<void>(oid.release());  // owned by algor now
  if (!TS_MSG_IMPRINT_set_algo(imprint.get(), algor.get()) ||
      !TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(spec.digest.data()),
                              static_cast<int>(spec.digest.size())) ||
      !TS_REQ_set_version(req.get(), 1) || !TS_REQ_set_msg_imprint(req.get(), imprint.get()) ||
      !TS_REQ_set_cert_req(req.get(), spec.cert_req ? 1 : 0)) {
    return MakeError(ErrorKind::kCrypto, "building the request: " + DrainOpensslErrors());
  }
  if (spec.policy) {
    UniquePtr<ASN1_OBJECT> policy(OBJ_txt2obj(spec.policy->c_str(), 1));
    if (!policy) return MakeError(ErrorKind::kInvalidArgument, "not a dotted OID: " + *spec.policy);
    if (!TS_REQ_set_policy_id(req.get(), policy.get())) {
      return MakeError(ErrorKind::kCrypto, "setting the policy: " + DrainOpensslErrors());
    }
  }
  if (spec.nonce) {
    UniquePtr<BIGNUM> bn(BN_bin2bn(spec.nonce->data(), static_cast<int>(spec.nonce->size()), nullptr));
    UniquePtr<ASN1_INTEGER> nonce(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!nonce || !TS_REQ_set_nonce(req.get(), nonce.get())) {
      return MakeError(ErrorKind::kCrypto, "setting the nonce: " + DrainOpensslErrors());
    }
  }
  return ToDer(req.get(), i2d_TS_REQ);
}

std::vector<std::uint8_t> RandomNonce() {
  std::vector<std::uint8_t> nonce(8);
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    // RAND_bytes only fails when the DRBG cannot be seeded; fall back to a clock-derived value.
    auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (int i = 7; i >= 0; --i, t >>= 8) nonce[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(t);
  }
  nonce[0] &= 0x7f;  // positive, 63 bits: avoids the 9th padding octet
  if (nonce[0] == 0) nonce[0] = 1;
  return nonce;
}

}  // namespace tsa::crypto
