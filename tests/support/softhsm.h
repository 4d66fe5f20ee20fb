// A SoftHSM2 token of one test: its own softhsm2.conf and token directory under a temporary
// directory (SOFTHSM2_CONF is set in this process, so tsad and the tools started by the test
// inherit it); the machine's global token store is never touched.
#pragma once

#include <string>

#include "support/tsad_process.h"

namespace tsa::test {

inline constexpr char kSoftHsmPin[] = "1234";

class SoftHsmToken {
 public:
  // Why SoftHSM2 tests cannot run here (softhsm2-util or the module is missing); empty when they
  // can.
  static std::string Missing();

  // Creates dir/tokens and dir/softhsm2.conf, points SOFTHSM2_CONF and TSA_PKCS11_PIN at them and
  // initialises a token `label` with PIN kSoftHsmPin.
  SoftHsmToken(const std::string& dir, const std::string& label);
  ~SoftHsmToken();  // unsets SOFTHSM2_CONF and TSA_PKCS11_PIN
  SoftHsmToken(const SoftHsmToken&) = delete;
  SoftHsmToken& operator=(const SoftHsmToken&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& tokens_dir() const { return tokens_dir_; }
  // "pkcs11:token=LABEL;object=OBJECT;type=private"
  std::string Uri(const std::string& object) const;

  // tsa-certgen --pkcs11: generates `object` of key_type in the token and a development CA and TSA
  // certificate for it in cert_dir. Returns the tool's output; "" plus a test failure on error.
  std::string GenerateKeyAndCertificate(const std::string& object, const std::string& key_type,
                                        const std::string& cert_dir) const;

 private:
  std::string label_;
  std::string tokens_dir_;
  std::string error_;
};

}  // namespace tsa::test
