// Shared helpers of the audit-chain integration tests (audit_*_test.cc): issuing tokens to a real
// tsad, polling its /audit and /health endpoints with a bound, reading the audit database
// read-only, and running the project's tools (tsa-verify, tsa-audit-verify, tsa-audit).
// Header-only: the integration tree compiles only *_test.cc files.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/der_builder.h"
#include "support/http_helpers.h"
#include "support/test_pki.h"
#include "support/tsad_process.h"
#include "tsa/audit/merkle.h"
#include "tsa/audit/proof_bundle.h"
#include "tsa/audit/tile_recovery.h"
#include "tsa/core/bytes.h"
#include "tsa/core/result.h"
#include "tsa/crypto/response_inspector.h"
#include "tsa/store/database.h"

namespace tsa::test::audit_it {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- small utilities --------------------------------------------------------------------------

inline bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

inline bool WriteFile(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}
inline bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

inline std::string ToolPath(const std::string& name) { return std::string(TSA_BIN_DIR) + "/" + name; }
inline bool ToolExists(const std::string& name) { return ::access(ToolPath(name).c_str(), X_OK) == 0; }

inline std::vector<std::uint8_t> B64(const std::string& text) {
  auto bytes = core::Base64Decode(text);
  return bytes ? *bytes : std::vector<std::uint8_t>{};
}

// Serial numbers compare by value: lower case, leading zeros dropped.
inline std::string NormSerial(std::string hex) {
  for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto first = hex.find_first_not_of('0');
  return first == std::string::npos ? "0" : hex.substr(first);
}

// ---- tsad ---------------------------------------------------------------------------------------

// A test PKI (CA + TSA certificate) in its own directory.
struct Pki {
  std::string dir;
  std::string ca_cert() const { return dir + "/ca_cert.pem"; }
  std::string tsa_cert() const { return dir + "/tsa_cert.pem"; }
};

inline ::testing::AssertionResult MakePki(const std::string& dir, Pki* out) {
  auto pki = CreateTestPki(dir);
  if (!pki) return ::testing::AssertionFailure() << "cannot create the test PKI in " << dir << ": " << pki.error().ToString();
  out->dir = pki->dir;
  return ::testing::AssertionSuccess();
}

inline std::unique_ptr<TsadProcess> MakeTsad(const Pki& pki, std::vector<std::string> args, const std::string& db_path = "") {
  TsadOptions options;
  options.cert_dir = pki.dir;
  options.db_path = db_path;
  // The harness adds --no-anchor unless told otherwise; tests that anchor name their (local) TSAs.
  options.hermetic = std::find(args.begin(), args.end(), "--anchor-tsa") == args.end();
  options.extra_args = std::move(args);
  return std::make_unique<TsadProcess>(options);
}

// An external TSA: a tsad without anchoring of its own.
inline std::unique_ptr<TsadProcess> StartExternal(const Pki& pki, ::testing::AssertionResult* started) {
  auto tsad = MakeTsad(pki, {"--no-anchor"});
  *started = tsad->Start();
  return tsad;
}

struct Issued {
  std::string serial;               // normalised hex
  std::vector<std::uint8_t> reply;  // the TimeStampResp as received
  std::vector<std::uint8_t> token;  // the TimeStampToken (ContentInfo)
  std::int64_t gen_time_us = 0;
};

// One default request (SHA-256, random digest, nonce, certReq). nullopt unless granted; `why`
// says what went wrong.
inline std::optional<Issued> IssueOne(int port, std::string* why = nullptr,
                                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
  const RequestBuilder req = RequestBuilder::Default();
  HttpResponse r = HttpRequest(port, "POST", "/tsa", {{"Content-Type", "application/timestamp-query"}}, req.Encode(), timeout);
  if (r.status != 200) {
    if (why) *why = r.Summary();
    return std::nullopt;
  }
  auto info = crypto::DescribeResponse(r.body);
  if (!info || !info->granted()) {
    if (why)
      *why = info ? "not granted: status " + std::to_string(info->status) + " " + info->status_string : info.error().message;
    return std::nullopt;
  }
  Issued out;
  out.serial = NormSerial(info->token->serial_hex);
  out.reply = r.body;
  out.token = info->token->token_der;
  out.gen_time_us = info->token->gen_time_us;
  return out;
}

inline ::testing::AssertionResult IssueMany(int port, int n, std::vector<Issued>* out) {
  for (int i = 0; i < n; ++i) {
    std::string why;
    auto issued = IssueOne(port, &why);
    if (!issued) return ::testing::AssertionFailure() << "request " << i << " not granted: " << why;
    if (out) out->push_back(std::move(*issued));
  }
  return ::testing::AssertionSuccess();
}

inline nlohmann::json GetJson(int port, const std::string& target, int* status = nullptr) {
  HttpResponse r = HttpGet(port, target);
  if (status) *status = r.status;
  if (r.status == 0) return nullptr;
  auto j = nlohmann::json::parse(r.body_text(), nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

inline int HealthStatus(int port, nlohmann::json* body = nullptr) {
  int status = 0;
  nlohmann::json j = GetJson(port, "/health", &status);
  if (body) *body = j;
  return status;
}

// A token request that must be refused with systemFailure (PKIStatus rejection, failInfo bit 25).
inline ::testing::AssertionResult RefusedWithSystemFailure(int port) {
  const RequestBuilder req = RequestBuilder::Default();
  HttpResponse r = HttpRequest(port, "POST", "/tsa", {{"Content-Type", "application/timestamp-query"}}, req.Encode(),
                               std::chrono::milliseconds(20000));
  if (r.status != 200) return ::testing::AssertionFailure() << "HTTP " << r.Summary();
  auto info = crypto::DescribeResponse(r.body);
  if (!info) return ::testing::AssertionFailure() << info.error().message;
  if (info->granted()) return ::testing::AssertionFailure() << "granted serial " << info->token->serial_hex;
  if (info->status_string.find("System failure") == std::string::npos)
    return ::testing::AssertionFailure() << "refused, but not as systemFailure: " << info->status_string;
  return ::testing::AssertionSuccess();
}

// GET /audit/checkpoint: {"head": {...}, "checkpoint": {... "anchors": [...]} | null}
inline nlohmann::json Checkpoint(int port) { return GetJson(port, "/audit/checkpoint"); }

inline std::uint64_t CheckpointSize(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("checkpoint") || !j["checkpoint"].is_object()) return 0;
  return j["checkpoint"].value("tree_size", std::uint64_t{0});
}
inline std::size_t CheckpointAnchors(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("checkpoint") || !j["checkpoint"].is_object() || !j["checkpoint"].contains("anchors"))
    return 0;
  return j["checkpoint"]["anchors"].size();
}

// Polls /audit/checkpoint until the latest checkpoint covers `size` leaves and has at least
// `anchors` ok anchors. Returns the last document seen.
inline nlohmann::json WaitForAnchoredCheckpoint(int port, std::uint64_t size, std::size_t anchors,
                                                std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
  nlohmann::json last;
  WaitUntil(
      [&] {
        last = Checkpoint(port);
        return CheckpointSize(last) >= size && CheckpointAnchors(last) >= anchors;
      },
      timeout, std::chrono::milliseconds(100));
  return last;
}

inline nlohmann::json AnchorHealth(int port) {
  nlohmann::json h = GetJson(port, "/health");
  if (h.is_object() && h.contains("checks") && h["checks"].is_object() && h["checks"].contains("anchor"))
    return h["checks"]["anchor"];
  return nullptr;
}

// ---- the audit database ---------------------------------------------------------------------

inline Result<std::unique_ptr<store::Database>> OpenDb(const std::string& path, bool read_only = true) {
  store::OpenOptions options;
  options.read_only = read_only;
  options.create = false;
  return store::Database::Open(path, options);
}

struct AttemptRow {
  std::int64_t id = 0;
  std::int64_t checkpoint_id = 0;
  std::string url;
  bool ok = false;
  std::string error;
  bool has_reply = false;
  std::vector<std::uint8_t> reply;
  std::vector<std::uint8_t> nonce;
};

inline Result<std::vector<AttemptRow>> ReadAttempts(const std::string& db_path) {
  TSA_ASSIGN_OR_RETURN(auto db, OpenDb(db_path));
  TSA_ASSIGN_OR_RETURN(auto st,
                       db->Prepare("SELECT id, checkpoint_id, tsa_url, ok, COALESCE(error, ''), reply IS NOT NULL, reply, nonce "
                                   "FROM anchor_attempts ORDER BY id"));
  std::vector<AttemptRow> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    AttemptRow a;
    a.id = st.ColumnInt(0);
    a.checkpoint_id = st.ColumnInt(1);
    a.url = st.ColumnText(2);
    a.ok = st.ColumnInt(3) != 0;
    a.error = st.ColumnText(4);
    a.has_reply = st.ColumnInt(5) != 0;
    if (a.has_reply) a.reply = st.ColumnBlob(6);
    if (!st.ColumnIsNull(7)) a.nonce = st.ColumnBlob(7);
    rows.push_back(std::move(a));
  }
  return rows;
}

