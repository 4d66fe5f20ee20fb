// The tlog-tiles monitor (verify::MonitorLog) against an in-memory log that serves tiles, entry
// bundles and signed checkpoints as c2sp.org/tlog-tiles describes them: first run, growth with a
// consistency proof, rollback, fork, damaged tiles and entries, partial tiles that are gone, and
// what each failure is called.
#include "tsa/verify/log_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tsa/audit/signed_note.h"
#include "tsa/audit/tile_path.h"

namespace tsa::verify {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A log in memory: every perfect subtree hash kept, tiles cut from them on request.
class MemoryLog {
 public:
  MemoryLog(audit::NoteSigner signer, std::string tag) : signer_(std::move(signer)), tag_(std::move(tag)) {}

  void Add(std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::string text = tag_ + " entry " + std::to_string(tree_.size());
      Bytes entry(text.begin(), text.end());
      for (const auto& node : tree_.Append(audit::LeafHash(entry))) nodes_[{node.level, node.index}] = node.hash;
      entries_.push_back(std::move(entry));
    }
  }
  std::uint64_t size() const { return tree_.size(); }
  std::string vkey() const { return signer_.VerifierKey(); }
  std::string Checkpoint() const { return *signer_.Sign(audit::CheckpointBody(signer_.name(), size(), tree_.Root())); }

  // Serves this checkpoint instead of the latest (a monitor reading an older one).
  std::string pinned_checkpoint;
  // Damage: one byte of the body served for `path` flipped; paths that answer 404.
  std::string flip_path;
  std::set<std::string> gone;
  std::vector<std::string> fetched;

  LogFetcher Fetcher() {
    return [this](const std::string& path) -> Result<Bytes> {
      fetched.push_back(path);
      if (gone.count(path)) return MakeError(ErrorKind::kNotFound, "HTTP 404");
      auto body = Serve(path);
      if (body && path == flip_path && !body->empty()) (*body)[body->size() / 2] ^= 0x01;
      return body;
    };
  }

 private:
  Result<Bytes> Serve(const std::string& path) {
    if (path == "checkpoint") {
      const std::string note = pinned_checkpoint.empty() ? Checkpoint() : pinned_checkpoint;
      return Bytes(note.begin(), note.end());
    }
    auto tile = path.rfind("tile/", 0) == 0 ? audit::ParseTilePath(path.substr(5)) : std::nullopt;
    if (!tile) return MakeError(ErrorKind::kNotFound, "HTTP 404");
    Bytes out;
    for (std::uint64_t i = 0; i < tile->width; ++i) {
      const std::uint64_t at = tile->index * audit::kTileWidth + i;
      if (tile->entries) {
        if (at >= entries_.size()) return MakeError(ErrorKind::kNotFound, "HTTP 404");
        out.push_back(static_cast<std::uint8_t>(entries_[at].size() >> 8));
        out.push_back(static_cast<std::uint8_t>(entries_[at].size()));
        out.insert(out.end(), entries_[at].begin(), entries_[at].end());
        continue;
      }
      auto node = nodes_.find({tile->level * audit::kTileHeight, at});
      if (node == nodes_.end()) return MakeError(ErrorKind::kNotFound, "HTTP 404");
      out.insert(out.end(), node->second.begin(), node->second.end());
    }
    return out;
  }

  audit::NoteSigner signer_;
  std::string tag_;
  audit::MerkleFrontier tree_;
  std::map<std::pair<int, std::uint64_t>, audit::Hash> nodes_;
  std::vector<Bytes> entries_;
};

audit::NoteSigner Signer(const std::string& origin) { return *audit::NoteSigner::Make(origin, *crypto::Ed25519Key::Generate()); }

MonitorOptions Options(const MemoryLog& log, const std::string& previous = "") {
  MonitorOptions o;
  o.key = *ParseVerifierKey(log.vkey());
  o.previous_note = previous;
  return o;
}

