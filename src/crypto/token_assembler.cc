#include "tsa/crypto/token_assembler.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>

#include "tsa/core/der.h"
#include "tsa/core/der_reader.h"
#include "tsa/core/utc.h"
#include "tsa/crypto/ossl_util.h"
#include "tsa/crypto/token_signer.h"

namespace tsa::crypto {
namespace {

using Bytes = TokenAssembler::Bytes;
using core::DerTlv;
using core::DerTlvOf;

constexpr std::uint8_t kBoolean = 0x01, kInteger = 0x02, kOctetString = 0x04, kNull = 0x05, kOid = 0x06, kUtcTime = 0x17,
                       kGeneralizedTime = 0x18, kSequence = 0x30, kSet = 0x31, kContext0 = 0xa0, kContext4 = 0xa4,
                       kImplicit0 = 0x80, kImplicit1 = 0x81;

Result<Bytes> OidDer(int nid) {
  const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
  if (obj == nullptr) return MakeError(ErrorKind::kCrypto, "unknown object " + std::to_string(nid));
  return ToDer(const_cast<ASN1_OBJECT*>(obj), i2d_ASN1_OBJECT);  // NOLINT: i2d takes non-const in 3.0
}

Result<Bytes> OidDer(const std::string& dotted) {
  UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(dotted.c_str(), 1));
  if (!obj) return MakeError(ErrorKind::kInvalidArgument, "not a dotted OID: " + dotted);
  return ToDer(obj.get(), i2d_ASN1_OBJECT);
}

Bytes SmallInteger(int v) {
  Bytes magnitude;
  for (int x = v; x != 0; x >>= 8) magnitude.insert(magnitude.begin(), static_cast<std::uint8_t>(x & 0xff));
  return core::DerUnsignedInteger(magnitude);
}

// Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER, micros [1] INTEGER }
// (RFC 3161 §2.4.2, implicit tags); OpenSSL leaves out the parts that are zero, and the whole
// field when all are.
Bytes EncodeAccuracy(const core::Accuracy& a) {
  Bytes body;
  auto add = [&](std::uint8_t tag, int v) {
    if (v == 0) return;
    Bytes integer = SmallInteger(v);
    integer[0] = tag;
    body.insert(body.end(), integer.begin(), integer.end());
  };
  add(kInteger, a.seconds);
  add(kImplicit0, a.millis);
  add(kImplicit1, a.micros);
  return body.empty() ? body : DerTlv(kSequence, body);
}

Bytes Attribute(const Bytes& oid, const Bytes& value) { return DerTlvOf(kSequence, {oid, DerTlv(kSet, value)}); }

Bytes Text(const std::string& s) { return {s.begin(), s.end()}; }

// signingTime (RFC 5652 §11.3): UTCTime for 1950..2049, GeneralizedTime otherwise. OpenSSL sets
// it from the wall clock as it signs; tsad uses genTime's second, the same instant.
Bytes SigningTime(core::UnixMicros t) {
  const int year = core::SplitUtc(t).year;
  if (year >= 1950 && year < 2050) return DerTlv(kUtcTime, Text(core::UtcTimeDigits(t)));
  return DerTlv(kGeneralizedTime, Text(core::GeneralizedTimeDigits(t, 0)));
}

Result<Bytes> Digest(const EVP_MD* md, std::span<const std::uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1) {
    return MakeError(ErrorKind::kCrypto, "digest: " + DrainOpensslErrors());
  }
  out.resize(len);
  return out;
}

Result<Bytes> SignatureAlgorithm(EVP_PKEY* key, int md_nid) {
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA) {  // PKCS #7 names the key algorithm, not sha256WithRSAEncryption
    TSA_ASSIGN_OR_RETURN(auto oid, OidDer(NID_rsaEncryption));
    return DerTlvOf(kSequence, {oid, Bytes{kNull, 0}});
  }
  int sig_nid = NID_undef;
  if (type != EVP_PKEY_EC || OBJ_find_sigid_by_algs(&sig_nid, md_nid, EVP_PKEY_EC) != 1) {
    return MakeError(ErrorKind::kInvalidArgument, "the direct encoder signs with RSA or ECDSA keys only");
  }
  TSA_ASSIGN_OR_RETURN(auto oid, OidDer(sig_nid));
  return DerTlv(kSequence, oid);
}

