#include "request_parser.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

#include <charconv>

namespace tsa::http {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool AllDigits(std::string_view v) { return !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos; }

}  // namespace

int StatusOf(ParseFailure failure) {
  switch (failure) {
    case ParseFailure::kNone:
    case ParseFailure::kBadRequest: return 400;
    case ParseFailure::kHeaderTooLarge: return 431;  // RFC 6585 §5
    case ParseFailure::kUriTooLong: return 414;      // RFC 9110 §15.5.15
    case ParseFailure::kBodyTooLarge: return 413;    // RFC 9110 §15.5.14
  }
  return 400;
}

RequestParser::RequestParser(const ParserLimits& limits) : limits_(limits) {
  // Beast's limit covers the whole head; the request line's own limit (414) and the fields' (431)
  // are checked separately below, so that each answers with its own status.
  header_limit(static_cast<std::uint32_t>(limits.max_header_bytes + limits.max_uri_bytes + 64));
  body_limit(boost::none);  // the sink enforces the limit of the request's mode
  eager(false);             // stop after the header: the session decides before any body is read
}

void RequestParser::Fail(ParseFailure failure, beast::error_code& ec) {
  failure_ = failure;
  ec = failure == ParseFailure::kBodyTooLarge ? bhttp::error::body_limit : bhttp::error::bad_value;
}

std::size_t RequestParser::Put(boost::asio::const_buffer buffer, beast::error_code& ec) {
  if (is_header_done() && head_.chunked && !is_done() && buffer.size() < kMinChunkedPut) {
    ec = bhttp::error::need_more;
    return 0;
  }
  return put(buffer, ec);
}

ParseFailure RequestParser::Classify(const beast::error_code& ec) const {
  if (failure_ != ParseFailure::kNone) return failure_;
  if (ec == bhttp::error::header_limit) return ParseFailure::kHeaderTooLarge;
  if (ec == bhttp::error::body_limit) return ParseFailure::kBodyTooLarge;
  return ParseFailure::kBadRequest;
}

bool RequestParser::RequestLineTooLong(std::string_view buffered) const {
  // method (at most "OPTIONS") + SP + target + SP + "HTTP/1.1" + CRLF
  constexpr std::size_t kOverhead = 7 + 1 + 1 + 8 + 2;
  const std::size_t longest = limits_.max_uri_bytes + kOverhead;
  const std::size_t line_end = buffered.substr(0, longest + 1).find('\n');
  return line_end == std::string_view::npos ? buffered.size() > longest : line_end + 1 > longest;
}

void RequestParser::on_request_impl(bhttp::verb method, beast::string_view /*method_str*/, beast::string_view target, int version,
                                    beast::error_code& ec) {
  request_line_parsed_ = true;
  if (target.size() > limits_.max_uri_bytes) return Fail(ParseFailure::kUriTooLong, ec);
  head_.method = method;
  head_.target.assign(target.data(), target.size());
  head_.version = version;
}

void RequestParser::on_response_impl(int, beast::string_view, int, beast::error_code& ec) { ec = bhttp::error::bad_method; }

void RequestParser::on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                                  beast::error_code& ec) {
  field_bytes_ += name_string.size() + value.size() + 4;  // "name: value\r\n"
  if (++head_.fields > limits_.max_headers || field_bytes_ > limits_.max_header_bytes) {
    return Fail(ParseFailure::kHeaderTooLarge, ec);
  }
  const std::string_view v(value.data(), value.size());
  switch (name) {
    case bhttp::field::content_length:
      // RFC 9112 §6.3: a list or repeated field is a framing error tsad does not try to repair
      // (Beast would accept "11, 11"); only digits (Beast already refuses "+11" and "11 5").
      if (++content_length_fields_ > 1 || !AllDigits(Trim(v))) return Fail(ParseFailure::kBadRequest, ec);
      {
        const std::string_view digits = Trim(v);
        std::uint64_t length = 0;
        const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
        if (err != std::errc() || end != digits.data() + digits.size()) return Fail(ParseFailure::kBadRequest, ec);
        head_.content_length = length;
      }
      break;
    case bhttp::field::transfer_encoding:
      // RFC 9112 §6.1: tsad implements no other coding, so anything but exactly "chunked" (once)
      // is refused, as is its combination with Content-Length (Beast checks that too).
      if (++transfer_encoding_fields_ > 1 || !beast::iequals(Trim(v), "chunked")) return Fail(ParseFailure::kBadRequest, ec);
      head_.chunked = true;
      break;
    case bhttp::field::content_type: head_.content_type.assign(v); break;
    case bhttp::field::accept: head_.accept.assign(v); break;
    case bhttp::field::expect: head_.expect.assign(Trim(v)); break;
    case bhttp::field::authorization: head_.authorization.assign(Trim(v)); break;
    default: break;
  }
}

void RequestParser::on_header_impl(beast::error_code& ec) {
  if (head_.chunked && head_.content_length) Fail(ParseFailure::kBadRequest, ec);
}

void RequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& /*content_length*/, beast::error_code& /*ec*/) {}

std::size_t RequestParser::Deliver(beast::string_view body, beast::error_code& ec) {
  if (!sink_) {
    Fail(ParseFailure::kBodyTooLarge, ec);  // a body where the route takes none
    return 0;
  }
  if (!sink_(std::string_view(body.data(), body.size()))) {
    Fail(ParseFailure::kBodyTooLarge, ec);
    return 0;
  }
  return body.size();
}

std::size_t RequestParser::on_body_impl(beast::string_view body, beast::error_code& ec) { return Deliver(body, ec); }

void RequestParser::on_chunk_header_impl(std::uint64_t /*size*/, beast::string_view /*extensions*/, beast::error_code& /*ec*/) {}

std::size_t RequestParser::on_chunk_body_impl(std::uint64_t /*remain*/, beast::string_view body, beast::error_code& ec) {
  return Deliver(body, ec);
}

void RequestParser::on_finish_impl(beast::error_code& /*ec*/) {}

}  // namespace tsa::http