TEST(LogMonitorTest, FirstRunChecksEveryEntryAndEveryTileRow) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(70000);  // 273 full level-0 tiles, a partial one, full and partial level-1, partial level-2
  const MonitorReport r = MonitorLog(log.Fetcher(), Options(log));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.checkpoint.tree_size, 70000u);
  EXPECT_EQ(r.entries_checked, 70000u);
  EXPECT_EQ(r.bundles_fetched, 274u);
  EXPECT_EQ(r.tiles_fetched, 274u + 2u + 1u);  // every level-0 tile once, level 1 full + partial, 2/000.p/1
  EXPECT_FALSE(r.previous);
  EXPECT_EQ(r.note, log.Checkpoint());
}

TEST(LogMonitorTest, SecondRunProvesConsistencyAndChecksOnlyNewEntries) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(300);
  const MonitorReport first = MonitorLog(log.Fetcher(), Options(log));
  ASSERT_TRUE(first.ok()) << first.error;
  for (std::uint64_t more : {1u, 211u, 256u, 1000u}) {
    const std::uint64_t before = log.size();
    const std::string previous = log.Checkpoint();
    log.Add(more);
    log.fetched.clear();
    const MonitorReport r = MonitorLog(log.Fetcher(), Options(log, previous));
    ASSERT_TRUE(r.ok()) << "after +" << more << ": " << r.error;
    EXPECT_TRUE(r.consistency_proved);
    EXPECT_EQ(r.first_entry, before);
    EXPECT_EQ(r.entries_checked, more);
    for (const auto& path : log.fetched) {
      auto tile = path.rfind("tile/entries/", 0) == 0 ? audit::ParseTilePath(path.substr(5)) : std::nullopt;
      if (tile) {
        EXPECT_GT((tile->index + 1) * audit::kTileWidth, before) << path << " holds no new entry";
      }
    }
  }
}

TEST(LogMonitorTest, UnchangedLogNeedsNoTiles) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(5);
  const MonitorReport r = MonitorLog(log.Fetcher(), Options(log, log.Checkpoint()));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(log.fetched, std::vector<std::string>{"checkpoint"});
}

TEST(LogMonitorTest, ForkWithTheSameKeyIsInconsistent) {
  const audit::NoteSigner signer = Signer("mon.test/log");
  MemoryLog original(signer, "a"), rewritten(signer, "b");
  original.Add(600);
  rewritten.Add(900);  // other entries, same key and origin, larger
  const MonitorReport r = MonitorLog(rewritten.Fetcher(), Options(rewritten, original.Checkpoint()));
  EXPECT_EQ(r.status, MonitorStatus::kInconsistent) << r.error;
  EXPECT_NE(r.error.find("consistency proof fails"), std::string::npos) << r.error;

  MemoryLog same_size(signer, "c");
  same_size.Add(600);
  const MonitorReport fork = MonitorLog(same_size.Fetcher(), Options(same_size, original.Checkpoint()));
  EXPECT_EQ(fork.status, MonitorStatus::kInconsistent);
  EXPECT_NE(fork.error.find("two different roots signed for size 600"), std::string::npos) << fork.error;
}

TEST(LogMonitorTest, SmallerTreeThanTheStateIsInconsistent) {
  const audit::NoteSigner signer = Signer("mon.test/log");
  MemoryLog big(signer, "a"), small(signer, "a");
  big.Add(40);
  small.Add(39);  // the same entries, one dropped
  const MonitorReport r = MonitorLog(small.Fetcher(), Options(small, big.Checkpoint()));
  EXPECT_EQ(r.status, MonitorStatus::kInconsistent);
  EXPECT_NE(r.error.find("shrank from size 40 to 39"), std::string::npos) << r.error;
}

