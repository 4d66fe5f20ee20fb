// Helpers shared by the unit tests under tests/unit/ (not a test file itself: the build globs only
// *_test.cc). Everything is inline so that several test files can include it.
//
//   TempDir      a unique directory per test, removed with its contents at the end of the test
//   SharedPki()  one EC P-256 development PKI (tsa::crypto::CreateDevPki) per test binary
//   OtherPki()   a second, unrelated one ("another TSA")
//   FakeClock    a core::ClockSource the test sets by hand
//   PrintTo(KeyType) gtest's name for a KeyType parameter
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"
#include "tsa/core/request.h"
#include "tsa/crypto/cert_factory.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/signer_material.h"
#include "tsa/crypto/token_signer.h"

namespace tsa::crypto {

// gtest prints a parameter with PrintTo, found by argument-dependent lookup in KeyType's namespace
// ("GetParam() = rsa2048", not "4-byte object <00-00 00-00>"). It must be declared in every test
// file with KeyType parameters, hence here: gtest's printer for KeyType is a template instantiated
// in each such file, and the linker keeps one copy, so a PrintTo that only one file saw made the
// other file's names depend on link order and inlining (raw bytes in the -O2 asan build).
inline void PrintTo(KeyType type, std::ostream* os) { *os << KeyTypeName(type); }

}  // namespace tsa::crypto