inline std::string Describe(const std::vector<AttemptRow>& rows) {
  std::ostringstream out;
  for (const auto& a : rows) {
    out << "  attempt " << a.id << " checkpoint " << a.checkpoint_id << " " << a.url << " ok=" << a.ok << " error=\"" << a.error
        << "\"" << (a.has_reply ? " (reply stored)" : "") << "\n";
  }
  return out.str();
}

struct CheckpointRow {
  std::int64_t id = 0;
  std::uint64_t tree_size = 0;
  std::vector<std::uint8_t> root;
  std::string text;
  std::vector<std::uint8_t> token;
};

inline Result<std::vector<CheckpointRow>> ReadCheckpoints(const std::string& db_path) {
  TSA_ASSIGN_OR_RETURN(auto db, OpenDb(db_path));
  TSA_ASSIGN_OR_RETURN(auto st,
                       db->Prepare("SELECT id, tree_size, root_hash, checkpoint, tsa_token FROM checkpoints ORDER BY id"));
  std::vector<CheckpointRow> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    CheckpointRow c;
    c.id = st.ColumnInt(0);
    c.tree_size = static_cast<std::uint64_t>(st.ColumnInt(1));
    c.root = st.ColumnBlob(2);
    c.text = st.ColumnText(3);
    c.token = st.ColumnBlob(4);
    rows.push_back(std::move(c));
  }
  return rows;
}

