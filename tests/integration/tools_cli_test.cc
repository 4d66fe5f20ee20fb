// The offline tools' command-line contract (README "Tools" and "Exit codes"), run as processes:
// --version everywhere, usage errors exit 2 with one "tool: reason" line, an empty or garbled trust
// file is unreadable input (3) instead of "not given", tsa-request saves only a reply that answers
// its request and refuses a reply over the client's size cap, tsa-audit-verify needs tsad's trust
// roots (or --structure-only), a non-database file is unreadable (3), and a log signed by two TSA
// certificates after a rollover verifies with both --tsa-cert or with their CA (--tsa-ca).
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "audit_helpers.h"
#include "shared_tsad.h"
#include "support/fake_tsa.h"
#include "tsa/core/build_version.h"
#include "tsa/crypto/cert_factory.h"

namespace tsa::test {
namespace {

using namespace std::chrono_literals;
using audit_it::Issued;
using audit_it::IssueMany;
using audit_it::IssueOne;
using audit_it::ToolPath;
using audit_it::WriteFile;
using audit_it::WriteText;

const std::vector<std::string> kTools = {"tsa-certgen", "tsa-request", "tsa-verify", "tsa-audit-verify", "tsa-audit"};

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Exactly one line, "tool: reason".
::testing::AssertionResult OneErrorLine(const std::string& tool, const std::string& output) {
  if (output.rfind(tool + ": ", 0) != 0) return ::testing::AssertionFailure() << "does not start with \"" << tool << ": \"";
  if (output.find('\n') != output.size() - 1) return ::testing::AssertionFailure() << "is not exactly one line";
  return ::testing::AssertionSuccess();
}

class ToolsCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    env_.Start({});
    if (!env_.Ready()) return;
    auto issued = IssueOne(env_.port());
    if (issued) token_ = new Issued(std::move(*issued));
    auto other = CreateTestPki(env_.dir().Sub("other-pki"));
    if (other) other_ = new TestPki(*other);
  }
  static void TearDownTestSuite() {
    delete token_;
    delete other_;
    token_ = nullptr;
    other_ = nullptr;
    env_.Stop();
  }
  void SetUp() override {
    ASSERT_TRUE(env_.Ready());
    ASSERT_NE(token_, nullptr) << "the shared tsad granted no token";
    ASSERT_NE(other_, nullptr) << "no second PKI";
  }

  static std::string Sub(const std::string& name) { return env_.dir().Sub(name); }
  static std::string TsaCert() { return env_.pki().files.tsa_cert; }
  static std::string CaCert() { return env_.pki().files.ca_cert; }
  static std::string Token() {
    const std::string path = Sub("token.tsr");
    EXPECT_TRUE(WriteFile(path, token_->reply));
    return path;
  }
  // Trust files that hold no usable certificate.
  static std::vector<std::string> BadTrustFiles() {
    const std::string pem = ReadTextFile(CaCert());
    std::string broken = pem;
    broken[broken.find('\n') + 5] ^= 0x01;  // one base64 character of the body
    const std::vector<std::pair<std::string, std::string>> files = {
        {"empty.pem", ""}, {"text.pem", "not a certificate\n"}, {"broken.pem", broken}, {"second-broken.pem", pem + broken}};
    std::vector<std::string> paths;
    for (const auto& [name, text] : files) {
      EXPECT_TRUE(WriteText(Sub(name), text));
      paths.push_back(Sub(name));
    }
    return paths;
  }

  static SharedTsad env_;
  static Issued* token_;
  static TestPki* other_;
};

SharedTsad ToolsCliTest::env_;
Issued* ToolsCliTest::token_ = nullptr;
TestPki* ToolsCliTest::other_ = nullptr;

TEST_F(ToolsCliTest, EveryToolPrintsItsVersion) {
  for (const std::string& tool : kTools) {
    auto r = RunCommand({ToolPath(tool), "--version"}, 10s);
    EXPECT_EQ(r.exit_code, 0) << tool << ":\n" << r.output;
    EXPECT_TRUE(std::regex_match(r.output, std::regex(tool + " [0-9]+\\.[0-9]+\\.[0-9]+ \\(git [^ ()]+\\)\n")))
        << tool << ": " << r.output;
    EXPECT_EQ(r.output, core::VersionLine(tool) + "\n");
  }
}

