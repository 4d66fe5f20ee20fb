// What every offline tool's main shares (tsad has its own, in src/app/config.cc): the exit codes
// of the README table, the one-line "tool: reason" error, --version, the command-line parse that
// maps every usage error to 2, and the checks that make a useless input file "unreadable" (3)
// instead of silently meaning "not given".
#pragma once

#include <CLI/CLI.hpp>

#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include "tsa/core/build_version.h"
#include "tsa/core/bytes.h"
#include "tsa/core/result.h"
#include "tsa/crypto/verifier.h"

namespace tsa::tool {

// README "Exit codes"; 1 is the tool's own failure (verification failed, rejected, ...).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreadable = 3;

// One line on stderr, "tool: reason"; returns `code` for `return Fail(...)`.
inline int Fail(const std::string& tool, int code, const std::string& reason) {
  std::cerr << tool << ": " << reason << "\n";
  return code;
}

// Sets the name shown by --help and adds --version ("tsa-verify 0.3.0 (git 0123456789ab)").
inline void Describe(CLI::App& app, const std::string& tool) {
  app.name(tool);
  app.set_version_flag("--version", core::VersionLine(tool));
}

// Parses the command line, then runs `validate` (checks across options; it throws
// CLI::ValidationError). Returns the exit code when the tool must stop: 0 after --help or
// --version (printed to stdout), 2 after a usage error (one line on stderr); nullopt to go on.
inline std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, const std::function<void()>& validate = {}) {
  try {
    app.parse(argc, argv);
    if (validate) validate();
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string what = e.what();
    for (char& c : what) {
      if (c == '\n') c = ' ';
    }
    return Fail(app.get_name(), kExitUsage, what + " (see --help)");
  }
  return std::nullopt;
}

// The text of a trust file (--ca, --tsa-cert, ...): it must hold at least one certificate and
// every certificate block in it must parse. An empty or garbled trust file is an error, never the
// same as no file: "no CA" means "trust the given certificate itself", a much weaker check.
inline Result<std::string> ReadTrustFile(const std::string& path, const std::string& option) {
  TSA_ASSIGN_OR_RETURN(std::string text, core::ReadFileText(path));
  TSA_TRY(crypto::CountPemCertificates(text, option + " file " + path));
  return text;
}

// Whether the file starts with the SQLite header. Random bytes are an unreadable input (3); an
// SQLite file that SQLite then finds damaged is a failed verification (1).
inline bool HasSqliteHeader(const std::string& path) {
  static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with its NUL
  char head[sizeof(kMagic)] = {};
  std::ifstream in(path, std::ios::binary);
  in.read(head, sizeof(head));
  return in.gcount() == sizeof(head) && std::string(head, sizeof(head)) == std::string(kMagic, sizeof(kMagic));
}

}  // namespace tsa::tool