// The fields of a TimeStampReq (RFC 3161 §2.4.1) that go into the token, as encoded.
struct RequestFields {
  std::span<const std::uint8_t> imprint;   // MessageImprint element
  std::span<const std::uint8_t> hash_oid;  // its hashAlgorithm.algorithm element
  std::size_t digest_size = 0;             // its hashedMessage length
  bool hash_parameters_ok = false;         // absent or NULL (RFC 5754 §2)
  std::span<const std::uint8_t> policy;    // OID element, or empty
  std::span<const std::uint8_t> nonce;     // INTEGER element, or empty
  bool cert_req = false;
};

Result<RequestFields> ReadRequest(std::span<const std::uint8_t> der) {
  auto bad = [] { return MakeError(ErrorKind::kInvalidArgument, "the signer was given a malformed request"); };
  auto outer = core::ReadDerIf(der, kSequence);
  if (!outer || !der.empty()) return bad();
  std::span<const std::uint8_t> in = outer->content;
  auto version = core::ReadDerIf(in, kInteger);
  if (!version || version->content.size() != 1 || version->content[0] != 1) return bad();
  auto imprint = core::ReadDerIf(in, kSequence);
  if (!imprint) return bad();
  RequestFields f;
  f.imprint = imprint->whole;
  std::span<const std::uint8_t> imprint_in = imprint->content;
  auto algorithm = core::ReadDerIf(imprint_in, kSequence);
  auto digest = core::ReadDerIf(imprint_in, kOctetString);
  if (!algorithm || !digest || !imprint_in.empty()) return bad();
  std::span<const std::uint8_t> algorithm_in = algorithm->content;
  auto oid = core::ReadDerIf(algorithm_in, kOid);
  if (!oid) return bad();
  f.hash_oid = oid->whole;
  f.digest_size = digest->content.size();
  f.hash_parameters_ok = algorithm_in.empty() || (algorithm_in.size() == 2 && algorithm_in[0] == kNull && algorithm_in[1] == 0);
  if (auto policy = core::ReadDerIf(in, kOid)) f.policy = policy->whole;
  if (auto nonce = core::ReadDerIf(in, kInteger)) f.nonce = nonce->whole;
  if (auto cert_req = core::ReadDerIf(in, kBoolean)) f.cert_req = !cert_req->content.empty() && cert_req->content[0] != 0;
  // An empty [0] extensions field is no extension (OpenSSL's re-encoding keeps it).
  if (auto extensions = core::ReadDerIf(in, kContext0); extensions && !extensions->content.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "the signer was given a request with extensions");
  }
  if (!in.empty()) return bad();
  return f;
}

}  // namespace

