#include "tsa/http/client.h"

#include <httplib.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <regex>
#include <stop_token>
#include <thread>

#include "tsa/http/anchor_transport.h"
#include "tsa/http/in_flight_clients.h"
#include "tsa/http/witness_transport.h"

namespace tsa::http {
namespace {

// A witness answers a few signature lines (tlog-witness): 64 KiB is generous.
constexpr std::size_t kMaxWitnessReplyBytes = std::size_t{64} * 1024;

struct ParsedUrl {
  bool https = false;
  std::string host;
  int port = 0;
  std::string path;
  std::optional<std::string> userinfo;  // "user:password" before '@' (HTTP Basic, as curl and signing tools)
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  static const std::regex kUrl(R"(^(https?)://(?:([^@/]*)@)?([^/:@]+|\[[^\]]+\])(?::(\d{1,5}))?(/.*)?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) return MakeError(ErrorKind::kInvalidArgument, "not an http(s) URL: " + url);
  const bool https = m[1].length() == 5;
  const int port = m[4].matched ? std::stoi(m[4].str()) : (https ? 443 : 80);
  if (port < 1 || port > 65535) return MakeError(ErrorKind::kInvalidArgument, "bad port in URL: " + url);
  ParsedUrl parsed{https, m[3].str(), port, m[5].matched ? m[5].str() : "/", std::nullopt};
  if (m[2].matched) parsed.userinfo = m[2].str();
  return parsed;
}

// Stops the client when the exchange passes its deadline. Per-read timeouts alone do not bound
// the total: a server that sends one byte per read keeps every read short and the exchange
// endless. client.stop() shuts the socket down, which wakes the blocked read.
class DeadlineWatch {
 public:
  DeadlineWatch(httplib::Client& client, std::chrono::seconds limit)
      : thread_([this, &client, limit](std::stop_token stop) {
          std::unique_lock lock(mutex_);
          cv_.wait_for(lock, stop, limit, [] { return false; });
          if (stop.stop_requested()) return;
          expired_ = true;
          lock.unlock();
          client.stop();
        }) {}
  bool expired() const { return expired_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable_any cv_;
  std::atomic<bool> expired_{false};
  std::jthread thread_;  // last: it uses the members above; its destructor stops and joins it
};

// Collects the reply body up to `cap` bytes; past it, tells httplib to stop reading.
class CappedBody {
 public:
  explicit CappedBody(std::size_t cap) : cap_(cap) {}

  // A declared Content-Length over the cap is refused before any body byte is read.
  bool AcceptHeaders(const httplib::Response& response) {
    const std::string length = response.get_header_value("Content-Length");
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (!length.empty() && (ec != std::errc() || end != length.data() + length.size() || n > cap_)) too_large_ = true;
    return !too_large_;
  }
  bool Append(const char* data, std::size_t n) {
    if (n > cap_ - body_.size()) {
      too_large_ = true;
      return false;
    }
    body_.insert(body_.end(), data, data + n);
    return true;
  }
  bool too_large() const { return too_large_; }
  std::vector<std::uint8_t> Take() { return std::move(body_); }

