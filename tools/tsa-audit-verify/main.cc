// tsa-audit-verify: checks a tsad audit database (every leaf, every checkpoint root, every anchor;
// the database is opened read-only and never written; SQLite may still create empty -wal/-shm files
// beside a WAL database) or, with --proof, one token's proof bundle offline.
// Exit codes: 0 verified; 1 verification failed (tampering or damage found, including a database
// that is corrupt or truncated: SQLite reports it malformed / not a database); 2 usage; 3 an input
// cannot be opened or read (missing file, no permission, not a tsad audit database, locked).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tsa/audit/chain_verifier.h"
#include "tsa/audit/proof_bundle.h"
#include "tsa/core/bytes.h"

namespace {
// The file's text, or "" when no path was given.
tsa::Result<std::string> Text(const std::string& path) {
  return path.empty() ? tsa::Result<std::string>(std::string()) : tsa::core::ReadFileText(path);
}
int Fail(int code, const std::string& msg) {
  std::cerr << "tsa-audit-verify: " << msg << "\n";
  return code;
}
void Bar(std::uint64_t done, std::uint64_t total) {
  const int width = 40, filled = total ? static_cast<int>(done * width / total) : width;
  std::fprintf(stderr, "\r[%s%s] %3d%% %llu/%llu", std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), ' ').c_str(),
               total ? static_cast<int>(done * 100 / total) : 100, static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  if (done >= total) std::fputs("\n", stderr);
}
}  // namespace

