// Which OpenSSL tsad runs with (the shared library's, which may be newer than the headers'), for
// tsad_build_info and --version, without including OpenSSL outside the crypto layer.
#pragma once

namespace tsa::crypto {

const char* OpenSslVersionText();  // "OpenSSL 3.0.15 3 Sep 2024"

}  // namespace tsa::crypto
