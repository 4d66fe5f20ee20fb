// The audit log's leaves and Merkle tiles as files (the "tiles" layout, AUDIT_CHAIN.md "On-disk
// layout"), in the C2SP tlog-tiles format and path encoding (c2sp.org/tlog-tiles) under one
// directory next to the database, "<db>.tiles/":
//   tile/entries/<N>  full entry bundles: 256 × (uint16 big-endian length ‖ TimeStampToken DER)
//   tile/<L>/<N>      full hash tiles: 256 × 32-byte hashes of tree level 8·L
//   entries.tail      the current, partial entry bundle (same format, fewer than 256 entries)
//   entries.next      empty: the next tail, created (and its name made durable) ahead of time
// The directory below tile/ holds only full, immutable tiles, so it can be served statically.
//
// Durability: the writer appends a batch's entries to entries.tail and fdatasyncs it once (the
// tokens are durable before any reply). When the tail reaches 256 entries it is renamed into
// tile/entries/ and entries.next becomes the tail (two renames); the rest of the batch goes there.
// Its name was durable before, so the directory fsyncs (bundle directory first, as a rename needs)
// and the next entries.next are left to the tile writer thread, off the tokens' path; a crash
// before they are done leaves entries.next with entries, and the next start finishes the
// rotation. Full hash tiles (once per 256 leaves) are derived
// data: they are published from memory with the new size and written (fdatasync, rename, fsync of
// the directory) by a thread of their own, off the tokens' path; the next ones wait until they are
// on disk. After a crash, a torn last entry of the tail is cut off, and the last hash tile of a
// level, missing or short, is rebuilt by the caller (audit/, which owns the hashing: store/
// computes no hashes).
//
// Thread safety: one writer (Append*/Commit/Rollback) and any number of readers. Full tiles are
// immutable files; the committed size, the tail's entry offsets and the partial hash tiles are
// guarded by a mutex and change only in Commit.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "tsa/core/result.h"

namespace tsa::store {

inline constexpr std::uint64_t kTileEntries = 256;  // tlog-tiles: tiles of height 8
inline constexpr std::size_t kTileHashSize = 32;

using TileHash = std::array<std::uint8_t, kTileHashSize>;

// "x001/x234/067" for 1234067 (c2sp.org/tlog-tiles: groups of three digits, all but the last
// prefixed with "x").
std::string TileIndexPath(std::uint64_t n);

// "<db>.tiles": where the tiles of the database `db_path` live.
std::string TileDirectoryFor(const std::string& db_path);

class TileFiles {
 public:
  // Opens the directory (creating it, with tile/, when `create`). Reads the tail: a torn last
  // entry (a crash in the middle of an append) is cut off when `writable`, ignored otherwise.
  // kNotFound when the directory does not exist and !create.
  static Result<std::unique_ptr<TileFiles>> Open(const std::string& dir, bool create, bool writable);
  ~TileFiles();
  TileFiles(const TileFiles&) = delete;
  TileFiles& operator=(const TileFiles&) = delete;

  const std::string& dir() const { return dir_; }
  // Leaves committed (full bundles × 256 + tail entries).
  std::uint64_t size() const;
  // Bytes cut off the tail at Open (a torn entry), for the start-up log line.
  std::uint64_t truncated_bytes() const { return truncated_bytes_; }

  // --- the writer ---
  // Buffers one entry (at most 65535 bytes: the tlog-tiles length is a uint16).
  Status AppendEntry(const std::vector<std::uint8_t>& entry);
  // Buffers a hash of tree level 8·tile_level (level 0: the leaf hashes, in entry order).
  void AppendTileHash(int tile_level, const TileHash& hash);
  // Writes the buffered entries to the tail and fdatasyncs it once; renames a full tail into
  // tile/entries/; hands full hash tiles to the tile writer thread (readable from memory at once).
  // The new size is visible to readers only after everything succeeded.
  Status Commit();
  // Waits until the full hash tiles handed to the tile writer thread are on disk (or it failed).
  Status FlushHashTiles();
  // Forgets the buffered entries and hashes, and cuts the tail back to its committed length.
  void Rollback();
  // Whether `bytes` more bytes could be written to this file system now (writes them to a scratch
  // file, fdatasyncs, removes it): the health probe while token commits fail.
  Status ProbeWrite(std::size_t bytes);
  // kStorage when the directory, tile/ or the tail was deleted or replaced under the process.
  Status CheckIdentity();

