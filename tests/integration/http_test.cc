// The tsad HTTP profile (RFC3161-CONFORMANCE.md §1.5, §6.4 H01-H18) against a real tsad, plus the
// seed's raw-data mode (`curl --data-binary "hello world"`), JSON mode, /health and /certs.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "grant_checks.h"
#include "shared_tsad.h"
#include "support/der_builder.h"
#include "tsa/core/build_version.h"

namespace tsa::test {
namespace {

using core::FailInfo;
using namespace std::chrono_literals;

constexpr int kReadTimeoutS = 2;  // tsad --read-timeout for this suite (H17)

Bytes Digest(const char* name, std::string_view data) {
  const EVP_MD* md = EVP_get_digestbyname(name);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return Bytes(out, out + len);
}

Bytes StringBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes Base64Decode(const std::string& text) {
  Bytes out(text.size());
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  std::size_t len = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() > 1 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

class HttpProfile : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_.Start({"--read-timeout", std::to_string(kReadTimeoutS)}); }
  static void TearDownTestSuite() { env_.Stop(); }
  void SetUp() override { ASSERT_TRUE(env_.Ready()); }

  static int port() { return env_.port(); }
  static GrantExpectations Expect(const RequestBuilder& b) {
    return ExpectationsFor(b, env_.pki().tsa_cert_pem, env_.pki().ca_cert_pem);
  }
  // What raw-data mode time-stamps: SHA-x(body), NULL parameters, no nonce, certReq TRUE.
  static GrantExpectations ExpectRawData(const char* oid, const Bytes& digest) {
    RequestBuilder b;
    b.hash_oid = oid;
    b.params = RequestBuilder::Params::kNull;
    b.digest = digest;
    b.nonce.reset();
    b.cert_req = RequestBuilder::CertReq::kTrue;
    return Expect(b);
  }
  static HttpResponse PostWithType(const Bytes& body, const std::optional<std::string>& type,
                                   const std::string& target = "/tsa") {
    return HttpPost(port(), target, body, type);
  }