 private:
  std::size_t cap_;
  std::vector<std::uint8_t> body_;
  bool too_large_ = false;
};

std::string TransportFailure(httplib::Error err) {
  switch (err) {
    case httplib::Error::Read: return "no complete reply (timed out, cancelled or connection closed)";
    case httplib::Error::Connection: return "cannot connect";
    default: return httplib::to_string(err);
  }
}

using ClientHook = std::function<void(httplib::Client*, bool /*registered*/)>;

// Registers each client of an exchange with `clients` for its duration (CancelAll at shutdown).
ClientHook TrackIn(InFlightClients& clients) {
  return [&clients](httplib::Client* client, bool registered) {
    if (registered) {
      clients.Add(client);
    } else {
      clients.Remove(client);
    }
  };
}

// One exchange: POST with a body (content_type set) or GET (body empty, content_type empty).
Result<HttpReply> DoSend(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                         const ClientOptions& options, const ClientHook& hook) {
  TSA_ASSIGN_OR_RETURN(ParsedUrl u, ParseUrl(url));
  httplib::Client client(std::string(u.https ? "https://" : "http://") + u.host + ":" + std::to_string(u.port));
  client.set_connection_timeout(options.timeout_s, 0);
  client.set_read_timeout(options.timeout_s, 0);
  client.set_write_timeout(options.timeout_s, 0);
  if (u.https) {
    client.enable_server_certificate_verification(true);
    if (!options.ca_bundle.empty()) client.set_ca_cert_path(options.ca_bundle);
  }
  if (u.userinfo) {
    const auto colon = u.userinfo->find(':');
    client.set_basic_auth(u.userinfo->substr(0, colon), colon == std::string::npos ? "" : u.userinfo->substr(colon + 1));
  }
  CappedBody reply_body(options.max_reply_bytes);
  httplib::Request request;
  if (content_type.empty()) {
    request.method = "GET";
    // c2sp.org/tlog-tiles: clients SHOULD accept gzip (httplib inflates it before the cap applies).
    request.headers = {{"Accept-Encoding", "gzip, identity"}};
  } else {
    request.method = "POST";
    request.headers = {{"Accept", options.accept}, {"Content-Type", content_type}};
    request.body.assign(body.begin(), body.end());
  }
  request.path = u.path;
  request.response_handler = [&reply_body](const httplib::Response& r) { return reply_body.AcceptHeaders(r); };
  request.content_receiver = [&reply_body](const char* data, std::size_t n, std::uint64_t, std::uint64_t) {
    return reply_body.Append(data, n);
  };

  if (hook) hook(&client, true);
  bool expired = false;
  httplib::Result res = [&] {
    DeadlineWatch deadline(client, std::chrono::seconds(options.timeout_s));
    auto r = client.send(request);
    expired = !r && deadline.expired();
    return r;
  }();
  if (hook) hook(&client, false);
  if (reply_body.too_large()) {
    return MakeError(ErrorKind::kIo, "the reply from " + url + " is larger than the cap of " +
                                         std::to_string(options.max_reply_bytes) + " bytes");
  }
  if (expired) {
    return MakeError(ErrorKind::kIo, "request to " + url + " failed: timed out, no complete reply within " +
                                         std::to_string(options.timeout_s) + " s");
  }
  if (!res) return MakeError(ErrorKind::kIo, "request to " + url + " failed: " + TransportFailure(res.error()));
  HttpReply reply;
  reply.status = res->status;
  reply.content_type = res->get_header_value("Content-Type");
  reply.body = reply_body.Take();
  return reply;
}

}  // namespace

bool IsHttpUrl(const std::string& url) { return ParseUrl(url).has_value(); }

Result<HttpReply> Post(const std::string& url, const std::vector<std::uint8_t>& body, const std::string& content_type,
                       const ClientOptions& options) {
  return DoSend(url, body, content_type, options, nullptr);
}

Result<HttpReply> Get(const std::string& url, const ClientOptions& options) { return DoSend(url, {}, "", options, nullptr); }

Result<std::vector<std::uint8_t>> HttpAnchorTransport::PostQuery(const std::string& url, const std::vector<std::uint8_t>& der,
                                                                 int timeout_s) {
  ClientOptions options;
  options.timeout_s = timeout_s;
  options.ca_bundle = ca_bundle_path_;
  const ClientHook hook = TrackIn(in_flight_);
  TSA_ASSIGN_OR_RETURN(HttpReply reply, DoSend(url, der, "application/timestamp-query", options, hook));
  if (reply.status != 200) return MakeError(ErrorKind::kUnavailable, "HTTP " + std::to_string(reply.status));
  // RFC 3161 §3.4: the reply media type.
  const auto type = reply.content_type.substr(0, reply.content_type.find(';'));
  if (type != "application/timestamp-reply" && type != "application/timestamp-response") {
    return MakeError(ErrorKind::kUnavailable, "unexpected Content-Type '" + reply.content_type + "'");
  }
  return std::move(reply.body);
}

Result<audit::WitnessReply> HttpWitnessTransport::Post(const std::string& url, const std::string& body, int timeout_s) {
  ClientOptions options;
  options.timeout_s = timeout_s;
  options.max_reply_bytes = kMaxWitnessReplyBytes;
  options.accept = "text/x.tlog.size, text/plain";
  const ClientHook hook = TrackIn(in_flight_);
  TSA_ASSIGN_OR_RETURN(HttpReply reply, DoSend(url, std::vector<std::uint8_t>(body.begin(), body.end()),
                                               "text/plain; charset=utf-8", options, hook));
  return audit::WitnessReply{reply.status, reply.content_type, std::string(reply.body.begin(), reply.body.end())};
}

void HttpWitnessTransport::CancelAll() { in_flight_.StopAll(); }

void HttpAnchorTransport::CancelAll() { in_flight_.StopAll(); }

void InFlightClients::Add(void* client) {
  std::lock_guard lock(mutex_);
  clients_.insert(client);
}

void InFlightClients::Remove(void* client) {
  std::lock_guard lock(mutex_);
  clients_.erase(client);
}

void InFlightClients::StopAll() {
  std::lock_guard lock(mutex_);
  for (void* c : clients_) static_cast<httplib::Client*>(c)->stop();
}

}  // namespace tsa::http