struct TokenRow {
  std::int64_t idx = 0;
  std::string serial;  // as stored
  std::vector<std::uint8_t> token;
  std::vector<std::uint8_t> leaf_hash;     // the sqlite row's, or the tiles layout's level-0 hash tile's
  std::vector<std::uint8_t> token_sha256;  // the sqlite layout only (the tiles do not store it)
  bool tiles = false;                      // read from <db>.tiles/
};

// Every leaf of the log in either layout (the database's meta.log_layout), through the same
// store layer as tsa-audit-verify: rows of `tokens`, or the entry bundles with the serial index.
inline Result<std::vector<TokenRow>> ReadTokens(const std::string& db_path) {
  TSA_ASSIGN_OR_RETURN(auto db, OpenDb(db_path));
  TSA_ASSIGN_OR_RETURN(auto log, audit::OpenLogForReading(*db));
  TSA_ASSIGN_OR_RETURN(auto cursor, log->ScanTokens());
  std::vector<TokenRow> rows;
  while (true) {
    TSA_ASSIGN_OR_RETURN(auto row, cursor->Next());
    if (!row) break;
    TokenRow t;
    t.idx = row->index;
    t.serial = row->serial;
    if (row->token) t.token = *row->token;
    t.leaf_hash = row->leaf_hash;
    t.token_sha256 = row->token_sha256;
    t.tiles = row->tiles;
    rows.push_back(std::move(t));
  }
  return rows;
}

inline Result<std::int64_t> QueryInt(const std::string& db_path, const std::string& sql) {
  TSA_ASSIGN_OR_RETURN(auto db, OpenDb(db_path));
  TSA_ASSIGN_OR_RETURN(auto st, db->Prepare(sql));
  TSA_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return MakeError(ErrorKind::kNotFound, "no row for " + sql);
  return st.ColumnInt(0);
}

}  // namespace tsa::test::audit_it