TEST_F(ToolsCliTest, UsageErrorsExitTwoWithOneLine) {
  const std::string db = env_.tsad().db_path();
  const std::vector<std::vector<std::string>> cases = {
      {"tsa-certgen", "--no-such-flag"},
      {"tsa-certgen", "--key-type", "dsa"},
      {"tsa-request", "--no-such-flag"},
      {"tsa-request", "--data", "x", "--file", "y"},
      {"tsa-request", "--url", "127.0.0.1:5000/tsa", "--data", "x"},  // no scheme
      {"tsa-request", "--url", "ftp://127.0.0.1/tsa", "--data", "x"},
      {"tsa-request", "--hash", "md5", "--data", "x"},
      {"tsa-verify", "--no-such-flag"},
      {"tsa-verify", "only-one-argument.tsr"},
      {"tsa-audit-verify", "--no-such-flag"},
      {"tsa-audit-verify", db},  // no trust roots and no --structure-only
      {"tsa-audit-verify", db, "--structure-only", "--tsa-cert", TsaCert()},
      {"tsa-audit"},
      {"tsa-audit", "proof", db},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv = {ToolPath(args[0])};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    auto r = RunCommand(argv, 10s);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << "\n" << r.output;
    EXPECT_TRUE(OneErrorLine(args[0], r.output)) << shown << "\n" << r.output;
  }
}

TEST_F(ToolsCliTest, TsaRequestHelpListsWhatItAccepts) {
  auto r = RunCommand({ToolPath("tsa-request"), "--help"}, 10s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* part :
       {"--url", "http:// or https://", "--data", "--file", "--digest", "--hash", "sha256", "sha384", "sha512", "--no-cert-req",
        "--no-nonce", "--policy", "--out", "--query-out", "--timeout", "--json", "--version"}) {
    EXPECT_TRUE(Contains(r.output, part)) << "tsa-request --help does not mention " << part << ":\n" << r.output;
  }
}

// Regression (issue 8, item 17): "tsa-verify other-tsa.tsr empty.pem" printed "Signature OK" with
// the certificate the token carries, and "--ca empty.pem" turned the chain check off.
TEST_F(ToolsCliTest, EmptyOrGarbledTrustFilesAreUnreadableInput) {
  const std::string token = Token();
  for (const std::string& bad : BadTrustFiles()) {
    SCOPED_TRACE(bad);
    auto as_cert = RunCommand({ToolPath("tsa-verify"), token, bad}, 10s);
    EXPECT_EQ(as_cert.exit_code, 3) << as_cert.output;
    EXPECT_FALSE(Contains(as_cert.output, "Signature OK")) << as_cert.output;
    EXPECT_TRUE(OneErrorLine("tsa-verify", as_cert.output)) << as_cert.output;
    auto as_ca = RunCommand({ToolPath("tsa-verify"), token, TsaCert(), "--ca", bad}, 10s);
    EXPECT_EQ(as_ca.exit_code, 3) << as_ca.output;
    for (const char* option : {"--tsa-cert", "--tsa-ca", "--anchor-ca"}) {
      std::vector<std::string> argv = {ToolPath("tsa-audit-verify"), env_.tsad().db_path(), option, bad};
      if (std::string(option) == "--anchor-ca") argv.insert(argv.end(), {"--tsa-cert", TsaCert()});
      auto r = RunCommand(argv, 30s);
      EXPECT_EQ(r.exit_code, 3) << option << "\n" << r.output;
      EXPECT_FALSE(Contains(r.output, "OK")) << option << "\n" << r.output;
      EXPECT_TRUE(OneErrorLine("tsa-audit-verify", r.output)) << option << "\n" << r.output;
    }
  }
  // The controls: the right files verify, another TSA's certificate does not.
  auto good = RunCommand({ToolPath("tsa-verify"), token, TsaCert(), "--ca", CaCert()}, 10s);
  EXPECT_EQ(good.exit_code, 0) << good.output;
  auto other = RunCommand({ToolPath("tsa-verify"), token, other_->files.tsa_cert}, 10s);
  EXPECT_EQ(other.exit_code, 1) << other.output;
  auto other_ca = RunCommand({ToolPath("tsa-verify"), token, TsaCert(), "--ca", other_->files.ca_cert}, 10s);
  EXPECT_EQ(other_ca.exit_code, 1) << other_ca.output;
}

// A file with several certificates accepts a token signed by any of them (rollover).
TEST_F(ToolsCliTest, TsaVerifyAcceptsAnyCertificateOfAFile) {
  const std::string both = Sub("both.pem");
  ASSERT_TRUE(WriteText(both, ReadTextFile(other_->files.tsa_cert) + ReadTextFile(TsaCert())));
  auto r = RunCommand({ToolPath("tsa-verify"), Token(), both, "--ca", CaCert()}, 10s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "Signature OK")) << r.output;
}

