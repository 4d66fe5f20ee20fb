// Reading HTTP requests from a connection's bytes exactly as http::Session::Parse does (no I/O), and
// the properties every read must have. Shared by the libFuzzer harness
// (fuzz/http_request_fuzzer.cc, clang) and the replay test that keeps committed crash inputs fixed
// (tests/regress/http_fuzz_replay_test.cc, normal build), so both apply the same checks.
// Header-only for the same reason as request_checks.h (fuzz/ and tests/ cannot share a library).
//
// The model of the session (src/http/session.cc): per request a fresh RequestParser with the
// default ParserLimits, fed through Put() as the session does; bytes arrive in reads of at most 16 KiB into a buffer of
// max_header_bytes + 16 KiB (full while the header is incomplete: 431); put() on everything
// buffered, consume what it used. When the header is done: ParseTarget; POST /tsa or POST / is a
// time-stamp request (413 when the announced length is over the mode's limit; raw-data mode with an
// unsupported ?hash= is answered and closed; else the mode's body sink, eager(true), read on);
// every other route is answered at once, and the connection closes if its body is left unread.
// After a reply the connection goes on with the pipelined bytes only when the request was complete
// and keep-alive.
//
// Checked for every input, both read in pieces (the input's first byte chooses where the reads
// split) and in maximal reads, which must agree (requests, heads, statuses, and the bodies and
// offsets of the requests read whole; a request the input leaves unfinished may be refused
// early by one and awaited by the other, see CheckHttpInput):
//   - an error maps to 400, 413, 414 or 431 only; a body refused by its sink is a 413; nothing is
//     read after an error;
//   - a header is accepted only if its framing is what tsad allows, re-read from the raw header by
//     an independent scan: at most one Content-Length of digits only, at most one
//     Transfer-Encoding whose value is exactly "chunked", never both; and the parsed head agrees
//     with that scan (content_length, chunked);
//   - the sink never accepts more than the limit, and is never called again once it refused;
//   - a request is done only with its whole body delivered: with Content-Length, exactly the
//     bytes after the header; chunked, exactly what an independent strict de-chunking of the
//     stream gives, ending where the parser stopped; without either, no body at all. A route that
//     takes no body is done only if the request has none.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_parser.h"
#include "http/routes.h"
#include "http/target.h"
#include "tsa/http/server.h"

namespace tsa::fuzz {

struct HttpReadOptions {
  http::ParserLimits parser;  // the defaults, as tsad's flags default
  std::size_t query_limit = http::HttpOptions{}.max_request_bytes;
  std::size_t data_limit = http::HttpOptions{}.max_data_bytes;
  std::size_t read_chunk = 16 * 1024;  // Session's kReadChunk
  std::size_t buffer_limit() const { return parser.max_header_bytes + read_chunk; }
};

// Small body limits, so that inputs of a few hundred bytes reach the 413 paths.
inline HttpReadOptions SmallBodyLimits() {
  HttpReadOptions options;
  options.query_limit = 64;
  options.data_limit = 256;
  return options;
}

// One request as the session read it.
struct ReadRequest {
  http::RequestHead head;
  std::string path;
  bool header_done = false;
  bool timestamp = false;  // POST /tsa or POST /
  bool done = false;       // is_done(): the whole request was read
  int status = 0;          // the error reply (400/413/414/431), 0 if none
  bool awaiting = false;   // unfinished: the input ended while the session waited for more
  std::string body;        // what the sink accepted
  std::size_t start = 0;   // offsets in the stream
  std::size_t header_end = 0;
  std::size_t end = 0;  // where reading this request stopped

