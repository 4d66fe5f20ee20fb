#include "tsa-audit-verify/monitor.h"

#include "tsa-audit-verify/witnesses.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common/tool_cli.h"
#include "tsa/audit/proof_bundle.h"
#include "tsa/core/response_info.h"
#include "tsa/http/client.h"
#include "tsa/verify/chain_verifier.h"
#include "tsa/verify/log_monitor.h"

namespace tsa::tool {
namespace {

constexpr char kTool[] = "tsa-audit-verify";

// GET <prefix>/<path>, capped at what a resource of that kind can be (tlog-tiles sizes).
verify::LogFetcher HttpFetcher(const MonitorFlags& f) {
  std::string prefix = f.url;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return [prefix, timeout = f.timeout_s](const std::string& path) -> Result<std::vector<std::uint8_t>> {
    http::ClientOptions options;
    options.timeout_s = timeout;
    options.max_reply_bytes = path.rfind("tile/entries/", 0) == 0 ? verify::kMaxEntryBundleBytes
                              : path.rfind("tile/", 0) == 0       ? verify::kMaxTileBytes
                                                                  : http::kDefaultMaxReplyBytes;
    const std::string url = prefix + "/" + path;
    TSA_ASSIGN_OR_RETURN(http::HttpReply reply, http::Get(url, options));
    if (reply.status == 404) return MakeError(ErrorKind::kNotFound, "GET " + url + ": HTTP 404");
    if (reply.status != 200) return MakeError(ErrorKind::kUnavailable, "GET " + url + ": HTTP " + std::to_string(reply.status));
    return std::move(reply.body);
  };
}

// Each new entry is a granted TimeStampToken; with tsad's trust roots, its signature verifies.
std::function<Status(std::uint64_t, const std::vector<std::uint8_t>&)> EntryCheck(const MonitorFlags& f) {
  if (f.tsa_certs_pem.empty() && f.tsa_ca_pem.empty()) {
    return [](std::uint64_t, const std::vector<std::uint8_t>& der) -> Status {
      TSA_TRY(audit::GrantedTokenOf(der));
      return Ok();
    };
  }
  return [&f](std::uint64_t, const std::vector<std::uint8_t>& der) -> Status {
    auto verified = verify::chain_detail::VerifyTsadToken(der, f.tsa_certs_pem, f.tsa_ca_pem);
    if (!verified) return MakeError(ErrorKind::kCrypto, "the token's signature: " + verified.error().message);
    return Ok();
  };
}

// Replaces the state file in one step (write a temporary file beside it, fsync, rename, fsync the
// directory): a crash leaves the old checkpoint or the new one, never half of one.
Status WriteState(const std::string& path, const std::string& note) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError(ErrorKind::kIo, "cannot write " + tmp + ": " + tsa::ErrnoText(errno));
  const bool written = ::write(fd, note.data(), note.size()) == static_cast<ssize_t>(note.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  std::error_code ec;
  if (!written) {
    std::filesystem::remove(tmp, ec);
    return MakeError(ErrorKind::kIo, "cannot write " + tmp + ": " + tsa::ErrnoText(saved));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return MakeError(ErrorKind::kIo, "cannot replace " + path + ": " + ec.message());
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

// The previous checkpoint, or "" when there is no state yet (first run).
Result<std::string> ReadState(const std::string& path) {
  if (path.empty()) return std::string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return std::string();
  TSA_ASSIGN_OR_RETURN(std::string text, core::ReadFileText(path));
  if (text.empty()) return MakeError(ErrorKind::kInvalidArgument, "state file " + path + " is empty (remove it to start over)");
  return text;
}

int ExitCodeOf(verify::MonitorStatus s) {
  switch (s) {
    case verify::MonitorStatus::kOk: return kExitOk;
    case verify::MonitorStatus::kTampered: return kExitFailed;
    case verify::MonitorStatus::kUnavailable:
    case verify::MonitorStatus::kBadState: return kExitUnreadable;
    case verify::MonitorStatus::kInconsistent: return kExitInconsistent;
    case verify::MonitorStatus::kBadCheckpoint: return kExitBadCheckpoint;
  }
  return kExitFailed;
}

std::string Summary(const MonitorFlags& f, const verify::MonitorReport& r) {
  const std::uint64_t size = r.checkpoint.tree_size;
  std::string line = "OK: " + r.checkpoint.origin + " size " + std::to_string(size) + " root " +
                     core::Base64(std::vector<std::uint8_t>(r.checkpoint.root.begin(), r.checkpoint.root.end())) + ": signature";
  if (r.previous) {
    line += r.previous->tree_size == size ? ", unchanged since the state"
                                          : ", consistent with the state's size " + std::to_string(r.previous->tree_size) +
                                                " (RFC 9162 proof from the tiles)";
  }
  if (r.history_skipped) line += ", tiles rebuild the root (history before it not checked: --skip-history)";
  if (r.entries_checked > 0) {
    line += ", entries " + std::to_string(r.first_entry) + ".." + std::to_string(size - 1) + " (" +
            std::to_string(r.entries_checked) + ") hash to the tiles and root, tokens " +
            (f.tsa_certs_pem.empty() && f.tsa_ca_pem.empty() ? "parsed (no --tsa-cert/--tsa-ca: signatures not checked)"
                                                             : "signed by tsad");
  }
  return line + "; " + std::to_string(r.tiles_fetched) + " tiles, " + std::to_string(r.bundles_fetched) + " bundles fetched";
}

}  // namespace

int RunMonitor(const MonitorFlags& f, const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  auto key = verify::ParseVerifierKey(f.vkey);
  if (!key) return Fail(kTool, kExitUnreadable, "--vkey: " + key.error().message);
  auto previous = ReadState(f.state);
  if (!previous) return Fail(kTool, kExitUnreadable, previous.error().message);
  verify::MonitorOptions options;
  options.key = *key;
  options.previous_note = *previous;
  options.skip_history = f.skip_history;
  options.check_entry = EntryCheck(f);
  options.progress = progress;
  const verify::MonitorReport report = verify::MonitorLog(HttpFetcher(f), options);
  if (!report.ok()) {
    const std::string where = report.status == verify::MonitorStatus::kBadState ? "state file " + f.state + ": " : "";
    return Fail(kTool, ExitCodeOf(report.status),
                "log " + std::string(verify::MonitorStatusName(report.status)) + ": " + where + report.error);
  }
  // A checkpoint the witnesses did not cosign may be a split view: it does not become the state.
  verify::QuorumReport cosigned;
  const std::string what = "checkpoint size " + std::to_string(report.checkpoint.tree_size);
  if (auto code = RequireWitnessed(f.witnesses, report.note, what, cosigned)) return *code;
  if (!f.state.empty()) {
    if (Status st = WriteState(f.state, report.note); !st) return Fail(kTool, kExitUnreadable, st.error().message);
  }
  std::cout << Summary(f, report) << CosignedSummary(f.witnesses, cosigned)
            << (f.state.empty() ? "" : "; state saved to " + f.state) << "\n";
  return kExitOk;
}

}  // namespace tsa::tool
