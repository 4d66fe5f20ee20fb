#include "tsa/http/client.h"

#include <httplib.h>

#include <regex>

namespace tsa::http {

Result<HttpReply> Post(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                       const ClientOptions& options) {
  static const std::regex kUrl(R"(^(https?)://([^/:]+|\[[^\]]+\])(?::(\d+))?(/.*)?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) return MakeError(ErrorKind::kInvalidArgument, "not an http(s) URL: " + url);
  const std::string scheme = m[1].str();
  const bool https = scheme.size() == 5;
  const std::string host = m[2].str();
  const int port = m[3].matched ? std::stoi(m[3].str()) : (https ? 443 : 80);
  const std::string path = m[4].matched ? m[4].str() : "/";

  httplib::Client client(std::string(https ? "https://" : "http://") + host + ":" + std::to_string(port));
  client.set_connection_timeout(options.timeout_s, 0);
  client.set_read_timeout(options.timeout_s, 0);
  client.set_write_timeout(options.timeout_s, 0);
  if (https) {
    client.enable_server_certificate_verification(true);
    if (!options.ca_bundle.empty()) client.set_ca_cert_path(options.ca_bundle.c_str());
  }
  const httplib::Headers headers = {{"Accept", "application/timestamp-reply, application/json;q=0.5"}};
  auto res = client.Post(path.c_str(), headers, reinterpret_cast<const char*>(body.data()), body.size(), content_type.c_str());
  if (!res) return MakeError(ErrorKind::kIo, "request to " + url + " failed: " + httplib::to_string(res.error()));
  HttpReply reply;
  reply.status = res->status;
  reply.content_type = res->get_header_value("Content-Type");
  reply.body.assign(res->body.begin(), res->body.end());
  return reply;
}

}  // namespace tsa::http