  // The same request read with other read splits. How much of an unfinished or refused request
  // was consumed (and offered to the sink) before the input ended or the error came may differ.
  bool SameAs(const ReadRequest& o) const {
    return path == o.path && header_done == o.header_done && timestamp == o.timestamp && done == o.done && status == o.status &&
           start == o.start && header_end == o.header_end && (!done || (body == o.body && end == o.end)) &&
           head.target == o.head.target && head.content_length == o.head.content_length && head.chunked == o.head.chunked &&
           head.method == o.head.method && head.version == o.head.version;
  }
};

struct ConnectionRead {
  std::vector<ReadRequest> requests;
  std::string violation;  // empty: every property held
};

namespace http_checks {

inline bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline int HexValue(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

inline std::string_view TrimWs(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
  return out;
}

// The framing fields of a raw header block (request line, fields, empty line), scanned without
// Beast: lines end with CRLF; a line starting with SP/HTAB continues the previous field (obs-fold).
struct Framing {
  int content_length_fields = 0;
  int transfer_encoding_fields = 0;
  std::string content_length;  // the last value, trimmed
  std::string transfer_encoding;
};

inline Framing ScanFraming(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t at = header.find("\r\n");
  while (at != std::string_view::npos) {
    at += 2;
    const std::size_t eol = header.find("\r\n", at);
    if (eol == std::string_view::npos || eol == at) break;
    const std::string_view line = header.substr(at, eol - at);
    if (line.front() == ' ' || line.front() == '\t') {
      if (!fields.empty()) fields.back().second += " " + std::string(TrimWs(line));
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      fields.emplace_back(Lower(line.substr(0, colon)), std::string(TrimWs(line.substr(colon + 1))));
    }
    at = eol;
  }
  Framing f;
  for (const auto& [name, value] : fields) {
    if (name == "content-length") {
      ++f.content_length_fields;
      f.content_length = TrimWs(value);
    } else if (name == "transfer-encoding") {
      ++f.transfer_encoding_fields;
      f.transfer_encoding = TrimWs(value);
    }
  }
  return f;
}

// Strict de-chunking of stream[at...] (RFC 9112 §7.1): the body and the offset after the last
// CRLF, or nullopt when the bytes are not a complete chunked body. Chunk extensions and trailer
// fields are skipped, not validated (the parser may refuse more than this accepts, not less).
inline std::optional<std::pair<std::string, std::size_t>> Dechunk(std::string_view s, std::size_t at) {
  std::string out;
  while (true) {
    const std::size_t eol = s.find("\r\n", at);
    if (eol == std::string_view::npos) return std::nullopt;
    const std::string_view line = s.substr(at, eol - at);
    std::size_t i = 0;
    std::uint64_t size = 0;
    while (i < line.size() && IsHex(line[i])) {
      if (size > (UINT64_MAX >> 4)) return std::nullopt;
      size = size * 16 + static_cast<std::uint64_t>(HexValue(line[i++]));
    }
    if (i == 0) return std::nullopt;
    if (i < line.size() && line[i] != ';' && line[i] != ' ' && line[i] != '\t') return std::nullopt;
    at = eol + 2;
    if (size == 0) {
      while (true) {  // trailer fields, then the empty line
        const std::size_t end = s.find("\r\n", at);
        if (end == std::string_view::npos) return std::nullopt;
        if (end == at) return std::make_pair(std::move(out), at + 2);
        at = end + 2;
      }
    }
    if (s.size() - at < size || s.size() - at - size < 2) return std::nullopt;
    out.append(s.substr(at, size));
    at += size;
    if (s.substr(at, 2) != "\r\n") return std::nullopt;
    at += 2;
  }
}

// The framing rules tsad promises, against what the parser accepted.
inline std::string CheckAcceptedHeader(std::string_view header, const http::RequestHead& head) {
  const Framing f = ScanFraming(header);
  if (f.content_length_fields > 1) return "a header with two Content-Length fields was accepted";
  if (f.transfer_encoding_fields > 1) return "a header with two Transfer-Encoding fields was accepted";
  if (f.content_length_fields > 0 && f.transfer_encoding_fields > 0) {
    return "a header with both Content-Length and Transfer-Encoding was accepted";
  }
  if (f.transfer_encoding_fields == 1 && Lower(f.transfer_encoding) != "chunked") {
    return "Transfer-Encoding '" + f.transfer_encoding + "' (not exactly chunked) was accepted";
  }
  if (f.content_length_fields == 1 &&
      (f.content_length.empty() || f.content_length.find_first_not_of("0123456789") != std::string::npos)) {
    return "Content-Length '" + f.content_length + "' (not digits only) was accepted";
  }
  if (head.chunked != (f.transfer_encoding_fields == 1)) return "head.chunked disagrees with the header";
  if (head.content_length.has_value() != (f.content_length_fields == 1)) {
    return "head.content_length present/absent disagrees with the header";
  }
  if (head.content_length) {
    const std::string digits = f.content_length.substr(
        std::min(f.content_length.find_first_not_of('0'), f.content_length.size()));
    if (std::to_string(*head.content_length) != (digits.empty() ? "0" : digits)) {
      return "head.content_length " + std::to_string(*head.content_length) + " is not the header's " + f.content_length;
    }
  }
  return {};
}

inline bool DataHashAccepted(const http::Target& target) {
  const std::string name = Lower(target.Param("hash").value_or("sha256"));
  return name == "sha256" || name == "sha384" || name == "sha512";
}

// Where the reads end: pieces of 1..2^k bytes from a small generator (seed 0: maximal reads).
class Splitter {
 public:
  explicit Splitter(std::uint8_t seed) : seed_(seed & 0x7f), state_(seed * 2654435761u + 1u) {}
  std::size_t Next(std::size_t room) {
    if (seed_ == 0) return room;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    const std::size_t max_piece = std::size_t{1} << (seed_ % 8);
    return std::min<std::size_t>(room, 1 + state_ % max_piece);
  }

 private:
  std::uint8_t seed_;
  std::uint32_t state_;
};

}  // namespace http_checks

// Reads every request of `stream` as one connection would, with reads split by `split_seed`
// (0: each read takes all it can); records each request and the first property violation.
inline ConnectionRead ReadConnection(std::string_view stream, std::uint8_t split_seed, const HttpReadOptions& options) {
  namespace bhttp = boost::beast::http;
  using namespace http_checks;
  ConnectionRead out;
  Splitter splitter(split_seed);
  std::size_t fed = 0;  // bytes received so far
  std::size_t pos = 0;  // bytes consumed by the parsers
  auto violation = [&](std::string what) {
    if (out.violation.empty()) out.violation = "request " + std::to_string(out.requests.size()) + ": " + what;
  };
  // A read: what Session::ReadMore receives (false: the client sent nothing more, or 431).
  auto read_more = [&]() -> int {
    const std::size_t buffered = fed - pos;
    if (buffered >= options.buffer_limit()) return 431;
    if (fed == stream.size()) return -1;
    fed += splitter.Next(std::min({options.buffer_limit() - buffered, options.read_chunk, stream.size() - fed}));
    return 0;
  };

  while (out.violation.empty()) {
    ReadRequest req;
    req.start = pos;
    http::RequestParser parser(options.parser);
    bool header_handled = false;
    bool sink_refused = false;
    bool sink_called_after_refusal = false;
    std::size_t limit = 0;
    std::size_t data_bytes = 0;  // raw-data mode: bytes offered (Session's body_bytes_)
    bool keep_going = true;      // false: the connection ends after this request
    bool stream_ended = false;
    while (true) {
      if (parser.is_header_done() && !header_handled) {
        header_handled = true;
        req.header_done = true;
        req.header_end = pos;
        req.head = parser.head();
        const http::Target target = http::ParseTarget(req.head.target);
        req.path = target.path;
        if (const std::string v = CheckAcceptedHeader(stream.substr(req.start, pos - req.start), req.head); !v.empty()) {
          violation(v);
        }
        req.timestamp = (target.path == "/tsa" || target.path == "/") && req.head.method == bhttp::verb::post;
        if (!req.timestamp) break;  // answered at once; the body, if any, is not read
        limit = http::Router::IsQuery(req.head) ? options.query_limit : options.data_limit;
        if (req.head.content_length.value_or(0) > limit) {
          req.status = 413;
          break;
        }
        if (!http::Router::IsQuery(req.head) && !DataHashAccepted(target)) {
          keep_going = false;  // a badAlg reply, then close: the body is left unread
          break;
        }
        const bool query = http::Router::IsQuery(req.head);
        parser.SetBodySink([&, query](std::string_view data) {
          if (sink_refused) sink_called_after_refusal = true;
          if (query) {
            sink_refused = req.body.size() + data.size() > limit;
          } else {
            data_bytes += data.size();
            sink_refused = data_bytes > limit;
          }
          if (sink_refused) return false;
          req.body.append(data);
          return true;
        });
        parser.eager(true);
      }
      if (parser.is_done()) break;
      if (pos == fed) {
        if (const int r = read_more(); r != 0) {
          stream_ended = true;
          break;
        }
        continue;
      }
      boost::beast::error_code ec;
      const std::size_t used = parser.Put(boost::asio::const_buffer(stream.data() + pos, fed - pos), ec);
      if (used > fed - pos) {
        violation("put() used more bytes than it was given");
        break;
      }
      pos += used;
      if (ec == bhttp::error::need_more) {
        if (const int r = read_more(); r != 0) {
          if (r == 431) req.status = 431;
          stream_ended = r != 431;
          break;
        }
        continue;
      }
      if (ec) {
        req.status = http::StatusOf(parser.Classify(ec));
        if (parser.is_done()) violation("is_done() after the error '" + ec.message() + "'");
        if (sink_refused && req.status != 413) violation("a body the sink refused answered " + std::to_string(req.status));
        break;
      }
    }
    req.end = pos;
    req.awaiting = stream_ended;
    req.done = parser.is_done() && req.status == 0;
    if (req.status != 0 && req.status != 400 && req.status != 413 && req.status != 414 && req.status != 431) {
      violation("an error answered " + std::to_string(req.status));
    }
    if (sink_called_after_refusal) violation("the body sink was called again after it refused");
    if (req.body.size() > limit && req.timestamp) violation("the sink accepted more than the limit");
    if (req.done) {
      const auto& h = req.head;
      if (!req.timestamp) {
        if (h.chunked || h.content_length.value_or(0) != 0) violation("a request with a body is done without reading it");
      } else if (h.content_length) {
        if (req.body != stream.substr(req.header_end, *h.content_length) || req.body.size() != *h.content_length ||
            pos != req.header_end + *h.content_length) {
          violation("done without exactly its Content-Length body");
        }
      } else if (h.chunked) {
        const auto dechunked = Dechunk(stream, req.header_end);
        if (!dechunked) {
          violation("done on a chunked body that is not complete");
        } else if (dechunked->first != req.body || dechunked->second != pos) {
          violation("the delivered chunked body differs from the stream's chunks");
        }
      } else if (!req.body.empty() || pos != req.header_end) {
        violation("a body was read without Content-Length or chunked");
      }
      if (!parser.keep_alive()) keep_going = false;
    }
    out.requests.push_back(std::move(req));
    const ReadRequest& last = out.requests.back();
    if (stream_ended || !keep_going || last.status != 0 || !last.done) break;
    if (pos == stream.size()) break;
  }
  return out;
}

// The whole check of one fuzz input: byte 0 chooses the read splits (bits 0-6) and the body limits
// (bit 7: SmallBodyLimits), the rest is what the client sends. Returns the first violation or "".
inline std::string CheckHttpInput(std::span<const std::uint8_t> data, ConnectionRead* result = nullptr) {
  if (data.empty()) return {};
  const std::uint8_t seed = data[0];
  const HttpReadOptions options = (seed & 0x80) != 0 ? SmallBodyLimits() : HttpReadOptions{};
  const std::string_view stream(reinterpret_cast<const char*>(data.data()) + 1, data.size() - 1);
  ConnectionRead split = ReadConnection(stream, seed, options);
  if (!split.violation.empty()) {
    if (result != nullptr) *result = std::move(split);
    return "split reads: " + split.violation;
  }
  const ConnectionRead whole = ReadConnection(stream, 0, options);
  std::string violation;
  if (!whole.violation.empty()) {
    violation = "maximal reads: " + whole.violation;
  } else if (split.requests.size() != whole.requests.size()) {
    violation = "split reads found " + std::to_string(split.requests.size()) + " requests, maximal reads " +
                std::to_string(whole.requests.size());
  } else {
    for (std::size_t i = 0; i < split.requests.size(); ++i) {
      const ReadRequest& a = split.requests[i];
      const ReadRequest& b = whole.requests[i];
      // A request the input leaves unfinished may be refused early by one read pattern and still
      // be awaited by the other: Beast parses the fields of a header it has not seen the end of
      // only on the first put() (after a need_more it waits for the empty line), and Put() waits
      // for 5 bytes in a chunked body. Either way it is never accepted, and a request the client
      // finishes gets the same answer.
      const bool unfinished = i + 1 == split.requests.size() && !a.done && !b.done && a.start == b.start &&
                              ((a.awaiting && b.status != 0) || (b.awaiting && a.status != 0));
      if (!a.SameAs(b) && !unfinished) {
        violation = "request " + std::to_string(i) + " reads differently split (status " +
                    std::to_string(split.requests[i].status) + ", end " + std::to_string(split.requests[i].end) +
                    ") and whole (status " + std::to_string(whole.requests[i].status) + ", end " +
                    std::to_string(whole.requests[i].end) + ")";
        break;
      }
    }
  }
  if (result != nullptr) *result = std::move(split);
  return violation;
}

}  // namespace tsa::fuzz
