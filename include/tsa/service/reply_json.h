// The JSON view of a time-stamping outcome (`?format=json`, README "JSON").
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "tsa/service/issuer.h"

namespace tsa::service {

// The README's JSON for the DER reply in `outcome`. The outcome, not a re-parse of the DER, says
// whether a token was granted: a granted token is already in the audit log, so it is never
// reported as failed. If the reply cannot be described, a grant still answers "granted" with its
// serial, genTime and the DER reply (base64), and "describe_error" says why the details are missing.
nlohmann::json TimeStampReplyJson(const IssueOutcome& outcome);

}  // namespace tsa::service
