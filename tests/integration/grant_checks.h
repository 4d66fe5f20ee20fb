// Checks applied to every reply in the integration tests (conformance §6.3 V01-V16, V20, and the
// reply headers of §1.5), shared by the *_test.cc files of this directory. Header-only because the
// integration tree compiles only *_test.cc files.
//
// A grant is checked three ways: tsa::crypto::DescribeResponse (the project's reader), a byte-level
// walk of the DER with tests/support/der_builder (independent of OpenSSL: byte-exact imprint and
// nonce echo, ESSCertIDv2 without hashAlgorithm, genTime syntax), and OpenSSL's PKCS7 parser
// (SignedData version, SignerInfo count, signingCertificateV2 attribute).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "support/der_builder.h"
#include "support/http_helpers.h"
#include "tsa/core/decision.h"
#include "tsa/core/response_info.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/verifier.h"

namespace tsa::test {

inline constexpr const char* kReplyType = "application/timestamp-reply";

struct GrantExpectations {
  Bytes imprint_der;                         // TSTInfo.messageImprint must be exactly these bytes (V08)
  std::optional<Bytes> nonce;                // INTEGER content octets to be echoed byte-exact; nullopt: no nonce (V09)
  bool cert_req = true;                      // certificates present iff certReq (V16)
  std::string policy = oid::kDefaultPolicy;  // V07
  std::string tsa_cert_pem;                  // the signer: ESS certHash, tsa name, certificates (required)
  std::string ca_cert_pem;                   // when set, the token must also pass tsa::crypto::Verify against it
  int time_tolerance_s = 5;                  // V12 on a test machine
};

inline GrantExpectations ExpectationsFor(const RequestBuilder& request, const std::string& tsa_cert_pem,
                                         const std::string& ca_cert_pem = "") {
  GrantExpectations e;
  e.imprint_der = request.ImprintDer();
  e.nonce = request.nonce;
  e.cert_req = request.WantsCertificates();
  e.policy = request.policy.value_or(oid::kDefaultPolicy);
  e.tsa_cert_pem = tsa_cert_pem;
  e.ca_cert_pem = ca_cert_pem;
  return e;
}

// What a grant carried, for tests that compare several grants.
struct GrantFacts {
  std::string serial_hex;  // INTEGER content octets, lower-case hex (minimal: may start with 00)
  std::string gen_time;    // GeneralizedTime text
  std::int64_t gen_time_us = 0;
  Bytes token_der;  // the ContentInfo
  std::optional<std::string> nonce_hex;
};

namespace grant_checks_detail {

inline std::optional<Bytes> CertDerFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return std::nullopt;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return std::nullopt;
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  X509_free(cert);
  if (len <= 0) return std::nullopt;
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

inline std::optional<Bytes> SubjectDerFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return std::nullopt;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return std::nullopt;
  unsigned char* der = nullptr;
  const int len = i2d_X509_NAME(X509_get_subject_name(cert), &der);
  X509_free(cert);
  if (len <= 0) return std::nullopt;
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

inline std::optional<Bytes> DigestByOid(const std::string& dotted, std::span<const std::uint8_t> data) {
  ASN1_OBJECT* obj = OBJ_txt2obj(dotted.c_str(), 1);
  if (obj == nullptr) return std::nullopt;
  const EVP_MD* md = EVP_get_digestbyobj(obj);
  ASN1_OBJECT_free(obj);
  if (md == nullptr) return std::nullopt;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) return std::nullopt;
  return Bytes(out, out + len);
}

// "YYYYMMDDhhmmss[.f]Z" -> Unix microseconds; nullopt when malformed.
inline std::optional<std::int64_t> GeneralizedTimeMicros(const std::string& s) {
  static const std::regex kSyntax(R"(^\d{14}(\.\d*[1-9])?Z$)");
  if (!std::regex_match(s, kSyntax)) return std::nullopt;
  struct tm tm {};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(6, 2));
  tm.tm_hour = std::stoi(s.substr(8, 2));
  tm.tm_min = std::stoi(s.substr(10, 2));
  tm.tm_sec = std::stoi(s.substr(12, 2));
  std::int64_t us = static_cast<std::int64_t>(timegm(&tm)) * 1000000;
  if (s[14] == '.') {
    std::string frac = s.substr(15, s.size() - 16);
    frac = (frac + "000000").substr(0, 6);
    us += std::stoll(frac);
  }
  return us;
}

