// libFuzzer harness for the small text parsers on the HTTP edge and in the configuration:
// core::IsTimeStampQuery / WantsJson (Content-Type, ?format=, Accept), core::ParseHex and
// core::ParseAccuracy. Cheap; besides memory safety it checks a few properties (aborting on
// violation) that hold for every input:
//   - IsTimeStampQuery ignores case and parameters;
//   - WantsJson(f, a) is true whenever WantsJson(f, "") is; without ?format=json, Accept gives JSON
//     when it names application/json, unless it also names application/timestamp-reply;
//   - ParseHex round-trips through ToHex (modulo case, spaces and colons) and halves the length;
//   - ParseAccuracy yields only 1 us .. 60 s with millis/micros in 0..999.

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tsa/core/bytes.h"
#include "tsa/core/clock.h"
#include "tsa/core/media_type.h"

namespace {

[[noreturn]] void Violation(const char* what, std::string_view input) {
  std::fprintf(stderr, "\n==== media_type_fuzzer: %s\ninput (%zu bytes): ", what, input.size());
  for (unsigned char c : input) std::fprintf(stderr, "%02x", c);
  std::fprintf(stderr, "\n");
  std::abort();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Split at the first NUL (or the middle): two header values for WantsJson.
  const auto nul = input.find('\0');
  const std::size_t cut = nul == std::string_view::npos ? size / 2 : nul;
  const std::string_view first = input.substr(0, cut);
  const std::string_view second = cut < size ? input.substr(cut + 1) : std::string_view{};

  // Content-Type.
  const bool query = tsa::core::IsTimeStampQuery(input);
  if (tsa::core::IsTimeStampQuery(Upper(input)) != query) Violation("IsTimeStampQuery depends on case", input);
  if (tsa::core::IsTimeStampQuery(std::string(input) + "; charset=binary") != query) {
    Violation("IsTimeStampQuery depends on an appended parameter", input);
  }

  // ?format= and Accept.
  const bool json = tsa::core::WantsJson(first, second);
  if (tsa::core::WantsJson(first, "") && !json) Violation("WantsJson: ?format=json lost because of Accept", input);
  // media_type.h: JSON when Accept names application/json and not application/timestamp-reply.
  const bool names_der_reply = Lower(second).find("timestamp-reply") != std::string::npos;
  if (!names_der_reply && !tsa::core::WantsJson("", std::string(second) + ",application/json")) {
    Violation("WantsJson: Accept naming application/json (and not the DER type) not honoured", input);
  }
  if (tsa::core::WantsJson("", std::string(second) + ", application/json,application/timestamp-reply")) {
    Violation("WantsJson: Accept naming application/timestamp-reply still chose JSON", input);
  }
  (void)tsa::core::WantsJson(second, first);

  // Hex.
  if (auto bytes = tsa::core::ParseHex(input)) {
    std::string expected;
    for (char c : input) {
      if (c != ' ' && c != ':') expected.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (tsa::core::ToHex(*bytes) != expected) Violation("ParseHex does not round-trip through ToHex", input);
  }

  // Accuracy.
  if (auto accuracy = tsa::core::ParseAccuracy(std::string(input))) {
    const auto total = accuracy->TotalMicros();
    if (total <= 0 || total > 60'000'000 || accuracy->millis < 0 || accuracy->millis > 999 || accuracy->micros < 0 ||
        accuracy->micros > 999 || accuracy->seconds < 0) {
      Violation("ParseAccuracy accepted an accuracy outside 1us..60s", input);
    }
    (void)accuracy->ToString();
  }
  return 0;
}
