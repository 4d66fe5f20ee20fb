#include "tsa/crypto/cert_factory.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "tsa/crypto/pkcs11_key.h"

namespace tsa::crypto {
namespace {

namespace fs = std::filesystem;

constexpr char kDevCaSubject[] = "/C=XX/O=tsad development/CN=tsad Development Root CA";
constexpr int kMaxDevPkiDays = 36500;
// Dev certificates start a few minutes in the past so that a verifier whose clock is slightly
// behind ours does not reject a brand-new certificate as "not yet valid".
constexpr long kDevBackdateSeconds = -300;

Error CryptoError(const std::string& what) { return Error{ErrorKind::kCrypto, what + ": " + DrainOpensslErrors()}; }

Error InvalidArgument(std::string message) { return Error{ErrorKind::kInvalidArgument, std::move(message)}; }

Error IoError(const std::string& what, int err) {
  return Error{ErrorKind::kIo, what + ": " + std::error_code(err, std::generic_category()).message()};
}

// EdDSA has no separate digest: X509_sign must get a NULL md for these keys.
bool SignsWithoutDigest(EVP_PKEY* key) { return EVP_PKEY_is_a(key, "ED25519") == 1 || EVP_PKEY_is_a(key, "ED448") == 1; }

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return CryptoError(std::string("add ") + OBJ_nid2sn(nid) + " extension \"" + value + "\"");
  }
  return Ok();
}

Status AddExtensions(const CertProfile& profile, X509* cert, X509* issuer_cert) {
  X509V3_CTX ctx;
  // For a self-signed certificate the issuer is the certificate itself.
  X509V3_set_ctx(&ctx, issuer_cert != nullptr ? issuer_cert : cert, cert, nullptr, nullptr, 0);
  if (profile.is_ca) {
    TSA_TRY(AddExtension(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
    TSA_TRY(AddExtension(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    TSA_TRY(AddExtension(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE"));
    TSA_TRY(AddExtension(cert, &ctx, NID_key_usage,
                         std::string(profile.key_usage_digital_signature_critical ? "critical," : "") + "digitalSignature"));
    switch (profile.eku) {
      case CertProfile::kTimeStampingCritical:
        TSA_TRY(AddExtension(cert, &ctx, NID_ext_key_usage, "critical,timeStamping"));
        break;
      case CertProfile::kTimeStampingNonCritical: TSA_TRY(AddExtension(cert, &ctx, NID_ext_key_usage, "timeStamping")); break;
      case CertProfile::kTimeStampingPlusServerAuth:
        TSA_TRY(AddExtension(cert, &ctx, NID_ext_key_usage, "critical,timeStamping,serverAuth"));
        break;
      case CertProfile::kNone: break;
    }
  }
  if (profile.key_usage_not_after_offset_seconds) {
    UniquePtr<PKEY_USAGE_PERIOD> period(PKEY_USAGE_PERIOD_new());
    if (!period) return CryptoError("allocate privateKeyUsagePeriod");
    period->notAfter = ASN1_GENERALIZEDTIME_adj(nullptr, std::time(nullptr), 0, *profile.key_usage_not_after_offset_seconds);
    if (period->notAfter == nullptr ||
        X509_add1_ext_i2d(cert, NID_private_key_usage_period, period.get(), 0, X509V3_ADD_DEFAULT) != 1) {
      return CryptoError("add privateKeyUsagePeriod");
    }
  }
  // SKID is computed from the public key already set on cert; it must precede AKID so that a
  // certificate issued later by this one finds it.
  TSA_TRY(AddExtension(cert, &ctx, NID_subject_key_identifier, "hash"));
  // A self-signed certificate may omit AKID (RFC 5280 §4.2.1.1); anything else must name the
  // issuer's key so that chain building picks the right CA.
  if (issuer_cert != nullptr) TSA_TRY(AddExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always"));
  return Ok();
}

// The PEM text of a private key, in secure memory (cleansed when the BIO is freed).
Result<UniquePtr<BIO>> PrivateKeyPem(EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_secmem()));
  if (!bio) return CryptoError("allocate key buffer");
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return CryptoError("encode private key as PKCS#8 PEM");
  }
  return bio;
}

std::string_view MemBioData(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string_view(data, static_cast<std::size_t>(len)) : std::string_view();
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Closes now and reports the result (close can report a deferred write error).
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

Status WriteFileWithMode(const std::string& path, std::string_view data, mode_t mode, WritePolicy policy) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (policy == WritePolicy::kCreateNew ? O_EXCL : O_TRUNC);
  const int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) return IoError("create " + path, errno);
  FdCloser closer(fd);
  // open() applies the mode only to a new file (and minus the umask); a replaced file keeps its
  // old mode. Fix it before writing so that key bytes never sit in a group/world-readable file.
  if (::fchmod(fd, mode) != 0) return IoError("chmod " + path, errno);
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write " + path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) return IoError("fsync " + path, errno);
  if (closer.Close() != 0) return IoError("close " + path, errno);
  return Ok();
}

}  // namespace

std::optional<KeyType> KeyTypeFromName(std::string_view name) {
  for (KeyType t :
       {KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kEcP256, KeyType::kEcP384, KeyType::kEd25519, KeyType::kRsaPss}) {
    if (name == KeyTypeName(t)) return t;
  }
  return std::nullopt;
}

const char* KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kRsa2048: return "rsa2048";
    case KeyType::kRsa3072: return "rsa3072";
    case KeyType::kEcP256: return "ec-p256";
    case KeyType::kEcP384: return "ec-p384";
    case KeyType::kEd25519: return "ed25519";
    case KeyType::kRsaPss: return "rsa-pss";
  }
  return "unknown";
}