inline std::string FailBitsDer(core::FailInfo info) {
  // Conformance §1.3 "PKIFailureInfo encodings" (byte-identical to OpenSSL's).
  switch (info) {
    case core::FailInfo::kBadAlg: return "03020780";
    case core::FailInfo::kBadRequest: return "03020520";
    case core::FailInfo::kBadDataFormat: return "03020204";
    case core::FailInfo::kTimeNotAvailable: return "0303010002";
    case core::FailInfo::kUnacceptedPolicy: return "0303000001";
    case core::FailInfo::kUnacceptedExtension: return "030407000080";
    case core::FailInfo::kAddInfoNotAvailable: return "030406000040";
    case core::FailInfo::kSystemFailure: return "03050600000040";
  }
  return "";
}

inline std::string FailNames(const std::vector<core::FailInfo>& bits) {
  std::string out;
  for (auto b : bits) out += std::string(out.empty() ? "" : ",") + core::FailInfoName(b);
  return out.empty() ? "(none)" : out;
}

}  // namespace grant_checks_detail

// §1.5 headers of every TimeStampResp reply.
inline ::testing::AssertionResult CheckReplyHeaders(const HttpResponse& http) {
  if (http.status != 200) return ::testing::AssertionFailure() << "expected HTTP 200; got " << http.Summary();
  if (http.header_count("Content-Type") != 1 || http.header("Content-Type") != kReplyType) {
    return ::testing::AssertionFailure() << "Content-Type must be exactly " << kReplyType << "; got " << http.Summary();
  }
  if (!http.has_header("Content-Length")) return ::testing::AssertionFailure() << "no Content-Length; " << http.Summary();
  return ::testing::AssertionSuccess();
}

