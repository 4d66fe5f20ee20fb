// Whether a certificate found somewhere untrusted (the log's tsa_certificates table) is a TSA
// certificate of a CA the auditor trusts: tsa-audit-verify uses the ones that pass as pinned
// certificates, across a rollover (AUDIT_CHAIN.md "Certificates").
#pragma once

#include <string>

#include "tsa/core/result.h"

namespace tsa::crypto {

// `cert_pem` (its first certificate) chains to a certificate of `ca_pem` (a bundle; every
// certificate in it is a trust anchor) and is fit to sign time-stamps: the one critical
// extendedKeyUsage timeStamping (RFC 3161 §2.3, OpenSSL's timestampsign purpose). Validity dates
// are not checked: a certificate retired by a rollover may have expired since; each token is
// checked against its certificate at its own genTime. kInvalidArgument with one line saying why.
Status CheckTsaCertificate(const std::string& cert_pem, const std::string& ca_pem);

}  // namespace tsa::crypto