  static inline SharedTsad env_;
};

// ---------------------------------------------------------------------------------------------
// H01-H18

TEST_F(HttpProfile, H01_GetOnTsaPathIs405WithAllowPost) {
  for (const char* path : {"/tsa", "/"}) {
    SCOPED_TRACE(path);
    const HttpResponse r = HttpGet(port(), path);
    EXPECT_EQ(r.status, 405) << r.Summary();
    EXPECT_EQ(r.header("Allow"), "POST") << r.Summary();
  }
}

TEST_F(HttpProfile, H02_PutOnTsaPathIs405) {
  const HttpResponse r = HttpRequest(port(), "PUT", "/tsa", {{"Content-Type", "application/timestamp-query"}},
                                     RequestBuilder::Default().Encode());
  EXPECT_EQ(r.status, 405) << r.Summary();
  EXPECT_EQ(r.header("Allow"), "POST") << r.Summary();
  for (const char* method : {"DELETE", "PATCH"}) {
    EXPECT_EQ(HttpRequest(port(), method, "/tsa").status, 405) << method;
  }
}

TEST_F(HttpProfile, H03_TextPlainIsRawDataModeOverSha256OfTheBody) {
  const std::string data = "text/plain body for H03";
  const HttpResponse r = PostWithType(StringBytes(data), "text/plain");
  EXPECT_TRUE(CheckGrant(r, ExpectRawData(oid::kSha256, Digest("SHA256", data))));
}

TEST_F(HttpProfile, H04_OctetStreamIsRawDataMode) {
  const Bytes data = RandomBytes(5000);
  const HttpResponse r = PostWithType(data, "application/octet-stream");
  EXPECT_TRUE(CheckGrant(
      r,
      ExpectRawData(oid::kSha256, Digest("SHA256", std::string_view(reinterpret_cast<const char*>(data.data()), data.size())))));
}

TEST_F(HttpProfile, H05_NoContentTypeIsRawDataMode) {
  const std::string data = "no content type";
  const HttpResponse r = PostWithType(StringBytes(data), std::nullopt);
  EXPECT_TRUE(CheckGrant(r, ExpectRawData(oid::kSha256, Digest("SHA256", data))));
}

// The seed command: curl -X POST http://host/tsa --data-binary "hello world" (curl sends
// application/x-www-form-urlencoded).
TEST_F(HttpProfile, H05_SeedCommandFormPostOfHelloWorldIsGrantedOverSha256) {
  const HttpResponse r = PostWithType(StringBytes("hello world"), "application/x-www-form-urlencoded");
  const Bytes expected = FromHex("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  ASSERT_EQ(Digest("SHA256", "hello world"), expected);
  EXPECT_TRUE(CheckGrant(r, ExpectRawData(oid::kSha256, expected)));
}

TEST_F(HttpProfile, RawDataModeHashSha512QueryParameter) {
  const HttpResponse r = PostWithType(StringBytes("hello world"), "application/x-www-form-urlencoded", "/tsa?hash=sha512");
  EXPECT_TRUE(CheckGrant(r, ExpectRawData(oid::kSha512, Digest("SHA512", "hello world"))));
  const HttpResponse r384 = PostWithType(StringBytes("hello world"), "text/plain", "/?hash=sha384");
  EXPECT_TRUE(CheckGrant(r384, ExpectRawData(oid::kSha384, Digest("SHA384", "hello world"))));
}

// Issue 9: every protocol outcome is a DER TimeStampResp, an unsupported ?hash= too (it was a
// JSON 400). The body is left unread, so the connection closes after the reply.
TEST_F(HttpProfile, RawDataModeRefusesHashesOutsideThePolicyWithADerBadAlg) {
  for (const char* h : {"md5", "sha1", "nonsense"}) {
    SCOPED_TRACE(h);
    const HttpResponse r = PostWithType(StringBytes("hello world"), "text/plain", std::string("/tsa?hash=") + h);
    EXPECT_TRUE(CheckRejection(r, FailInfo::kBadAlg)) << r.Summary();
  }
}

TEST_F(HttpProfile, H06_ContentTypeIsCaseInsensitive) {
  const RequestBuilder b = RequestBuilder::Default();
  EXPECT_TRUE(CheckGrant(PostWithType(b.Encode(), "Application/TimeStamp-Query"), Expect(b)));
}

TEST_F(HttpProfile, H07_ContentTypeParametersAreIgnored) {
  const RequestBuilder b = RequestBuilder::Default();
  EXPECT_TRUE(CheckGrant(PostWithType(b.Encode(), "application/timestamp-query; charset=binary"), Expect(b)));
}

TEST_F(HttpProfile, H08_LegacyTimestampRequestTypeIsAccepted) {
  const RequestBuilder b = RequestBuilder::Default();
  EXPECT_TRUE(CheckGrant(PostWithType(b.Encode(), "application/timestamp-request"), Expect(b)));
}

TEST_F(HttpProfile, H09_EmptyQueryBodyIs200BadDataFormat) {
  EXPECT_TRUE(CheckRejection(PostQuery(port(), {}), FailInfo::kBadDataFormat));
}

TEST_F(HttpProfile, H10_HugeContentLengthWithShortBodyIs413Promptly) {
  std::string error;
  auto conn = HttpConnection::Connect(port(), &error);
  ASSERT_TRUE(conn) << error;
  const auto start = std::chrono::steady_clock::now();
  conn->Send(
      "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\nContent-Length: 10485760\r\n\r\n");
  conn->Send(std::string(64 * 1024, 'x'));  // may fail part-way if the server already answered and closed
  const HttpResponse r = conn->ReadResponse(2s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 413) << r.Summary();
  EXPECT_LT(elapsed, 2s);
}

TEST_F(HttpProfile, H10b_QueryBodyOverMaxRequestBytesIs413) {
  // Announced by Content-Length (default --max-request-bytes 16384)...
  const HttpResponse announced = PostQuery(port(), Bytes(16 * 1024 + 1, 0x30));
  EXPECT_EQ(announced.status, 413) << announced.Summary();
  // ...and discovered while reading a chunked body that announces nothing.
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  std::string req =
      "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) req += "400\r\n" + std::string(1024, 'x') + "\r\n";
  req += "0\r\n\r\n";
  conn->Send(req);
  const HttpResponse chunked = conn->ReadResponse(5s);
  EXPECT_EQ(chunked.status, 413) << chunked.Summary();
  // A body of exactly the limit is read and answered (here: not a request -> badDataFormat).
  EXPECT_TRUE(CheckRejection(PostQuery(port(), Bytes(16 * 1024, 0x30)), FailInfo::kBadDataFormat));
}

TEST_F(HttpProfile, H11_Http10WithoutHostIsServedAndClosed) {
  const RequestBuilder b = RequestBuilder::Default();
  const Bytes der = b.Encode();
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  std::string req = "POST /tsa HTTP/1.0\r\nContent-Type: application/timestamp-query\r\nContent-Length: " +
                    std::to_string(der.size()) + "\r\n\r\n";
  req.append(der.begin(), der.end());
  ASSERT_TRUE(conn->Send(req));
  const HttpResponse r = conn->ReadResponse(5s);
  EXPECT_TRUE(CheckGrant(r, Expect(b)));
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_TRUE(r.closed || conn->WaitForClose(2s)) << "the server kept the HTTP/1.0 connection open";
}

TEST_F(HttpProfile, H12_ChunkedRequestBodyIsGranted) {
  const RequestBuilder b = RequestBuilder::Default();
  const Bytes der = b.Encode();
  const std::size_t half = der.size() / 2;
  auto chunk = [](const Bytes& d, std::size_t from, std::size_t to) {
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", to - from);
    return std::string(size) + std::string(d.begin() + static_cast<long>(from), d.begin() + static_cast<long>(to)) + "\r\n";
  };
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\n"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                 chunk(der, 0, half)));
  std::this_thread::sleep_for(20ms);  // two separate TCP segments
  ASSERT_TRUE(conn->Send(chunk(der, half, der.size()) + "0\r\n\r\n"));
  EXPECT_TRUE(CheckGrant(conn->ReadResponse(5s), Expect(b)));
}

TEST_F(HttpProfile, H13_Expect100ContinueGets100ThenGrant) {
  const RequestBuilder b = RequestBuilder::Default();
  const Bytes der = b.Encode();
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\nExpect: 100-continue\r\n"
                 "Connection: close\r\nContent-Length: " +
                 std::to_string(der.size()) + "\r\n\r\n"));
  const HttpResponse interim = conn->ReadResponse(3s);
  EXPECT_EQ(interim.status, 100) << interim.Summary();
  ASSERT_TRUE(conn->Send(der));
  EXPECT_TRUE(CheckGrant(conn->ReadResponse(5s), Expect(b)));
}

