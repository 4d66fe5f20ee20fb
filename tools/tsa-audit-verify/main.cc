// tsa-audit-verify: checks a tsad audit database (every leaf, every checkpoint root, every anchor;
// the database is opened read-only and never written; SQLite may still create empty -wal/-shm files
// beside a WAL database), or, with --proof, one token's proof bundle offline, or, with --url, a
// live log over HTTP from its C2SP tiles (a monitor, monitor.h).
// tsad's trust roots (--tsa-cert, repeatable, and/or --tsa-ca) are required: a check that proved
// no signature of tsad is not "OK". --structure-only runs without them and says so.
// Exit codes: 0 verified; 1 verification failed (tampering or damage found, including an SQLite
// file that is corrupt or truncated); 2 usage; 3 an input cannot be opened or read (missing file,
// no permission, not an SQLite file, not a tsad audit database, locked, a trust file without
// certificates); with --url also 4 (the log is inconsistent with the state file) and 5 (the
// checkpoint is not signed by --vkey), see monitor.h; in every mode 6 when --witness-vkey is given
// and the checkpoint relied on is not cosigned by the quorum of those witnesses (witnesses.h).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/tool_cli.h"
#include "tsa-audit-verify/log_certificates.h"
#include "tsa-audit-verify/monitor.h"
#include "tsa-audit-verify/witnesses.h"
#include "tsa/audit/proof_bundle.h"
#include "tsa/audit/tile_recovery.h"
#include "tsa/core/bytes.h"
#include "tsa/http/client.h"
#include "tsa/store/sqlite_log_store.h"
#include "tsa/verify/chain_verifier.h"
#include "tsa/verify/proof_verifier.h"
#include "tsa/verify/tlog_proof_verifier.h"
#include "tsa/verify/witnessed_checkpoint.h"

