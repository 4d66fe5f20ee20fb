#include "tsa/crypto/response_inspector.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>

#include <cctype>

#include "tsa/core/hash_algorithm.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/ossl_util.h"

namespace tsa::crypto {
namespace {

std::string GeneralNameToString(const GENERAL_NAME* name) {
  if (name == nullptr) return {};
  if (name->type == GEN_DIRNAME) return NameToString(name->d.directoryName);
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  GENERAL_NAME_print(bio.get(), const_cast<GENERAL_NAME*>(name));
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

core::UnixMicros GenTimeMicros(const ASN1_GENERALIZEDTIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  core::UnixMicros us = static_cast<core::UnixMicros>(timegm(&tm)) * 1'000'000;
  const std::string s(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)), static_cast<std::size_t>(ASN1_STRING_length(t)));
  const auto dot = s.find('.');
  if (dot != std::string::npos) {
    std::int64_t frac = 0;
    int digits = 0;
    for (std::size_t i = dot + 1; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && digits < 6; ++i, ++digits) {
      frac = frac * 10 + (s[i] - '0');
    }
    for (; digits < 6; ++digits) frac *= 10;
    us += frac;
  }
  return us;
}

Result<core::TokenInfo> DescribeToken(PKCS7* token) {
  core::TokenInfo info;
  TSA_ASSIGN_OR_RETURN(info.token_der, ToDer(token, i2d_PKCS7));
  UniquePtr<TS_TST_INFO> tst(PKCS7_to_TS_TST_INFO(token));
  if (!tst) return MakeError(ErrorKind::kInvalidArgument, "the token does not contain a TSTInfo: " + DrainOpensslErrors());
  info.version = static_cast<int>(TS_TST_INFO_get_version(tst.get()));
  info.policy = OidToString(TS_TST_INFO_get_policy_id(tst.get()));
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst.get());
  const ASN1_OBJECT* alg = nullptr;
  X509_ALGOR_get0(&alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  info.hash_oid = OidToString(alg);
  const auto known = core::HashAlgorithmFromOid(info.hash_oid);
  info.hash_algorithm = known ? core::Info(*known).name : info.hash_oid;
  const ASN1_OCTET_STRING* digest = TS_MSG_IMPRINT_get_msg(imprint);
  info.digest_hex = Hex(ASN1_STRING_get0_data(digest), static_cast<std::size_t>(ASN1_STRING_length(digest)));
  const ASN1_GENERALIZEDTIME* gen = TS_TST_INFO_get_time(tst.get());
  info.gen_time = GeneralizedTimeToRfc3339(gen);
  info.gen_time_us = GenTimeMicros(gen);
  info.serial_hex = IntegerHex(TS_TST_INFO_get_serial(tst.get()));
  if (TS_ACCURACY* acc = TS_TST_INFO_get_accuracy(tst.get())) {
    core::Accuracy a;
    a.seconds = TS_ACCURACY_get_seconds(acc) ? static_cast<int>(ASN1_INTEGER_get(TS_ACCURACY_get_seconds(acc))) : 0;
    a.millis = TS_ACCURACY_get_millis(acc) ? static_cast<int>(ASN1_INTEGER_get(TS_ACCURACY_get_millis(acc))) : 0;
    a.micros = TS_ACCURACY_get_micros(acc) ? static_cast<int>(ASN1_INTEGER_get(TS_ACCURACY_get_micros(acc))) : 0;
    info.accuracy = a;
  }
  info.ordering = TS_TST_INFO_get_ordering(tst.get()) != 0;
  if (const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst.get())) info.nonce_hex = IntegerHex(nonce);
  if (const GENERAL_NAME* tsa = TS_TST_INFO_get_tsa(tst.get())) info.tsa = GeneralNameToString(tsa);
  const int ext_count = TS_TST_INFO_get_ext_count(tst.get());
  for (int i = 0; i < ext_count; ++i) {
    X509_EXTENSION* ext = TS_TST_INFO_get_ext(tst.get(), i);
    const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
    info.extensions.push_back({OidToString(X509_EXTENSION_get_object(ext)), X509_EXTENSION_get_critical(ext) != 0,
                               Hex(ASN1_STRING_get0_data(value), static_cast<std::size_t>(ASN1_STRING_length(value)))});
  }

  if (PKCS7_type_is_signed(token)) {
    STACK_OF(PKCS7_SIGNER_INFO)* signers = PKCS7_get_signer_info(token);
    if (signers != nullptr && sk_PKCS7_SIGNER_INFO_num(signers) > 0) {
      PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(signers, 0);
      X509_ALGOR* dig = nullptr;
      X509_ALGOR* sig = nullptr;
      PKCS7_SIGNER_INFO_get0_algs(si, nullptr, &dig, &sig);
      const ASN1_OBJECT* obj = nullptr;
      X509_ALGOR_get0(&obj, nullptr, nullptr, dig);
      info.digest_algorithm = OBJ_nid2sn(OBJ_obj2nid(obj));
      X509_ALGOR_get0(&obj, nullptr, nullptr, sig);
      const int nid = OBJ_obj2nid(obj);
      info.signature_algorithm = nid == NID_undef ? OidToString(obj) : OBJ_nid2ln(nid);
      info.signature_hex = Hex(ASN1_STRING_get0_data(si->enc_digest),
                               static_cast<std::size_t>(ASN1_STRING_length(si->enc_digest)));
      STACK_OF(X509)* certs = token->d.sign->cert;
      info.certificate_count = certs ? sk_X509_num(certs) : 0;
      if (certs != nullptr) {
        X509* signer = PKCS7_cert_from_signer_info(token, si);
        if (signer != nullptr) info.signer_subject = NameToString(X509_get_subject_name(signer));
      }
    }
  }
  return info;
}

}  // namespace

Result<core::ResponseInfo> DescribeResponse(std::span<const std::uint8_t> der) {
  ERR_clear_error();
  core::ResponseInfo out;
  const unsigned char* p = der.data();
  UniquePtr<TS_RESP> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (resp && p == der.data() + der.size()) {
    const TS_STATUS_INFO* status = TS_RESP_get_status_info(resp.get());
    out.status = static_cast<int>(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status)));
    if (const ASN1_BIT_STRING* bits = TS_STATUS_INFO_get0_failure_info(status)) {
      for (int bit = 0; bit <= 25; ++bit) {
        if (ASN1_BIT_STRING_get_bit(bits, bit)) {
          out.fail_info.push_back(static_cast<core::FailInfo>(bit));
        }
      }
    }
    const auto* texts = TS_STATUS_INFO_get0_text(status);
    for (int i = 0; texts != nullptr && i < sk_ASN1_UTF8STRING_num(texts); ++i) {
      const ASN1_UTF8STRING* t = sk_ASN1_UTF8STRING_value(texts, i);
      if (!out.status_string.empty()) out.status_string += " ";
      out.status_string.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                               static_cast<std::size_t>(ASN1_STRING_length(t)));
    }
    if (PKCS7* token = TS_RESP_get_token(resp.get())) {
      TSA_ASSIGN_OR_RETURN(out.token, DescribeToken(token));
    }
    return out;
  }
  ERR_clear_error();
  p = der.data();
  UniquePtr<PKCS7> token(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
  if (token && p == der.data() + der.size()) {
    out.status = 0;
    TSA_ASSIGN_OR_RETURN(out.token, DescribeToken(token.get()));
    return out;
  }
  ERR_clear_error();
  return MakeError(ErrorKind::kInvalidArgument, "not a DER TimeStampResp or TimeStampToken");
}

}  // namespace tsa::crypto
