// The request-target of an origin-form request (RFC 9112 §3.2.1): path and query parameters,
// percent-decoded ("+" is a space in the query, as HTML forms send it).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsa::http {

struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;

  // The first value of a parameter, if present.
  std::optional<std::string> Param(std::string_view name) const;
};

Target ParseTarget(std::string_view target);

}  // namespace tsa::http