TEST(LogMonitorTest, DamagedTileOrEntryIsTamperedNeverInconsistent) {
  for (const char* path : {"tile/0/000", "tile/0/001.p/44", "tile/entries/000", "tile/entries/001.p/44", "tile/1/000.p/1"}) {
    MemoryLog log(Signer("mon.test/log"), "a");
    log.Add(200);
    const std::string previous = log.Checkpoint();
    log.Add(100);  // 300: tiles 0/000 full, 0/001.p/44
    log.flip_path = path;
    const MonitorReport first = MonitorLog(log.Fetcher(), Options(log));
    EXPECT_EQ(first.status, MonitorStatus::kTampered) << path << ": " << first.error;
    const MonitorReport next = MonitorLog(log.Fetcher(), Options(log, previous));
    EXPECT_EQ(next.status, MonitorStatus::kTampered) << path << ": " << next.error;
  }
}

TEST(LogMonitorTest, DamagedCheckpointOrOtherKeyIsABadCheckpoint) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(3);
  log.flip_path = "checkpoint";
  EXPECT_EQ(MonitorLog(log.Fetcher(), Options(log)).status, MonitorStatus::kBadCheckpoint);
  log.flip_path.clear();
  MemoryLog other(Signer("mon.test/log"), "a");  // same origin, another key
  EXPECT_EQ(MonitorLog(log.Fetcher(), Options(other)).status, MonitorStatus::kBadCheckpoint);
  MemoryLog renamed(Signer("other.test/log"), "a");
  renamed.Add(3);
  // A state file from another log.
  EXPECT_EQ(MonitorLog(log.Fetcher(), Options(log, renamed.Checkpoint())).status, MonitorStatus::kBadState);
}

TEST(LogMonitorTest, PartialTileThatIsGoneIsReadFromTheFullOne) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(200);
  const std::string at200 = log.Checkpoint();
  log.Add(100);  // tile 0/000 is now full: the log dropped 0/000.p/200 and entries/000.p/200
  log.gone = {"tile/0/000.p/200", "tile/entries/000.p/200"};
  log.pinned_checkpoint = at200;  // a cache still serves the checkpoint of size 200
  const MonitorReport r = MonitorLog(log.Fetcher(), Options(log));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.entries_checked, 200u);
  EXPECT_NE(std::find(log.fetched.begin(), log.fetched.end(), "tile/0/000"), log.fetched.end());
  EXPECT_NE(std::find(log.fetched.begin(), log.fetched.end(), "tile/entries/000"), log.fetched.end());
}

TEST(LogMonitorTest, UnreachableTileIsUnavailable) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(10);
  log.gone = {"tile/0/000.p/10"};
  const MonitorReport r = MonitorLog(log.Fetcher(), Options(log));
  EXPECT_EQ(r.status, MonitorStatus::kUnavailable) << r.error;
}

TEST(LogMonitorTest, SkipHistoryChecksOnlyTheRoot) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(70000);
  MonitorOptions o = Options(log);
  o.skip_history = true;
  const MonitorReport r = MonitorLog(log.Fetcher(), o);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.history_skipped);
  EXPECT_EQ(r.entries_checked, 0u);
  EXPECT_EQ(r.bundles_fetched, 0u);
  EXPECT_LE(r.tiles_fetched, 3u);
  log.flip_path = "tile/1/001.p/17";  // holds the frontier's level-12 and level-8 nodes
  EXPECT_EQ(MonitorLog(log.Fetcher(), o).status, MonitorStatus::kTampered);
}

TEST(LogMonitorTest, EntryCheckFailureNamesTheEntry) {
  MemoryLog log(Signer("mon.test/log"), "a");
  log.Add(20);
  MonitorOptions o = Options(log);
  o.check_entry = [](std::uint64_t index, const Bytes&) -> Status {
    if (index == 17) return MakeError(ErrorKind::kCrypto, "not a token");
    return Ok();
  };
  const MonitorReport r = MonitorLog(log.Fetcher(), o);
  EXPECT_EQ(r.status, MonitorStatus::kTampered);
  EXPECT_EQ(r.error, "entry 17: not a token");
}

}  // namespace
}  // namespace tsa::verify