TEST_F(HttpProfile, H13b_Expect100ContinueWithOversizedBodyGets413NotContinue) {
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(
      conn->Send("POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\nExpect: 100-continue\r\n"
                 "Content-Length: 10485760\r\n\r\n"));
  const HttpResponse r = conn->ReadResponse(3s);
  EXPECT_EQ(r.status, 413) << r.Summary();
}

TEST_F(HttpProfile, H14_TwoRequestsOnOneKeepAliveConnection) {
  auto conn = HttpConnection::Connect(port());
  ASSERT_TRUE(conn);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("request " + std::to_string(i + 1));
    const RequestBuilder b = RequestBuilder::Default();
    ASSERT_TRUE(conn->Send(BuildRequest("POST", "/tsa", {{"Content-Type", "application/timestamp-query"}}, b.Encode(), port())));
    const HttpResponse r = conn->ReadResponse(5s);
    EXPECT_TRUE(CheckGrant(r, Expect(b)));
    EXPECT_FALSE(r.closed);
    EXPECT_NE(r.header("Connection"), "close") << r.Summary();
  }
}

TEST_F(HttpProfile, H15_UnknownPathIs404) {
  EXPECT_EQ(PostQuery(port(), RequestBuilder::Default().Encode(), "/nope").status, 404);
  EXPECT_EQ(HttpGet(port(), "/tsa/extra").status, 404);
}

