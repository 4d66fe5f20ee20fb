// tlog-tiles of a real tsad (AUDIT_CHAIN.md "Tiles"): entry bundles whose leaf hashes are the
// level-0 tile, tiles that rebuild the signed root, the level-1 tile, cache headers, and 404
// beyond the checkpoint.
#include <gtest/gtest.h>

#include "audit_helpers.h"
#include "tsa/audit/tile_path.h"
#include "tsa/crypto/ed25519_key.h"
#include "tsa/verify/note_verifier.h"

namespace tsa::test::audit_it {
namespace {

std::vector<audit::Hash> Hashes(const std::vector<std::uint8_t>& tile) {
  std::vector<audit::Hash> out(tile.size() / 32);
  for (std::size_t i = 0; i < out.size(); ++i) std::copy_n(tile.begin() + i * 32, 32, out[i].begin());
  return out;
}

std::vector<std::vector<std::uint8_t>> Entries(const std::vector<std::uint8_t>& bundle) {
  std::vector<std::vector<std::uint8_t>> out;
  for (std::size_t at = 0; at + 2 <= bundle.size();) {
    const std::size_t len = (std::size_t{bundle[at]} << 8) | bundle[at + 1];
    out.emplace_back(bundle.begin() + at + 2, bundle.begin() + at + 2 + len);
    at += 2 + len;
  }
  return out;
}

TEST(LogTilesTest, TilesAndEntryBundlesRebuildTheSignedRoot) {
  TempDir dir;
  Pki pki;
  ASSERT_TRUE(MakePki(dir.Sub("pki"), &pki));
  auto key = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(key && WriteText(pki.dir + "/log_key.pem", *key->PrivatePem()));
  auto tsad = MakeTsad(pki, {"--log-origin", "tiles.test/log"});
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  std::vector<Issued> issued;
  ASSERT_TRUE(IssueMany(port, 260, &issued));
  std::string vkey_line = HttpGet(port, "/log/vkey").body_text();
  if (!vkey_line.empty()) vkey_line.pop_back();  // the final newline
  auto vkey = verify::ParseVerifierKey(vkey_line);
  ASSERT_TRUE(vkey);
  std::optional<verify::CheckpointBody> cp;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto body = verify::OpenNote(HttpGet(port, "/log/checkpoint").body_text(), *vkey);
        if (body) cp = *verify::ParseCheckpointBody(*body);
        return cp && cp->tree_size == 260;
      },
      5s, 50ms));

  HttpResponse full = HttpGet(port, "/log/tile/0/000");
  ASSERT_EQ(full.status, 200) << full.Summary();
  EXPECT_EQ(full.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(full.header("Cache-Control"), "public, max-age=31536000, immutable");
  HttpResponse part = HttpGet(port, "/log/tile/0/001.p/4");
  ASSERT_EQ(part.status, 200) << part.Summary();
  EXPECT_EQ(part.header("Cache-Control"), "no-store");
  HttpResponse bundle = HttpGet(port, "/log/tile/entries/000");
  ASSERT_EQ(bundle.status, 200) << bundle.Summary();
  HttpResponse bundle_part = HttpGet(port, "/log/tile/entries/001.p/4");
  ASSERT_EQ(bundle_part.status, 200) << bundle_part.Summary();

  std::vector<audit::Hash> leaves = Hashes(full.body);
  for (const auto& h : Hashes(part.body)) leaves.push_back(h);
  auto entries = Entries(bundle.body);
  for (auto& e : Entries(bundle_part.body)) entries.push_back(std::move(e));
  ASSERT_EQ(leaves.size(), 260u);
  ASSERT_EQ(entries.size(), 260u);
  audit::MerkleFrontier tree;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    ASSERT_EQ(audit::LeafHash(entries[i]), leaves[i]) << "entry " << i;
    EXPECT_EQ(entries[i], issued[i].token) << "entry " << i << " is the token sent to the client";
    tree.Append(leaves[i]);
  }
  EXPECT_EQ(tree.Root(), cp->root);

  // Level 1 (tree level 8): one node so far, the root of the first 256 leaves.
  HttpResponse level1 = HttpGet(port, "/log/tile/1/000.p/1");
  ASSERT_EQ(level1.status, 200) << level1.Summary();
  audit::MerkleFrontier first;
  for (std::size_t i = 0; i < 256; ++i) first.Append(leaves[i]);
  EXPECT_EQ(Hashes(level1.body).at(0), first.Root());

  for (const char* beyond : {"/log/tile/0/001", "/log/tile/0/001.p/5", "/log/tile/1/000", "/log/tile/entries/002",
                             "/log/tile/0/0001", "/log/tile/9/000"}) {
    EXPECT_EQ(HttpGet(port, beyond).status, 404) << beyond;
  }
}

// Go's sumdb/note and sumdb/tlog (tests/go/tlogcheck) verify the checkpoint, every tile against
// the root, every entry against the level-0 tiles, inclusion proofs and, on a second run,
// consistency with the first checkpoint; one flipped byte in a tile, an entry bundle or the
// checkpoint makes them fail.
TEST(LogTilesTest, GoSumdbTlogVerifiesTheLogAndCatchesTampering) {
  if (::access(TSA_TLOGCHECK, X_OK) != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "go is required under CI=true (scripts/install-deps --test)";
    GTEST_SKIP() << "go not installed: " << TSA_TLOGCHECK << " was not built";
  }
  TempDir dir;
  Pki pki;
  ASSERT_TRUE(MakePki(dir.Sub("pki"), &pki));
  auto key = crypto::Ed25519Key::Generate();
  ASSERT_TRUE(key && WriteText(pki.dir + "/log_key.pem", *key->PrivatePem()));
  auto tsad = MakeTsad(pki, {"--log-origin", "go.test/log"});
  ASSERT_TRUE(tsad->Start());
  const int port = tsad->port();
  std::string vkey = HttpGet(port, "/log/vkey").body_text();
  ASSERT_FALSE(vkey.empty());
  vkey.pop_back();
  const std::string url = tsad->base_url() + "/log";
  auto wait_size = [&](std::uint64_t n) {
    return WaitUntil(
        [&] { return HttpGet(port, "/log/checkpoint").body_text().find("\n" + std::to_string(n) + "\n") != std::string::npos; },
        5s, 50ms);
  };
  ASSERT_TRUE(IssueMany(port, 258, nullptr));
  ASSERT_TRUE(wait_size(258));
  auto check = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {TSA_TLOGCHECK, "-url", url, "-vkey", vkey};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv);
  };
  auto first = check({"-state", dir.Sub("state")});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  ASSERT_TRUE(IssueMany(port, 7, nullptr));
  ASSERT_TRUE(wait_size(265));
  auto second = check({"-state", dir.Sub("state")});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("consistent with the checkpoint of size 258"), std::string::npos) << second.output;
  for (const char* what : {"tile", "entry", "checkpoint"}) {
    auto tampered = check({"-flip", what});
    EXPECT_EQ(tampered.exit_code, 1) << what << ": " << tampered.output;
  }
  std::string other = vkey;  // another key: the checkpoint's signature is not by it
  other.back() = other.back() == 'A' ? 'B' : 'A';
  EXPECT_NE(RunCommand({TSA_TLOGCHECK, "-url", url, "-vkey", other}).exit_code, 0);
  auto clean = check({});  // the flips above changed only what the checker fetched
  EXPECT_EQ(clean.exit_code, 0) << clean.output;
}

}  // namespace
}  // namespace tsa::test::audit_it