// Regression (issue 8, item 17): tsa-request wrote a reply that does not answer its request.
TEST_F(ToolsCliTest, TsaRequestDoesNotSaveAMismatchingReply) {
  for (const auto what : {FakeTsa::Mismatch::kNonce, FakeTsa::Mismatch::kImprint}) {
    FakeTsa fake;
    ASSERT_TRUE(fake.ok()) << fake.error();
    fake.WrongRequest(env_.port(), what);
    const std::string out = Sub(what == FakeTsa::Mismatch::kNonce ? "wrong-nonce.tsr" : "wrong-imprint.tsr");
    auto r = RunCommand({ToolPath("tsa-request"), "--url", fake.url(), "--data", "hello", "--out", out, "--timeout", "10"}, 20s);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(Contains(r.output, what == FakeTsa::Mismatch::kNonce ? "nonce does not match" : "imprint does not match"))
        << r.output;
    EXPECT_TRUE(OneErrorLine("tsa-request", r.output)) << r.output;
    EXPECT_FALSE(std::filesystem::exists(out)) << "the mismatching reply was saved to " << out;
  }
  // Control: the real tsad's reply is saved.
  const std::string out = Sub("good.tsr");
  auto r = RunCommand({ToolPath("tsa-request"), "--url", env_.tsad().url(), "--data", "hello", "--out", out}, 20s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out));
}

// Regression (issue 8, item 1): tsa-request took 419 MB of memory for a 200 MB reply.
TEST_F(ToolsCliTest, TsaRequestRefusesAReplyOverTheCap) {
  FakeTsa fake;
  ASSERT_TRUE(fake.ok()) << fake.error();
  fake.Garbage(std::vector<std::uint8_t>((1 << 20) + 1, 0x30));
  const std::string out = Sub("huge.tsr");
  auto r = RunCommand({ToolPath("tsa-request"), "--url", fake.url(), "--data", "hello", "--out", out}, 20s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "larger than the cap of 1048576 bytes")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// Regression (issue 8, item 17): "OK: ... (0 signatures checked)" without any trust root.
TEST_F(ToolsCliTest, TsaAuditVerifyNeedsTrustRootsOrStructureOnly) {
  const std::string db = env_.tsad().db_path();
  auto none = RunCommand({ToolPath("tsa-audit-verify"), db}, 30s);
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_TRUE(Contains(none.output, "--structure-only")) << none.output;
  EXPECT_FALSE(Contains(none.output, "OK")) << none.output;

  auto structure = RunCommand({ToolPath("tsa-audit-verify"), db, "--structure-only"}, 30s);
  EXPECT_EQ(structure.exit_code, 0) << structure.output;
  EXPECT_TRUE(Contains(structure.output, "OK (structure only")) << structure.output;

  auto pinned = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", TsaCert()}, 30s);
  EXPECT_EQ(pinned.exit_code, 0) << pinned.output;
  EXPECT_TRUE(Contains(pinned.output, "OK: ")) << pinned.output;
  EXPECT_FALSE(Contains(pinned.output, "(0 signatures checked)")) << pinned.output;

  auto wrong = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", other_->files.tsa_cert}, 30s);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  auto wrong_ca = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-ca", other_->files.ca_cert}, 30s);
  EXPECT_EQ(wrong_ca.exit_code, 1) << wrong_ca.output;
}

// Regression (issue 8, item 18): random bytes gave a raw SQL error and exit 1.
TEST_F(ToolsCliTest, NonDatabaseInputIsUnreadable) {
  std::vector<std::uint8_t> noise(8192);
  std::mt19937 rng(42);
  for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
  const std::string random = Sub("random.db");
  ASSERT_TRUE(WriteFile(random, noise));
  const std::string empty_sqlite = Sub("empty-sqlite.db");
  {
    store::OpenOptions create;
    auto db = store::Database::Open(empty_sqlite, create);
    ASSERT_TRUE(db) << db.error().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE other (x INTEGER)"));
  }
  for (const std::string& file : {random, empty_sqlite}) {
    const std::vector<std::vector<std::string>> runs = {
        {ToolPath("tsa-audit"), "stats", file},
        {ToolPath("tsa-audit"), "export", file},
        {ToolPath("tsa-audit"), "proof", file, "--serial", "01"},
        {ToolPath("tsa-audit-verify"), file, "--tsa-cert", TsaCert()},
    };
    for (const auto& argv : runs) {
      auto r = RunCommand(argv, 30s);
      const std::string tool = std::filesystem::path(argv[0]).filename();
      EXPECT_EQ(r.exit_code, 3) << argv[1] << " " << file << "\n" << r.output;
      EXPECT_TRUE(OneErrorLine(tool, r.output)) << r.output;
      EXPECT_TRUE(Contains(r.output, "not a tsad audit database")) << r.output;
    }
  }
}