TEST_F(HttpProfile, H16_RejectionIsHttp200WithExactReplyType) {
  const HttpResponse r = PostQuery(port(), RequestBuilder::Default().WithHash(oid::kMd5).Encode());
  EXPECT_TRUE(CheckRejection(r, FailInfo::kBadAlg));
  EXPECT_EQ(r.header("Content-Type"), "application/timestamp-reply");
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
}

TEST_F(HttpProfile, ReplyHeadersOnGrantAreExactWithNoStore) {
  const HttpResponse r = PostQuery(port(), RequestBuilder::Default().Encode());
  ASSERT_TRUE(CheckReplyHeaders(r));
  EXPECT_EQ(r.header("Content-Length"), std::to_string(r.body.size()));
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_FALSE(r.has_header("Transfer-Encoding")) << "never chunk the reply";
}

// Sends `bytes`, then stays silent; returns when the server closed the connection (or not).
struct DropTiming {
  bool closed = false;
  long first_reply_ms = -1;  // when the first reply byte arrived (-1: none)
  long closed_ms = -1;
  std::string reply;
};
DropTiming SendThenWaitForDrop(int port, const std::string& bytes, std::chrono::milliseconds limit) {
  DropTiming t;
  auto conn = HttpConnection::Connect(port);
  if (!conn) return t;
  const auto start = std::chrono::steady_clock::now();
  conn->Send(bytes);
  auto since = [&] {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
  };
  while (since() < limit.count()) {
    std::string data;
    const bool closed = conn->WaitForClose(std::chrono::milliseconds(50), &data);
    if (!data.empty() && t.first_reply_ms < 0) t.first_reply_ms = since();
    t.reply += data;
    if (closed) {
      t.closed = true;
      t.closed_ms = since();
      break;
    }
  }
  return t;
}

TEST_F(HttpProfile, H17_SlowLorisHeadersAreDroppedWithinTheReadTimeout) {
  const DropTiming t = SendThenWaitForDrop(port(), "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic",
                                           std::chrono::seconds(kReadTimeoutS + 8));
  EXPECT_TRUE(t.closed && t.closed_ms <= kReadTimeoutS * 1000 + 1500)
      << "--read-timeout " << kReadTimeoutS << ": first reply byte after " << t.first_reply_ms << " ms, connection closed after "
      << t.closed_ms << " ms (-1: still open). Reply: " << t.reply;
}

TEST_F(HttpProfile, H17b_SlowBodyIsDroppedWithinTheReadTimeout) {
  const DropTiming t = SendThenWaitForDrop(port(),
                                           "POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                           "application/timestamp-query\r\nContent-Length: 100\r\n\r\n0123456789",
                                           std::chrono::seconds(kReadTimeoutS + 8));
  EXPECT_TRUE(t.closed && t.closed_ms <= kReadTimeoutS * 1000 + 1500)
      << "--read-timeout " << kReadTimeoutS << ": first reply byte after " << t.first_reply_ms << " ms, connection closed after "
      << t.closed_ms << " ms (-1: still open). Reply: " << t.reply;
  EXPECT_EQ(t.reply.find("timestamp-reply"), std::string::npos)
      << "a partial body must not be answered with a token: " << t.reply;
}

