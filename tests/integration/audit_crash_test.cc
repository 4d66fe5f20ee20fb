// Crash durability of the audit log (AUDIT_CHAIN.md: a token reaches a client only once it is
// committed): four clients load a real tsad, which is SIGKILLed in the middle; a restart on the
// same database issues more. Every token any client received must be in the log, byte for byte,
// serials never repeat, the restart claims a new serial epoch, the leaves are contiguous and hash
// correctly, and tsa-audit-verify accepts the database. Once in each layout: tiles (the default of
// a new log) and sqlite.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "audit_helpers.h"

namespace tsa::test {
namespace {

using namespace audit_it;

// RFC 9162 §2.1.1 MTH over leaf hashes.
audit::Hash MerkleRoot(const std::vector<audit::Hash>& leaves, std::size_t begin, std::size_t end) {
  const std::size_t n = end - begin;
  if (n == 0) return audit::Sha256(std::string());
  if (n == 1) return leaves[begin];
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  const audit::Hash l = MerkleRoot(leaves, begin, begin + k);
  const audit::Hash r = MerkleRoot(leaves, begin + k, end);
  std::vector<std::uint8_t> buf;
  buf.push_back(0x01);
  buf.insert(buf.end(), l.begin(), l.end());
  buf.insert(buf.end(), r.begin(), r.end());
  return audit::Sha256(buf.data(), buf.size());
}

struct LoadResult {
  std::vector<Issued> granted;
  std::vector<std::string> unexpected;  // transport failures before the kill
  std::vector<std::string> rejected;    // TSA rejections (no token) before the kill
  int failures_after_kill = 0;
};

// The tsad log lines of requests that were not granted.
std::string NotGrantedLines(const std::string& log) {
  std::string out;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t eol = log.find('\n', pos);
    if (eol == std::string::npos) eol = log.size();
    const std::string line = log.substr(pos, eol - pos);
    if (line.find(" request ") != std::string::npos && line.find("outcome=granted") == std::string::npos) out += line + "\n";
    pos = eol + 1;
  }
  return out;
}

class AuditCrashTest : public ::testing::TestWithParam<std::string> {};  // the --log-layout

TEST_P(AuditCrashTest, EveryReceivedTokenSurvivesSigkillAndRestart) {
  TempDir dir("tsa-crash-it");
  Pki pki;
  ASSERT_TRUE(MakePki(dir.Sub("pki"), &pki));
  const std::string db = dir.Sub("audit.db");
  // audit log on, fsync per commit (defaults)
  const std::vector<std::string> args = {"--no-anchor", "--io-threads", "2", "--log-layout", GetParam()};

  // ---- run 1: load from 4 threads, SIGKILL in the middle.
  LoadResult load;
  {
    auto tsad = MakeTsad(pki, args, db);
    ASSERT_TRUE(tsad->Start());
    const int port = tsad->port();
    std::atomic<bool> killed{false};
    std::atomic<int> granted{0};
    std::mutex mu;
    const auto deadline = Clock::now() + 4s;  // hard bound of the load
    constexpr int kMaxRequests = 2000;
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&] {
        while (Clock::now() < deadline && granted.load() < kMaxRequests) {
          const bool after_kill = killed.load();
          std::string why;
          auto issued = IssueOne(port, &why, 3s);
          std::lock_guard lock(mu);
          if (issued) {
            granted.fetch_add(1);
            load.granted.push_back(std::move(*issued));
          } else if (after_kill || killed.load()) {
            load.failures_after_kill += 1;
            return;  // the server is gone
          } else if (why.rfind("not granted", 0) == 0) {
            load.rejected.push_back(why);  // an answer, but a rejection: go on
          } else {
            load.unexpected.push_back(why);
            return;
          }
        }
      });
    }
    // Kill in the middle: after ~1 s or 1000 grants, whichever comes first.
    WaitUntil([&] { return granted.load() >= kMaxRequests / 2; }, 1000ms, 5ms);
    const int granted_before_kill = granted.load();
    killed.store(true);
    const int status = tsad->Kill();
    for (auto& c : clients) c.join();
    EXPECT_EQ(status, 128 + SIGKILL);
    ASSERT_TRUE(load.unexpected.empty()) << load.unexpected.size()
                                         << " requests failed before the kill, first: " << load.unexpected[0];
    // Not a durability matter, but no request may be refused under concurrent load (--allow-unsynced-clock).
    EXPECT_TRUE(load.rejected.empty()) << load.rejected.size() << " of the concurrent requests were rejected, first: \""
                                       << load.rejected[0] << "\". tsad log of the requests not granted:\n"
                                       << NotGrantedLines(tsad->log());
    ASSERT_GE(granted_before_kill, 20) << "too little load before the kill. Log:\n" << tsad->log();
    std::cout << "[ info ] run 1: " << load.granted.size() << " tokens received, " << granted_before_kill << " before SIGKILL, "
              << load.failures_after_kill << " requests cut off\n";
  }

  // ---- run 2: restart on the same database, 50 more.
  std::vector<Issued> second;
  std::string head_root;
  std::uint64_t head_size = 0;
  {
    auto tsad = MakeTsad(pki, args, db);
    ASSERT_TRUE(tsad->Start()) << "tsad does not restart on the database it was killed on";
    ASSERT_TRUE(IssueMany(tsad->port(), 50, &second));
    const nlohmann::json cp = Checkpoint(tsad->port());
    ASSERT_TRUE(cp.is_object() && cp.contains("head")) << cp.dump();
    head_root = cp["head"]["root"].get<std::string>();
    head_size = cp["head"]["tree_size"].get<std::uint64_t>();
    EXPECT_EQ(tsad->Stop(), 0) << tsad->log();
  }

  // ---- the log.
  auto rows = ReadTokens(db);
  ASSERT_TRUE(rows) << rows.error().message;
  std::map<std::string, const TokenRow*> by_serial;
  std::vector<audit::Hash> leaves;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const TokenRow& r = (*rows)[i];
    ASSERT_EQ(r.idx, static_cast<std::int64_t>(i)) << "leaf indexes are not contiguous from 0";
    EXPECT_TRUE(by_serial.emplace(NormSerial(r.serial), &r).second) << "serial " << r.serial << " appears twice in the log";
    ASSERT_FALSE(r.token.empty()) << "leaf " << i << " has no token";
    const audit::Hash leaf = audit::LeafHash(r.token);
    EXPECT_EQ(std::vector<std::uint8_t>(leaf.begin(), leaf.end()), r.leaf_hash)
        << "leaf " << i << ": leaf_hash != SHA-256(0x00 || token)";
    EXPECT_EQ(r.tiles, GetParam() == "tiles") << "the log is not in the layout asked for";
    if (!r.tiles) {  // the tiles layout keeps no token_sha256 column
      const audit::Hash sha = audit::Sha256(r.token.data(), r.token.size());
      EXPECT_EQ(std::vector<std::uint8_t>(sha.begin(), sha.end()), r.token_sha256) << "leaf " << i;
    }
    leaves.push_back(leaf);
  }
  EXPECT_EQ(head_size, rows->size()) << "the head tsad reported differs from the rows in the table";
  EXPECT_EQ(audit::HashHex(MerkleRoot(leaves, 0, leaves.size())), head_root)
      << "the head root is not the RFC 9162 root of the stored leaves";

  // Every token a client received is in the log, byte for byte; no serial was handed out twice.
  std::set<std::string> received;
  int missing = 0, differing = 0;
  for (const auto* batch : {&load.granted, &second}) {
    for (const Issued& t : *batch) {
      EXPECT_TRUE(received.insert(t.serial).second) << "serial " << t.serial << " was received twice";
      auto it = by_serial.find(t.serial);
      if (it == by_serial.end()) {
        if (++missing <= 5) ADD_FAILURE() << "received token " << t.serial << " is not in the log";
      } else if (it->second->token != t.token) {
        if (++differing <= 5) ADD_FAILURE() << "the log holds other bytes for token " << t.serial;
      }
    }
  }
  EXPECT_EQ(missing, 0) << "tokens received but lost by the SIGKILL";
  EXPECT_EQ(differing, 0);
  EXPECT_GE(rows->size(), received.size());

  // The restart claimed a new serial epoch, and the second run's serials are new.
  auto epochs = QueryInt(db, "SELECT COUNT(DISTINCT epoch_us) FROM serial_epochs");
  ASSERT_TRUE(epochs) << epochs.error().message;
  EXPECT_GE(*epochs, 2) << "each start must claim its own serial epoch";
  std::set<std::string> first_serials;
  for (const auto& t : load.granted) first_serials.insert(t.serial);
  for (const auto& t : second)
    EXPECT_EQ(first_serials.count(t.serial), 0u) << "serial " << t.serial << " reused after the restart";

  // The independent verifier agrees.
  if (ToolExists("tsa-audit-verify")) {
    auto r = RunCommand({ToolPath("tsa-audit-verify"), db, "--tsa-cert", pki.tsa_cert()}, 60s);
    EXPECT_EQ(r.exit_code, 0) << "tsa-audit-verify refuses the log after SIGKILL + restart:\n" << r.output;
  } else {
    std::cout << "[ info ] " << ToolPath("tsa-audit-verify") << " not built: checked the leaf hashes and root here only\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, AuditCrashTest, ::testing::Values("tiles", "sqlite"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) { return param_info.param; });

}  // namespace
}  // namespace tsa::test
