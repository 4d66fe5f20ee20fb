// Keys in a PKCS#11 token (README "Keys in an HSM"): a real tsad signing through libp11 with a
// SoftHSM2 token of this test only, SIGHUP reload and rollover, start-up refusals, and the
// run-time failure of the token and its recovery without a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support/http_helpers.h"
#include "support/softhsm.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"
#include "tsa/crypto/request_codec.h"
#include "tsa/crypto/verifier.h"
#include "tsa/store/database.h"
#include "tsa/store/schema.h"

namespace tsa::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> Query(std::uint8_t fill) {
  crypto::RequestSpec spec;
  spec.hash = core::HashAlgorithm::kSha256;
  spec.digest.assign(32, fill);
  spec.nonce = crypto::RandomNonce();
  spec.cert_req = true;
  return *crypto::EncodeRequest(spec);
}

nlohmann::json Health(int port, int* status = nullptr) {
  auto r = HttpGet(port, "/health");
  if (status != nullptr) *status = r.status;
  return nlohmann::json::parse(std::string(r.body.begin(), r.body.end()), nullptr, false);
}

// The one "tsad: ..." line of a refused start.
std::string RefusalLine(const TsadProcess::StartupFailure& r) {
  std::string line;
  int count = 0;
  for (const auto& l : NonEmptyLines(r.stderr_text)) {
    if (l.rfind("tsad: ", 0) == 0) {
      line = l;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << r.stderr_text;
  return line;
}

class HsmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = SoftHsmToken::Missing(); !missing.empty()) {
      if (std::getenv("CI") != nullptr) FAIL() << missing << " (scripts/install-deps --test installs it)";
      GTEST_SKIP() << missing;
    }
    token_ = std::make_unique<SoftHsmToken>(dir_.path(), "tsad-test");
    ASSERT_TRUE(token_->ok()) << token_->error();
  }

  // A key `object` of key_type in the token and its certificate in dir_/name.
  std::string MakeKey(const std::string& object, const std::string& key_type, const std::string& name) {
    const std::string certs = dir_.Sub(name);
    token_->GenerateKeyAndCertificate(object, key_type, certs);
    return certs;
  }

  std::unique_ptr<TsadProcess> StartTsad(const std::string& key, const std::string& certs, std::vector<std::string> extra = {}) {
    TsadOptions o;
    o.extra_args = {"--key", key, "--cert", certs + "/tsa_cert.pem", "--chain", certs + "/chain.pem"};
    o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
    auto tsad = std::make_unique<TsadProcess>(o);
    EXPECT_TRUE(tsad->Start());
    return tsad;
  }

  TempDir dir_{"tsa-hsm"};
  std::unique_ptr<SoftHsmToken> token_;
};

// 8 concurrent clients x 500 tokens through the token key: every token verifies (in-process with
// the shared verifier, one with the openssl CLI), every serial is distinct, the log verifies.
class HsmKeyTypes : public HsmTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(HsmKeyTypes, ConcurrentClientsGetVerifiableTokensWithDistinctSerials) {
  const std::string certs = MakeKey("tsa-" + GetParam(), GetParam(), "certs");
  auto tsad = StartTsad(token_->Uri("tsa-" + GetParam()), certs);
  ASSERT_TRUE(tsad->running());
  const auto health = Health(tsad->port());
  EXPECT_EQ(health["checks"]["signing_key"]["source"], token_->Uri("tsa-" + GetParam())) << health.dump();

  crypto::VerifyOptions verify;
  verify.tsa_cert_pem = ReadTextFile(certs + "/tsa_cert.pem");
  verify.ca_pem = ReadTextFile(certs + "/ca_cert.pem");
  constexpr int kClients = 8;
  constexpr int kPerClient = 500;
  std::mutex mutex;
  std::set<std::string> serials;
  std::atomic<int> failures{0};
  std::string first_failure;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        const auto query = Query(static_cast<std::uint8_t>(c * 31 + i));
        auto reply = PostQuery(tsad->port(), query);
        crypto::VerifyOptions v = verify;
        v.request_der = query;
        auto verified = crypto::Verify(reply.body, v);
        std::lock_guard lock(mutex);
        if (reply.status != 200 || !verified) {
          if (failures++ == 0) first_failure = verified ? reply.error : verified.error().message;
          continue;
        }
        serials.insert(verified->token->serial_hex);
      }
    });
  }
  for (auto& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(serials.size(), static_cast<std::size_t>(kClients * kPerClient));
  std::printf("[ measured ] %s in SoftHSM2: %d tokens from %d clients in %.2f s (%.0f tokens/s)\n", GetParam().c_str(),
              kClients * kPerClient, kClients, seconds, kClients * kPerClient / seconds);

  // The openssl CLI on one token.
  const auto query = Query(0x42);
  auto reply = PostQuery(tsad->port(), query);
  std::ofstream(dir_.Sub("q.tsq"), std::ios::binary).write(reinterpret_cast<const char*>(query.data()), query.size());
  std::ofstream(dir_.Sub("r.tsr"), std::ios::binary).write(reinterpret_cast<const char*>(reply.body.data()), reply.body.size());
  auto cli = RunCommand({"openssl", "ts", "-verify", "-queryfile", dir_.Sub("q.tsq"), "-in", dir_.Sub("r.tsr"), "-CAfile",
                         certs + "/ca_cert.pem", "-untrusted", certs + "/tsa_cert.pem"});
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("Verification: OK"), std::string::npos) << cli.output;

  EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
  // 4000 signatures to check: allow for a loaded 2-core machine (CI runs two tests at a time).
  auto audit = RunCommand({std::string(TSA_BIN_DIR) + "/tsa-audit-verify", tsad->db_path(), "--tsa-cert", certs + "/tsa_cert.pem",
                           "--tsa-ca", certs + "/ca_cert.pem"},
                          std::chrono::milliseconds(180000));
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
}

