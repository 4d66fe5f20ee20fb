#include "support/tls_pki.h"

#include <sys/stat.h>

#include <ctime>
#include <fstream>

#include "support/tsad_process.h"

namespace tsa::test {
namespace {

bool RunOpenssl(std::vector<std::string> args, std::string* error) {
  args.insert(args.begin(), "openssl");
  const auto run = RunCommand(args);
  if (run.exit_code == 0) return true;
  if (error->empty()) error->assign("openssl " + args[1] + " failed (" + std::to_string(run.exit_code) + "): " + run.output);
  return false;
}

}  // namespace

TlsPki::TlsPki(std::string dir, std::string name) : dir_(std::move(dir)) {
  ca_ = {dir_ + "/" + name + "-ca.pem", dir_ + "/" + name + "-ca.key"};
  RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", ca_.key, "-out",
              ca_.cert, "-subj", "/CN=" + name, "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign"},
             &error_);
}

TlsLeaf TlsPki::Server(const std::string& file, const std::string& subject) {
  return Issue(file, subject, "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
}

TlsLeaf TlsPki::Client(const std::string& file, const std::string& subject) {
  return Issue(file, subject, "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
}

TlsLeaf TlsPki::Issue(const std::string& file, const std::string& subject, const std::string& extensions) {
  const TlsLeaf leaf{dir_ + "/" + file + ".pem", dir_ + "/" + file + ".key"};
  const std::string csr = dir_ + "/" + file + ".csr";
  const std::string ext = dir_ + "/" + file + ".ext";
  std::ofstream(ext) << extensions;
  // Unique serials across runs and CAs, so that no client caches one certificate for another.
  const std::string serial = std::to_string(static_cast<long long>(std::time(nullptr)) * 1000 + serial_++);
  if (RunOpenssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", leaf.key, "-out",
                  csr, "-subj", subject},
                 &error_) &&
      RunOpenssl({"x509", "-req", "-in", csr, "-CA", ca_.cert, "-CAkey", ca_.key, "-set_serial", serial, "-days", "1", "-extfile",
                  ext, "-out", leaf.cert},
                 &error_)) {
    ::chmod(leaf.key.c_str(), 0600);
  }
  return leaf;
}

}  // namespace tsa::test
