// HTTPS against a real tsad (README "TLS"): certificates made by the openssl CLI in a temporary
// directory; curl, `openssl s_client` and an OpenSSL client in the test talk to 127.0.0.1. Covers
// the protocol range (TLS 1.1 refused by the server, 1.2 and 1.3 accepted), tokens over HTTPS
// verified by `openssl ts -verify`, Basic credentials in the URL, mutual TLS (a listed client
// certificate authenticates, an unlisted one needs a key, another CA's fails the handshake,
// --tls-require-client-cert), plain HTTP sent to the HTTPS port, the handshake deadline, SIGHUP
// reloading the certificate while an open connection keeps going, and start-up refusals.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "audit_helpers.h"
#include "shared_tsad.h"
#include "support/softhsm.h"
#include "support/tls_pki.h"
#include "tsa/crypto/response_inspector.h"

namespace tsa::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kData = "tls test";

std::string RunClientsTool(const std::string& file, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {audit_it::ToolPath("tsa-clients"), "--file", file};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto run = RunCommand(argv);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  return run.output.empty() ? "" : run.output.substr(0, run.output.find('\n'));
}

bool WaitForLog(TsadProcess& tsad, const std::string& needle, std::size_t from = 0, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (tsad.log().find(needle, from) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// One request over an HTTPS connection (keep-alive: the connection stays usable).
HttpResponse Exchange(HttpConnection& conn, int port, const std::string& method, const std::string& target,
                      const Headers& headers = {}) {
  std::vector<std::uint8_t> body;
  Headers h = headers;
  if (method == "POST") {
    body.assign(kData.begin(), kData.end());
    h.emplace_back("Content-Type", "application/octet-stream");
  }
  if (!conn.Send(BuildRequest(method, target, h, body, port))) return HttpResponse{0, "", "", {}, {}, "send failed"};
  return conn.ReadResponse();
}

int PkiStatus(const HttpResponse& res) {
  auto info = crypto::DescribeResponse(res.body);
  return info ? info->status : -1;
}

// The certificate's SHA-256 as tsad's /health shows it.
std::string CertSha256(const std::string& pem) {
  const auto run = RunCommand({"openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"});
  std::string hex;
  for (char c : run.output.substr(run.output.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return hex;
}

// One tsad with HTTPS, optional client certificates from `clients-ca`, and --clients: alice has
// an API key, carol a listed client certificate; dave's certificate is from the same CA but not
// listed; mallory's is from another CA.
class Https : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    files_ = std::make_unique<TempDir>("tsa-tls");
    server_pki_ = std::make_unique<TlsPki>(files_->path(), "server");
    client_pki_ = std::make_unique<TlsPki>(files_->path(), "clients");
    TlsPki other(files_->path(), "other");
    server_ = server_pki_->Server("server");
    carol_ = client_pki_->Client("carol", "/O=tsad tests/CN=carol");
    dave_ = client_pki_->Client("dave", "/CN=dave");
    mallory_ = other.Client("mallory", "/CN=carol");
    for (const auto* pki : {server_pki_.get(), client_pki_.get(), &other}) {
      if (!pki->ok()) setup_error_ = pki->error();
    }
    clients_file_ = files_->Sub("clients.json");
    alice_ = RunClientsTool(clients_file_, {"add", "alice"});
    RunClientsTool(clients_file_, {"add", "carol", "--cert-subject", "CN=carol,O=tsad tests"});
    env_.Start({"--tls-cert", server_.cert, "--tls-key", server_.key, "--tls-client-ca", client_pki_->ca_cert(), "--clients",
                clients_file_, "--read-timeout", "2"});
  }
  static void TearDownTestSuite() {
    env_.Stop();
    files_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    ASSERT_TRUE(env_.Ready());
    ASSERT_GT(tls_port(), 0);
  }
  static int tls_port() { return env_.tsad().tls_port(); }
  static TlsClientOptions As(const TlsLeaf* leaf = nullptr) {
    TlsClientOptions o;
    o.ca_file = server_pki_->ca_cert();
    if (leaf != nullptr) {
      o.cert_file = leaf->cert;
      o.key_file = leaf->key;
    }
    return o;
  }
  static std::string Metrics() { return HttpGet(env_.port(), "/metrics").body_text(); }
  // Whether a counter series is above 0, within a few seconds (the server counts a failed
  // handshake just after the client has seen its alert).
  static bool Counted(const std::string& series) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string metrics = Metrics();
      const auto at = metrics.find("\n" + series + " ");
      if (at != std::string::npos && metrics.compare(at + series.size() + 2, 2, "0\n") != 0) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  static SharedTsad env_;
  static std::unique_ptr<TempDir> files_;
  static std::unique_ptr<TlsPki> server_pki_, client_pki_;
  static TlsLeaf server_, carol_, dave_, mallory_;
  static std::string clients_file_, alice_, setup_error_;
};
SharedTsad Https::env_;
std::unique_ptr<TempDir> Https::files_;
std::unique_ptr<TlsPki> Https::server_pki_, Https::client_pki_;
TlsLeaf Https::server_, Https::carol_, Https::dave_, Https::mallory_;
std::string Https::clients_file_, Https::alice_, Https::setup_error_;

TEST_F(Https, EveryRouteAnswersOverHttpsAsOverHttp) {
  std::string error;
  auto conn = HttpConnection::ConnectTls(tls_port(), As(), &error);
  ASSERT_TRUE(conn) << error;
  const auto health = Exchange(*conn, tls_port(), "GET", "/health");
  ASSERT_EQ(health.status, 200) << health.Summary();
  const auto json = nlohmann::json::parse(health.body_text());
  EXPECT_EQ(json["checks"]["tls"]["subject"], "CN=127.0.0.1") << json.dump();
  EXPECT_EQ(json["checks"]["tls"]["sha256"], CertSha256(server_.cert));
  EXPECT_EQ(json["checks"]["tls"]["client_certificates"], "optional");
  const auto pem = Exchange(*conn, tls_port(), "GET", "/certs/tsa.pem");
  EXPECT_EQ(pem.body_text(), HttpGet(env_.port(), "/certs/tsa.pem").body_text()) << "same connection, keep-alive";
  EXPECT_EQ(Exchange(*conn, tls_port(), "GET", "/nowhere").status, 404);
}

TEST_F(Https, CurlWithBasicCredentialsInTheUrlGetsATokenThatOpensslVerifies) {
  const std::string q = env_.dir().Sub("q.tsq"), r = env_.dir().Sub("r.tsr"), data = env_.dir().Sub("data.txt");
  std::ofstream(data) << kData;
  ASSERT_EQ(RunCommand({"openssl", "ts", "-query", "-data", data, "-sha256", "-cert", "-out", q}).exit_code, 0);
  const std::string url = "https://alice:" + alice_ + "@127.0.0.1:" + std::to_string(tls_port()) + "/tsa";
  const auto curl = RunCommand({"curl", "-sS", "--cacert", server_pki_->ca_cert(), "-o", r, "-w", "%{http_code}", "--data-binary",
                                "@" + q, "-H", "Content-Type: application/timestamp-query", url});
  if (curl.exit_code == 127) GTEST_SKIP() << "curl is not installed";
  ASSERT_EQ(curl.output, "200");
  const auto verify = RunCommand({"openssl", "ts", "-verify", "-in", r, "-queryfile", q, "-CAfile", env_.pki().files.ca_cert});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("Verification: OK"), std::string::npos) << verify.output;
  EXPECT_TRUE(WaitForLog(env_.tsad(), "client_name=alice"));
}

TEST_F(Https, WithoutCredentialsIs401AndTheConnectionCloses) {
  std::string error;
  auto conn = HttpConnection::ConnectTls(tls_port(), As(), &error);
  ASSERT_TRUE(conn) << error;
  const auto res = Exchange(*conn, tls_port(), "POST", "/tsa");
  EXPECT_EQ(res.status, 401) << res.Summary();
  EXPECT_EQ(res.header_count("WWW-Authenticate"), 2);
  EXPECT_TRUE(conn->WaitForClose(5s));
  auto again = HttpConnection::ConnectTls(tls_port(), As(), &error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(PkiStatus(Exchange(*again, tls_port(), "POST", "/tsa", {{"Authorization", "Bearer " + alice_}})), 0);
}

// The server must be the one refusing: the client is allowed everything (SECLEVEL=0), and the
// refusal is the server's protocol_version alert.
TEST_F(Https, OpensslSClientSeesTls11RefusedAndTls12And13Accepted) {
  const std::string connect = "127.0.0.1:" + std::to_string(tls_port());
  const auto s_client = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"openssl", "s_client", "-connect", connect, "-CAfile", server_pki_->ca_cert(), "-brief"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, 15s);
  };
  const auto tls11 = s_client({"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  EXPECT_NE(tls11.exit_code, 0) << tls11.output;
  EXPECT_NE(tls11.output.find("alert protocol version"), std::string::npos) << tls11.output;
  const auto tls12 = s_client({"-tls1_2"});
  EXPECT_EQ(tls12.exit_code, 0) << tls12.output;
  EXPECT_NE(tls12.output.find("Protocol version: TLSv1.2"), std::string::npos) << tls12.output;
  EXPECT_NE(tls12.output.find("ECDHE"), std::string::npos) << tls12.output;
  const auto tls13 = s_client({"-tls1_3"});
  EXPECT_EQ(tls13.exit_code, 0) << tls13.output;
  EXPECT_NE(tls13.output.find("Protocol version: TLSv1.3"), std::string::npos) << tls13.output;
  // A CBC suite with RSA key transport: not offered by tsad in TLS 1.2.
  const auto weak = s_client({"-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"});
  EXPECT_NE(weak.exit_code, 0) << weak.output;
  EXPECT_NE(weak.output.find("alert handshake failure"), std::string::npos) << weak.output;
}

TEST_F(Https, PlainHttpSentToTheHttpsPortGets400AndIsClosed) {
  bool closed = false;
  const std::string reply = SendRaw(tls_port(), "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 5s, &closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << reply;
  EXPECT_NE(reply.find("plain HTTP sent to the HTTPS port"), std::string::npos) << reply;
  EXPECT_TRUE(closed);
  EXPECT_TRUE(WaitForLog(env_.tsad(), "tls_plaintext_refused"));
  EXPECT_TRUE(Counted("tsad_tls_handshake_failures_total{reason=\"plaintext\"}")) << Metrics();
  EXPECT_TRUE(env_.tsad().running());
}

TEST_F(Https, AListedClientCertificateAuthenticatesWithoutAKey) {
  std::string error;
  auto conn = HttpConnection::ConnectTls(tls_port(), As(&carol_), &error);
  ASSERT_TRUE(conn) << error;
  const std::size_t before = env_.tsad().log().size();
  const auto res = Exchange(*conn, tls_port(), "POST", "/tsa");
  ASSERT_EQ(res.status, 200) << res.Summary();
  EXPECT_EQ(PkiStatus(res), 0);
  EXPECT_TRUE(WaitForLog(env_.tsad(), "client_name=carol", before)) << env_.tsad().log().substr(before);
  EXPECT_NE(env_.tsad().log().find("cert=\"CN=carol,O=tsad tests\"", before), std::string::npos)
      << env_.tsad().log().substr(before);
}

TEST_F(Https, AnUnlistedClientCertificateStillNeedsAKey) {
  std::string error;
  auto conn = HttpConnection::ConnectTls(tls_port(), As(&dave_), &error);
  ASSERT_TRUE(conn) << error;
  EXPECT_EQ(Exchange(*conn, tls_port(), "POST", "/tsa").status, 401);
  auto with_key = HttpConnection::ConnectTls(tls_port(), As(&dave_), &error);
  ASSERT_TRUE(with_key) << error;
  EXPECT_EQ(PkiStatus(Exchange(*with_key, tls_port(), "POST", "/tsa", {{"Authorization", "Bearer " + alice_}})), 0);
}

// mallory's certificate names carol but comes from another CA: the handshake fails (under TLS 1.3
// the client learns it from the server's alert after its own Finished, hence the request).
TEST_F(Https, AClientCertificateFromAnotherCaFailsTheHandshake) {
  std::string error;
  auto conn = HttpConnection::ConnectTls(tls_port(), As(&mallory_), &error);
  if (conn) {
    const auto res = Exchange(*conn, tls_port(), "POST", "/tsa");
    EXPECT_EQ(res.status, 0) << res.Summary();
  }
  EXPECT_TRUE(Counted("tsad_tls_handshake_failures_total{reason=\"handshake\"}")) << Metrics();
}

// Slow loris over TLS: a partial ClientHello is cut off at --read-timeout (2 s here).
TEST_F(Https, AHandshakeThatDoesNotFinishIsCutOffAtTheReadTimeout) {
  auto conn = HttpConnection::Connect(tls_port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(conn->WaitForClose(6s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_TRUE(Counted("tsad_tls_handshake_failures_total{reason=\"timeout\"}")) << Metrics();
  EXPECT_TRUE(Counted("tsad_connections_total{transport=\"https\"}")) << Metrics();
}

TEST(HttpsOnly, NoHttpAndARequiredClientCertificate) {
  TempDir dir("tsa-tls");
  TlsPki server_pki(dir.path(), "server"), client_pki(dir.path(), "clients");
  const TlsLeaf server = server_pki.Server("server"), dave = client_pki.Client("dave", "/CN=dave");
  ASSERT_TRUE(server_pki.ok() && client_pki.ok()) << server_pki.error() << client_pki.error();
  SharedTsad env;
  env.Start({"--no-http", "--tls-cert", server.cert, "--tls-key", server.key, "--tls-client-ca", client_pki.ca_cert(),
             "--tls-require-client-cert"});
  ASSERT_TRUE(env.Ready());
  EXPECT_EQ(env.port(), 0) << "no plain HTTP port";
  const int port = env.tsad().tls_port();
  TlsClientOptions anonymous{server_pki.ca_cert(), "", "", 0, 0};
  std::string error;
  auto refused = HttpConnection::ConnectTls(port, anonymous, &error);
  if (refused) {
    EXPECT_EQ(Exchange(*refused, port, "GET", "/health").status, 0) << "no certificate, no request";
  }
  TlsClientOptions with_cert{server_pki.ca_cert(), dave.cert, dave.key, 0, 0};
  auto conn = HttpConnection::ConnectTls(port, with_cert, &error);
  ASSERT_TRUE(conn) << error;
  const auto health = Exchange(*conn, port, "GET", "/health");
  EXPECT_EQ(health.status, 200) << health.Summary();
  EXPECT_NE(health.body_text().find("\"required\""), std::string::npos);
  EXPECT_EQ(PkiStatus(Exchange(*conn, port, "POST", "/tsa")), 0) << "without --clients a verified certificate is enough";
  env.Stop();
}

// SIGHUP: a new connection sees the new certificate while an open keep-alive connection goes on
// with the old one; a broken certificate file is refused, the current one stays, /health says so.
TEST(HttpsReload, SighupSwapsTheCertificateForNewConnectionsOnly) {
  TempDir dir("tsa-tls");
  TlsPki pki(dir.path(), "server");
  const TlsLeaf first = pki.Server("first"), second = pki.Server("second");
  ASSERT_TRUE(pki.ok()) << pki.error();
  const std::string cert = dir.Sub("tls.pem"), key = dir.Sub("tls.key");
  fs::copy_file(first.cert, cert);
  fs::copy_file(first.key, key);
  SharedTsad env;
  env.Start({"--tls-cert", cert, "--tls-key", key, "--keep-alive-timeout", "30"});
  ASSERT_TRUE(env.Ready());
  const int port = env.tsad().tls_port();
  TlsClientOptions client{pki.ca_cert(), "", "", 0, 0};
  std::string error;
  auto old_conn = HttpConnection::ConnectTls(port, client, &error);
  ASSERT_TRUE(old_conn) << error;
  ASSERT_EQ(Exchange(*old_conn, port, "GET", "/health").status, 200);
  EXPECT_EQ(old_conn->PeerCertificateSha256(), CertSha256(first.cert));

  fs::copy_file(second.cert, cert, fs::copy_options::overwrite_existing);
  fs::copy_file(second.key, key, fs::copy_options::overwrite_existing);
  std::size_t before = env.tsad().log().size();
  ASSERT_EQ(::kill(env.tsad().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(env.tsad(), "what=tls", before)) << env.tsad().log().substr(before);
  EXPECT_EQ(env.tsad().log().find("reload_failed", before), std::string::npos) << env.tsad().log().substr(before);
  auto new_conn = HttpConnection::ConnectTls(port, client, &error);
  ASSERT_TRUE(new_conn) << error;
  EXPECT_EQ(new_conn->PeerCertificateSha256(), CertSha256(second.cert));
  EXPECT_EQ(PkiStatus(Exchange(*old_conn, port, "POST", "/tsa")), 0) << "the old connection goes on";
  EXPECT_EQ(old_conn->PeerCertificateSha256(), CertSha256(first.cert));

  std::ofstream(cert, std::ios::trunc) << "not a certificate\n";
  before = env.tsad().log().size();
  ASSERT_EQ(::kill(env.tsad().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForLog(env.tsad(), "reload_failed", before)) << env.tsad().log().substr(before);
  EXPECT_NE(env.tsad().log().find("what=tls", before), std::string::npos);
  auto third = HttpConnection::ConnectTls(port, client, &error);
  ASSERT_TRUE(third) << error;
  EXPECT_EQ(third->PeerCertificateSha256(), CertSha256(second.cert)) << "the current certificate stays";
  const auto health = Exchange(*third, port, "GET", "/health");
  EXPECT_EQ(health.status, 200) << health.Summary();
  const auto json = nlohmann::json::parse(health.body_text());
  EXPECT_EQ(json["checks"]["tls"]["reload"]["ok"], false) << json.dump();
  EXPECT_NE(json["warnings"].dump().find("TLS reload"), std::string::npos) << json.dump();
  env.Stop();
}

// The TLS key in a SoftHSM2 token, named by a pkcs11: URI as --key: every handshake signs in it.
TEST(HttpsHsm, TheTlsKeyMayBeAPkcs11Uri) {
  if (auto missing = SoftHsmToken::Missing(); !missing.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << missing << " (scripts/install-deps --test installs it)";
    GTEST_SKIP() << missing;
  }
  TempDir dir("tsa-tls-hsm");
  SoftHsmToken token(dir.path(), "tsad-tls");
  ASSERT_TRUE(token.ok()) << token.error();
  const std::string certs = dir.Sub("tls-certs");
  token.GenerateKeyAndCertificate("tls-key", "ec-p256", certs);
  SharedTsad env;
  env.Start({"--tls-cert", certs + "/tsa_cert.pem", "--tls-key", token.Uri("tls-key")});
  ASSERT_TRUE(env.Ready());
  // tsa-certgen's certificate is a TSA one (no serverAuth, no IP address): s_client reports that
  // but completes the handshake, which the token's key signed.
  const auto run = RunCommand({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(env.tsad().tls_port()), "-brief",
                               "-CAfile", certs + "/ca_cert.pem"},
                              15s);
  EXPECT_NE(run.output.find("Protocol version: TLSv1.3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Peer certificate:"), std::string::npos) << run.output;
  const auto json = nlohmann::json::parse(HttpGet(env.port(), "/health").body_text());
  EXPECT_EQ(json["checks"]["tls"]["key"].get<std::string>().rfind("pkcs11:", 0), 0u) << json.dump();
  env.Stop();
}

class HttpsStartup : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = CreateTestPki(dir_.Sub("pki"), crypto::KeyType::kEcP256);
    ASSERT_TRUE(pki_) << pki_.error().ToString();
    ASSERT_TRUE(tls_.ok()) << tls_.error();
  }
  TsadProcess::StartupFailure Run(const std::vector<std::string>& tls_args) {
    std::vector<std::string> args = {"--cert-dir", pki_->dir, "--allow-unsynced-clock", "--no-anchor", "--tls-port", "0"};
    args.insert(args.end(), tls_args.begin(), tls_args.end());
    return TsadProcess::RunExpectingFailure(args);
  }
  static void ExpectOneLine(const TsadProcess::StartupFailure& failure, const std::string& needle) {
    EXPECT_FALSE(failure.started);
    EXPECT_EQ(failure.exit_code, 1) << failure.stderr_text;
    const auto lines = NonEmptyLines(failure.stderr_text);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().rfind("tsad: ", 0), 0u) << failure.stderr_text;
    EXPECT_NE(lines.back().find(needle), std::string::npos) << failure.stderr_text;
  }
  TempDir dir_{"tsa-tls"};
  Result<TestPki> pki_ = MakeError(ErrorKind::kInternal, "not made");
  TlsPki tls_{dir_.path(), "server"};
};

TEST_F(HttpsStartup, AnUnreadableTlsKeyIsOneLineAndExit1) {
  const TlsLeaf server = tls_.Server("server");
  ExpectOneLine(Run({"--tls-cert", server.cert, "--tls-key", dir_.Sub("missing.key")}), "cannot read TLS key");
  std::ofstream(dir_.Sub("junk.key")) << "junk\n";
  fs::permissions(dir_.Sub("junk.key"), fs::perms::owner_read | fs::perms::owner_write);
  ExpectOneLine(Run({"--tls-cert", server.cert, "--tls-key", dir_.Sub("junk.key")}), "cannot parse the private key");
  const TlsLeaf other = tls_.Server("other");
  ExpectOneLine(Run({"--tls-cert", server.cert, "--tls-key", other.key}), "does not match the TLS certificate");
}

TEST_F(HttpsStartup, AnExpiredTlsCertificateIsOneLineAndExit1) {
  auto expired = CreateBadTsaPki(dir_.Sub("expired"), BadTsaCert::kExpired);
  ASSERT_TRUE(expired) << expired.error().ToString();
  ExpectOneLine(Run({"--tls-cert", expired->files.tsa_cert, "--tls-key", expired->files.tsa_key}), "expired on");
}

TEST_F(HttpsStartup, IncompleteTlsOptionsAreOneLineAndExit1) {
  const TlsLeaf server = tls_.Server("server");
  ExpectOneLine(Run({"--tls-cert", server.cert}), "--tls-cert and --tls-key go together");
  ExpectOneLine(Run({"--no-http"}), "--no-http needs --tls-cert and --tls-key");
  ExpectOneLine(Run({"--tls-cert", server.cert, "--tls-key", server.key, "--tls-require-client-cert"}),
                "--tls-require-client-cert needs --tls-client-ca");
}

}  // namespace
}  // namespace tsa::test
