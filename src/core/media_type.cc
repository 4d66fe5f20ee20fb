#include "tsa/core/media_type.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace tsa::core {
namespace {
std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

bool IsTimeStampQuery(std::string_view content_type) {
  const auto semi = content_type.find(';');
  const std::string type = Lower(Trim(content_type.substr(0, semi)));
  return type == "application/timestamp-query" || type == "application/timestamp-request";
}

bool WantsJson(std::string_view format_param, std::string_view accept_header) {
  if (Lower(format_param) == "json") return true;
  // Accept: a comma-separated list. JSON when it names application/json and not the DER reply type
  // (clients such as osslsigncode send "Accept: application/timestamp-reply"; DER wins a tie).
  bool json = false;
  std::string_view rest = accept_header;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    const std::string type = Lower(Trim(item.substr(0, item.find(';'))));
    if (type == "application/timestamp-reply") return false;
    if (type == "application/json") json = true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return json;
}

}  // namespace tsa::core
