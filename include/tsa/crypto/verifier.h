// Verification of time-stamp replies and tokens (RFC 3161 §2.4.2, RFC 5816 §2.2.2), shared by
// tsa-verify, tsa-request, tsad's start-up self-test and the audit tools.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tsa/core/response_info.h"
#include "tsa/core/result.h"

namespace tsa::crypto {

struct VerifyOptions {
  // PEM of the TSA certificate(s) one of which must have signed the token (several after a
  // certificate rollover). When empty, the signer certificate carried in the token is used (an
  // external TSA whose certificate we do not pin); then only `ca_pem` makes the result say
  // anything about who signed.
  std::string tsa_cert_pem;
  // PEM bundle of trust anchors (and intermediates). When empty, the TSA certificate itself is the
  // trust anchor ("this token was signed by this certificate").
  std::string ca_pem;
  // What the token must be about: the original data, or its digest (checked against the token's
  // hash algorithm).
  std::optional<std::vector<std::uint8_t>> data;
  std::optional<std::vector<std::uint8_t>> digest;
  // The DER request the reply answers: when set, imprint, nonce, policy and certReq are checked too.
  std::optional<std::vector<std::uint8_t>> request_der;
  // Certificate validity is checked at the token's genTime (a token outlives its TSA certificate);
  // set to check at another instant (Unix seconds).
  std::optional<std::int64_t> check_time;
};

// Checks that `pem` holds at least one certificate and that every "BEGIN CERTIFICATE" block in it
// parses; returns how many. kInvalidArgument otherwise, naming `what` ("the --ca file"). The
// tools check each trust file with it: an empty trust file must not mean "no trust file".
Result<std::size_t> CountPemCertificates(const std::string& pem, const std::string& what);

// The PEM of the signer certificate a reply or token carries (certReq TRUE); kInvalidArgument when
// it carries none.
Result<std::string> EmbeddedSignerPem(std::span<const std::uint8_t> der);

// Verifies a TimeStampResp or a bare TimeStampToken: status granted, the CMS signature, the
// ESSCertID(v2) binding, the signer certificate (one of the given ones; EKU critical timeStamping-only;
// valid at genTime; chaining to the trust anchors), and the optional imprint/request checks.
// Returns the description on success, or one line saying what failed.
Result<core::ResponseInfo> Verify(std::span<const std::uint8_t> der, const VerifyOptions& options);

}  // namespace tsa::crypto