Result<std::unique_ptr<TokenAssembler>> TokenAssembler::Create(const SignerMaterial& material, const SignerOptions& options) {
  std::unique_ptr<TokenAssembler> a(new TokenAssembler());  // NOLINT: private constructor of a factory
  const int md_nid = EVP_MD_get_type(material.signer_digest());
  a->md_.reset(EVP_MD_fetch(nullptr, OBJ_nid2sn(md_nid), nullptr));
  if (!a->md_) return MakeError(ErrorKind::kCrypto, "cannot fetch the signer digest: " + DrainOpensslErrors());
  a->clock_digits_ = options.clock_precision_digits;
  TSA_ASSIGN_OR_RETURN(a->default_policy_, OidDer(options.policy.default_policy));
  a->accepted_policies_.push_back(a->default_policy_);
  for (const auto& dotted : options.policy.accepted_policies) {
    TSA_ASSIGN_OR_RETURN(auto oid, OidDer(dotted));
    a->accepted_policies_.push_back(std::move(oid));
  }
  for (auto alg : options.policy.accepted_hashes) {
    TSA_ASSIGN_OR_RETURN(auto oid, OidDer(core::Info(alg).oid));
    a->accepted_hashes_.push_back({std::move(oid), core::Info(alg).digest_length});
  }
  a->accuracy_ = EncodeAccuracy(options.accuracy);
  X509* cert = material.certificate();
  if (options.include_tsa_name) {  // tsa [0] GeneralName: directoryName [4] (explicit: a CHOICE)
    TSA_ASSIGN_OR_RETURN(auto subject, ToDer(X509_get_subject_name(cert), i2d_X509_NAME));
    a->tsa_name_ = DerTlv(kContext0, DerTlv(kContext4, subject));
  }
  TSA_ASSIGN_OR_RETURN(auto md_oid, OidDer(md_nid));
  a->digest_algorithm_ = DerTlvOf(kSequence, {md_oid, Bytes{kNull, 0}});
  TSA_ASSIGN_OR_RETURN(a->signature_algorithm_, SignatureAlgorithm(material.key(), md_nid));
  TSA_ASSIGN_OR_RETURN(auto issuer, ToDer(X509_get_issuer_name(cert), i2d_X509_NAME));
  TSA_ASSIGN_OR_RETURN(auto cert_serial,
                       ToDer(const_cast<ASN1_INTEGER*>(X509_get0_serialNumber(cert)), i2d_ASN1_INTEGER));  // NOLINT
  a->signer_id_ = DerTlvOf(kSequence, {issuer, cert_serial});
  TSA_ASSIGN_OR_RETURN(auto cert_der, ToDer(cert, i2d_X509));
  a->certificates_ = cert_der;
  for (int i = 0; i < sk_X509_num(material.embedded_chain()); ++i) {
    TSA_ASSIGN_OR_RETURN(auto der, ToDer(sk_X509_value(material.embedded_chain(), i), i2d_X509));
    a->certificates_.insert(a->certificates_.end(), der.begin(), der.end());
  }
  TSA_ASSIGN_OR_RETURN(a->oid_signed_data_, OidDer(NID_pkcs7_signed));
  TSA_ASSIGN_OR_RETURN(a->oid_tst_info_, OidDer(NID_id_smime_ct_TSTInfo));
  TSA_ASSIGN_OR_RETURN(a->oid_signing_time_, OidDer(NID_pkcs9_signingTime));
  TSA_ASSIGN_OR_RETURN(a->oid_message_digest_, OidDer(NID_pkcs9_messageDigest));
  TSA_ASSIGN_OR_RETURN(auto oid_content_type, OidDer(NID_pkcs9_contentType));
  a->content_type_attr_ = Attribute(oid_content_type, a->oid_tst_info_);
  // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }; ESSCertIDv2 with the
  // default hashAlgorithm (SHA-256, so omitted) and no issuerSerial, as OpenSSL writes it.
  TSA_ASSIGN_OR_RETURN(auto oid_signing_cert, OidDer(NID_id_smime_aa_signingCertificateV2));
  TSA_ASSIGN_OR_RETURN(auto cert_hash, Digest(EVP_sha256(), cert_der));
  const Bytes ess_cert_id = DerTlv(kSequence, DerTlv(kOctetString, cert_hash));
  a->signing_cert_attr_ = Attribute(oid_signing_cert, DerTlv(kSequence, DerTlv(kSequence, ess_cert_id)));
  return a;
}

Bytes TokenAssembler::EncodeTstInfo(std::span<const std::uint8_t> policy, std::span<const std::uint8_t> imprint,
                                    std::span<const std::uint8_t> serial, core::UnixMicros gen_time,
                                    std::span<const std::uint8_t> nonce) const {
  const Bytes version = {kInteger, 1, 1};
  const Bytes serial_number = core::DerUnsignedInteger(serial);
  const Bytes time = DerTlv(kGeneralizedTime, Text(core::GeneralizedTimeDigits(gen_time, clock_digits_)));
  // ordering (DEFAULT FALSE) and extensions are never set.
  return DerTlvOf(kSequence, {version, policy, imprint, serial_number, time, accuracy_, nonce, tsa_name_});
}

