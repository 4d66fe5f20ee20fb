#include "tsa/service/reply_json.h"

#include <nlohmann/json.hpp>

#include "tsa/core/response_info.h"
#include "tsa/crypto/response_inspector.h"

namespace tsa::service {

nlohmann::json TimeStampReplyJson(const IssueOutcome& outcome) {
  auto info = crypto::DescribeResponse(outcome.der);
  if (info && info->granted() == outcome.granted()) return core::ToJson(*info);
  const std::string why = info ? "the reply's status disagrees with the outcome" : info.error().message;
  if (outcome.granted()) {
    return {{"status", "granted"},
            {"serial_number", outcome.serial_hex},
            {"gen_time_us", outcome.gen_time},
            {"response", core::Base64(outcome.der)},
            {"describe_error", why}};
  }
  return {{"status", "rejection"},
          {"fail_info", core::FailInfoName(outcome.rejection->fail_info)},
          {"status_string", outcome.rejection->status_string},
          {"describe_error", why}};
}

}  // namespace tsa::service
