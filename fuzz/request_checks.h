// The properties every answer of service::Issuer::Issue must have, whatever the request body
// (conformance row E13), and a self-contained issuer to check them against. Shared by the
// libFuzzer harness (fuzz/request_fuzzer.cc, clang) and the replay test that keeps committed crash
// inputs fixed (tests/regress/fuzz_replay_test.cc, normal build), so both apply the same checks.
//
// Header-only on purpose: tests/ and fuzz/ are separate CMake directories and neither may add a
// library to the other.
//
// Checked for every body:
//   - the reply is DER that crypto::DescribeResponse parses, with status granted(0) or rejection(2);
//   - a rejection carries exactly one failInfo bit, the one the oracle below expects, and no token;
//   - a grant happens only when the oracle says the body is a valid request, and then always;
//   - a granted token verifies (crypto::Verify against the test PKI and the request: signature,
//     ESSCertIDv2, imprint, nonce, policy, certReq) and its imprint, nonce and policy equal the
//     request's (re-read here straight from the TSTInfo), and its serial and genTime are the ones
//     IssueOutcome reports;
//   - exactly the grants reach the token log.
//
// The oracle decodes the body with OpenSSL's d2i_TS_REQ, as tsad does (lenient about the BER
// variants OpenSSL accepts, conformance §8.2) but requires the whole body to be consumed, then
// applies RFC 3161 §2.4.1 and the tsad profile in the documented order (core/request.h):
// framing -> badDataFormat, version -> badRequest, hash algorithm / parameters -> badAlg, digest
// length -> badDataFormat, policy -> unacceptedPolicy, extensions -> unacceptedExtension.
// It reads the TS_REQ with OpenSSL accessors and NIDs only, not with tsad's decoder or validator.
#pragma once

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "tsa/audit/token_log.h"
#include "tsa/core/clock.h"
#include "tsa/core/decision.h"
#include "tsa/core/hash_algorithm.h"
#include "tsa/core/request.h"
#include "tsa/core/response_info.h"
#include "tsa/core/result.h"
#include "tsa/crypto/cert_factory.h"
#include "tsa/crypto/ossl_ptr.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/crypto/signer_material.h"
#include "tsa/crypto/token_signer.h"
#include "tsa/crypto/verifier.h"
#include "tsa/service/issuer.h"

namespace tsa::fuzz {

// The policy configuration of the issuer under test: tsad's default policy OID, one further
// accepted OID, and tsad's default hash list.
inline constexpr const char* kDefaultPolicy = "1.3.6.1.4.1.99999.1.1";
inline constexpr const char* kAcceptedPolicy = "1.3.6.1.4.1.99999.1.2";

// Always synchronised within 1 ms; every reading is 1 ms after the previous one, so genTime is
// strictly increasing and exact at the 3 fraction digits the signer writes.
class FakeSyncedClock final : public core::ClockSource {
 public:
  explicit FakeSyncedClock(core::UnixMicros start) : next_(start - start % 1000) {}
  core::ClockReading Read() override {
    core::ClockReading r;
    r.now = next_.fetch_add(1000);
    r.synchronised = true;
    r.max_error_us = 1000;
    r.detail = "fake clock (fuzzing)";
    return r;
  }

 private:
  std::atomic<core::UnixMicros> next_;
};

// A test PKI (EC P-256 TSA key) and an Issuer with its signer and token log, all under `dir`,
// which is removed with everything in it when the environment is destroyed.
struct IssuerEnv {
  std::string dir;
  core::IssuancePolicy policy;
  std::string tsa_cert_pem;
  std::string chain_pem;
  std::shared_ptr<crypto::TokenSigner> signer;
  std::shared_ptr<audit::TokenLog> log;
  std::unique_ptr<service::Issuer> issuer;