  // Used at start-up by the recovery (audit/): the partial hash tile of each level, as recomputed
  // from the tail and the full tiles below; and writes a full hash tile that was found missing.
  void SetPartialHashes(int tile_level, std::vector<TileHash> hashes);
  Status WriteHashTile(int tile_level, std::uint64_t n, const std::vector<std::uint8_t>& bytes);

  // --- readers ---
  // The full tile file (nullopt when absent), as stored: 256 entries or 8192 bytes when intact.
  Result<std::optional<std::vector<std::uint8_t>>> ReadFullBundle(std::uint64_t n) const;
  Result<std::optional<std::vector<std::uint8_t>>> ReadFullHashTile(int tile_level, std::uint64_t n) const;
  // The committed entries [first, first + count) of one bundle (full or the tail), each without
  // its length prefix; kNotFound past the end, kStorage when a bundle is damaged.
  Result<std::vector<std::vector<std::uint8_t>>> Entries(std::uint64_t first, std::uint64_t count) const;
  // The hash at position `index` of tree level 8·tile_level, from a full tile or the partial one
  // in memory; nullopt when not (yet) known.
  Result<std::optional<TileHash>> Hash(int tile_level, std::uint64_t index) const;
  // The hashes [first, first + count) of tree level 8·tile_level that are known, in order from
  // `first` (fewer when the range runs past them or a tile is missing or short).
  Result<std::vector<TileHash>> HashRange(int tile_level, std::uint64_t first, std::uint64_t count) const;
  // How many hashes of tree level 8·tile_level the partial tile holds in memory.
  std::size_t PartialHashCount(int tile_level) const;

 private:
  struct Cursor;  // where a commit's writes stand in the tail (tile_files.cc)
  TileFiles(std::string dir, bool writable);
  Status LoadTail();
  Status RotateTail(std::uint64_t bundle);
  Status SwitchTail(std::uint64_t bundle);
  Status AdoptInterruptedRotation(std::vector<std::uint8_t>& tail_bytes);
  Status PrepareNextTail();
  Result<int> CreateNextTail() const;
  void AdoptNextTail(int fd);
  static constexpr int kTailRereads = 50;
  Result<std::vector<std::vector<std::uint8_t>>> Entries(std::uint64_t first, std::uint64_t count, int attempt) const;
  // A full hash tile published (readable from memory) before it is on disk.
  struct FullTile {
    int level = 0;
    std::uint64_t n = 0;
    std::vector<std::uint8_t> bytes;
  };
  Status TakeFullHashTiles(std::vector<FullTile>& background);
  Status WritePending(Cursor& at);
  Status AbortCommit(Status failed, bool rotated, std::vector<std::vector<TileHash>> hashes);
  void PublishCommit(const Cursor& at, std::vector<FullTile> full_tiles);
  Status WaitForTileWriter();
  void RunTileWriter(std::stop_token stop);
  std::optional<std::vector<std::uint8_t>> UnwrittenTile(int tile_level, std::uint64_t n) const;
  std::string TilePath(int tile_level, std::uint64_t n) const;  // level -1: entries
  std::string TailPath() const { return dir_ + "/entries.tail"; }
  std::string NextPath() const { return dir_ + "/entries.next"; }

  const std::string dir_;
  const bool writable_;
  int tail_fd_ = -1;
  std::uint64_t truncated_bytes_ = 0;
  struct Identity {
    std::uint64_t dir_dev = 0, dir_ino = 0, tail_ino = 0;
  } identity_;

  // Writer-only: what Commit will write.
  std::vector<std::uint8_t> pending_bytes_;
  std::vector<std::uint32_t> pending_sizes_;
  std::vector<std::vector<TileHash>> pending_hashes_;  // by tile level

  mutable std::mutex mutex_;
  std::uint64_t full_bundles_ = 0;               // guarded by mutex_
  std::vector<std::uint64_t> tail_offsets_;      // guarded by mutex_: start of each tail entry
  std::uint64_t tail_length_ = 0;                // guarded by mutex_: committed bytes of the tail
  std::vector<std::vector<TileHash>> partial_;   // guarded by mutex_: by tile level, < 256 each
  std::vector<FullTile> unwritten_;              // guarded by mutex_: full hash tiles not yet on disk
  std::vector<std::function<Status()>> chores_;  // guarded by mutex_: a rotation's fsyncs, for the tile writer
  int next_fd_ = -1;                             // guarded by mutex_: the prepared entries.next
  std::string tile_write_error_;                 // guarded by mutex_: the tile writer's failure, sticky
  std::condition_variable_any tiles_cv_;         // with mutex_: unwritten_ or tile_write_error_ changed
  std::jthread tile_writer_;                     // writes unwritten_ (writable only); stopped first
};

}  // namespace tsa::store