// ---- certificate rollover ------------------------------------------------------------------------

// A second TSA certificate and key from the CA of `pki` into `dir` (tsad's --cert-dir layout).
::testing::AssertionResult IssueSecondTsa(const TestPki& pki, const std::string& dir) {
  std::filesystem::create_directories(dir);
  crypto::UniquePtr<BIO> key_bio(BIO_new_file(pki.files.ca_key.c_str(), "r"));
  crypto::UniquePtr<BIO> cert_bio(BIO_new_file(pki.files.ca_cert.c_str(), "r"));
  if (!key_bio || !cert_bio) return ::testing::AssertionFailure() << "cannot open the CA files";
  crypto::UniquePtr<EVP_PKEY> ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  crypto::UniquePtr<X509> ca_cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_key || !ca_cert) return ::testing::AssertionFailure() << "cannot read the CA key or certificate";
  auto key = crypto::GenerateKey(crypto::KeyType::kEcP256);
  if (!key) return ::testing::AssertionFailure() << key.error().ToString();
  crypto::CertProfile profile;
  profile.subject = "/C=XX/O=tsad test/CN=tsad Test TSA after rollover";
  auto cert = crypto::IssueCertificate(profile, key->get(), ca_cert.get(), ca_key.get());
  if (!cert) return ::testing::AssertionFailure() << cert.error().ToString();
  for (const Status& st : {crypto::WritePrivateKeyPem(dir + "/tsa_key.pem", key->get()),
                           crypto::WriteCertificatesPem(dir + "/tsa_cert.pem", {cert->get()}),
                           crypto::WriteCertificatesPem(dir + "/chain.pem", {ca_cert.get()})}) {
    if (!st) return ::testing::AssertionFailure() << st.error().ToString();
  }
  return ::testing::AssertionSuccess();
}

// Regression (issue 8, item 17): after a rollover, a log signed by two TSA certificates failed even
// with both given.
TEST(ToolsRolloverTest, LogSignedByTwoCertificatesVerifiesWithBothOrTheirCa) {
  TempDir dir("tsa-rollover");
  auto first = CreateTestPki(dir.Sub("first"));
  ASSERT_TRUE(first) << first.error().ToString();
  ASSERT_TRUE(IssueSecondTsa(*first, dir.Sub("second")));
  const std::string db = dir.Sub("audit.db");
  for (const std::string& cert_dir : {dir.Sub("first"), dir.Sub("second")}) {
    TsadOptions options;
    options.cert_dir = cert_dir;
    options.db_path = db;
    TsadProcess tsad(options);
    ASSERT_TRUE(tsad.Start());
    ASSERT_TRUE(IssueMany(tsad.port(), 3, nullptr));
    ASSERT_EQ(tsad.Stop(), 0) << tsad.log();
  }
  const std::string cert1 = first->files.tsa_cert, cert2 = dir.Sub("second/tsa_cert.pem"), ca = first->files.ca_cert;
  auto verify = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {ToolPath("tsa-audit-verify"), db});
    return RunCommand(args, 30s);
  };
  for (const std::string& only : {cert1, cert2}) {
    auto r = verify({"--tsa-cert", only});
    EXPECT_EQ(r.exit_code, 1) << "one certificate of two must not verify the whole log:\n" << r.output;
  }
  auto both = verify({"--tsa-cert", cert1, "--tsa-cert", cert2});
  EXPECT_EQ(both.exit_code, 0) << both.output;
  EXPECT_TRUE(Contains(both.output, "OK: 6 leaves (6 signatures checked)")) << both.output;
  auto by_ca = verify({"--tsa-ca", ca});
  EXPECT_EQ(by_ca.exit_code, 0) << both.output;
  EXPECT_TRUE(Contains(by_ca.output, "OK: 6 leaves (6 signatures checked)")) << by_ca.output;
  auto pinned_and_ca = verify({"--tsa-cert", cert1, "--tsa-ca", ca});
  EXPECT_EQ(pinned_and_ca.exit_code, 0) << pinned_and_ca.output;
}

}  // namespace
}  // namespace tsa::test