Result<UniquePtr<EVP_PKEY>> GenerateKey(KeyType type) {
  ERR_clear_error();
  const char* algorithm = "RSA";
  int rsa_bits = 0;
  const char* curve = nullptr;
  switch (type) {
    case KeyType::kRsa2048: rsa_bits = 2048; break;
    case KeyType::kRsa3072: rsa_bits = 3072; break;
    // RSASSA-PSS-only key (id-RSASSA-PSS SPKI), 2048 bits like the smallest plain RSA type.
    case KeyType::kRsaPss:
      algorithm = "RSA-PSS";
      rsa_bits = 2048;
      break;
    case KeyType::kEcP256:
      algorithm = "EC";
      curve = "P-256";
      break;
    case KeyType::kEcP384:
      algorithm = "EC";
      curve = "P-384";
      break;
    case KeyType::kEd25519: algorithm = "ED25519"; break;
  }
  const std::string what = std::string("generate ") + KeyTypeName(type) + " key";

  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) <= 0) return CryptoError(what);
  if (rsa_bits != 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_bits) <= 0) {
    return CryptoError(what);
  }
  if (curve != nullptr && EVP_PKEY_CTX_set_group_name(ctx.get(), curve) <= 0) return CryptoError(what);

  EVP_PKEY* raw = nullptr;
  const int rc = EVP_PKEY_generate(ctx.get(), &raw);
  UniquePtr<EVP_PKEY> key(raw);
  if (rc <= 0 || !key) return CryptoError(what);
  return key;
}