namespace {

constexpr char kTool[] = "tsa-audit-verify";
constexpr char kStructureOnly[] =
    "structure only: tsad's signatures were checked against the certificates its tokens carry, not against a trust root";
constexpr char kNoAnchorCa[] = "note: no --anchor-ca: the anchors were checked against the certificates they carry only";

constexpr char kNoVkey[] = "note: no --vkey: the checkpoint note's signature by the log key was not checked";

int Fail(int code, const std::string& msg) { return tsa::tool::Fail(kTool, code, msg); }

struct Flags {
  std::string db_path, export_path, anchor_ca, tsa_ca, proof_path, token_path, tlog_proof_path, vkey, url, state;
  std::vector<std::string> tsa_certs, witness_vkeys;
  std::size_t witness_quorum = 0;  // 0: all the --witness-vkey keys
  tsa::verify::WitnessPolicy witnesses;
  bool verbose = false, require_anchors = false, allow_unanchored = false, structure_only = false, skip_history = false;
  double max_skew = 300;
  int timeout_s = 30;
};

// The PEM texts of the trust files (each must hold certificates); several --tsa-cert files are
// one bundle of pinned certificates.
struct Trust {
  std::string tsa_certs, tsa_ca, anchor_ca;
};

tsa::Result<Trust> LoadTrust(const Flags& f) {
  Trust t;
  for (const std::string& path : f.tsa_certs) {
    TSA_ASSIGN_OR_RETURN(std::string pem, tsa::tool::ReadTrustFile(path, "--tsa-cert"));
    t.tsa_certs += pem + "\n";
  }
  if (!f.tsa_ca.empty()) {
    TSA_ASSIGN_OR_RETURN(t.tsa_ca, tsa::tool::ReadTrustFile(f.tsa_ca, "--tsa-ca"));
  }
  if (!f.anchor_ca.empty()) {
    TSA_ASSIGN_OR_RETURN(t.anchor_ca, tsa::tool::ReadTrustFile(f.anchor_ca, "--anchor-ca"));
  }
  return t;
}

void DefineFlags(CLI::App& app, Flags& f) {
  app.add_option("database", f.db_path, "The tsad audit database (opened read-only)");
  app.add_flag("-v,--verbose", f.verbose, "List every finding and each checkpoint's anchors");
  app.add_option("--export-json", f.export_path, "Write the full report as JSON to this file ('-': stdout)");
  auto* cert = app.add_option("--tsa-cert", f.tsa_certs,
                              "tsad's TSA certificate (PEM); repeat it for each certificate the log was signed with");
  auto* ca = app.add_option("--tsa-ca", f.tsa_ca,
                            "CA bundle (PEM) for tsad: any certificate chaining to it with the timeStamping EKU is accepted");
  app.add_flag("--structure-only", f.structure_only,
               "Without tsad's trust roots: check the structure, and signatures only against the certificates the "
               "tokens carry")
      ->excludes(cert)
      ->excludes(ca);
  app.add_option("--anchor-ca", f.anchor_ca,
                 "Trust bundle (PEM) for the external TSAs; default: their embedded signer certificates");
  app.add_option("--max-skew", f.max_skew, "Largest accepted |external - tsad| genTime difference, seconds")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--require-anchors", f.require_anchors, "A checkpoint without a verified anchor is a failure");
  app.add_option("--proof", f.proof_path, "A proof bundle (tsa-audit proof) to verify instead of a database");
  app.add_option("--token", f.token_path, "The token (.tsr or .tst) the proof bundle or tlog-proof is about");
  app.add_option("--tlog-proof", f.tlog_proof_path, "A c2sp.org/tlog-proof@v1 file to verify (with --vkey and --token)");
  app.add_option("--vkey", f.vkey,
                 "The log's signed-note verifier key string (GET /log/vkey, tsa-certgen), or @FILE holding it: checks "
                 "tlog-proofs, --url monitoring and the signature of every anchored checkpoint note");
  app.add_flag("--allow-unanchored", f.allow_unanchored, "Accept a proof bundle without anchors");
  app.add_option("--url", f.url,
                 "Monitor a live log over HTTP(S) from its C2SP tiles: the log prefix (https://tsa.example/log), with --vkey");
  app.add_option("--state", f.state,
                 "With --url: the last verified checkpoint; the next run proves consistency from it (created if missing)");
  app.add_flag("--skip-history", f.skip_history,
               "With --url, on a run without state: check the signature and that the tiles rebuild the root, not the "
               "entries before it (for very large logs: monitor from now on)");
  app.add_option("--timeout", f.timeout_s, "With --url: seconds for each HTTP fetch")->check(CLI::Range(1, 3600));
  auto* witness = app.add_option("--witness-vkey", f.witness_vkeys,
                                 "A witness's cosignature/v1 verifier key string (c2sp.org/tlog-cosignature), or @FILE; "
                                 "repeatable: the checkpoint relied on (--url: the latest; --tlog-proof/--proof: the "
                                 "proof's; database: the largest cosigned one) must carry their valid cosignatures");
  app.add_option("--witness-quorum", f.witness_quorum,
                 "How many of the --witness-vkey witnesses must have cosigned (default: all of them)")
      ->check(CLI::PositiveNumber)
      ->needs(witness);
}

void Validate(const Flags& f) {
  if (f.witness_quorum > f.witness_vkeys.size()) {
    throw CLI::ValidationError("--witness-quorum " + std::to_string(f.witness_quorum) + " is more than the " +
                               std::to_string(f.witness_vkeys.size()) + " --witness-vkey key(s) given");
  }
  if ((!f.state.empty() || f.skip_history) && f.url.empty())
    throw CLI::ValidationError("--state and --skip-history go with --url");
  if (!f.url.empty()) {
    if (!f.db_path.empty() || !f.proof_path.empty() || !f.tlog_proof_path.empty()) {
      throw CLI::ValidationError("--url goes alone (with --vkey, --state, --tsa-cert/--tsa-ca)");
    }
    if (f.vkey.empty()) throw CLI::ValidationError("--url needs --vkey (GET <url>/vkey, checked out of band)");
    if (!tsa::http::IsHttpUrl(f.url)) throw CLI::ValidationError("--url must start with http:// or https://");
    return;
  }
  if (!f.tlog_proof_path.empty()) {
    if (!f.db_path.empty() || !f.proof_path.empty()) throw CLI::ValidationError("--tlog-proof goes alone (with --vkey, --token)");
    if (f.vkey.empty() || f.token_path.empty()) throw CLI::ValidationError("--tlog-proof needs --vkey and --token");
    return;
  }
  if (f.proof_path.empty() == f.db_path.empty()) throw CLI::ValidationError("give either a database or --proof (with --token)");
  if (!f.proof_path.empty() && f.token_path.empty()) throw CLI::ValidationError("--proof needs --token");
  if (f.tsa_certs.empty() && f.tsa_ca.empty() && !f.structure_only) {
    throw CLI::ValidationError("give tsad's trust roots (--tsa-cert F, repeatable, and/or --tsa-ca F), or --structure-only");
  }
}

// c2sp.org/tlog-proof@v1: the log key's signature and the inclusion path; no TSA trust needed.
int VerifyTlogProofFile(const Flags& f) {
  auto text = tsa::core::ReadFileText(f.tlog_proof_path);
  if (!text) return Fail(3, text.error().message);
  auto token = tsa::core::ReadFileBytes(f.token_path);
  if (!token) return Fail(3, token.error().message);
  auto info = tsa::audit::GrantedTokenOf(*token);
  if (!info) return Fail(3, info.error().message);
  auto key = tsa::verify::ParseVerifierKey(f.vkey);
  if (!key) return Fail(3, "--vkey: " + key.error().message);
  auto result = tsa::verify::VerifyTlogProof(*text, *key, tsa::audit::LeafHash(info->token_der));
  if (!result) return Fail(1, "tlog-proof FAILED: " + result.error().message);
  tsa::verify::QuorumReport cosigned;
  if (auto code = tsa::tool::RequireWitnessed(f.witnesses, result->note, "the tlog-proof's checkpoint", cosigned)) {
    return *code;
  }
  std::cout << "tlog-proof OK: token " << info->serial_hex << " is leaf " << result->index << " of " << key->name
            << " checkpoint size " << result->checkpoint.tree_size << tsa::tool::CosignedSummary(f.witnesses, cosigned) << "\n";
  return 0;
}

// The bundle's checkpoint note with its "cosignatures" lines (proof_bundle.h) against the policy.
std::optional<int> RequireBundleWitnessed(const Flags& f, const nlohmann::json& bundle, tsa::verify::QuorumReport& out) {
  if (f.witnesses.empty()) return std::nullopt;
  std::string note = bundle.value("checkpoint", "");
  if (note.rfind("tsad-checkpoint/v1", 0) == 0) {
    return Fail(tsa::tool::kExitNotWitnessed,
                "the proof's checkpoint is not witnessed: a legacy tsad-checkpoint/v1 text, "
                "not a signed note witnesses cosign");
  }
  const auto lines = bundle.value("cosignatures", nlohmann::json::array());
  for (const auto& line : lines) note += line.is_string() ? line.get<std::string>() : std::string();
  return tsa::tool::RequireWitnessed(f.witnesses, note, "the proof's checkpoint", out);
}

int VerifyProof(const Flags& f, const Trust& trust) {
  auto bundle_text = tsa::core::ReadFileText(f.proof_path);
  if (!bundle_text) return Fail(3, bundle_text.error().message);
  auto token = tsa::core::ReadFileBytes(f.token_path);
  if (!token) return Fail(3, token.error().message);
  auto bundle = nlohmann::json::parse(*bundle_text, nullptr, false);
  if (bundle.is_discarded()) return Fail(3, f.proof_path + " is not JSON");
  const auto skew_us = static_cast<std::int64_t>(f.max_skew * 1e6);
  tsa::verify::ProofVerifyOptions options{trust.tsa_certs, trust.tsa_ca, trust.anchor_ca, skew_us, f.allow_unanchored, f.vkey};
  auto report = tsa::verify::VerifyProofBundle(bundle, *token, options);
  if (!report)
    return Fail(report.error().kind == tsa::ErrorKind::kInvalidArgument && !f.vkey.empty() ? 3 : 1,
                report.error().message);  // not a tsad-proof/v1 document, or a bad --vkey
  if (f.verbose) std::cout << tsa::verify::ToJson(*report).dump(2) << "\n";
  if (!report->ok) return Fail(1, "proof FAILED: " + report->errors.front());
  tsa::verify::QuorumReport cosigned;
  if (auto code = RequireBundleWitnessed(f, bundle, cosigned)) return *code;
  std::cout << (f.structure_only ? std::string("Proof structure OK (") + kStructureOnly + "): " : "Proof OK: ") << "token "
            << report->serial_hex << " (" << report->token_gen_time << ") is leaf " << report->leaf_index
            << " of checkpoint size " << report->tree_size << " signed at " << report->checkpoint_gen_time << ", "
            << report->anchors.size() << " anchor(s)" << tsa::tool::CosignedSummary(f.witnesses, cosigned) << "\n";
  if (trust.anchor_ca.empty() && report->anchored) std::cout << kNoAnchorCa << "\n";
  if (report->checkpoint_is_note && !report->note_signature_checked) std::cout << kNoVkey << "\n";
  return 0;
}

void Bar(std::uint64_t done, std::uint64_t total) {
  const int width = 40, filled = total ? static_cast<int>(done * width / total) : width;
  std::fprintf(stderr, "\r[%s%s] %3d%% %llu/%llu", std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), ' ').c_str(),
               total ? static_cast<int>(done * 100 / total) : 100, static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total));
  if (done >= total) std::fputs("\n", stderr);
}

