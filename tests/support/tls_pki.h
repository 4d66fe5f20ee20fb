// TLS certificates for the HTTPS tests, made with the real openssl CLI in a test's directory: a
// CA, and EC P-256 leaf certificates it signs (a server certificate for 127.0.0.1, or a client
// certificate). Keys are written mode 0600 (tsad refuses group/other-readable keys).
#pragma once

#include <string>

namespace tsa::test {

struct TlsLeaf {
  std::string cert;  // PEM
  std::string key;   // PEM, mode 0600
};

class TlsPki {
 public:
  // A CA "CN=<name>" in dir (ca cert: <dir>/<name>-ca.pem). ok() false (and error()) on failure.
  TlsPki(std::string dir, std::string name);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& ca_cert() const { return ca_.cert; }

  // A server certificate for IP 127.0.0.1 (serverAuth), or a client one (clientAuth), with the
  // given subject ("/CN=carol"), written as <dir>/<file>.pem and <file>.key. Valid for a day.
  TlsLeaf Server(const std::string& file, const std::string& subject = "/CN=127.0.0.1");
  TlsLeaf Client(const std::string& file, const std::string& subject);

 private:
  TlsLeaf Issue(const std::string& file, const std::string& subject, const std::string& extensions);
  std::string dir_;
  TlsLeaf ca_;
  std::string error_;
  int serial_ = 1;
};

}  // namespace tsa::test
