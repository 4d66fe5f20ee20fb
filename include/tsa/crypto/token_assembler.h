// Encodes a TimeStampResp directly in DER: the TSTInfo (RFC 3161 §2.4.2), the CMS SignedData
// around it (RFC 5652 §5) with the signed attributes contentType, signingTime, messageDigest and
// SigningCertificateV2 (RFC 5816 §2.2.1), in exactly the form OpenSSL's TS_RESP_create_response
// writes, from parts precomputed once per certificate. Only the private-key operation is left
// to the caller (DigestSigner). Why: TS_RESP builds, copies and re-encodes some hundred ASN.1
// objects per token, which costs about four times the ECDSA P-256 signature itself.
//
// The equivalence with OpenSSL is checked at start-up (TokenSigner's self-test) and in tests:
// given OpenSSL's signature, the assembler reproduces OpenSSL's response byte for byte.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tsa/core/clock.h"
#include "tsa/core/result.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/signer_material.h"

namespace tsa::crypto {

struct SignerOptions;

class TokenAssembler {
 public:
  using Bytes = std::vector<std::uint8_t>;

  // Fails (kInvalidArgument) for keys OpenSSL's PKCS #7 code would sign differently than
  // PKCS #1 v1.5 or ECDSA: the caller then keeps OpenSSL's TS_RESP path.
  static Result<std::unique_ptr<TokenAssembler>> Create(const SignerMaterial& material, const SignerOptions& options);

  // Everything but the signature, for one request (the DER that DecodeRequest re-encoded and
  // ValidateRequest accepted).
  struct Unsigned {
    Bytes tst_info;           // the eContent
    Bytes signed_attributes;  // as signed: the SET OF (tag 0x31) of RFC 5652 §5.4
    bool cert_req = false;
  };
  Result<Unsigned> BuildUnsigned(std::span<const std::uint8_t> der_request, std::span<const std::uint8_t> serial,
                                 core::UnixMicros gen_time) const;

  // The digest of the signed attributes, which the key signs (RFC 5652 §5.4).
  Result<Bytes> SignedAttributesDigest(const Unsigned& u) const;

  struct Encoded {
    Bytes response_der;  // TimeStampResp, status granted
    Bytes token_der;     // its TimeStampToken (ContentInfo)
  };
  Encoded Finish(const Unsigned& u, std::span<const std::uint8_t> signature) const;

  const EVP_MD* signer_digest() const { return md_.get(); }

 private:
  TokenAssembler() = default;
  Bytes EncodeTstInfo(std::span<const std::uint8_t> policy, std::span<const std::uint8_t> imprint,
                      std::span<const std::uint8_t> serial, core::UnixMicros gen_time, std::span<const std::uint8_t> nonce) const;
  Status CheckAccepted(std::span<const std::uint8_t> hash_oid, std::size_t digest_size, bool parameters_ok,
                       std::span<const std::uint8_t> policy) const;
  Bytes EncodeSignedAttributes(const Bytes& tst_info_digest, core::UnixMicros gen_time) const;

  UniquePtr<EVP_MD> md_;                                        // the signer digest, fetched once
  int clock_digits_ = 3;                                        // genTime fraction digits
  Bytes default_policy_;                                        // OID TLV
  std::vector<Bytes> accepted_policies_;                        // OID TLVs, the default first
  std::vector<std::pair<Bytes, std::size_t>> accepted_hashes_;  // OID TLV and digest length
  Bytes accuracy_;                                              // Accuracy SEQUENCE, or empty when all of it is zero
  Bytes tsa_name_;                                              // [0] GeneralName, or empty
  Bytes digest_algorithm_;                                      // AlgorithmIdentifier of md_, with NULL parameters (as OpenSSL)
  Bytes signature_algorithm_;                                   // ecdsa-with-SHAxxx, or rsaEncryption with NULL (PKCS #7 usage)
  Bytes signer_id_;                                             // IssuerAndSerialNumber
  Bytes certificates_;                                          // the signer then the embedded chain, each DER (for certReq)
  Bytes content_type_attr_;                                     // contentType = id-ct-TSTInfo
  Bytes signing_cert_attr_;                                     // SigningCertificateV2 with the certificate's SHA-256
  Bytes oid_signed_data_;
  Bytes oid_tst_info_;
  Bytes oid_signing_time_;
  Bytes oid_message_digest_;
};

}  // namespace tsa::crypto
