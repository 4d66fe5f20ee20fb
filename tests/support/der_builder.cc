#include "support/der_builder.h"

#include <cstdio>
#include <cstdlib>
#include <random>

namespace tsa::test {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "der_builder: %s\n", what.c_str());
  std::abort();
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

void AppendBase128(Bytes& out, std::uint64_t v) {
  std::uint8_t tmp[10];
  int n = 0;
  do {
    tmp[n++] = static_cast<std::uint8_t>(v & 0x7f);
    v >>= 7;
  } while (v != 0);
  while (n > 0) {
    --n;
    out.push_back(static_cast<std::uint8_t>(tmp[n] | (n > 0 ? 0x80 : 0x00)));
  }
}

Bytes AlgorithmIdentifier(const std::string& hash_oid, RequestBuilder::Params params) {
  Bytes content = Oid(hash_oid);
  switch (params) {
    case RequestBuilder::Params::kAbsent: break;
    case RequestBuilder::Params::kNull: content = Cat({content, Null()}); break;
    case RequestBuilder::Params::kOctetString: content = Cat({content, OctetString({0x01, 0x02})}); break;
  }
  return Tlv(kTagSequence, content);
}

}  // namespace

std::size_t DigestLengthForOid(std::string_view dotted) {
  if (dotted == oid::kSha1) return 20;
  if (dotted == oid::kMd5) return 16;
  if (dotted == oid::kSha224) return 28;
  if (dotted == oid::kSha256 || dotted == oid::kSha512_256 || dotted == oid::kSha3_256) return 32;
  if (dotted == oid::kSha384) return 48;
  if (dotted == oid::kSha512) return 64;
  return 0;
}

Bytes EncodeLength(std::size_t length) {
  if (length < 0x80) return {static_cast<std::uint8_t>(length)};
  Bytes be;
  for (std::size_t v = length; v != 0; v >>= 8) be.insert(be.begin(), static_cast<std::uint8_t>(v & 0xff));
  Bytes out{static_cast<std::uint8_t>(0x80 | be.size())};
  out.insert(out.end(), be.begin(), be.end());
  return out;
}