Bytes TokenAssembler::EncodeSignedAttributes(const Bytes& tst_info_digest, core::UnixMicros gen_time) const {
  std::vector<Bytes> attrs = {content_type_attr_, Attribute(oid_signing_time_, SigningTime(gen_time)),
                              Attribute(oid_message_digest_, DerTlv(kOctetString, tst_info_digest)), signing_cert_attr_};
  // DER orders a SET OF by the encodings (X.690 §11.6); OpenSSL writes them in that order too.
  std::sort(attrs.begin(), attrs.end());
  Bytes body;
  for (const auto& a : attrs) body.insert(body.end(), a.begin(), a.end());
  return DerTlv(kSet, body);
}

// Defence in depth, as TS_RESP_create_response does: the issuer validated the request already
// (core::ValidateRequest), so a request that fails here is a bug upstream, answered as an error.
Status TokenAssembler::CheckAccepted(std::span<const std::uint8_t> hash_oid, std::size_t digest_size, bool parameters_ok,
                                     std::span<const std::uint8_t> policy) const {
  auto same = [](std::span<const std::uint8_t> a, const Bytes& b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); };
  const bool hash_ok = std::any_of(accepted_hashes_.begin(), accepted_hashes_.end(),
                                   [&](const auto& h) { return same(hash_oid, h.first) && digest_size == h.second; });
  const bool policy_ok = policy.empty() || std::any_of(accepted_policies_.begin(), accepted_policies_.end(),
                                                       [&](const Bytes& p) { return same(policy, p); });
  if (!hash_ok || !parameters_ok || !policy_ok) {
    return MakeError(ErrorKind::kInvalidArgument, "the signer was given a request its policy does not accept");
  }
  return {};
}

Result<TokenAssembler::Unsigned> TokenAssembler::BuildUnsigned(std::span<const std::uint8_t> der_request,
                                                               std::span<const std::uint8_t> serial,
                                                               core::UnixMicros gen_time) const {
  TSA_ASSIGN_OR_RETURN(auto f, ReadRequest(der_request));
  TSA_TRY(CheckAccepted(f.hash_oid, f.digest_size, f.hash_parameters_ok, f.policy));
  Unsigned u;
  u.cert_req = f.cert_req;
  // RFC 3161 §2.4.2: policy is reqPolicy when the request names one (ValidateRequest accepted it).
  u.tst_info = EncodeTstInfo(f.policy.empty() ? std::span<const std::uint8_t>(default_policy_) : f.policy, f.imprint, serial,
                             gen_time, f.nonce);
  TSA_ASSIGN_OR_RETURN(auto tst_info_digest, Digest(md_.get(), u.tst_info));
  u.signed_attributes = EncodeSignedAttributes(tst_info_digest, gen_time);
  return u;
}

Result<Bytes> TokenAssembler::SignedAttributesDigest(const Unsigned& u) const { return Digest(md_.get(), u.signed_attributes); }

TokenAssembler::Encoded TokenAssembler::Finish(const Unsigned& u, std::span<const std::uint8_t> signature) const {
  // In the SignerInfo the signed attributes carry the implicit tag [0] instead of SET.
  Bytes signed_attrs = u.signed_attributes;
  signed_attrs[0] = kContext0;
  const Bytes version1 = {kInteger, 1, 1}, version3 = {kInteger, 1, 3};
  const Bytes signer_info = DerTlvOf(kSequence, {version1, signer_id_, digest_algorithm_, signed_attrs, signature_algorithm_,
                                                 DerTlv(kOctetString, {signature.begin(), signature.end()})});
  const Bytes encap = DerTlvOf(kSequence, {oid_tst_info_, DerTlv(kContext0, DerTlv(kOctetString, u.tst_info))});
  const Bytes certificates = u.cert_req ? DerTlv(kContext0, certificates_) : Bytes{};
  // SignedData version 3: eContentType is not id-data (RFC 5652 §5.1).
  const Bytes signed_data = DerTlvOf(kSequence,
                                     {version3, DerTlv(kSet, digest_algorithm_), encap, certificates, DerTlv(kSet, signer_info)});
  Encoded out;
  out.token_der = DerTlvOf(kSequence, {oid_signed_data_, DerTlv(kContext0, signed_data)});
  const Bytes granted = DerTlv(kSequence, Bytes{kInteger, 1, 0});
  out.response_der = DerTlvOf(kSequence, {granted, out.token_der});
  return out;
}

}  // namespace tsa::crypto
