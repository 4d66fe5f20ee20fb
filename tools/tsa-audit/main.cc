// tsa-audit: reads a tsad audit database (read-only) for operators and customers.
//   tsa-audit stats DB [--json]                       totals, anchors succeeded/failed, success rate, last anchor
//   tsa-audit export DB [-o FILE]                      checkpoints with tsad's tokens, anchor replies, consistency proofs
//   tsa-audit proof DB (--serial HEX | --token FILE) [-o FILE] [--allow-unanchored]
//                                                      one token's proof bundle, checked by tsa-audit-verify --proof
// Exit codes: 0 done; 1 the database cannot answer (unknown serial or token, not anchored yet,
// damaged log); 2 usage; 3 an input cannot be opened or read, or the output cannot be written.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <variant>

#include "common/tool_cli.h"
#include "tsa/audit/proof_bundle.h"
#include "tsa/audit/tile_recovery.h"
#include "tsa/audit/tlog_proof.h"
#include "tsa/core/bytes.h"
#include "tsa/store/sqlite_log_store.h"

namespace {
constexpr char kTool[] = "tsa-audit";
int Fail(int code, const std::string& msg) { return tsa::tool::Fail(kTool, code, msg); }
// 3 for what concerns the input itself, 1 for what the log cannot give.
int CodeOf(const tsa::Error& e) {
  return e.kind == tsa::ErrorKind::kIo || e.kind == tsa::ErrorKind::kBusy || e.kind == tsa::ErrorKind::kInvalidArgument ? 3 : 1;
}
// The database, read-only, once it is known to be a tsad audit log; else the exit code (3) after
// one line saying why (never a raw SQL error).
std::variant<std::unique_ptr<tsa::store::Database>, int> OpenAuditDatabase(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) return Fail(3, "cannot read " + path);
  if (!tsa::tool::HasSqliteHeader(path)) return Fail(3, path + " is not a tsad audit database (not an SQLite file)");
  tsa::store::OpenOptions open;
  open.read_only = true;
  open.create = false;
  auto db = tsa::store::Database::Open(path, open);
  if (!db) return Fail(3, db.error().message);
  if (auto tables = tsa::store::SqliteLogStore(**db).CheckIsAuditLog(); !tables) {
    const bool not_audit = tables.error().kind == tsa::ErrorKind::kInvalidArgument;
    return Fail(3, not_audit ? tables.error().message : path + " cannot be read as a database: " + tables.error().message);
  }
  return std::move(*db);
}
}  // namespace

int main(int argc, char** argv) try {
  std::string db_path, out_path, serial, token_path;
  bool json = false, allow_unanchored = false;
  CLI::App app{"Statistics, JSON export and proof bundles from a tsad audit database"};
  tsa::tool::Describe(app, kTool);
  app.require_subcommand(1);
  auto* stats = app.add_subcommand("stats", "Log and anchoring statistics");
  stats->add_option("database", db_path, "The tsad audit database")->required();
  stats->add_flag("--json", json, "Print JSON");
  auto* exp = app.add_subcommand("export", "Audit-proof JSON: checkpoints with their anchor replies");
  exp->add_option("database", db_path, "The tsad audit database")->required();
  exp->add_option("-o,--output", out_path, "Output file (default: stdout)");
  auto* proof = app.add_subcommand("proof", "Proof bundle for one token");
  proof->add_option("database", db_path, "The tsad audit database")->required();
  auto* serial_opt = proof->add_option("--serial", serial, "The token's serial number (hex)");
  proof->add_option("--token", token_path, "The token (.tsr or .tst)")->excludes(serial_opt);
  proof->add_option("-o,--output", out_path, "Output file (default: stdout)");
  std::string format = "json";
  proof->add_option("--format", format, "json: the tsad-proof/v1 bundle; tlog-proof: c2sp.org/tlog-proof@v1")
      ->check(CLI::IsMember({"json", "tlog-proof"}))
      ->capture_default_str();
  proof->add_flag("--allow-unanchored", allow_unanchored, "Build over the latest checkpoint when none is anchored yet");
  auto validate = [&] {
    if (proof->parsed() && serial.empty() && token_path.empty()) throw CLI::ValidationError("proof needs --serial or --token");
    if (serial.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      throw CLI::ValidationError("--serial must be hex");
  };
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv, validate)) return *code;

  auto opened = OpenAuditDatabase(db_path);
  if (const int* code = std::get_if<int>(&opened)) return *code;
  auto log_store = tsa::audit::OpenLogForReading(*std::get<0>(opened));
  if (!log_store) return Fail(1, log_store.error().message);
  tsa::store::LogStore& log = **log_store;

  auto emit = [&](const std::string& text) {
    if (out_path.empty()) {
      std::cout << text;
      return 0;
    }
    if (!(std::ofstream(out_path, std::ios::binary) << text)) return Fail(3, "cannot write " + out_path);
    return 0;
  };
  if (stats->parsed()) {
    auto s = tsa::audit::ComputeStats(log);
    if (!s) return Fail(CodeOf(s.error()), s.error().message);
    return emit(json ? tsa::audit::ToJson(*s).dump(2) + "\n" : tsa::audit::ToText(*s));
  }
  if (exp->parsed()) {
    auto j = tsa::audit::ExportAuditJson(log);
    if (!j) return Fail(CodeOf(j.error()), j.error().message);
    return emit(j->dump(2) + "\n");
  }
  if (format == "tlog-proof") {
    if (!token_path.empty()) {
      auto token = tsa::core::ReadFileBytes(token_path);
      if (!token) return Fail(3, token.error().message);
      auto info = tsa::audit::GrantedTokenOf(*token);
      if (!info) return Fail(3, info.error().message);
      serial = info->serial_hex;
    }
    auto text = tsa::audit::BuildTlogProof(log, serial);
    if (!text) {
      const auto kind = text.error().kind;
      return Fail(kind == tsa::ErrorKind::kNotFound || kind == tsa::ErrorKind::kUnavailable ? 1 : CodeOf(text.error()),
                  text.error().message);
    }
    return emit(*text);
  }
  tsa::audit::ProofBuildOptions options;
  options.allow_unanchored = allow_unanchored;
  tsa::Result<nlohmann::json> bundle = nlohmann::json();
  if (!token_path.empty()) {
    auto token = tsa::core::ReadFileBytes(token_path);
    if (!token) return Fail(3, token.error().message);
    bundle = tsa::audit::BuildProofBundleForToken(log, *token, options);
  } else {
    bundle = tsa::audit::BuildProofBundle(log, serial, options);
  }
  if (!bundle) {
    const auto kind = bundle.error().kind;
    const int code = kind == tsa::ErrorKind::kNotFound || kind == tsa::ErrorKind::kUnavailable ? 1 : CodeOf(bundle.error());
    return Fail(code, bundle.error().message);
  }
  if ((*bundle)["anchors"].empty())
    std::cerr << "tsa-audit: warning: not anchored yet; this bundle proves inclusion and tsad's signature only\n";
  return emit(bundle->dump(2) + "\n");
} catch (const std::exception& e) {
  return Fail(1, e.what());
}