Bytes Tlv(std::uint8_t tag, const Bytes& content) {
  Bytes out{tag};
  const Bytes len = EncodeLength(content.size());
  out.insert(out.end(), len.begin(), len.end());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes TlvLongLength(std::uint8_t tag, const Bytes& content, std::size_t length_octets) {
  if (length_octets == 0 || length_octets > 8) Die("length_octets must be 1..8");
  Bytes out{tag, static_cast<std::uint8_t>(0x80 | length_octets)};
  for (std::size_t i = length_octets; i-- > 0;) {
    out.push_back(i >= sizeof(std::size_t) ? 0 : static_cast<std::uint8_t>((content.size() >> (8 * i)) & 0xff));
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

Bytes TlvIndefinite(std::uint8_t tag, const Bytes& content) {
  if ((tag & 0x20) == 0) Die("indefinite length needs a constructed tag");
  Bytes out{tag, 0x80};
  out.insert(out.end(), content.begin(), content.end());
  out.push_back(0x00);
  out.push_back(0x00);
  return out;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes Sequence(std::initializer_list<Bytes> children) { return Tlv(kTagSequence, Cat(children)); }

Bytes OidContent(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  std::uint64_t cur = 0;
  bool have_digit = false;
  for (char c : dotted) {
    if (c == '.') {
      if (!have_digit) Die("bad OID " + std::string(dotted));
      arcs.push_back(cur);
      cur = 0;
      have_digit = false;
    } else if (c >= '0' && c <= '9') {
      cur = cur * 10 + static_cast<std::uint64_t>(c - '0');
      have_digit = true;
    } else {
      Die("bad OID " + std::string(dotted));
    }
  }
  if (!have_digit) Die("bad OID " + std::string(dotted));
  arcs.push_back(cur);
  if (arcs.size() < 2 || arcs[0] > 2) Die("bad OID " + std::string(dotted));
  Bytes out;
  AppendBase128(out, arcs[0] * 40 + arcs[1]);
  for (std::size_t i = 2; i < arcs.size(); ++i) AppendBase128(out, arcs[i]);
  return out;
}

Bytes Oid(std::string_view dotted) { return Tlv(kTagOid, OidContent(dotted)); }

Bytes IntegerWithContent(const Bytes& content) { return Tlv(kTagInteger, content); }

Bytes IntegerContent(std::int64_t v) {
  Bytes out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
  // Drop redundant leading octets (00 followed by a clear top bit, ff followed by a set one).
  std::size_t first = 0;
  while (first + 1 < out.size() &&
         ((out[first] == 0x00 && (out[first + 1] & 0x80) == 0) || (out[first] == 0xff && (out[first + 1] & 0x80) != 0))) {
    ++first;
  }
  return Bytes(out.begin() + static_cast<long>(first), out.end());
}

Bytes UnsignedIntegerContent(const Bytes& magnitude) {
  std::size_t first = 0;
  while (first < magnitude.size() && magnitude[first] == 0) ++first;
  Bytes out(magnitude.begin() + static_cast<long>(first), magnitude.end());
  if (out.empty()) return {0x00};
  if (out.front() & 0x80) out.insert(out.begin(), 0x00);
  return out;
}

Bytes Boolean(bool v) { return {kTagBoolean, 0x01, static_cast<std::uint8_t>(v ? 0xff : 0x00)}; }
Bytes BooleanWithByte(std::uint8_t value) { return {kTagBoolean, 0x01, value}; }
Bytes Null() { return {kTagNull, 0x00}; }
Bytes OctetString(const Bytes& content) { return Tlv(kTagOctetString, content); }

Bytes FromHex(std::string_view hex) {
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    Die("bad hex " + std::string(hex));
  };
  if (hex.size() % 2 != 0) Die("odd hex " + std::string(hex));
  Bytes out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

std::string ToHex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

Bytes RandomBytes(std::size_t n) {
  Bytes out(n);
  std::uniform_int_distribution<int> dist(0, 255);
  for (auto& b : out) b = static_cast<std::uint8_t>(dist(Rng()));
  return out;
}

Bytes RandomNonceContent(std::size_t bits) {
  if (bits == 0) Die("nonce bits must be positive");
  const std::size_t bytes = (bits + 7) / 8;
  Bytes magnitude = RandomBytes(bytes);
  const unsigned top_bits = static_cast<unsigned>(bits - (bytes - 1) * 8);  // 1..8 bits in the first octet
  const auto mask = static_cast<std::uint8_t>((1u << top_bits) - 1);
  magnitude[0] = static_cast<std::uint8_t>((magnitude[0] & mask) | (1u << (top_bits - 1)));
  return UnsignedIntegerContent(magnitude);
}

RequestBuilder RequestBuilder::Default() {
  RequestBuilder b;
  b.digest = RandomBytes(32);
  b.nonce = RandomNonceContent(63);
  b.cert_req = CertReq::kTrue;
  return b;
}

RequestBuilder& RequestBuilder::WithHash(std::string_view hash_oid_value) {
  hash_oid = std::string(hash_oid_value);
  digest = RandomBytes(DigestLengthForOid(hash_oid_value));
  return *this;
}

Bytes RequestBuilder::ImprintDer() const { return Sequence({AlgorithmIdentifier(hash_oid, params), OctetString(digest)}); }

bool RequestBuilder::WantsCertificates() const {
  return cert_req == CertReq::kTrue || (cert_req == CertReq::kRawByte && cert_req_byte != 0);
}

Bytes RequestBuilder::Encode() const {
  Bytes body = IntegerWithContent(version);
  const Bytes alg = AlgorithmIdentifier(hash_oid, params);
  switch (framing) {
    case Framing::kDer: body = Cat({body, ImprintDer()}); break;
    case Framing::kIndefiniteLength: body = Cat({body, TlvIndefinite(kTagSequence, Cat({alg, OctetString(digest)}))}); break;
    case Framing::kLongFormLength: body = Cat({body, Sequence({alg, TlvLongLength(kTagOctetString, digest, 2)})}); break;
  }
  if (policy) body = Cat({body, Oid(*policy)});
  if (nonce) body = Cat({body, IntegerWithContent(*nonce)});
  switch (cert_req) {
    case CertReq::kAbsent: break;
    case CertReq::kTrue: body = Cat({body, Boolean(true)}); break;
    case CertReq::kExplicitFalse: body = Cat({body, Boolean(false)}); break;
    case CertReq::kRawByte: body = Cat({body, BooleanWithByte(cert_req_byte)}); break;
  }
  if (extensions) {
    // [0] IMPLICIT Extensions: the SEQUENCE OF tag is replaced by [0] constructed.
    Bytes exts;
    for (const Extension& e : *extensions) {
      Bytes ext = Oid(e.oid);
      if (e.critical) ext = Cat({ext, Boolean(true)});
      ext = Cat({ext, OctetString(e.value)});
      exts = Cat({exts, Tlv(kTagSequence, ext)});
    }
    body = Cat({body, Tlv(kTagContext0, exts)});
  }
  switch (framing) {
    case Framing::kDer: return Tlv(outer_tag, body);
    case Framing::kIndefiniteLength: return TlvIndefinite(outer_tag, body);
    case Framing::kLongFormLength: return TlvLongLength(outer_tag, body, 3);
  }
  return {};
}

std::optional<DerElement> ReadTlv(std::span<const std::uint8_t>& in) {
  if (in.size() < 2) return std::nullopt;
  const std::uint8_t tag = in[0];
  if ((tag & 0x1f) == 0x1f) return std::nullopt;  // multi-octet tags are not used by RFC 3161
  std::size_t pos = 1;
  std::size_t len = 0;
  const std::uint8_t first = in[pos++];
  if (first < 0x80) {
    len = first;
  } else {
    const std::size_t n = first & 0x7f;
    if (n == 0 || n > sizeof(std::size_t) || in.size() < pos + n) return std::nullopt;  // indefinite or truncated
    if (in[pos] == 0) return std::nullopt;                                              // non-minimal: leading zero octet
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | in[pos++];
    if (len < 0x80) return std::nullopt;  // non-minimal: short form would do
  }
  if (in.size() - pos < len) return std::nullopt;
  DerElement t;
  t.tag = tag;
  t.content = in.subspan(pos, len);
  t.whole = in.subspan(0, pos + len);
  in = in.subspan(pos + len);
  return t;
}

std::optional<DerElement> ParseSingle(std::span<const std::uint8_t> der) {
  auto t = ReadTlv(der);
  if (!t || !der.empty()) return std::nullopt;
  return t;
}

std::optional<std::vector<DerElement>> Children(const DerElement& parent) {
  if ((parent.tag & 0x20) == 0) return std::nullopt;
  std::vector<DerElement> out;
  std::span<const std::uint8_t> rest = parent.content;
  while (!rest.empty()) {
    auto t = ReadTlv(rest);
    if (!t) return std::nullopt;
    out.push_back(*t);
  }
  return out;
}

std::string DecodeOid(std::span<const std::uint8_t> content) {
  if (content.empty() || (content.back() & 0x80) != 0) return "";
  std::vector<std::uint64_t> values;
  std::uint64_t cur = 0;
  bool fresh = true;
  for (std::uint8_t b : content) {
    if (fresh && b == 0x80) return "";  // non-minimal arc
    cur = (cur << 7) | (b & 0x7f);
    fresh = false;
    if ((b & 0x80) == 0) {
      values.push_back(cur);
      cur = 0;
      fresh = true;
    }
  }
  std::string out;
  const std::uint64_t first = values[0];
  const std::uint64_t a0 = first < 40 ? 0 : first < 80 ? 1 : 2;
  out = std::to_string(a0) + "." + std::to_string(first - a0 * 40);
  for (std::size_t i = 1; i < values.size(); ++i) out += "." + std::to_string(values[i]);
  return out;
}

}  // namespace tsa::test