  IssuerEnv() = default;
  IssuerEnv(const IssuerEnv&) = delete;
  IssuerEnv& operator=(const IssuerEnv&) = delete;
  ~IssuerEnv() {
    issuer.reset();
    log.reset();  // joins the writer thread before the files go
    signer.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

struct IssuerEnvOptions {
  bool keep_token = true;  // false: the log stores hashes only (smaller files on long fuzz runs)
};

// Creates a fresh directory under the system temp dir (mkdtemp) and builds everything in it.
inline Result<std::unique_ptr<IssuerEnv>> MakeIssuerEnv(const IssuerEnvOptions& options = {}) {
  std::error_code ec;
  std::string pattern = (std::filesystem::temp_directory_path(ec) / "tsad-fuzz-XXXXXX").string();
  if (ec) return MakeError(ErrorKind::kIo, "no temp directory: " + ec.message());
  if (::mkdtemp(pattern.data()) == nullptr) return MakeError(ErrorKind::kIo, "mkdtemp " + pattern + " failed");
  auto env = std::make_unique<IssuerEnv>();
  env->dir = pattern;

  crypto::DevPkiOptions pki;
  pki.dir = env->dir + "/pki";
  pki.key_type = crypto::KeyType::kEcP256;
  pki.subject = "/C=XX/O=tsad fuzzing/CN=tsad Fuzz TSA";
  TSA_TRY(crypto::CreateDevPki(pki));
  TSA_ASSIGN_OR_RETURN(auto material, crypto::SignerMaterial::Load(crypto::SignerFilesInDirectory(pki.dir), std::time(nullptr)));
  env->tsa_cert_pem = material->certificate_pem();
  env->chain_pem = material->chain_pem();

  env->policy.accepted_hashes = {core::HashAlgorithm::kSha256, core::HashAlgorithm::kSha384, core::HashAlgorithm::kSha512};
  env->policy.default_policy = kDefaultPolicy;
  env->policy.accepted_policies = {kAcceptedPolicy};
  crypto::SignerOptions signer_options;
  signer_options.policy = env->policy;
  signer_options.accuracy = core::Accuracy{1, 0, 0};
  signer_options.clock_precision_digits = 3;
  signer_options.include_tsa_name = true;
  TSA_ASSIGN_OR_RETURN(std::unique_ptr<crypto::TokenSigner> signer, crypto::TokenSigner::Create(material, signer_options));
  env->signer = std::move(signer);

  audit::TokenLogOptions log_options;
  log_options.path = env->dir + "/tokens.db";
  log_options.keep_token = options.keep_token;
  log_options.synchronous_full = false;  // speed: durability is not under test here
  TSA_ASSIGN_OR_RETURN(std::unique_ptr<audit::TokenLog> log, audit::TokenLog::Open(log_options));
  env->log = std::move(log);

  auto clock = std::make_shared<FakeSyncedClock>(static_cast<core::UnixMicros>(std::time(nullptr)) * 1'000'000);
  service::Issuer::Config config;
  config.instance = 7;
  config.clock_mode = core::ClockMode::kRequireSync;  // the production mode; the fake clock is in sync
  TSA_ASSIGN_OR_RETURN(env->issuer, service::Issuer::Create(config, env->signer, clock, env->log));
  return env;
}

// What the oracle makes of a body.
struct Expectation {
  crypto::UniquePtr<TS_REQ> request;        // set when the body is exactly one decodable TimeStampReq
  std::optional<core::FailInfo> rejection;  // nullopt: a valid request, which must be granted
};

inline Expectation Expect(std::span<const std::uint8_t> body, const core::IssuancePolicy& policy) {
  Expectation e;
  if (body.empty()) {
    e.rejection = core::FailInfo::kBadDataFormat;
    return e;
  }
  const unsigned char* p = body.data();
  e.request.reset(d2i_TS_REQ(nullptr, &p, static_cast<long>(body.size())));
  ERR_clear_error();
  if (!e.request || p != body.data() + body.size()) {
    e.request.reset();
    e.rejection = core::FailInfo::kBadDataFormat;
    return e;
  }
  TS_REQ* req = e.request.get();
  if (TS_REQ_get_version(req) != 1) {
    e.rejection = core::FailInfo::kBadRequest;
    return e;
  }
  TS_MSG_IMPRINT* imprint = TS_REQ_get_msg_imprint(req);
  const ASN1_OBJECT* alg = nullptr;
  int param_type = 0;
  X509_ALGOR_get0(&alg, &param_type, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  int digest_length = 0;
  switch (OBJ_obj2nid(alg)) {  // the issuer accepts exactly SHA-256/384/512 (MakeIssuerEnv)
    case NID_sha256: digest_length = 32; break;
    case NID_sha384: digest_length = 48; break;
    case NID_sha512: digest_length = 64; break;
    default: break;
  }
  if (digest_length == 0 || (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL)) {
    e.rejection = core::FailInfo::kBadAlg;
    return e;
  }
  if (ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(imprint)) != digest_length) {
    e.rejection = core::FailInfo::kBadDataFormat;
    return e;
  }
  if (const ASN1_OBJECT* requested = TS_REQ_get_policy_id(req)) {
    bool accepted = false;
    std::vector<std::string> oids = policy.accepted_policies;
    oids.push_back(policy.default_policy);
    for (const auto& oid : oids) {
      crypto::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid.c_str(), 1));
      if (obj && OBJ_cmp(obj.get(), requested) == 0) accepted = true;
    }
    if (!accepted) {
      e.rejection = core::FailInfo::kUnacceptedPolicy;
      return e;
    }
  }
  if (TS_REQ_get_ext_count(req) > 0) {
    e.rejection = core::FailInfo::kUnacceptedExtension;
    return e;
  }
  return e;
}

struct CheckOptions {
  // Accept a systemFailure from the signing step ("signing: ..." internal error) for a body the
  // oracle calls valid. That answer still satisfies E13 (parseable, one failInfo bit, no token), but
  // it means tsad's decoder and OpenSSL's TS_RESP_create_response disagree about the body (the
  // first such finding: tests/testdata/fuzz/request/crash-ber-indefinite-*). Only for continuing a
  // fuzz run past a known finding (TSA_FUZZ_TOLERATE_SIGNER_FAILURE=1); the replay test is strict.
  bool tolerate_signer_system_failure = false;
};

struct CheckResult {
  service::IssueOutcome outcome;
  std::optional<core::FailInfo> expected_rejection;  // the oracle's verdict (nullopt: grant)
  std::string violation;                             // empty when every property holds