// H18 (bounded to 200): idle connections must not starve the worker pool. Its own tsad, so a
// starved pool cannot slow the other tests down.
TEST(HttpIdleConnections, H18_TwoHundredIdleConnectionsDoNotStarveNewRequests) {
  SharedTsad env;
  env.Start({});
  ASSERT_TRUE(env.Ready());
  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < 200; ++i) {
    auto c = HttpConnection::Connect(env.port());
    ASSERT_TRUE(c) << "connection " << i;
    idle.push_back(std::move(c));
  }
  std::this_thread::sleep_for(200ms);  // let the server accept them
  const RequestBuilder b = RequestBuilder::Default();
  const auto start = std::chrono::steady_clock::now();
  const HttpResponse r = HttpRequest(env.port(), "POST", "/tsa", {{"Content-Type", "application/timestamp-query"}}, b.Encode(),
                                     3s);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  EXPECT_TRUE(CheckGrant(r, ExpectationsFor(b, env.pki().tsa_cert_pem)))
      << "after " << elapsed.count() << " ms with 200 idle connections";
  const HttpResponse health = HttpRequest(env.port(), "GET", "/health", {}, {}, 3s);
  EXPECT_EQ(health.status, 200) << health.Summary();
  idle.clear();  // release the workers before stopping
  const auto stop_start = std::chrono::steady_clock::now();
  env.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, 5s)
      << "SIGTERM took long to stop tsad after the idle connections closed";
}

// ---------------------------------------------------------------------------------------------
// JSON mode: ?format=json or Accept: application/json.

