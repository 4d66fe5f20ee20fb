// The TSA certificates a tsad log lists in its tsa_certificates table (one row per start with a new
// certificate, SIGHUP reload or key recovery). The rows are not covered by the Merkle tree, so they
// are trusted only when they chain to --tsa-ca; those are added to the pinned certificates, which
// lets tokens without an embedded certificate (certReq FALSE) verify across a rollover.
#pragma once

#include <string>
#include <vector>

#include "tsa/store/log_store.h"

namespace tsa::tool {

struct LogCertificates {
  std::string pinned_pem;            // the --tsa-cert bundle plus the log's certificates that passed
  std::size_t listed = 0, used = 0;  // distinct certificates in the table; of them, chaining to --tsa-ca
  std::vector<std::string> notes;    // one line per certificate not used, and why
};

// Without --tsa-ca (ca_pem empty) nothing from the table is used. A log without the table (schema
// before v3) lists none.
LogCertificates CertificatesFromLog(store::LogStore& log, const std::string& pinned_pem, const std::string& ca_pem);

}  // namespace tsa::tool