void PrintVerbose(const tsa::verify::ChainReport& r) {
  for (const auto& f : r.findings) std::cerr << f.ToString() << "\n";
  for (const auto& c : r.checkpoints) {
    for (const auto& a : c.anchors) {
      std::cerr << "checkpoint " << c.id << " (size " << c.tree_size << ") anchor " << a.tsa_url << ": "
                << (a.ok ? "ok" : "FAILED") << (a.skew_seconds ? ", skew " + std::to_string(*a.skew_seconds) + " s" : "") << "\n";
    }
  }
}

// The error that names the first bad index (or checkpoint), in one line.
std::string FirstFailure(const tsa::verify::ChainReport& r) {
  auto first = std::find_if(r.findings.begin(), r.findings.end(), [&](const auto& f) {
    return f.severity == tsa::verify::Severity::kError &&
           (r.first_bad_index ? f.index == r.first_bad_index
                              : !r.first_bad_checkpoint || f.checkpoint_id == r.first_bad_checkpoint);
  });
  const std::string where = r.first_bad_index        ? "first bad index " + std::to_string(*r.first_bad_index)
                            : r.first_bad_checkpoint ? "first bad checkpoint " + std::to_string(*r.first_bad_checkpoint)
                                                     : "see --verbose";
  return "verification FAILED, " + where + (first != r.findings.end() ? ": " + first->ToString() : std::string());
}

