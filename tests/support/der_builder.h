// A hand-written DER/BER encoder (and a strict DER reader) for tests: it crafts TimeStampReq
// variants that a normal encoder refuses to produce (version 2^70, NULL vs absent vs OCTET STRING
// hash parameters, any digest length, non-minimal or empty INTEGERs, explicit certReq FALSE,
// BOOLEAN 0x01, empty [0] extensions, indefinite and non-minimal long-form lengths, trailing bytes,
// a wrong outer tag), and walks DER replies byte by byte so that checks do not depend on the
// library under test. Nothing here uses OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tsa::test {

using Bytes = std::vector<std::uint8_t>;

// ---- universal tags -------------------------------------------------------------------------
inline constexpr std::uint8_t kTagBoolean = 0x01;
inline constexpr std::uint8_t kTagInteger = 0x02;
inline constexpr std::uint8_t kTagBitString = 0x03;
inline constexpr std::uint8_t kTagOctetString = 0x04;
inline constexpr std::uint8_t kTagNull = 0x05;
inline constexpr std::uint8_t kTagOid = 0x06;
inline constexpr std::uint8_t kTagUtf8String = 0x0c;
inline constexpr std::uint8_t kTagGeneralizedTime = 0x18;
inline constexpr std::uint8_t kTagSequence = 0x30;
inline constexpr std::uint8_t kTagSet = 0x31;
inline constexpr std::uint8_t kTagContext0 = 0xa0;  // [0] constructed
inline constexpr std::uint8_t kTagContext1 = 0xa1;  // [1] constructed

// ---- OIDs used by the tests -----------------------------------------------------------------
namespace oid {
inline constexpr const char* kSha1 = "1.3.14.3.2.26";
inline constexpr const char* kMd5 = "1.2.840.113549.2.5";
inline constexpr const char* kSha224 = "2.16.840.1.101.3.4.2.4";
inline constexpr const char* kSha256 = "2.16.840.1.101.3.4.2.1";
inline constexpr const char* kSha384 = "2.16.840.1.101.3.4.2.2";
inline constexpr const char* kSha512 = "2.16.840.1.101.3.4.2.3";
inline constexpr const char* kSha512_256 = "2.16.840.1.101.3.4.2.6";
inline constexpr const char* kSha3_256 = "2.16.840.1.101.3.4.2.8";
inline constexpr const char* kSha256WithRsa = "1.2.840.113549.1.1.11";
inline constexpr const char* kUnknownHash = "1.3.6.1.4.1.99999.42.1";
inline constexpr const char* kDefaultPolicy = "1.3.6.1.4.1.99999.1.1";  // conformance §6.1
inline constexpr const char* kExtraPolicy = "1.3.6.1.4.1.99999.1.2";
inline constexpr const char* kUnknownPolicy = "1.3.6.1.4.1.99999.1.99";
inline constexpr const char* kSignedData = "1.2.840.113549.1.7.2";
inline constexpr const char* kTstInfo = "1.2.840.113549.1.9.16.1.4";
inline constexpr const char* kContentType = "1.2.840.113549.1.9.3";
inline constexpr const char* kMessageDigest = "1.2.840.113549.1.9.4";
inline constexpr const char* kSigningCertificate = "1.2.840.113549.1.9.16.2.12";
inline constexpr const char* kSigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";
}  // namespace oid

// Digest length for the hash OIDs above (0 for an unknown OID).
std::size_t DigestLengthForOid(std::string_view dotted);

// ---- encoding primitives --------------------------------------------------------------------

// Definite, minimal (DER) length octets.
Bytes EncodeLength(std::size_t length);
// tag || DER length || content.
Bytes Tlv(std::uint8_t tag, const Bytes& content);
// tag || 0x80|n || length in n big-endian octets (non-minimal when n is larger than needed) || content.
Bytes TlvLongLength(std::uint8_t tag, const Bytes& content, std::size_t length_octets = 2);
// BER indefinite length: tag (must be constructed) || 0x80 || content || 00 00.
Bytes TlvIndefinite(std::uint8_t tag, const Bytes& content);
Bytes Cat(std::initializer_list<Bytes> parts);
Bytes Sequence(std::initializer_list<Bytes> children);