Result<UniquePtr<X509_NAME>> ParseSubject(std::string_view subject) {
  ERR_clear_error();
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid subject \"" + std::string(subject) + "\": " + why);
  };
  if (subject.empty() || subject.front() != '/') {
    return bad("expected OpenSSL slash format such as /C=XX/O=Example/CN=Example TSA");
  }

  // Split "/type=value/type=value" honouring backslash escapes; the first unescaped '=' of a
  // component ends the attribute type.
  struct Component {
    std::string type, value;
    bool has_equals = false;
  };
  std::vector<Component> components(1);
  for (std::size_t i = 1; i < subject.size(); ++i) {
    char c = subject[i];
    Component& cur = components.back();
    if (c == '\\') {
      if (i + 1 == subject.size()) return bad("trailing backslash");
      c = subject[++i];
      (cur.has_equals ? cur.value : cur.type).push_back(c);
    } else if (c == '/') {
      components.emplace_back();
    } else if (c == '=' && !cur.has_equals) {
      cur.has_equals = true;
    } else {
      (cur.has_equals ? cur.value : cur.type).push_back(c);
    }
  }

  UniquePtr<X509_NAME> name(X509_NAME_new());
  if (!name) return CryptoError("allocate X509_NAME");
  for (const Component& comp : components) {
    if (comp.type.empty() && !comp.has_equals) return bad("empty component (\"//\" or a trailing '/')");
    if (!comp.has_equals) return bad("missing '=' after \"" + comp.type + "\"");
    if (comp.type.empty()) return bad("missing attribute type before '='");
    if (comp.value.empty()) return bad("empty value for " + comp.type);
    if (OBJ_txt2nid(comp.type.c_str()) == NID_undef) {
      ERR_clear_error();
      return bad("unknown attribute type \"" + comp.type + "\"");
    }
    if (X509_NAME_add_entry_by_txt(name.get(), comp.type.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(comp.value.data()), static_cast<int>(comp.value.size()),
                                   -1, 0) != 1) {
      // e.g. a countryName that is not two letters: OpenSSL says "string too long ... maxsize=2".
      return bad("value for " + comp.type + " rejected: " + DrainOpensslErrors());
    }
  }
  return name;
}

Result<UniquePtr<X509>> IssueCertificate(const CertProfile& profile, EVP_PKEY* subject_key, X509* issuer_cert,
                                         EVP_PKEY* issuer_key) {
  ERR_clear_error();
  if (subject_key == nullptr) return InvalidArgument("issue certificate: no subject key");
  const bool self_signed = issuer_cert == nullptr;
  if (self_signed && issuer_key == nullptr) issuer_key = subject_key;
  if (issuer_key == nullptr) return InvalidArgument("issue certificate: no issuer key");
  if (profile.validity_days < 0 || profile.validity_days > std::numeric_limits<int>::max() || profile.validity_seconds < 0 ||
      (profile.validity_days == 0 && profile.validity_seconds == 0)) {
    return InvalidArgument("issue certificate: the validity must be positive and validity_days fit an int");
  }
  if (self_signed && EVP_PKEY_eq(subject_key, issuer_key) != 1) {
    ERR_clear_error();
    return InvalidArgument("issue certificate: a self-signed certificate must be signed with its own key");
  }
  if (!self_signed && X509_check_private_key(issuer_cert, issuer_key) != 1) {
    return InvalidArgument("issue certificate: issuer key does not match the issuer certificate: " + DrainOpensslErrors());
  }
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509_NAME> subject, ParseSubject(profile.subject));

  UniquePtr<X509> cert(X509_new());
  if (!cert) return CryptoError("allocate certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return CryptoError("set certificate version");

  // 128 bits with the top bit set: positive, non-zero, well above the 64 bits of entropy that
  // make serials unpredictable, and 17 DER octets (within RFC 5280's 20).
  UniquePtr<BIGNUM> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return CryptoError("generate serial number");
  }

  X509_NAME* issuer_name = self_signed ? subject.get() : X509_get_subject_name(issuer_cert);
  if (X509_set_subject_name(cert.get(), subject.get()) != 1 || X509_set_issuer_name(cert.get(), issuer_name) != 1) {
    return CryptoError("set certificate names");
  }
  if (X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, profile.not_before_offset_seconds, nullptr) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(profile.validity_days),
                       profile.not_before_offset_seconds + profile.validity_seconds, nullptr) == nullptr) {
    return CryptoError("set certificate validity");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) return CryptoError("set certificate public key");

  TSA_TRY(AddExtensions(profile, cert.get(), issuer_cert));

  const EVP_MD* md = SignsWithoutDigest(issuer_key) ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), issuer_key, md) <= 0) return CryptoError("sign certificate");
  return cert;
}