  bool ok() const { return violation.empty(); }
};

namespace detail {

inline std::string FailInfoText(std::optional<core::FailInfo> info) {
  if (!info) return "grant";
  return std::string(core::FailInfoName(*info)) + "(" + std::to_string(static_cast<int>(*info)) + ")";
}

inline std::string StripLeadingZeros(const std::string& hex) {
  const auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

// The grant-only properties; `request` is the oracle's decoding of the body.
inline std::string CheckGrant(const IssuerEnv& env, std::span<const std::uint8_t> body, TS_REQ* request,
                              const service::IssueOutcome& out, const core::ResponseInfo& info) {
  if (!info.token) return "status granted without a token";
  if (!info.fail_info.empty()) return "a grant with failInfo bits set";

  // Full verification: signature, ESSCertIDv2, certificate, and imprint/nonce/policy/certReq.
  crypto::VerifyOptions verify;
  verify.tsa_cert_pem = env.tsa_cert_pem;
  verify.ca_pem = env.chain_pem;
  verify.request_der = std::vector<std::uint8_t>(body.begin(), body.end());
  if (auto verified = crypto::Verify(out.der, verify); !verified)
    return "the granted token does not verify: " + verified.error().message;

  // And the echoes, read straight from the TSTInfo (independently of DescribeResponse).
  const auto& token_der = info.token->token_der;
  const unsigned char* p = token_der.data();
  crypto::UniquePtr<PKCS7> token(d2i_PKCS7(nullptr, &p, static_cast<long>(token_der.size())));
  crypto::UniquePtr<TS_TST_INFO> tst(token ? PKCS7_to_TS_TST_INFO(token.get()) : nullptr);
  ERR_clear_error();
  if (!tst) return "the token has no readable TSTInfo";
  TS_MSG_IMPRINT* want = TS_REQ_get_msg_imprint(request);
  TS_MSG_IMPRINT* got = TS_TST_INFO_get_msg_imprint(tst.get());
  const ASN1_OBJECT* want_alg = nullptr;
  const ASN1_OBJECT* got_alg = nullptr;
  X509_ALGOR_get0(&want_alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(want));
  X509_ALGOR_get0(&got_alg, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(got));
  if (OBJ_cmp(want_alg, got_alg) != 0) return "token imprint algorithm differs from the request's";
  if (ASN1_OCTET_STRING_cmp(TS_MSG_IMPRINT_get_msg(want), TS_MSG_IMPRINT_get_msg(got)) != 0) {
    return "token imprint digest differs from the request's";
  }
  const ASN1_INTEGER* want_nonce = TS_REQ_get_nonce(request);
  const ASN1_INTEGER* got_nonce = TS_TST_INFO_get_nonce(tst.get());
  if ((want_nonce == nullptr) != (got_nonce == nullptr)) return "token nonce presence differs from the request's";
  if (want_nonce != nullptr && ASN1_INTEGER_cmp(want_nonce, got_nonce) != 0) return "token nonce differs from the request's";
  const ASN1_OBJECT* want_policy = TS_REQ_get_policy_id(request);
  crypto::UniquePtr<ASN1_OBJECT> default_policy(OBJ_txt2obj(env.policy.default_policy.c_str(), 1));
  if (want_policy == nullptr) want_policy = default_policy.get();
  if (want_policy == nullptr || OBJ_cmp(want_policy, TS_TST_INFO_get_policy_id(tst.get())) != 0) {
    return "token policy is not the requested (or default) policy";
  }
  if ((info.token->certificate_count > 0) != (TS_REQ_get_cert_req(request) != 0)) {
    return "token certificates do not follow certReq";
  }

  // IssueOutcome reports the token it returned.
  if (StripLeadingZeros(out.serial_hex) != StripLeadingZeros(info.token->serial_hex)) {
    return "IssueOutcome.serial_hex " + out.serial_hex + " is not the token's serial " + info.token->serial_hex;
  }
  if (out.gen_time != info.token->gen_time_us) {
    return "IssueOutcome.gen_time " + std::to_string(out.gen_time) + " is not the token's genTime " +
           std::to_string(info.token->gen_time_us);
  }
  return {};
}

}  // namespace detail

// Issues `body` and checks every property above. Never throws for any body; a violation is
// described in CheckResult::violation.
inline CheckResult IssueAndCheck(IssuerEnv& env, std::span<const std::uint8_t> body, const CheckOptions& options = {}) {
  CheckResult result;
  const Expectation expected = Expect(body, env.policy);
  result.expected_rejection = expected.rejection;
  const std::uint64_t log_before = env.log->Stats().size;

  result.outcome = env.issuer->Issue(body);
  const service::IssueOutcome& out = result.outcome;
  const std::uint64_t log_after = env.log->Stats().size;

  auto described = crypto::DescribeResponse(out.der);
  if (!described) {
    result.violation = "the reply is not a parseable TimeStampResp: " + described.error().message;
    return result;
  }
  const core::ResponseInfo& info = *described;
  if (info.status != 0 && info.status != 2) {
    result.violation = "reply status " + std::to_string(info.status) + " (only 0 granted and 2 rejection are allowed)";
    return result;
  }
  const bool granted = info.status == 0;
  if (granted != out.granted()) {
    result.violation = std::string("IssueOutcome says ") + (out.granted() ? "granted" : "rejected") +
                       " but the reply has status " + std::to_string(info.status);
    return result;
  }

  if (!granted) {
    if (info.token) {
      result.violation = "a rejection carries a token";
    } else if (info.fail_info.size() != 1) {
      result.violation = "a rejection with " + std::to_string(info.fail_info.size()) + " failInfo bits (exactly one required)";
    } else if (out.rejection->fail_info != info.fail_info.front()) {
      result.violation = "IssueOutcome.rejection " + detail::FailInfoText(out.rejection->fail_info) +
                         " differs from the reply's " + detail::FailInfoText(info.fail_info.front());
    } else if (expected.rejection != info.fail_info.front() &&
               !(options.tolerate_signer_system_failure && !expected.rejection &&
                 info.fail_info.front() == core::FailInfo::kSystemFailure && out.internal_error.rfind("signing: ", 0) == 0)) {
      result.violation = "rejected with " + detail::FailInfoText(info.fail_info.front()) + " but the oracle expects " +
                         detail::FailInfoText(expected.rejection) +
                         (out.internal_error.empty() ? "" : " (internal error: " + out.internal_error + ")");
    } else if (log_after != log_before) {
      result.violation = "a rejection reached the token log";
    }
    return result;
  }

  if (expected.rejection) {
    result.violation = "granted a token for a body the oracle rejects with " + detail::FailInfoText(expected.rejection);
    return result;
  }
  if (log_after != log_before + 1) {
    result.violation = "a grant moved the token log from " + std::to_string(log_before) + " to " + std::to_string(log_after) +
                       " records";
    return result;
  }
  result.violation = detail::CheckGrant(env, body, expected.request.get(), out, info);
  return result;
}

}  // namespace tsa::fuzz
