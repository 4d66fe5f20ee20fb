// The strict HTTP/1.1 request parser of tsad's server edge: Beast's basic_parser (a widely
// deployed, fuzzed parser) plus the framing rules tsad adds on top of it (RFC 9112 §6): one
// Content-Length of digits only, a Transfer-Encoding of exactly "chunked", and limits on header
// bytes, header count and URI length. It keeps only the few fields tsad reads and streams the
// body to a sink, so memory stays bounded whatever the client sends. It does no I/O: the session
// feeds it bytes (put), and the fuzz harness feeds it raw bytes the same way.
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tsa::http {

struct ParserLimits {
  std::size_t max_header_bytes = std::size_t{16} * 1024;  // header fields (431 above)
  std::size_t max_headers = 100;                          // fields (431 above)
  std::size_t max_uri_bytes = 4096;                       // request-target (414 above)
};

// What tsad reads of a request head; every other field is counted and dropped.
struct RequestHead {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string target;
  int version = 11;
  std::string content_type;
  std::string accept;
  std::string expect;
  std::string authorization;  // kept only for the clients check (--clients)
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  std::size_t fields = 0;
};

// Why a request could not be read: the HTTP status to answer before closing the connection.
enum class ParseFailure { kNone, kBadRequest, kHeaderTooLarge, kUriTooLong, kBodyTooLarge };
int StatusOf(ParseFailure failure);

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // Receives body bytes as they are parsed (decoded from chunks); returns false when the body is
  // over its limit, which stops parsing with kBodyTooLarge.
  using BodySink = std::function<bool(std::string_view)>;

  explicit RequestParser(const ParserLimits& limits);

  const RequestHead& head() const { return head_; }
  // Installs where the body goes; call after the header is done and before parsing the body.
  void SetBodySink(BodySink sink) { sink_ = std::move(sink); }
  // What the session calls instead of put(): the same, except that while a chunked body is being
  // read it uses nothing and answers need_more until at least kMinChunkedPut bytes are buffered.
  // Boost 1.81's parser asserts (BOOST_ASSERT(n >= 5) in parse_chunk_header) when the last-chunk
  // line "0\r\n" arrived without the empty line after it and the next put() has 4 bytes: a client
  // splitting "0\r\n\r\n" as "0\r\n" + "\r" + "\n" aborted a build with assertions (boostorg/beast
  // PR 2861, fixed in Boost 1.86). Every complete rest of a chunked body is at least "0\r\n\r\n", so
  // waiting for 5 bytes never stalls a client that sends its whole request.
  static constexpr std::size_t kMinChunkedPut = 5;
  std::size_t Put(boost::asio::const_buffer buffer, boost::beast::error_code& ec);
  // The classification of the error the last put() returned (kBadRequest for Beast's own).
  ParseFailure failure() const { return failure_; }
  // Maps a put() error to the failure to answer.
  ParseFailure Classify(const boost::beast::error_code& ec) const;
  // Checked on the raw bytes before the head is complete: a request line longer than any with a
  // target within the limit is 414 (RFC 9112 §3), whatever Beast's limit for the whole head says.
  // Only meaningful before the request line is parsed (Beast consumes the head line by line).
  bool RequestLineTooLong(std::string_view buffered) const;
  bool request_line_parsed() const { return request_line_parsed_; }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str, boost::beast::string_view target,
                       int version, boost::beast::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string, boost::beast::string_view value,
                     boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, boost::beast::error_code& ec) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions, boost::beast::error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code& ec) override;

  std::size_t Deliver(boost::beast::string_view body, boost::beast::error_code& ec);
  void Fail(ParseFailure failure, boost::beast::error_code& ec);

  ParserLimits limits_;
  RequestHead head_;
  BodySink sink_;
  ParseFailure failure_ = ParseFailure::kNone;
  bool request_line_parsed_ = false;
  std::size_t field_bytes_ = 0;
  int content_length_fields_ = 0;
  int transfer_encoding_fields_ = 0;
};

}  // namespace tsa::http