TEST_F(HttpProfile, JsonModeGrantHasAllDocumentedFields) {
  RequestBuilder b = RequestBuilder::Default();
  const HttpResponse r = HttpPost(port(), "/tsa?format=json", b.Encode(), std::string("application/timestamp-query"));
  ASSERT_EQ(r.status, 200) << r.Summary();
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto j = nlohmann::json::parse(r.body_text(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.body_text();
  EXPECT_EQ(j.value("status", ""), "granted");
  EXPECT_EQ(j.value("policy", ""), oid::kDefaultPolicy);
  ASSERT_TRUE(j.contains("message_imprint") && j["message_imprint"].is_object()) << j.dump();
  EXPECT_EQ(j["message_imprint"].value("algorithm", ""), "sha256");
  EXPECT_EQ(j["message_imprint"].value("digest", ""), ToHex(b.digest));
  static const std::regex kRfc3339Utc(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$)");
  EXPECT_TRUE(std::regex_match(j.value("gen_time", ""), kRfc3339Utc)) << j.value("gen_time", "");
  EXPECT_TRUE(std::regex_match(j.value("serial_number", ""), std::regex("^[0-9a-f]+$"))) << j.dump();
  ASSERT_TRUE(j.contains("accuracy") && j["accuracy"].is_object()) << j.dump();
  EXPECT_EQ(j["accuracy"].value("seconds", -1), 1);
  EXPECT_EQ(j.value("ordering", true), false);
  EXPECT_EQ(j.value("nonce", ""), ToHex(*b.nonce));
  ASSERT_TRUE(j.contains("tsa") && j["tsa"].is_string()) << j.dump();
  EXPECT_NE(j["tsa"].get<std::string>().find("CN=tsad Integration Test TSA"), std::string::npos) << j["tsa"];
  ASSERT_TRUE(j.contains("extensions") && j["extensions"].is_array()) << j.dump();
  ASSERT_TRUE(j.contains("signature") && j["signature"].is_object()) << j.dump();
  EXPECT_EQ(j["signature"].value("algorithm", ""), "ecdsa-with-SHA256");
  EXPECT_FALSE(j["signature"].value("value", "").empty());
  // token: base64 of the TimeStampToken; wrapped as a TimeStampResp it passes every V-check.
  const Bytes token = Base64Decode(j.value("token", ""));
  ASSERT_FALSE(token.empty()) << j.dump();
  HttpResponse wrapped;
  wrapped.status = 200;
  wrapped.headers = {{"Content-Type", kReplyType}, {"Content-Length", "0"}};
  wrapped.body = Sequence({Sequence({IntegerWithContent({0x00})}), token});
  GrantFacts facts;
  EXPECT_TRUE(CheckGrant(wrapped, Expect(b), &facts));
  EXPECT_EQ(facts.serial_hex, j.value("serial_number", ""));
}

TEST_F(HttpProfile, JsonModeRejectionHasStatusFailInfoAndStatusString) {
  const HttpResponse r = HttpPost(port(), "/tsa?format=json", RequestBuilder::Default().WithHash(oid::kMd5).Encode(),
                                  std::string("application/timestamp-query"));
  ASSERT_EQ(r.status, 200) << r.Summary();
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto j = nlohmann::json::parse(r.body_text(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.body_text();
  EXPECT_EQ(j.value("status", ""), "rejection");
  EXPECT_EQ(j.value("fail_info", ""), "badAlg");
  ASSERT_TRUE(j.contains("status_string") && j["status_string"].is_string()) << j.dump();
  EXPECT_FALSE(j["status_string"].get<std::string>().empty());
  EXPECT_FALSE(j.contains("token")) << j.dump();
}

TEST_F(HttpProfile, AcceptApplicationJsonSelectsJsonMode) {
  RequestBuilder b = RequestBuilder::Default();
  const HttpResponse r = HttpPost(port(), "/tsa", b.Encode(), std::string("application/timestamp-query"),
                                  {{"Accept", "text/html;q=0.5, application/json"}});
  ASSERT_EQ(r.status, 200) << r.Summary();
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const auto j = nlohmann::json::parse(r.body_text(), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("status", ""), "granted");
  EXPECT_EQ(j["message_imprint"].value("digest", ""), ToHex(b.digest));
}

TEST_F(HttpProfile, RawDataModeWithJson) {
  const HttpResponse r = PostWithType(StringBytes("hello world"), "application/x-www-form-urlencoded",
                                      "/tsa?format=json&hash=sha512");
  ASSERT_EQ(r.status, 200) << r.Summary();
  const auto j = nlohmann::json::parse(r.body_text(), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j.value("status", ""), "granted");
  EXPECT_EQ(j["message_imprint"].value("algorithm", ""), "sha512");
  EXPECT_EQ(j["message_imprint"].value("digest", ""), ToHex(Digest("SHA512", "hello world")));
  EXPECT_TRUE(j["nonce"].is_null());
}

// ---------------------------------------------------------------------------------------------
// /health, /healthz, /certs

TEST_F(HttpProfile, HealthIs200WithStatusOkServiceVersionAndChecks) {
  for (const char* path : {"/health", "/healthz"}) {
    SCOPED_TRACE(path);
    const HttpResponse r = HttpGet(port(), path);
    ASSERT_EQ(r.status, 200) << r.Summary();
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const auto j = nlohmann::json::parse(r.body_text(), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.body_text();
    EXPECT_EQ(j.value("status", ""), "ok");
    EXPECT_EQ(j.value("service", ""), "tsa-server");
    EXPECT_EQ(j.value("version", ""), core::BuildVersion());
    EXPECT_EQ(j.value("commit", ""), core::BuildCommit());
    EXPECT_NE(j.value("commit", ""), "");
    ASSERT_TRUE(j.contains("checks") && j["checks"].is_object()) << j.dump();
    for (const char* check : {"certificate", "clock", "database"}) {
      ASSERT_TRUE(j["checks"].contains(check)) << check;
      EXPECT_EQ(j["checks"][check].value("ok", false), true) << check << ": " << j["checks"][check].dump();
    }
  }
}

TEST_F(HttpProfile, CertsEndpointsServeTheTsaCertificateAndChain) {
  const HttpResponse tsa = HttpGet(port(), "/certs/tsa.pem");
  ASSERT_EQ(tsa.status, 200) << tsa.Summary();
  EXPECT_EQ(tsa.body_text(), env_.pki().tsa_cert_pem);
  const HttpResponse chain = HttpGet(port(), "/certs/chain.pem");
  ASSERT_EQ(chain.status, 200) << chain.Summary();
  EXPECT_NE(chain.body_text().find(env_.pki().tsa_cert_pem), std::string::npos);
  EXPECT_NE(chain.body_text().find(env_.pki().ca_cert_pem), std::string::npos);
}

}  // namespace
}  // namespace tsa::test
