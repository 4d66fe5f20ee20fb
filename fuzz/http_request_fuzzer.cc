// libFuzzer harness over the request-reading path of the HTTP server: the bytes are what a client
// sends on one connection, read as http::Session::Parse reads them (a RequestParser per request,
// put() on reads split where the input's first byte says, the route's body sink, pipelined
// requests from the leftover bytes), and every read must have the properties of
// http_request_checks.h (framing rules, body completeness, sink limit, error statuses, and the same
// result whatever the read splits). A violation aborts, so libFuzzer saves the input as a crash.
//
// Input: byte 0 = read-split seed (bits 0-6; 0: maximal reads) and body limits (bit 7: small
// limits, 64 B query / 256 B data); the rest is the connection's bytes.
// Build and run: see fuzz/README.md. TSA_FUZZ_VERBOSE=1 prints what each input reads.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "http_request_checks.h"

namespace {

bool g_verbose = false;

void PrintInput(std::span<const std::uint8_t> data) {
  std::fprintf(stderr, "input (%zu bytes, seed 0x%02x):\n", data.size(), data.empty() ? 0 : data[0]);
  for (std::size_t i = 1; i < data.size() && i < 2048; ++i) {
    const unsigned char c = data[i];
    if (c == '\n') {
      std::fprintf(stderr, "\\n\n");
    } else if (c == '\r') {
      std::fprintf(stderr, "\\r");
    } else if (c >= 0x20 && c < 0x7f && c != '\\') {
      std::fputc(c, stderr);
    } else {
      std::fprintf(stderr, "\\x%02x", c);
    }
  }
  std::fprintf(stderr, "%s\n", data.size() > 2048 ? "..." : "");
}

void PrintRead(const tsa::fuzz::ConnectionRead& read) {
  for (const auto& r : read.requests) {
    std::fprintf(stderr, "  [%zu..%zu) header_end=%zu path='%s' ts=%d done=%d status=%d body=%zu B cl=%s chunked=%d\n", r.start,
                 r.end, r.header_end, r.path.c_str(), r.timestamp, r.done, r.status, r.body.size(),
                 r.head.content_length ? std::to_string(*r.head.content_length).c_str() : "-", r.head.chunked);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  g_verbose = std::getenv("TSA_FUZZ_VERBOSE") != nullptr;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  tsa::fuzz::ConnectionRead read;
  const std::string violation = tsa::fuzz::CheckHttpInput(input, &read);
  if (g_verbose || !violation.empty()) {
    if (!violation.empty()) std::fprintf(stderr, "\n==== http_request_fuzzer VIOLATION: %s\n", violation.c_str());
    PrintInput(input);
    PrintRead(read);
  }
  if (!violation.empty()) std::abort();
  return 0;
}