void PrintLogCertificates(const tsa::tool::LogCertificates& c, bool have_ca) {
  if (have_ca && c.used > 0) {
    std::cout << c.used << " of " << c.listed
              << " TSA certificate(s) listed in the log (tsa_certificates) chain to --tsa-ca and were used\n";
  }
  for (const std::string& note : c.notes) std::cout << "note: " << note << "\n";
  if (!have_ca && c.listed > 0) {
    std::cout << "note: the log lists " << c.listed
              << " TSA certificate(s) (tsa_certificates); unsigned rows, used only when they chain to --tsa-ca\n";
  }
}

// After the chain verified: the largest checkpoint a quorum of --witness-vkey witnesses cosigned.
int RequireLogWitnessed(const Flags& f, tsa::store::LogStore& log) {
  if (f.witnesses.empty()) return 0;
  std::optional<tsa::verify::VerifierKey> log_key;
  if (!f.vkey.empty()) {
    auto key = tsa::verify::ParseVerifierKey(f.vkey);
    if (!key) return Fail(3, "--vkey: " + key.error().message);
    log_key = *key;
  }
  auto witnessed = tsa::verify::LargestWitnessedCheckpoint(log, f.witnesses, log_key);
  if (!witnessed) return Fail(tsa::tool::kExitNotWitnessed, "the log is not witnessed: " + witnessed.error().message);
  std::cout << "witnessed up to size " << witnessed->tree_size << tsa::tool::CosignedSummary(f.witnesses, witnessed->quorum)
            << "\n";
  return 0;
}

