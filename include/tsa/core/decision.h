// The outcome of a time-stamp request as a value: a grant or a rejection with exactly one
// PKIFailureInfo bit (RFC 3161 §2.4.2). Rejections are not errors; exactly one function in
// src/http turns a decision into an HTTP reply.
#pragma once

#include <optional>
#include <string>

namespace tsa::core {

// PKIFailureInfo bit numbers, RFC 3161 §2.4.2. "These are the only values of PKIFailureInfo that
// SHALL be supported"; tsad sets exactly one on every rejection.
enum class FailInfo : int {
  kBadAlg = 0,                // unrecognised or unsupported algorithm
  kBadRequest = 2,            // transaction not permitted or supported (version != 1)
  kBadDataFormat = 5,         // the data submitted has the wrong format
  kTimeNotAvailable = 14,     // the TSA's time source is not available
  kUnacceptedPolicy = 15,     // the requested policy is not supported
  kUnacceptedExtension = 16,  // the requested extension is not supported
  kAddInfoNotAvailable = 17,  // the additional information requested is not available
  kSystemFailure = 25,        // the request cannot be handled due to system failure
};

// "badAlg", "systemFailure", ... as in the ASN.1 module.
const char* FailInfoName(FailInfo info);
std::optional<FailInfo> FailInfoFromName(const std::string& name);

// A protocol rejection. status_string is short and generic: it goes to the client, so never put
// paths, OpenSSL error text or key identifiers in it.
struct Rejection {
  FailInfo fail_info;
  std::string status_string;

  friend bool operator==(const Rejection&, const Rejection&) = default;
};

Rejection Reject(FailInfo info, std::string status_string);

}  // namespace tsa::core
