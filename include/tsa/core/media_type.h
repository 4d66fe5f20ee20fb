// Media-type decisions for POST /tsa (RFC 3161 §3.4 and the tsad HTTP profile, conformance §1.5).
#pragma once

#include <string_view>

namespace tsa::core {

// True for application/timestamp-query and the legacy application/timestamp-request (Apache POI,
// Portuguese eID middleware), case-insensitive, parameters ignored. Anything else is raw data.
bool IsTimeStampQuery(std::string_view content_type);

// True when the client asked for JSON: ?format=json, or an Accept header naming application/json
// but not application/timestamp-reply.
bool WantsJson(std::string_view format_param, std::string_view accept_header);

}  // namespace tsa::core