INSTANTIATE_TEST_SUITE_P(SoftHsm, HsmKeyTypes, ::testing::Values("ec-p256", "rsa3072"),
                         [](const auto& p) { return p.param == "ec-p256" ? std::string("EcP256") : std::string("Rsa3072"); });

TEST_F(HsmTest, StartupErrorsAreOneLineAndExit1) {
  const std::string certs = MakeKey("tsa-key", "ec-p256", "certs");
  const std::string other = MakeKey("other-key", "ec-p256", "other");
  const std::vector<std::string> common = {"--cert", certs + "/tsa_cert.pem", "--chain", certs + "/chain.pem",
                                           "--allow-unsynced-clock"};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    auto r = TsadProcess::RunExpectingFailure(args);
    EXPECT_FALSE(r.started);
    EXPECT_EQ(r.exit_code, 1) << r.stderr_text;
    return RefusalLine(r);
  };
  ::setenv("TSA_PKCS11_PIN", "9999", 1);
  EXPECT_NE(run({"--key", token_->Uri("tsa-key")}).find("wrong PIN"), std::string::npos);
  ::setenv("TSA_PKCS11_PIN", kSoftHsmPin, 1);
  EXPECT_NE(run({"--key", token_->Uri("no-such-key")}).find("no private key at"), std::string::npos);
  EXPECT_NE(run({"--key", "pkcs11:token=no-such-token;object=tsa-key"}).find("no private key at"), std::string::npos);
  EXPECT_NE(run({"--key", token_->Uri("tsa-key"), "--pkcs11-module", "/nonexistent/libpkcs11.so"}).find("PKCS#11 module"),
            std::string::npos);
  EXPECT_NE(run({"--key", token_->Uri("other-key")}).find("does not match"), std::string::npos);
  // The PIN from a pin-source file, and a URI's pin-value never shows in a message.
  std::ofstream(dir_.Sub("pin")) << "9999\n";
  ::unsetenv("TSA_PKCS11_PIN");
  const auto line = run({"--key", token_->Uri("tsa-key") + "?pin-source=file:" + dir_.Sub("pin")});
  EXPECT_NE(line.find("wrong PIN"), std::string::npos) << line;
  const auto secret = run({"--key", token_->Uri("other-key") + "?pin-value=1234"});
  EXPECT_EQ(secret.find("pin-value"), std::string::npos) << secret;
  ::setenv("TSA_PKCS11_PIN", kSoftHsmPin, 1);
}