Bytes OidContent(std::string_view dotted);  // aborts the test process on a malformed OID string
Bytes Oid(std::string_view dotted);
// INTEGER with exactly these content octets (no normalisation: may be empty or non-minimal).
Bytes IntegerWithContent(const Bytes& content);
// Minimal two's complement content octets of v.
Bytes IntegerContent(std::int64_t v);
// Minimal content octets of a non-negative big-endian magnitude (0x00 prefix when the top bit is set).
Bytes UnsignedIntegerContent(const Bytes& magnitude);
Bytes Boolean(bool v);                      // 01 01 FF / 01 01 00
Bytes BooleanWithByte(std::uint8_t value);  // 01 01 value (BER allows any non-zero for TRUE)
Bytes Null();
Bytes OctetString(const Bytes& content);

// ---- misc -----------------------------------------------------------------------------------
Bytes FromHex(std::string_view hex);                     // aborts on bad hex
std::string ToHex(std::span<const std::uint8_t> bytes);  // lower case
Bytes RandomBytes(std::size_t n);
// A random positive nonce of exactly `bits` bits (top bit of the magnitude set), as minimal
// INTEGER content octets: 64 bits -> 9 octets (00 pad), 63 bits -> 8 octets.
Bytes RandomNonceContent(std::size_t bits);

// ---- TimeStampReq builder -------------------------------------------------------------------
//
// TimeStampReq ::= SEQUENCE { version INTEGER { v1(1) }, messageImprint MessageImprint,
//    reqPolicy TSAPolicyId OPTIONAL, nonce INTEGER OPTIONAL, certReq BOOLEAN DEFAULT FALSE,
//    extensions [0] IMPLICIT Extensions OPTIONAL }
struct RequestBuilder {
  enum class Params { kAbsent, kNull, kOctetString };
  enum class CertReq { kAbsent, kTrue, kExplicitFalse, kRawByte };
  enum class Framing {
    kDer,
    kIndefiniteLength,  // outer SEQUENCE and MessageImprint SEQUENCE with BER indefinite length
    kLongFormLength,    // outer SEQUENCE and the digest OCTET STRING with non-minimal long-form lengths
  };
  struct Extension {
    std::string oid;
    bool critical = false;
    Bytes value = {0x05, 0x00};  // extnValue OCTET STRING content
  };

  Bytes version = {0x01};  // INTEGER content octets
  std::string hash_oid = oid::kSha256;
  Params params = Params::kNull;
  Bytes digest = Bytes(32, 0xa5);
  std::optional<std::string> policy;
  std::optional<Bytes> nonce;  // INTEGER content octets, sent exactly as given
  CertReq cert_req = CertReq::kTrue;
  std::uint8_t cert_req_byte = 0x01;                 // for kRawByte
  std::optional<std::vector<Extension>> extensions;  // an empty vector encodes an empty [0]
  Framing framing = Framing::kDer;
  std::uint8_t outer_tag = kTagSequence;

  // SHA-256, a random digest, a random positive 63-bit nonce, certReq TRUE: what openssl ts -query
  // -cert sends.
  static RequestBuilder Default();
  // Switches the algorithm and draws a random digest of its length.
  RequestBuilder& WithHash(std::string_view hash_oid);

  Bytes Encode() const;
  // MessageImprint in DER: what TSTInfo.messageImprint must be, byte for byte.
  Bytes ImprintDer() const;
  // Whether a grant must carry certificates (certReq TRUE in any encoding).
  bool WantsCertificates() const;
};

// ---- strict DER reader ----------------------------------------------------------------------

struct DerElement {
  std::uint8_t tag = 0;
  std::span<const std::uint8_t> content;
  std::span<const std::uint8_t> whole;  // tag, length and content
  Bytes bytes() const { return Bytes(whole.begin(), whole.end()); }
  Bytes content_bytes() const { return Bytes(content.begin(), content.end()); }
};

// Reads one TLV from the front of `in` and advances it. DER only: single-octet tag, definite and
// minimal length. nullopt on anything else (including truncation).
std::optional<DerElement> ReadTlv(std::span<const std::uint8_t>& in);
// Exactly one TLV spanning all of `der`.
std::optional<DerElement> ParseSingle(std::span<const std::uint8_t> der);
// The children of a constructed TLV; nullopt unless they parse and fill the content exactly.
std::optional<std::vector<DerElement>> Children(const DerElement& parent);
// Dotted text of OID content octets ("" when malformed).
std::string DecodeOid(std::span<const std::uint8_t> content);

}  // namespace tsa::test
