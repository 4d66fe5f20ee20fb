// An RFC 3161 §3.4 HTTP(S) client: POSTs a DER TimeStampReq and returns the DER reply. Used by
// tsa-request and by the anchoring thread (HttpAnchorTransport); tsa-audit-verify GETs a log's
// tiles with it. HTTPS verifies the server against the system CAs (or a given bundle). Every reply
// is bounded in size and in total time, because the server at the other end is not trusted: a
// TSA that streams an endless body or trickles one byte a second must cost neither memory nor a
// thread forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::http {

// A time-stamp reply is a few KiB (the token with a certificate chain); 1 MiB leaves room for
// long chains and JSON while keeping a hostile reply cheap.
inline constexpr std::size_t kDefaultMaxReplyBytes = 1 << 20;

struct ClientOptions {
  // The whole exchange (connect, send, status, headers and body) must end within this many
  // seconds; it is also the limit of each connect, read and write.
  int timeout_s = 30;
  // Largest reply body accepted. A larger Content-Length is refused before the body is read; a
  // body without one (chunked, or up to the close) is cut off as soon as it passes the cap.
  std::size_t max_reply_bytes = kDefaultMaxReplyBytes;
  std::string ca_bundle;                                                       // PEM file for HTTPS; empty: the system store
  std::string accept = "application/timestamp-reply, application/json;q=0.5";  // the Accept header
};

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::vector<std::uint8_t> body;
};

// POSTs `body` with `content_type` to `url` ("http://host:port/path" or "https://...").
// Transport failures are errors (kIo), as are a reply over max_reply_bytes (the message names the
// cap) and an exchange that passes timeout_s; any HTTP status is returned for the caller to judge.
Result<HttpReply> Post(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                       const ClientOptions& options);

// GETs `url` under the same caps (used by tsa-audit-verify --url to read a tlog-tiles log). A
// gzip Content-Encoding is inflated; the cap applies to the inflated body.
Result<HttpReply> Get(const std::string& url, const ClientOptions& options);

// Whether `url` is an http:// or https:// URL this client can use (for the tools' usage checks).
bool IsHttpUrl(const std::string& url);

}  // namespace tsa::http