int main(int argc, char** argv) try {
  std::string db_path, export_path, anchor_ca, tsa_cert, tsa_ca, proof_path, token_path;
  bool verbose = false, require_anchors = false, allow_unanchored = false;
  double max_skew = 300;
  CLI::App app{"tsa-audit-verify: verify a tsad audit log (or one token's proof bundle) offline"};
  app.add_option("database", db_path, "The tsad audit database (opened read-only)");
  app.add_flag("-v,--verbose", verbose, "List every finding and each checkpoint's anchors");
  app.add_option("--export-json", export_path, "Write the full report as JSON to this file ('-': stdout)");
  app.add_option("--anchor-ca", anchor_ca,
                 "Trust bundle (PEM) for the external TSAs; default: their embedded signer certificates");
  app.add_option("--tsa-cert", tsa_cert, "tsad's TSA certificate (PEM); also verifies every stored token's signature");
  app.add_option("--tsa-ca", tsa_ca, "Trust bundle (PEM) for tsad's certificate");
  app.add_option("--max-skew", max_skew, "Largest accepted |external - tsad| genTime difference, seconds")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--require-anchors", require_anchors, "A checkpoint without a verified anchor is a failure");
  auto* proof = app.add_option("--proof", proof_path, "A proof bundle (tsa-audit proof) to verify instead of a database");
  app.add_option("--token", token_path, "The token (.tsr or .tst) the proof bundle is about")->needs(proof);
  app.add_flag("--allow-unanchored", allow_unanchored, "Accept a proof bundle without anchors");
  try {
    app.parse(argc, argv);
    if (proof_path.empty() == db_path.empty()) throw CLI::ValidationError("give either a database or --proof (with --token)");
    if (!proof_path.empty() && token_path.empty()) throw CLI::ValidationError("--proof needs --token");
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    return Fail(2, std::string(e.what()) + " (see --help)");
  }
  auto anchor_ca_pem = Text(anchor_ca), tsa_cert_pem = Text(tsa_cert), tsa_ca_pem = Text(tsa_ca);
  for (const auto* pem : {&anchor_ca_pem, &tsa_cert_pem, &tsa_ca_pem}) {
    if (!*pem) return Fail(3, pem->error().message);
  }
  const auto skew_us = static_cast<std::int64_t>(max_skew * 1e6);

  if (!proof_path.empty()) {
    auto bundle_text = Text(proof_path);
    if (!bundle_text) return Fail(3, bundle_text.error().message);
    auto token = tsa::core::ReadFileBytes(token_path);
    if (!token) return Fail(3, token.error().message);
    auto bundle = nlohmann::json::parse(*bundle_text, nullptr, false);
    if (bundle.is_discarded()) return Fail(3, proof_path + " is not JSON");
    auto report = tsa::audit::VerifyProofBundle(bundle, *token,
                                                {*tsa_cert_pem, *tsa_ca_pem, *anchor_ca_pem, skew_us, allow_unanchored});
    if (!report) return Fail(1, report.error().message);
    if (verbose) std::cout << tsa::audit::ToJson(*report).dump(2) << "\n";
    if (!report->ok) return Fail(1, "proof FAILED: " + report->errors.front());
    std::cout << "Proof OK: token " << report->serial_hex << " (" << report->token_gen_time << ") is leaf " << report->leaf_index
              << " of checkpoint size " << report->tree_size << " signed at " << report->checkpoint_gen_time << ", "
              << report->anchors.size() << " anchor(s)\n";
    return 0;
  }

  if (::access(db_path.c_str(), R_OK) != 0) return Fail(3, "cannot read " + db_path);
  tsa::store::OpenOptions open;
  open.read_only = true;
  open.create = false;
  auto db = tsa::store::Database::Open(db_path, open);
  if (!db) return Fail(3, db.error().message);
  tsa::audit::ChainVerifyOptions options{*tsa_cert_pem, *tsa_ca_pem, *anchor_ca_pem, skew_us, require_anchors};
  auto report = tsa::audit::VerifyChain(**db, options, ::isatty(STDERR_FILENO) ? tsa::audit::ProgressFn(Bar) : nullptr);
  if (!report) {
    const bool damaged = report.error().kind == tsa::ErrorKind::kStorage;
    return Fail(damaged ? 1 : 3,
                (damaged ? "the database cannot be read (corrupt or truncated?): " : "") + report.error().message);
  }
  if (!export_path.empty()) {
    const std::string json = tsa::audit::ToJson(*report).dump(2) + "\n";
    if (export_path == "-") {
      std::cout << json;
    } else if (!(std::ofstream(export_path, std::ios::binary) << json)) {
      return Fail(3, "cannot write " + export_path);
    }
  }
  const auto& r = *report;
  if (verbose) {
    for (const auto& f : r.findings) std::cerr << f.ToString() << "\n";
    for (const auto& c : r.checkpoints) {
      for (const auto& a : c.anchors) {
        std::cerr << "checkpoint " << c.id << " (size " << c.tree_size << ") anchor " << a.tsa_url << ": "
                  << (a.ok ? "ok" : "FAILED") << (a.skew_seconds ? ", skew " + std::to_string(*a.skew_seconds) + " s" : "")
                  << "\n";
      }
    }
  }
  std::cout << (r.ok ? "OK: " : "FAILED: ") << r.leaves << " leaves (" << r.leaf_signatures_checked << " signatures checked), "
            << r.checkpoints.size() << " checkpoints, " << r.anchors_verified << " anchors verified, anchored up to "
            << r.anchored_size << ", " << r.errors << " error(s), " << r.warnings << " warning(s)\n";
  if (r.ok) return 0;
  // The error that names the first bad index (or checkpoint), in one line.
  auto first = std::find_if(r.findings.begin(), r.findings.end(), [&](const auto& f) {
    return f.severity == tsa::audit::Severity::kError &&
           (r.first_bad_index ? f.index == r.first_bad_index
                              : !r.first_bad_checkpoint || f.checkpoint_id == r.first_bad_checkpoint);
  });
  const std::string where = r.first_bad_index        ? "first bad index " + std::to_string(*r.first_bad_index)
                            : r.first_bad_checkpoint ? "first bad checkpoint " + std::to_string(*r.first_bad_checkpoint)
                                                     : "see --verbose";
  return Fail(1, "verification FAILED, " + where + (first != r.findings.end() ? ": " + first->ToString() : std::string()));
} catch (const std::exception& e) {
  std::cerr << "tsa-audit-verify: " << e.what() << "\n";
  return 1;
}
