#include "tsa-audit-verify/log_certificates.h"

#include <set>

#include "tsa/core/utc.h"
#include "tsa/crypto/tsa_certificate_check.h"

namespace tsa::tool {

LogCertificates CertificatesFromLog(store::LogStore& log, const std::string& pinned_pem, const std::string& ca_pem) {
  LogCertificates out;
  out.pinned_pem = pinned_pem;
  auto events = log.CertificateEvents();
  if (!events) return out;
  std::set<std::string> seen;
  for (const store::CertificateEvent& e : *events) {
    if (!seen.insert(e.cert_pem).second) continue;
    ++out.listed;
    if (ca_pem.empty()) continue;
    if (pinned_pem.find(e.cert_pem) != std::string::npos) {  // already given with --tsa-cert
      ++out.used;
      continue;
    }
    if (Status st = crypto::CheckTsaCertificate(e.cert_pem, ca_pem); !st) {
      out.notes.push_back("the log's certificate " + e.subject + " (sha256 " + e.cert_sha256.substr(0, 16) + "..., " + e.event +
                          " at " + core::FormatTimeUs(e.at_us) + ") is not used: " + st.error().message + " against --tsa-ca");
      continue;
    }
    if (!out.pinned_pem.empty() && out.pinned_pem.back() != '\n') out.pinned_pem += '\n';
    out.pinned_pem += e.cert_pem;
    ++out.used;
  }
  return out;
}

}  // namespace tsa::tool