// G: HTTP 200, status 0, token, and V01-V16 + V20.
inline ::testing::AssertionResult CheckGrant(const HttpResponse& http, const GrantExpectations& e, GrantFacts* facts = nullptr) {
  using namespace grant_checks_detail;
  if (auto h = CheckReplyHeaders(http); !h) return h;
  const Bytes& der = http.body;
  std::vector<std::string> problems;
  auto problem = [&](const std::string& p) { problems.push_back(p); };
  auto fail_now = [&](const std::string& p) {
    auto r = ::testing::AssertionFailure();
    for (const auto& q : problems) r << q << "\n";
    r << p << "\n  reply: " << ToHex(der).substr(0, 400);
    return r;
  };

  // --- the project's reader
  auto info = crypto::DescribeResponse(der);
  if (!info) return fail_now("DescribeResponse cannot read the reply: " + info.error().message);
  // V01
  if (info->status != 0 || !info->fail_info.empty() || !info->token) {
    return fail_now("V01: expected granted with a token; got status " + std::to_string(info->status) + " failInfo " +
                    FailNames(info->fail_info) + " statusString \"" + info->status_string + "\"");
  }

  // --- byte-level walk
  auto resp = ParseSingle(der);
  if (!resp || resp->tag != kTagSequence) return fail_now("reply is not one DER SEQUENCE");
  auto resp_children = Children(*resp);
  if (!resp_children || resp_children->size() != 2) return fail_now("V01: TimeStampResp must hold status and token");
  auto status_children = Children((*resp_children)[0]);
  if (!status_children || status_children->empty() || (*status_children)[0].content_bytes() != Bytes{0x00}) {
    return fail_now("V01: PKIStatus is not 0");
  }
  for (std::size_t i = 1; i < status_children->size(); ++i) {
    if ((*status_children)[i].tag == kTagBitString) problem("V01: a grant carries a failInfo");
  }
  const DerElement& token = (*resp_children)[1];
  auto ci = Children(token);
  if (!ci || ci->size() != 2 || (*ci)[0].tag != kTagOid || DecodeOid((*ci)[0].content) != oid::kSignedData ||
      (*ci)[1].tag != kTagContext0) {
    return fail_now("V02: token is not ContentInfo{signedData, [0] SignedData}");
  }
  auto sd_wrap = Children((*ci)[1]);
  if (!sd_wrap || sd_wrap->size() != 1) return fail_now("V02: [0] must hold one SignedData");
  auto sd = Children((*sd_wrap)[0]);
  if (!sd || sd->size() < 4) return fail_now("V02: SignedData malformed");
  // SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, [0] certificates OPT,
  //                           [1] crls OPT, signerInfos SET }
  if ((*sd)[0].tag != kTagInteger || (*sd)[0].content_bytes() != Bytes{0x03}) problem("V02: SignedData.version is not 3");
  if ((*sd)[1].tag != kTagSet) problem("V02: digestAlgorithms is not a SET");
  auto eci = Children((*sd)[2]);
  if (!eci || eci->size() != 2 || (*eci)[0].tag != kTagOid || (*eci)[1].tag != kTagContext0) {
    return fail_now("V03: encapContentInfo malformed (eContent must be present)");
  }
  if (DecodeOid((*eci)[0].content) != oid::kTstInfo) problem("V03: eContentType is " + DecodeOid((*eci)[0].content));
  auto econtent_wrap = Children((*eci)[1]);
  if (!econtent_wrap || econtent_wrap->size() != 1 || (*econtent_wrap)[0].tag != kTagOctetString) {
    return fail_now("V03: eContent is not one OCTET STRING");
  }
  const auto econtent = (*econtent_wrap)[0].content;
  std::optional<DerElement> certificates;
  std::size_t idx = 3;
  if (idx < sd->size() && (*sd)[idx].tag == kTagContext0) certificates = (*sd)[idx++];
  if (idx < sd->size() && (*sd)[idx].tag == kTagContext1) {
    problem("SignedData carries crls (must be absent)");
    ++idx;
  }
  if (idx + 1 != sd->size() || (*sd)[idx].tag != kTagSet) return fail_now("V04: signerInfos SET missing or misplaced");
  auto signer_infos = Children((*sd)[idx]);
  if (!signer_infos || signer_infos->size() != 1) {
    return fail_now("V04: expected exactly 1 SignerInfo, got " + std::to_string(signer_infos ? signer_infos->size() : 0));
  }

  // SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature, [1] OPT }
  auto si = Children((*signer_infos)[0]);
  if (!si || si->size() < 6 || (*si)[3].tag != kTagContext0) return fail_now("V05: SignerInfo has no signedAttrs");
  std::string digest_oid;
  if (auto dig = Children((*si)[2]); dig && !dig->empty()) digest_oid = DecodeOid((*dig)[0].content);
  auto attrs = Children((*si)[3]);
  if (!attrs) return fail_now("V05: signedAttrs malformed");
  bool has_content_type = false, has_message_digest = false, has_scv2 = false;
  for (const DerElement& attr : *attrs) {
    auto a = Children(attr);
    if (!a || a->size() != 2 || (*a)[0].tag != kTagOid || (*a)[1].tag != kTagSet) {
      problem("V05: malformed Attribute");
      continue;
    }
    const std::string type = DecodeOid((*a)[0].content);
    auto values = Children((*a)[1]);
    if (!values || values->size() != 1) {
      problem("V05: attribute " + type + " must have exactly one value");
      continue;
    }
    const DerElement& value = (*values)[0];
    if (type == oid::kContentType) {
      has_content_type = true;
      if (value.tag != kTagOid || DecodeOid(value.content) != oid::kTstInfo)
        problem("V05: contentType attribute is not id-ct-TSTInfo");
    } else if (type == oid::kMessageDigest) {
      has_message_digest = true;
      auto expected = DigestByOid(digest_oid, econtent);
      if (value.tag != kTagOctetString || !expected || value.content_bytes() != *expected) {
        problem("V05: messageDigest does not match the digest of eContent (digest " + digest_oid + ")");
      }
    } else if (type == oid::kSigningCertificateV2) {
      has_scv2 = true;
      // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies OPT }
      // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial OPT }
      auto scv2 = Children(value);
      auto ids = scv2 && !scv2->empty() ? Children((*scv2)[0]) : std::nullopt;
      auto first = ids && !ids->empty() ? Children((*ids)[0]) : std::nullopt;
      if (!first || first->empty()) {
        problem("V20: SigningCertificateV2 malformed");
      } else if ((*first)[0].tag != kTagOctetString) {
        problem("V20: ESSCertIDv2 encodes hashAlgorithm (DER DEFAULT sha256 must be omitted)");
      } else {
        auto cert_der = CertDerFromPem(e.tsa_cert_pem);
        auto hash = cert_der ? DigestByOid(oid::kSha256, *cert_der) : std::nullopt;
        if (!hash || (*first)[0].content_bytes() != *hash)
          problem("V05: ESSCertIDv2.certHash is not SHA-256 of the TSA certificate");
      }
    }
  }
  if (!has_content_type) problem("V05: signedAttrs lack contentType");
  if (!has_message_digest) problem("V05: signedAttrs lack messageDigest");
  if (!has_scv2) problem("V05: signedAttrs lack signingCertificateV2");

  // V16
  if (e.cert_req) {
    auto certs = certificates ? Children(*certificates) : std::nullopt;
    auto signer = CertDerFromPem(e.tsa_cert_pem);
    bool found = false;
    for (const DerElement& c : certs.value_or(std::vector<DerElement>{})) found = found || (signer && c.bytes() == *signer);
    if (!found) problem("V16: certReq TRUE but the signer certificate is not in SignedData.certificates");
  } else if (certificates) {
    problem("V16: certReq FALSE/absent but SignedData.certificates is present");
  }

  // TSTInfo (V06-V15)
  auto tst = ParseSingle(econtent);
  if (!tst || tst->tag != kTagSequence) return fail_now("V03: eContent is not one DER TSTInfo SEQUENCE");
  auto f = Children(*tst);
  if (!f || f->size() < 5) return fail_now("V03: TSTInfo malformed");
  if ((*f)[0].tag != kTagInteger || (*f)[0].content_bytes() != Bytes{0x01}) problem("V06: TSTInfo.version is not 1");
  if ((*f)[1].tag != kTagOid || DecodeOid((*f)[1].content) != e.policy) {
    problem("V07: policy is " + DecodeOid((*f)[1].content) + ", expected " + e.policy);
  }
  if ((*f)[2].bytes() != e.imprint_der) {
    problem("V08: messageImprint " + ToHex((*f)[2].whole) + " differs from the request's " + ToHex(e.imprint_der));
  }
  const DerElement& serial = (*f)[3];
  if (serial.tag != kTagInteger || serial.content.empty()) {
    problem("V10: serialNumber is not an INTEGER");
  } else {
    if (serial.content[0] & 0x80) problem("V10: serialNumber is negative");
    if (serial.content.size() > 20) problem("V10: serialNumber longer than 20 octets");
    if (serial.content.size() > 1 && serial.content[0] == 0 && (serial.content[1] & 0x80) == 0)
      problem("V10: serialNumber not minimal");
    if (serial.content.size() == 1 && serial.content[0] == 0) problem("V10: serialNumber is zero");
  }
  const DerElement& gen = (*f)[4];
  const std::string gen_text(gen.content.begin(), gen.content.end());
  std::optional<std::int64_t> gen_us;
  if (gen.tag != kTagGeneralizedTime || !(gen_us = GeneralizedTimeMicros(gen_text))) {
    problem("V11: genTime \"" + gen_text + "\" does not match ^\\d{14}(\\.\\d*[1-9])?Z$");
  } else {
    const auto now_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (std::llabs(now_us - *gen_us) > static_cast<std::int64_t>(e.time_tolerance_s) * 1000000) {
      problem("V12: genTime " + gen_text + " is more than " + std::to_string(e.time_tolerance_s) + " s from now");
    }
  }
  bool has_accuracy = false;
  std::optional<Bytes> nonce;
  for (std::size_t i = 5; i < f->size(); ++i) {
    const DerElement& t = (*f)[i];
    if (t.tag == kTagSequence) {
      has_accuracy = true;
    } else if (t.tag == kTagBoolean) {
      if (t.content_bytes() != Bytes{0x00}) problem("V14: ordering is TRUE");
    } else if (t.tag == kTagInteger) {
      nonce = t.content_bytes();
    } else if (t.tag == kTagContext0) {
      // tsa [0] GeneralName: must name the signer (RFC 3161 §2.4.2), as a directoryName [4].
      auto gn = Children(t);
      auto subject = SubjectDerFromPem(e.tsa_cert_pem);
      bool ok = false;
      if (gn && gn->size() == 1 && (*gn)[0].tag == 0xa4) {
        auto name = Children((*gn)[0]);
        ok = name && name->size() == 1 && subject && (*name)[0].bytes() == *subject;
      }
      if (!ok) problem("TSTInfo.tsa does not name the signer certificate's subject");
    } else if (t.tag == kTagContext1) {
      auto exts = Children(t);
      for (const DerElement& ext : exts.value_or(std::vector<DerElement>{})) {
        auto parts = Children(ext);
        if (parts && parts->size() == 3 && (*parts)[1].tag == kTagBoolean && (*parts)[1].content_bytes() != Bytes{0x00}) {
          problem("V15: critical TSTInfo extension " + DecodeOid((*parts)[0].content));
        }
      }
    } else {
      problem("TSTInfo has an unexpected field with tag " + std::to_string(t.tag));
    }
  }
  if (!has_accuracy) problem("V13: accuracy absent");
  if (e.nonce) {
    if (!nonce) {
      problem("V09: nonce missing (expected " + ToHex(*e.nonce) + ")");
    } else if (*nonce != *e.nonce) {
      problem("V09: nonce " + ToHex(*nonce) + " differs from the request's " + ToHex(*e.nonce));
    }
  } else if (nonce) {
    problem("V09: nonce " + ToHex(*nonce) + " present but none was requested");
  }

  // --- OpenSSL's view of the SignedData
  {
    const unsigned char* p = token.whole.data();
    PKCS7* p7 = d2i_PKCS7(nullptr, &p, static_cast<long>(token.whole.size()));
    if (p7 == nullptr || !PKCS7_type_is_signed(p7)) {
      problem("OpenSSL cannot parse the token as PKCS7 signedData");
    } else {
      if (ASN1_INTEGER_get(p7->d.sign->version) != 3) problem("V02 (OpenSSL): SignedData version is not 3");
      STACK_OF(PKCS7_SIGNER_INFO)* sis = PKCS7_get_signer_info(p7);
      if (sis == nullptr || sk_PKCS7_SIGNER_INFO_num(sis) != 1) {
        problem("V04 (OpenSSL): SignerInfo count is not 1");
      } else if (PKCS7_get_signed_attribute(sk_PKCS7_SIGNER_INFO_value(sis, 0), NID_id_smime_aa_signingCertificateV2) ==
                 nullptr) {
        problem("V05 (OpenSSL): no signingCertificateV2 attribute");
      }
      const int ncerts = p7->d.sign->cert ? sk_X509_num(p7->d.sign->cert) : 0;
      if (e.cert_req != (ncerts > 0))
        problem("V16 (OpenSSL): " + std::to_string(ncerts) + " certificates with certReq " + (e.cert_req ? "TRUE" : "FALSE"));
    }
    PKCS7_free(p7);
  }

  // --- the project's description agrees with the bytes
  const auto& t = *info->token;
  if (t.version != 1) problem("DescribeResponse: version " + std::to_string(t.version));
  if (t.policy != e.policy) problem("DescribeResponse: policy " + t.policy);
  if (serial.tag == kTagInteger && t.serial_hex != ToHex(serial.content)) problem("DescribeResponse: serial " + t.serial_hex);
  if (!t.accuracy) problem("V13 (DescribeResponse): accuracy absent");
  if (t.ordering) problem("V14 (DescribeResponse): ordering TRUE");
  for (const auto& x : t.extensions) {
    if (x.critical) problem("V15 (DescribeResponse): critical extension " + x.oid);
  }

  // --- the project's verifier (signature, ESS binding, EKU, chain)
  if (!e.ca_cert_pem.empty()) {
    crypto::VerifyOptions vo;
    vo.tsa_cert_pem = e.tsa_cert_pem;
    vo.ca_pem = e.ca_cert_pem;
    auto verified = crypto::Verify(der, vo);
    if (!verified) problem("tsa::crypto::Verify refuses the token: " + verified.error().message);
  }

  if (facts != nullptr) {
    facts->serial_hex = serial.tag == kTagInteger ? ToHex(serial.content) : "";
    facts->gen_time = gen_text;
    facts->gen_time_us = gen_us.value_or(0);
    facts->token_der = token.bytes();
    if (nonce) facts->nonce_hex = ToHex(*nonce);
  }
  if (!problems.empty()) {
    auto r = ::testing::AssertionFailure();
    for (const auto& q : problems) r << q << "\n";
    return r;
  }
  return ::testing::AssertionSuccess();
}