int VerifyDatabase(const Flags& f, const Trust& trust) {
  if (::access(f.db_path.c_str(), R_OK) != 0) return Fail(3, "cannot read " + f.db_path);
  if (!tsa::tool::HasSqliteHeader(f.db_path)) return Fail(3, f.db_path + " is not a tsad audit database (not an SQLite file)");
  tsa::store::OpenOptions open;
  open.read_only = true;
  open.create = false;
  auto db = tsa::store::Database::Open(f.db_path, open);
  if (!db) return Fail(3, db.error().message);
  const auto skew_us = static_cast<std::int64_t>(f.max_skew * 1e6);
  auto opened = tsa::audit::OpenLogForReading(**db);
  if (!opened) return Fail(1, opened.error().message);
  tsa::store::LogStore& log = **opened;
  const tsa::tool::LogCertificates certs = tsa::tool::CertificatesFromLog(log, trust.tsa_certs, trust.tsa_ca);
  tsa::verify::ChainVerifyOptions options{certs.pinned_pem, trust.tsa_ca, trust.anchor_ca, skew_us, f.require_anchors};
  options.log_vkey = f.vkey;
  auto report = tsa::verify::VerifyChain(log, options, ::isatty(STDERR_FILENO) ? tsa::verify::ProgressFn(Bar) : nullptr);
  if (!report) {
    // An SQLite file whose header is intact but that SQLite cannot read is damaged, not foreign.
    const bool damaged = report.error().kind == tsa::ErrorKind::kStorage;
    return Fail(damaged ? 1 : 3,
                (damaged ? "the database cannot be read (corrupt or truncated?): " : "") + report.error().message);
  }
  if (!f.export_path.empty()) {
    const std::string json = tsa::verify::ToJson(*report).dump(2) + "\n";
    if (f.export_path == "-") {
      std::cout << json;
    } else if (!(std::ofstream(f.export_path, std::ios::binary) << json)) {
      return Fail(3, "cannot write " + f.export_path);
    }
  }
  const auto& r = *report;
  if (f.verbose) PrintVerbose(r);
  std::cout << (r.ok ? (f.structure_only ? std::string("OK (") + kStructureOnly + "): " : std::string("OK: ")) : "FAILED: ")
            << r.leaves << " leaves (" << r.leaf_signatures_checked << " signatures checked), " << r.checkpoints.size()
            << " checkpoints, " << r.anchors_verified << " anchors verified, anchored up to " << r.anchored_size << ", "
            << r.errors << " error(s), " << r.warnings << " warning(s)\n";
  if (r.ok && trust.anchor_ca.empty() && r.anchors_verified > 0) std::cout << kNoAnchorCa << "\n";
  PrintLogCertificates(certs, !trust.tsa_ca.empty());
  if (!r.ok) return Fail(1, FirstFailure(r));
  return RequireLogWitnessed(f, log);
}

int Run(int argc, char** argv) {
  Flags f;
  CLI::App app{"Verify a tsad audit log or one token's proof offline, or monitor a live log over HTTP (--url)"};
  tsa::tool::Describe(app, kTool);
  app.footer(
      "Exit codes: 0 verified; 1 verification failed (tampering or damage); 2 usage; 3 an input cannot be read "
      "(with --url also the log, or the state file); 4 (--url) the log is inconsistent with the state file (a fork, "
      "rewrite or rollback); 5 (--url) the checkpoint is not signed by --vkey; 6 (--witness-vkey) the checkpoint relied "
      "on is not cosigned by --witness-quorum of those witnesses, or one of their cosignatures does not verify.");
  DefineFlags(app, f);
  if (auto code = tsa::tool::ParseCommandLine(app, argc, argv, [&f] { Validate(f); })) return *code;
  auto vkey = tsa::tool::ResolveVkey(f.vkey);  // every mode takes the key string or @FILE
  if (!vkey) return Fail(3, "--vkey: " + vkey.error().message);
  f.vkey = *vkey;
  auto witnesses = tsa::tool::LoadWitnessPolicy(f.witness_vkeys, f.witness_quorum);
  if (!witnesses) return Fail(3, "--witness-vkey: " + witnesses.error().message);
  f.witnesses = std::move(*witnesses);
  if (!f.tlog_proof_path.empty()) return VerifyTlogProofFile(f);
  auto trust = LoadTrust(f);
  if (!trust) return Fail(3, trust.error().message);
  if (!f.url.empty()) {
    tsa::tool::MonitorFlags m{f.url,          f.vkey,    f.state,     trust->tsa_certs, trust->tsa_ca,
                              f.skip_history, f.verbose, f.timeout_s, f.witnesses};
    return tsa::tool::RunMonitor(m, ::isatty(STDERR_FILENO) ? tsa::verify::ProgressFn(Bar) : nullptr);
  }
  return f.proof_path.empty() ? VerifyDatabase(f, *trust) : VerifyProof(f, *trust);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    return Fail(1, e.what());
  }
}
