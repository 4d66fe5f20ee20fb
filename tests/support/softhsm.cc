#include "support/softhsm.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace tsa::test {
namespace {

bool Executable(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"}) {
    if (::access((std::string(dir) + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

std::string SoftHsmToken::Missing() {
  if (!Executable("softhsm2-util")) return "softhsm2-util (package softhsm2) is not installed";
  if (::access("/usr/lib/softhsm/libsofthsm2.so", R_OK) != 0) return "the SoftHSM2 module (package libsofthsm2) is missing";
  return "";
}

SoftHsmToken::SoftHsmToken(const std::string& dir, const std::string& label) : label_(label) {
  tokens_dir_ = dir + "/tokens";
  std::filesystem::create_directories(tokens_dir_);
  const std::string conf = dir + "/softhsm2.conf";
  std::ofstream(conf) << "directories.tokendir = " << tokens_dir_ << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  ::setenv("TSA_PKCS11_PIN", kSoftHsmPin, 1);
  auto init = RunCommand({"softhsm2-util", "--init-token", "--free", "--label", label, "--pin", kSoftHsmPin, "--so-pin", "5678"});
  if (init.exit_code != 0) error_ = "softhsm2-util --init-token failed: " + init.output;
}

SoftHsmToken::~SoftHsmToken() {
  ::unsetenv("SOFTHSM2_CONF");
  ::unsetenv("TSA_PKCS11_PIN");
}

std::string SoftHsmToken::Uri(const std::string& object) const {
  return "pkcs11:token=" + label_ + ";object=" + object + ";type=private";
}

std::string SoftHsmToken::GenerateKeyAndCertificate(const std::string& object, const std::string& key_type,
                                                    const std::string& cert_dir) const {
  auto r = RunCommand({std::string(TSA_BIN_DIR) + "/tsa-certgen", "--dir", cert_dir, "--key-type", key_type, "--pkcs11",
                       "pkcs11:token=" + label_ + ";object=" + object});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.exit_code == 0 ? r.output : "";
}

}  // namespace tsa::test