Status WritePrivateKeyPem(const std::string& path, EVP_PKEY* key, WritePolicy policy) {
  ERR_clear_error();
  if (key == nullptr) return InvalidArgument("write " + path + ": no key");
  TSA_ASSIGN_OR_RETURN(UniquePtr<BIO> pem, PrivateKeyPem(key));
  return WriteFileWithMode(path, MemBioData(pem.get()), 0600, policy);
}

Status WriteCertificatesPem(const std::string& path, const std::vector<X509*>& certs, WritePolicy policy) {
  ERR_clear_error();
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio) return CryptoError("allocate certificate buffer");
  for (X509* cert : certs) {
    if (cert == nullptr) return InvalidArgument("write " + path + ": null certificate");
    if (PEM_write_bio_X509(bio.get(), cert) != 1) return CryptoError("encode certificate as PEM");
  }
  return WriteFileWithMode(path, MemBioData(bio.get()), 0644, policy);
}

DevPkiFiles DevPkiPaths(const std::string& dir) {
  const fs::path d(dir);
  return DevPkiFiles{
      .ca_key = (d / "ca_key.pem").string(),
      .ca_cert = (d / "ca_cert.pem").string(),
      .tsa_key = (d / "tsa_key.pem").string(),
      .tsa_cert = (d / "tsa_cert.pem").string(),
      .chain = (d / "chain.pem").string(),
  };
}

Status ValidateDevPkiOptions(const DevPkiOptions& options) {
  ERR_clear_error();
  if (options.dir.empty()) return InvalidArgument("no output directory given");
  if (options.days < 1 || options.days > kMaxDevPkiDays) {
    return InvalidArgument("days must be between 1 and " + std::to_string(kMaxDevPkiDays));
  }
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509_NAME> subject, ParseSubject(options.subject));
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509_NAME> ca_subject, ParseSubject(kDevCaSubject));
  // The same name would make the TSA certificate look self-issued and confuse chain building.
  if (X509_NAME_cmp(subject.get(), ca_subject.get()) == 0) {
    return InvalidArgument("the TSA subject must differ from the CA subject " + std::string(kDevCaSubject));
  }
  return Ok();
}

Result<DevPkiFiles> CreateDevPki(const DevPkiOptions& options) {
  ERR_clear_error();
  TSA_TRY(ValidateDevPkiOptions(options));
  DevPkiFiles files = DevPkiPaths(options.dir);

  if (!options.force) {
    for (const std::string& path : files.All()) {
      if (!options.existing_key.empty() && path == files.tsa_key) continue;  // not written
      std::error_code ec;
      // symlink_status: a dangling symlink also counts as "exists" (writing would follow it).
      const fs::file_status st = fs::symlink_status(path, ec);
      if (st.type() == fs::file_type::not_found) continue;
      if (st.type() == fs::file_type::none) return IoError("stat " + path, ec.value());
      return InvalidArgument("certificates already exist in " + options.dir + " (use --force to overwrite)");
    }
  }

  // Everything is generated before the first file is written, so a crypto failure leaves no
  // half-made PKI behind.
  UniquePtr<EVP_PKEY> tsa_key;
  if (options.existing_key.empty()) {
    TSA_ASSIGN_OR_RETURN(tsa_key, GenerateKey(options.key_type));
  } else {
    TSA_ASSIGN_OR_RETURN(tsa_key, LoadPrivateKey(options.existing_key, options.pkcs11_module));
    files.tsa_key.clear();
  }
  const bool rsa_family = EVP_PKEY_get_base_id(tsa_key.get()) == EVP_PKEY_RSA ||
                          EVP_PKEY_get_base_id(tsa_key.get()) == EVP_PKEY_RSA_PSS;
  // RSA TSA keys get an RSA-3072 CA, all others a P-384 CA: at least as strong as the TSA key and
  // verifiable by every client that can verify the TSA's own algorithm family.
  TSA_ASSIGN_OR_RETURN(UniquePtr<EVP_PKEY> ca_key, GenerateKey(rsa_family ? KeyType::kRsa3072 : KeyType::kEcP384));
  CertProfile ca_profile;
  ca_profile.subject = kDevCaSubject;
  ca_profile.is_ca = true;
  ca_profile.not_before_offset_seconds = kDevBackdateSeconds;
  // Twice the TSA's validity: the CA must outlive every certificate (and so token) it vouches for.
  ca_profile.validity_days = 2L * options.days;
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509> ca_cert, IssueCertificate(ca_profile, ca_key.get(), nullptr, ca_key.get()));

  CertProfile tsa_profile;
  tsa_profile.subject = options.subject;
  tsa_profile.not_before_offset_seconds = kDevBackdateSeconds;
  tsa_profile.validity_days = options.days;
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509> tsa_cert, IssueCertificate(tsa_profile, tsa_key.get(), ca_cert.get(), ca_key.get()));

  std::error_code ec;
  const bool created = fs::create_directories(options.dir, ec);
  if (ec) return IoError("create directory " + options.dir, ec.value());
  if (created) {
    fs::permissions(options.dir, fs::perms(0755), fs::perm_options::replace, ec);
    if (ec) return IoError("chmod " + options.dir, ec.value());
  } else if (!fs::is_directory(options.dir, ec)) {
    return Error{ErrorKind::kIo, options.dir + " exists and is not a directory"};
  }

  // Without force, O_EXCL turns a file that appeared since the check above into an error instead
  // of silently replacing it.
  const WritePolicy policy = options.force ? WritePolicy::kOverwrite : WritePolicy::kCreateNew;
  TSA_TRY(WritePrivateKeyPem(files.ca_key, ca_key.get(), policy));
  TSA_TRY(WriteCertificatesPem(files.ca_cert, {ca_cert.get()}, policy));
  if (!files.tsa_key.empty()) TSA_TRY(WritePrivateKeyPem(files.tsa_key, tsa_key.get(), policy));
  TSA_TRY(WriteCertificatesPem(files.tsa_cert, {tsa_cert.get()}, policy));
  TSA_TRY(WriteCertificatesPem(files.chain, {ca_cert.get()}, policy));
  return files;
}