// R(x): HTTP 200, exact reply type, status 2 (rejection), failInfo exactly {x} in the DER of
// conformance §1.3, no token.
inline ::testing::AssertionResult CheckRejection(const HttpResponse& http, core::FailInfo expected) {
  using namespace grant_checks_detail;
  if (auto h = CheckReplyHeaders(http); !h) return h;
  const Bytes& der = http.body;
  auto info = crypto::DescribeResponse(der);
  if (!info) return ::testing::AssertionFailure() << "DescribeResponse cannot read the reply: " << info.error().message;
  if (info->status != 2 || info->token || info->fail_info.size() != 1 || info->fail_info[0] != expected) {
    return ::testing::AssertionFailure() << "expected R(" << core::FailInfoName(expected) << "); got status " << info->status
                                         << " (" << core::PkiStatusName(info->status) << ") failInfo "
                                         << FailNames(info->fail_info) << (info->token ? " WITH a token" : "")
                                         << " statusString \"" << info->status_string << "\"";
  }
  auto resp = ParseSingle(der);
  auto children = resp ? Children(*resp) : std::nullopt;
  if (!children || children->size() != 1) return ::testing::AssertionFailure() << "a rejection must hold only PKIStatusInfo";
  auto status = Children((*children)[0]);
  if (!status || status->empty() || (*status)[0].content_bytes() != Bytes{0x02}) {
    return ::testing::AssertionFailure() << "PKIStatus is not the DER INTEGER 2";
  }
  std::string bits;
  for (std::size_t i = 1; i < status->size(); ++i) {
    if ((*status)[i].tag == kTagBitString) bits = ToHex((*status)[i].whole);
    if ((*status)[i].tag == kTagSequence) {
      auto texts = Children((*status)[i]);
      for (const DerElement& t : texts.value_or(std::vector<DerElement>{})) {
        if (t.tag != kTagUtf8String) return ::testing::AssertionFailure() << "statusString holds a non-UTF8String";
      }
    }
  }
  if (bits != FailBitsDer(expected)) {
    return ::testing::AssertionFailure() << "failInfo DER " << bits << " differs from " << FailBitsDer(expected);
  }
  // §1.3: statusString "short and generic, with no internal paths, OpenSSL error strings or key IDs".
  const std::string& text = info->status_string;
  if (text.size() > 120 || text.find('/') != std::string::npos || text.find("error:") != std::string::npos ||
      text.find(".pem") != std::string::npos) {
    return ::testing::AssertionFailure() << "statusString is not short and generic: \"" << text << "\"";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace tsa::test
