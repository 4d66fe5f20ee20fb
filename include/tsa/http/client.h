// An RFC 3161 §3.4 HTTP(S) client: POSTs a DER TimeStampReq and returns the DER reply. Used by
// tsa-request and (later) by the anchoring thread. HTTPS verifies the server against the system CAs
// (or a given bundle).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::http {

struct ClientOptions {
  int timeout_s = 30;
  std::string ca_bundle;  // PEM file for HTTPS; empty: the system store
};

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::vector<std::uint8_t> body;
};

// POSTs `body` with `content_type` to `url` ("http://host:port/path" or "https://...").
// Transport failures are errors; any HTTP status is returned for the caller to judge.
Result<HttpReply> Post(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                       const ClientOptions& options);

}  // namespace tsa::http