Result<UniquePtr<EVP_PKEY>> LoadPrivateKey(const std::string& pem_path_or_uri, const std::string& pkcs11_module) {
  ERR_clear_error();
  if (IsPkcs11Uri(pem_path_or_uri)) {
    TSA_ASSIGN_OR_RETURN(EVP_PKEY * key,
                         LoadPkcs11PrivateKey(pem_path_or_uri, pkcs11_module.empty() ? kDefaultPkcs11Module : pkcs11_module));
    return UniquePtr<EVP_PKEY>(key);
  }
  UniquePtr<BIO> bio(BIO_new_file(pem_path_or_uri.c_str(), "r"));
  if (!bio) return Error{ErrorKind::kNotFound, "cannot read the key " + pem_path_or_uri};
  UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Error{ErrorKind::kCrypto, "cannot parse the private key in " + pem_path_or_uri + " (PEM, unencrypted)"};
  return key;
}

Result<UniquePtr<X509_REQ>> CreateTsaCsr(EVP_PKEY* key, std::string_view subject) {
  ERR_clear_error();
  TSA_ASSIGN_OR_RETURN(UniquePtr<X509_NAME> name, ParseSubject(subject));
  UniquePtr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 || X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key) != 1) {
    return CryptoError("build certificate request");
  }
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_ext_key_usage, "critical,timeStamping"}, std::pair{NID_key_usage, "critical,digitalSignature"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) {
      sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
      return CryptoError("certificate request extension");
    }
    sk_X509_EXTENSION_push(exts, ext);
  }
  const int added = X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (added != 1) return CryptoError("add the extensionRequest");
  const EVP_MD* md = SignsWithoutDigest(key) ? nullptr : EVP_sha256();
  if (X509_REQ_sign(req.get(), key, md) <= 0) return CryptoError("sign certificate request");
  return req;
}

Status WriteCsrPem(const std::string& path, X509_REQ* csr, WritePolicy policy) {
  ERR_clear_error();
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), csr) != 1) return CryptoError("encode certificate request as PEM");
  return WriteFileWithMode(path, MemBioData(bio.get()), 0644, policy);
}

}  // namespace tsa::crypto