namespace tsa::unit_test {

namespace fs = std::filesystem;

// The BTSP policy of EN 319 422 Annex A, and a second policy a request may name.
inline constexpr char kDefaultPolicy[] = "0.4.0.2023.1.1";
inline constexpr char kOtherPolicy[] = "1.3.6.1.4.1.99999.1.2";
inline constexpr char kSha256Oid[] = "2.16.840.1.101.3.4.2.1";
inline constexpr char kSha1Oid[] = "1.3.14.3.2.26";
inline constexpr char kMd5Oid[] = "1.2.840.113549.2.5";

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tsa-unit") {
    std::string name = prefix;
    if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
      name += std::string("-") + info->test_suite_name() + "-" + info->name();
    }
    for (char& c : name) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') c = '_';
    }
    path_ = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline std::vector<std::uint8_t> ReadBytes(const std::string& path) {
  const std::string s = ReadText(path);
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

// A development PKI that lives for the whole test binary (removed at exit).
struct Pki {
  std::string dir;
  crypto::DevPkiFiles files;
  std::string tsa_cert_pem;
  std::string ca_cert_pem;
  std::string subject;
};

inline Pki MakePki(const std::string& tag, const std::string& subject, crypto::KeyType key_type = crypto::KeyType::kEcP256) {
  Pki pki;
  pki.dir = (fs::temp_directory_path() /
             ("tsa-unit-pki-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}())))
                .string();
  crypto::DevPkiOptions options;
  options.dir = pki.dir;
  options.key_type = key_type;
  options.subject = subject;
  options.days = 30;
  auto files = crypto::CreateDevPki(options);
  if (!files) {
    ADD_FAILURE() << "CreateDevPki failed: " << files.error().ToString();
    return pki;
  }
  pki.files = *files;
  pki.tsa_cert_pem = ReadText(pki.files.tsa_cert);
  pki.ca_cert_pem = ReadText(pki.files.ca_cert);
  pki.subject = subject;
  return pki;
}

struct PkiHolder {
  Pki pki;
  PkiHolder(const std::string& tag, const std::string& subject, crypto::KeyType key_type = crypto::KeyType::kEcP256)
      : pki(MakePki(tag, subject, key_type)) {}
  ~PkiHolder() {
    std::error_code ec;
    if (!pki.dir.empty()) fs::remove_all(pki.dir, ec);
  }
};

inline const Pki& SharedPki() {
  static PkiHolder holder("main", "/C=XX/O=tsad unit tests/CN=tsad Unit Test TSA");
  return holder.pki;
}

inline const Pki& OtherPki() {
  static PkiHolder holder("other", "/C=XX/O=tsad unit tests/CN=Another TSA");
  return holder.pki;
}

inline crypto::SignerFiles FilesOf(const Pki& pki) {
  crypto::SignerFiles files;
  files.key_path = pki.files.tsa_key;
  files.cert_path = pki.files.tsa_cert;
  files.chain_path = pki.files.chain;
  return files;
}

inline core::IssuancePolicy DefaultIssuancePolicy() {
  core::IssuancePolicy policy;
  policy.accepted_hashes = {core::HashAlgorithm::kSha256, core::HashAlgorithm::kSha384, core::HashAlgorithm::kSha512};
  policy.default_policy = kDefaultPolicy;
  policy.accepted_policies = {kOtherPolicy};
  return policy;
}

inline crypto::SignerOptions DefaultSignerOptions() {
  crypto::SignerOptions options;
  options.policy = DefaultIssuancePolicy();
  options.accuracy = core::Accuracy{1, 0, 0};
  options.clock_precision_digits = 3;
  options.include_tsa_name = true;
  return options;
}

inline std::shared_ptr<const crypto::SignerMaterial> LoadMaterial(const Pki& pki) {
  auto material = crypto::SignerMaterial::Load(FilesOf(pki), std::time(nullptr));
  if (!material) {
    ADD_FAILURE() << "SignerMaterial::Load failed: " << material.error().ToString();
    return nullptr;
  }
  return *material;
}

inline std::shared_ptr<crypto::TokenSigner> MakeSigner(const Pki& pki, crypto::SignerOptions options = DefaultSignerOptions()) {
  auto material = LoadMaterial(pki);
  if (!material) return nullptr;
  auto signer = crypto::TokenSigner::Create(material, std::move(options));
  if (!signer) {
    ADD_FAILURE() << "TokenSigner::Create failed: " << signer.error().ToString();
    return nullptr;
  }
  return std::shared_ptr<crypto::TokenSigner>(std::move(*signer));
}

inline std::vector<std::uint8_t> Filled(std::size_t n, std::uint8_t value) { return std::vector<std::uint8_t>(n, value); }

inline std::vector<std::uint8_t> RequestDer(const crypto::RequestSpec& spec) {
  auto der = crypto::EncodeRequest(spec);
  if (!der) {
    ADD_FAILURE() << "EncodeRequest failed: " << der.error().ToString();
    return {};
  }
  return *der;
}

// A SHA-256 request with the given digest byte, certReq and optional nonce.
inline std::vector<std::uint8_t> Sha256Request(std::uint8_t fill = 0xab, bool cert_req = true,
                                               std::optional<std::vector<std::uint8_t>> nonce = std::nullopt,
                                               std::optional<std::string> policy = std::nullopt) {
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha256;
  spec.digest = Filled(32, fill);
  spec.cert_req = cert_req;
  spec.nonce = std::move(nonce);
  spec.policy = std::move(policy);
  return RequestDer(spec);
}

inline core::UnixMicros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A clock the test moves by hand. Thread-safe.
class FakeClock final : public core::ClockSource {
 public:
  explicit FakeClock(core::UnixMicros now = NowMicros(), bool synchronised = true, std::int64_t max_error_us = 1000)
      : reading_{now, synchronised, max_error_us, synchronised ? "fake: synchronised" : "fake: unsynchronised"} {}

  core::ClockReading Read() override {
    core::ClockReading r;
    std::int64_t delay_us = 0;
    {
      std::lock_guard lock(mutex_);
      reads_ += 1;
      r = reading_;
      reading_.now += auto_advance_us_;
      delay_us = read_delay_us_;
    }
    // A real read (clock_gettime + adjtimex) takes time too; the caller may be preempted here.
    if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    return r;
  }

  void Set(core::UnixMicros now) {
    std::lock_guard lock(mutex_);
    reading_.now = now;
  }
  void Advance(std::int64_t us) {
    std::lock_guard lock(mutex_);
    reading_.now += us;
  }
  void SetSynchronised(bool synchronised) {
    std::lock_guard lock(mutex_);
    reading_.synchronised = synchronised;
    reading_.detail = synchronised ? "fake: synchronised" : "fake: unsynchronised";
  }
  void SetMaxError(std::int64_t us) {
    std::lock_guard lock(mutex_);
    reading_.max_error_us = us;
  }
  // Every Read() moves the clock forward by this much after reporting (a ticking clock).
  void SetAutoAdvance(std::int64_t us) {
    std::lock_guard lock(mutex_);
    auto_advance_us_ = us;
  }
  // Each Read() sleeps this long after taking its reading, before returning it.
  void SetReadDelay(std::int64_t us) {
    std::lock_guard lock(mutex_);
    read_delay_us_ = us;
  }
  core::UnixMicros now() const {
    std::lock_guard lock(mutex_);
    return reading_.now;
  }
  int reads() const {
    std::lock_guard lock(mutex_);
    return reads_;
  }

 private:
  mutable std::mutex mutex_;
  core::ClockReading reading_;
  std::int64_t auto_advance_us_ = 0;
  std::int64_t read_delay_us_ = 0;
  int reads_ = 0;
};

// The i-th of a run of small log records (serial "0<i>", a 5-byte stand-in token): for tests of
// what sits around the leaves (checkpoints, witnesses), not of the tokens themselves.
inline audit::TokenRecord SmallRecord(int i) {
  audit::TokenRecord record;
  record.serial_hex = "0" + std::to_string(i);
  record.gen_time_us = 1'795'599'086'000'000 + i;
  record.policy = kDefaultPolicy;
  record.hash_oid = kSha256Oid;
  record.digest.assign(32, static_cast<std::uint8_t>(i));
  record.token_der = {0x30, 0x03, 0x02, 0x01, static_cast<std::uint8_t>(i)};
  return record;
}

}  // namespace tsa::unit_test