// Waits until tsad grants a request again (the token is back) and /health is 200.
::testing::AssertionResult RecoversWithoutRestart(TsadProcess& tsad, const std::string& cert_pem) {
  crypto::VerifyOptions v;
  v.tsa_cert_pem = cert_pem;
  for (int i = 0; i < 100; ++i) {
    auto reply = PostQuery(tsad.port(), Query(static_cast<std::uint8_t>(i)));
    int status = 0;
    Health(tsad.port(), &status);
    if (reply.status == 200 && crypto::Verify(reply.body, v) && status == 200) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ::testing::AssertionFailure() << "no granted token within 10 s after the token came back\n" << tsad.log();
}

// While the token is gone: a DER rejection (HTTP 200, not granted) and /health 503 naming the key.
void ExpectUnavailable(TsadProcess& tsad, const std::string& uri) {
  auto reply = PostQuery(tsad.port(), Query(2));
  EXPECT_EQ(reply.status, 200);  // a DER rejection, not an HTTP error
  auto info = crypto::Verify(reply.body, {});
  EXPECT_FALSE(info.has_value());
  int status = 0;
  const auto health = Health(tsad.port(), &status);
  EXPECT_EQ(status, 503) << health.dump();
  EXPECT_EQ(health["failing"], "signing_key") << health.dump();
  EXPECT_EQ(health["checks"]["signing_key"]["source"], uri) << health.dump();
}

// The token disappears while tsad runs (its directory moved away: every object handle is gone),
// then comes back: issuance resumes by itself, without a restart (tsad re-opens the module).
TEST_F(HsmTest, TokenGoneMeansSystemFailureAndUnhealthyThenRecovers) {
  const std::string certs = MakeKey("tsa-key", "ec-p256", "certs");
  auto tsad = StartTsad(token_->Uri("tsa-key"), certs);
  ASSERT_EQ(PostQuery(tsad->port(), Query(1)).status, 200);
  fs::rename(token_->tokens_dir(), token_->tokens_dir() + ".away");
  ExpectUnavailable(*tsad, token_->Uri("tsa-key"));
  fs::rename(token_->tokens_dir() + ".away", token_->tokens_dir());
  EXPECT_TRUE(RecoversWithoutRestart(*tsad, ReadTextFile(certs + "/tsa_cert.pem")));
  EXPECT_TRUE(tsad->running());
}

// The token is deleted and re-created under the same label with the same key imported (a restore
// from backup): rejections and 503 meanwhile, then issuance resumes without a restart, and the
// log verifies across the gap. RSA here, EC above.
TEST_F(HsmTest, TokenDeletedAndRecreatedWithTheSameKeyRecovers) {
  auto pki = CreateTestPki(dir_.Sub("pki"), crypto::KeyType::kRsa2048);
  ASSERT_TRUE(pki);
  auto import = [&] {
    auto r = RunCommand({"softhsm2-util", "--import", pki->files.tsa_key, "--token", "tsad-test", "--label", "tsa-key", "--id",
                         "01", "--pin", kSoftHsmPin});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  };
  import();
  auto tsad = StartTsad(token_->Uri("tsa-key"), pki->dir);
  ASSERT_EQ(PostQuery(tsad->port(), Query(1)).status, 200);
  fs::remove_all(token_->tokens_dir());
  fs::create_directories(token_->tokens_dir());
  ExpectUnavailable(*tsad, token_->Uri("tsa-key"));
  auto init = RunCommand(
      {"softhsm2-util", "--init-token", "--free", "--label", "tsad-test", "--pin", kSoftHsmPin, "--so-pin", "5678"});
  ASSERT_EQ(init.exit_code, 0) << init.output;
  import();
  EXPECT_TRUE(RecoversWithoutRestart(*tsad, pki->tsa_cert_pem));
  ASSERT_EQ(tsad->Stop(), 0) << tsad->log();
  auto audit = RunCommand({std::string(TSA_BIN_DIR) + "/tsa-audit-verify", tsad->db_path(), "--tsa-cert", pki->files.tsa_cert});
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
}

// Rollover under load to a new token key and certificate named by a key file (rewrite it, SIGHUP):
// no request fails, tokens before carry the old certificate and after the new one, a broken
// reload keeps the current material and shows in /health, the log verifies across the rollover.
TEST_F(HsmTest, SighupRollsOverUnderLoadAndRefusesBrokenMaterial) {
  const std::string old_certs = MakeKey("key-2026", "ec-p256", "certs-2026");
  const std::string new_certs = MakeKey("key-2027", "rsa3072", "certs-2027");
  const std::string live = dir_.Sub("live");
  fs::create_directories(live);
  auto install = [&](const std::string& certs, const std::string& object) {
    std::ofstream(live + "/key.tmp") << token_->Uri(object) << "\n";
    fs::permissions(live + "/key.tmp", fs::perms::owner_read | fs::perms::owner_write);
    fs::copy_file(certs + "/tsa_cert.pem", live + "/cert.tmp", fs::copy_options::overwrite_existing);
    fs::copy_file(certs + "/chain.pem", live + "/chain.tmp", fs::copy_options::overwrite_existing);
    fs::rename(live + "/key.tmp", live + "/tsa_key.pem");
    fs::rename(live + "/cert.tmp", live + "/tsa_cert.pem");
    fs::rename(live + "/chain.tmp", live + "/chain.pem");
  };
  install(old_certs, "key-2026");
  TsadOptions o;
  o.cert_dir = live;
  TsadProcess tsad(o);
  ASSERT_TRUE(tsad.Start());
  const std::string old_pem = ReadTextFile(old_certs + "/tsa_cert.pem");
  const std::string new_pem = ReadTextFile(new_certs + "/tsa_cert.pem");
  auto verifies_with = [](const std::vector<std::uint8_t>& der, const std::string& cert, const std::string& ca) {
    crypto::VerifyOptions v;
    v.tsa_cert_pem = cert;
    v.ca_pem = ca;
    return crypto::Verify(der, v).has_value();
  };
  const std::string old_ca = ReadTextFile(old_certs + "/ca_cert.pem");
  const std::string new_ca = ReadTextFile(new_certs + "/ca_cert.pem");
  EXPECT_TRUE(verifies_with(PostQuery(tsad.port(), Query(1)).body, old_pem, old_ca));

  // A broken reload: the certificate of the new key with the old key -> refused, old kept.
  std::ofstream(live + "/key.tmp") << token_->Uri("key-2026") << "\n";
  fs::copy_file(new_certs + "/tsa_cert.pem", live + "/tsa_cert.pem", fs::copy_options::overwrite_existing);
  ::kill(tsad.pid(), SIGHUP);
  nlohmann::json health;
  for (int i = 0; i < 100 && !health.contains("warnings"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    health = Health(tsad.port());
  }
  EXPECT_EQ(health["checks"]["reload"]["ok"], false) << health.dump();
  EXPECT_NE(health["checks"]["reload"]["error"].get<std::string>().find("does not match"), std::string::npos) << health.dump();
  EXPECT_EQ(health["status"], "ok") << health.dump();
  EXPECT_TRUE(verifies_with(PostQuery(tsad.port(), Query(2)).body, old_pem, old_ca));

  // The real rollover, under load from 4 clients.
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::atomic<int> granted{0};
  const std::string both = old_pem + new_pem;
  const std::string both_ca = old_ca + new_ca;
  std::vector<std::thread> load;
  for (int c = 0; c < 4; ++c) {
    load.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        auto r = PostQuery(tsad.port(), Query(static_cast<std::uint8_t>(c + i)));
        crypto::VerifyOptions v;
        v.tsa_cert_pem = both;
        v.ca_pem = both_ca;
        if (r.status == 200 && crypto::Verify(r.body, v)) {
          ++granted;
        } else {
          ++failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  install(new_certs, "key-2027");
  ::kill(tsad.pid(), SIGHUP);
  for (int i = 0; i < 100; ++i) {
    health = Health(tsad.port());
    if (health["checks"]["reload"]["ok"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(granted.load(), 10);
  EXPECT_EQ(health["checks"]["reload"]["ok"], true) << health.dump();
  EXPECT_EQ(health["checks"]["signing_key"]["type"], "RSA-3072") << health.dump();
  const auto after = PostQuery(tsad.port(), Query(3)).body;
  EXPECT_TRUE(verifies_with(after, new_pem, new_ca));
  EXPECT_FALSE(verifies_with(after, old_pem, old_ca));
  auto served = HttpGet(tsad.port(), "/certs/tsa.pem");
  EXPECT_EQ(std::string(served.body.begin(), served.body.end()), new_pem);

  EXPECT_EQ(tsad.Stop(), 0) << tsad.log();
  auto audit = RunCommand({std::string(TSA_BIN_DIR) + "/tsa-audit-verify", tsad.db_path(), "--tsa-cert",
                           old_certs + "/tsa_cert.pem", "--tsa-cert", new_certs + "/tsa_cert.pem"});
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
  // Or the certificates taken from the tokens, checked against both CAs.
  std::ofstream(dir_.Sub("cas.pem")) << old_ca << new_ca;
  auto by_ca = RunCommand({std::string(TSA_BIN_DIR) + "/tsa-audit-verify", tsad.db_path(), "--tsa-ca", dir_.Sub("cas.pem")});
  EXPECT_EQ(by_ca.exit_code, 0) << by_ca.output;
  // The certificates come from the log's own tsa_certificates rows (start + reload), each
  // checked against --tsa-ca before it is used.
  EXPECT_NE(by_ca.output.find("2 of 2 TSA certificate(s) listed in the log (tsa_certificates) chain to --tsa-ca and were used"),
            std::string::npos)
      << by_ca.output;
  // A row tsad did not write (a certificate of another CA) is named and not used.
  auto foreign = CreateTestPki(dir_.Sub("foreign"));
  ASSERT_TRUE(foreign);
  {
    store::OpenOptions rw;
    rw.create = false;
    auto db = store::Database::Open(tsad.db_path(), rw);
    ASSERT_TRUE(db);
    ASSERT_TRUE(store::RecordCertificateEvent(**db, {1, "reload", "00ff", "CN=Forged TSA", foreign->tsa_cert_pem}));
  }
  auto forged = RunCommand({std::string(TSA_BIN_DIR) + "/tsa-audit-verify", tsad.db_path(), "--tsa-ca", dir_.Sub("cas.pem")});
  EXPECT_EQ(forged.exit_code, 0) << forged.output;
  EXPECT_NE(forged.output.find("note: the log's certificate CN=Forged TSA"), std::string::npos) << forged.output;
  EXPECT_NE(forged.output.find("2 of 3 TSA certificate(s)"), std::string::npos) << forged.output;
}

}  // namespace
}  // namespace tsa::test
