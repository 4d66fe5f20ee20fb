#include "tsa/http/client.h"

#include <httplib.h>

#include <regex>

#include "tsa/http/anchor_transport.h"

namespace tsa::http {
namespace {

struct ParsedUrl {
  bool https = false;
  std::string host;
  int port = 0;
  std::string path;
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  static const std::regex kUrl(R"(^(https?)://([^/:]+|\[[^\]]+\])(?::(\d+))?(/.*)?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) return MakeError(ErrorKind::kInvalidArgument, "not an http(s) URL: " + url);
  const std::string scheme = m[1].str();
  const bool https = scheme.size() == 5;
  const std::string host = m[2].str();
  const int port = m[3].matched ? std::stoi(m[3].str()) : (https ? 443 : 80);
  const std::string path = m[4].matched ? m[4].str() : "/";
  return ParsedUrl{https, host, port, path};
}

using ClientHook = std::function<void(httplib::Client*, bool /*registered*/)>;

Result<HttpReply> DoPost(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                         const ClientOptions& options, const ClientHook& hook) {
  TSA_ASSIGN_OR_RETURN(ParsedUrl u, ParseUrl(url));
  const bool https = u.https;
  const std::string& host = u.host;
  const int port = u.port;
  const std::string& path = u.path;
  httplib::Client client(std::string(https ? "https://" : "http://") + host + ":" + std::to_string(port));
  client.set_connection_timeout(options.timeout_s, 0);
  client.set_read_timeout(options.timeout_s, 0);
  client.set_write_timeout(options.timeout_s, 0);
  if (https) {
    client.enable_server_certificate_verification(true);
    if (!options.ca_bundle.empty()) client.set_ca_cert_path(options.ca_bundle.c_str());
  }
  const httplib::Headers headers = {{"Accept", "application/timestamp-reply, application/json;q=0.5"}};
  if (hook) hook(&client, true);
  auto res = client.Post(path.c_str(), headers, reinterpret_cast<const char*>(body.data()), body.size(), content_type.c_str());
  if (hook) hook(&client, false);
  if (!res) {
    const auto err = res.error();
    const std::string why = err == httplib::Error::Read         ? "no complete reply (timed out, cancelled or connection closed)"
                            : err == httplib::Error::Connection ? "cannot connect"
                                                                : httplib::to_string(err);
    return MakeError(ErrorKind::kIo, "request to " + url + " failed: " + why);
  }
  HttpReply reply;
  reply.status = res->status;
  reply.content_type = res->get_header_value("Content-Type");
  reply.body.assign(res->body.begin(), res->body.end());
  return reply;
}

}  // namespace

Result<HttpReply> Post(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                       const ClientOptions& options) {
  return DoPost(url, body, content_type, options, nullptr);
}

Result<std::vector<std::uint8_t>> HttpAnchorTransport::PostQuery(const std::string& url, const std::vector<std::uint8_t>& der,
                                                                 int timeout_s) {
  ClientOptions options;
  options.timeout_s = timeout_s;
  options.ca_bundle = ca_bundle_path_;
  auto hook = [this](httplib::Client* client, bool registered) {
    std::lock_guard lock(mutex_);
    if (registered) {
      in_flight_.insert(client);
    } else {
      in_flight_.erase(client);
    }
  };
  TSA_ASSIGN_OR_RETURN(HttpReply reply, DoPost(url, der, "application/timestamp-query", options, hook));
  if (reply.status != 200) return MakeError(ErrorKind::kUnavailable, "HTTP " + std::to_string(reply.status));
  // RFC 3161 §3.4: the reply media type.
  const auto type = reply.content_type.substr(0, reply.content_type.find(';'));
  if (type != "application/timestamp-reply" && type != "application/timestamp-response") {
    return MakeError(ErrorKind::kUnavailable, "unexpected Content-Type '" + reply.content_type + "'");
  }
  return std::move(reply.body);
}

void HttpAnchorTransport::CancelAll() {
  std::lock_guard lock(mutex_);
  for (void* c : in_flight_) static_cast<httplib::Client*>(c)->stop();
}

}  // namespace tsa::http
