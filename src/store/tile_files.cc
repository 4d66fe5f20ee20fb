#include "tsa/store/tile_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "tsa/core/thread_name.h"

namespace tsa::store {
namespace {

std::string Errno() { return ErrnoText(errno); }

Error IoError(const std::string& what, const std::string& path) {
  return MakeError(ErrorKind::kStorage, what + " " + path + ": " + Errno());
}

Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync", path);
  return Ok();
}

// mkdir -p, fsyncing each directory that was created and its parent (a new tile's path survives
// a power loss once its rename or write is synced).
Status MakeDirectories(const std::filesystem::path& dir) {
  // An empty path is the working directory (a relative --db such as "audit.db"): it exists.
  if (dir.empty() || std::filesystem::is_directory(dir)) return Ok();
  TSA_TRY(MakeDirectories(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return IoError("cannot create", dir.string());
  return SyncPath(dir.has_parent_path() ? dir.parent_path().string() : ".");
}

Status WriteAll(int fd, const std::uint8_t* data, std::size_t len, std::uint64_t offset, const std::string& path) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write", path);
    data += n;
    len -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return Ok();
}

Result<std::optional<std::vector<std::uint8_t>>> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::vector<std::uint8_t>>();
    return IoError("cannot open", path);
  }
  // Sized once from fstat (a full tile is immutable; the tail only grows, and a read that finds
  // it longer stops at the size seen: the committed length is checked by the caller).
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return IoError("cannot stat", path);
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return IoError("cannot read", path);
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  ::close(fd);
  return std::optional<std::vector<std::uint8_t>>(std::move(out));
}

// Offsets of the complete entries of a bundle; `end` receives the end of the last one.
std::vector<std::uint64_t> EntryOffsets(const std::vector<std::uint8_t>& bundle, std::uint64_t& end) {
  std::vector<std::uint64_t> offsets;
  std::uint64_t at = 0;
  while (at + 2 <= bundle.size()) {
    const std::uint64_t len = (std::uint64_t{bundle[at]} << 8) | bundle[at + 1];
    if (len == 0 || at + 2 + len > bundle.size()) break;  // a torn entry (an empty one is never written)
    offsets.push_back(at);
    at += 2 + len;
  }
  end = at;
  return offsets;
}

std::vector<std::uint8_t> EntryAt(const std::vector<std::uint8_t>& bundle, std::uint64_t offset) {
  const std::uint64_t len = (std::uint64_t{bundle[offset]} << 8) | bundle[offset + 1];
  return {bundle.begin() + static_cast<std::ptrdiff_t>(offset + 2),
          bundle.begin() + static_cast<std::ptrdiff_t>(offset + 2 + len)};
}

// After a failure that left the files ahead of memory (see TileFiles::Commit) the tail is closed:
// every later commit fails until a restart reconciles the files.
Error Stopped(const std::string& dir) {
  return MakeError(ErrorKind::kStorage, "an earlier write to " + dir +
                                            " failed after a new bundle was started; nothing more is written (restart tsad)");
}

}  // namespace

std::string TileIndexPath(std::uint64_t n) {
  std::string out;
  std::vector<unsigned> groups;
  do {
    groups.push_back(static_cast<unsigned>(n % 1000));
    n /= 1000;
  } while (n > 0);
  for (std::size_t i = groups.size(); i-- > 0;) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%s%03u", i > 0 ? "x" : "", groups[i]);
    out += buf;
    if (i > 0) out += '/';
  }
  return out;
}

std::string TileDirectoryFor(const std::string& db_path) { return db_path + ".tiles"; }

TileFiles::TileFiles(std::string dir, bool writable) : dir_(std::move(dir)), writable_(writable) {}

TileFiles::~TileFiles() {
  if (tile_writer_.joinable()) {
    tile_writer_.request_stop();  // it writes what is queued first
    tile_writer_.join();
  }
  if (tail_fd_ >= 0) ::close(tail_fd_);
  if (next_fd_ >= 0) ::close(next_fd_);
}

std::string TileFiles::TilePath(int tile_level, std::uint64_t n) const {
  return dir_ + "/tile/" + (tile_level < 0 ? std::string("entries") : std::to_string(tile_level)) + "/" + TileIndexPath(n);
}

Result<std::unique_ptr<TileFiles>> TileFiles::Open(const std::string& dir, bool create, bool writable) {
  if (!std::filesystem::is_directory(dir)) {
    if (!create) return MakeError(ErrorKind::kNotFound, "the tile directory " + dir + " does not exist");
    TSA_TRY(MakeDirectories(std::filesystem::path(dir) / "tile"));
  }
  std::unique_ptr<TileFiles> files(new TileFiles(dir, writable));  // NOLINT: private constructor
  TSA_TRY(files->LoadTail());
  if (writable) files->tile_writer_ = std::jthread([raw = files.get()](std::stop_token stop) { raw->RunTileWriter(stop); });
  return files;
}

// The full bundles are counted from the last one present (bundles are only ever added in order);
// the tail's complete entries follow.
Status TileFiles::LoadTail() {
  std::uint64_t lo = 0, hi = 1;
  while (std::filesystem::exists(TilePath(-1, hi - 1))) hi *= 2;  // first absent at or below hi-1
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (std::filesystem::exists(TilePath(-1, mid))) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  full_bundles_ = lo;
  TSA_ASSIGN_OR_RETURN(auto tail, ReadWholeFile(TailPath()));
  std::vector<std::uint8_t> bytes = tail ? std::move(*tail) : std::vector<std::uint8_t>();
  TSA_TRY(AdoptInterruptedRotation(bytes));
  std::uint64_t end = 0;
  tail_offsets_ = EntryOffsets(bytes, end);
  tail_length_ = end;
  if (tail_offsets_.size() > kTileEntries) {
    return MakeError(ErrorKind::kStorage, TailPath() + " holds " + std::to_string(tail_offsets_.size()) +
                                              " entries, more than a bundle: run tsa-audit-verify");
  }
  if (!writable_) return Ok();
  truncated_bytes_ = bytes.size() - end;
  tail_fd_ = ::open(TailPath().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (tail_fd_ < 0) return IoError("cannot open", TailPath());
  if (truncated_bytes_ > 0 && (::ftruncate(tail_fd_, static_cast<off_t>(end)) != 0 || ::fdatasync(tail_fd_) != 0)) {
    return IoError("cannot cut the torn entry off", TailPath());
  }
  TSA_TRY(SyncPath(dir_));
  if (tail_offsets_.size() == kTileEntries) {
    // A crash between the tail's 256th entry and its rename: finish the rename now.
    if (::fdatasync(tail_fd_) != 0) return IoError("cannot fdatasync", TailPath());
    TSA_TRY(RotateTail(full_bundles_));
    full_bundles_ += 1;
    tail_offsets_.clear();
    tail_length_ = 0;
  }
  struct stat d {
  }, t{};
  if (::stat(dir_.c_str(), &d) != 0 || ::fstat(tail_fd_, &t) != 0) return IoError("cannot stat", dir_);
  identity_ = {static_cast<std::uint64_t>(d.st_dev), static_cast<std::uint64_t>(d.st_ino), static_cast<std::uint64_t>(t.st_ino)};
  return PrepareNextTail();
}

// entries.next holding entries means a rotation (SwitchTail) was cut short by a crash: the full
// tail is still entries.tail (neither rename reached the disk) or already in tile/entries/ (the
// first did), and entries.next holds the newest entries, durable before they were answered. The
// writer finishes the rotation; a reader refuses, since the files do not say yet which leaves
// they hold.
Status TileFiles::AdoptInterruptedRotation(std::vector<std::uint8_t>& tail_bytes) {
  TSA_ASSIGN_OR_RETURN(auto next, ReadWholeFile(NextPath()));
  if (!next || next->empty()) return Ok();
  std::uint64_t end = 0;
  const std::size_t in_tail = EntryOffsets(tail_bytes, end).size();
  if (in_tail != 0 && in_tail != kTileEntries) {
    return MakeError(ErrorKind::kStorage, TailPath() + " holds " + std::to_string(in_tail) + " entries and " + NextPath() +
                                              " holds more: the tiles are inconsistent, run tsa-audit-verify");
  }
  if (!writable_) {
    return MakeError(ErrorKind::kStorage, dir_ + ": a bundle rotation was interrupted (" + NextPath() +
                                              " holds entries): start tsad once to finish it, then verify");
  }
  if (in_tail == kTileEntries) {
    tail_fd_ = ::open(TailPath().c_str(), O_RDWR | O_CLOEXEC);
    if (tail_fd_ < 0 || ::fdatasync(tail_fd_) != 0) return IoError("cannot open", TailPath());
    TSA_TRY(RotateTail(full_bundles_));
    full_bundles_ += 1;
    ::close(tail_fd_);
    tail_fd_ = -1;
  }
  if (::rename(NextPath().c_str(), TailPath().c_str()) != 0) return IoError("cannot rename", NextPath());
  TSA_TRY(SyncPath(dir_));
  tail_bytes = std::move(*next);
  return Ok();
}

// entries.next: created empty and its name made durable ahead of the rotation that will need it.
Status TileFiles::PrepareNextTail() {
  TSA_ASSIGN_OR_RETURN(const int fd, CreateNextTail());
  if (Status synced = SyncPath(dir_); !synced) {
    ::close(fd);
    return synced;
  }
  AdoptNextTail(fd);
  return Ok();
}

// Without the directory fsync: the caller makes the name durable (a rotation's chore fsyncs the
// directory once for the renames and the new entries.next together).
Result<int> TileFiles::CreateNextTail() const {
  const int fd = ::open(NextPath().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", NextPath());
  return fd;
}

void TileFiles::AdoptNextTail(int fd) {
  std::lock_guard lock(mutex_);
  if (next_fd_ >= 0) ::close(next_fd_);
  next_fd_ = fd;
}

std::uint64_t TileFiles::size() const {
  std::lock_guard lock(mutex_);
  return full_bundles_ * kTileEntries + tail_offsets_.size();
}

Status TileFiles::AppendEntry(const std::vector<std::uint8_t>& entry) {
  if (entry.empty() || entry.size() > 0xffff) {
    return MakeError(ErrorKind::kInvalidArgument,
                     "an entry of " + std::to_string(entry.size()) + " bytes does not fit a tlog-tiles bundle (1..65535)");
  }
  pending_bytes_.push_back(static_cast<std::uint8_t>(entry.size() >> 8));
  pending_bytes_.push_back(static_cast<std::uint8_t>(entry.size()));
  pending_bytes_.insert(pending_bytes_.end(), entry.begin(), entry.end());
  pending_sizes_.push_back(static_cast<std::uint32_t>(entry.size() + 2));
  return Ok();
}

void TileFiles::AppendTileHash(int tile_level, const TileHash& hash) {
  if (pending_hashes_.size() <= static_cast<std::size_t>(tile_level))
    pending_hashes_.resize(static_cast<std::size_t>(tile_level) + 1);
  pending_hashes_[static_cast<std::size_t>(tile_level)].push_back(hash);
}

void TileFiles::Rollback() {
  pending_bytes_.clear();
  pending_sizes_.clear();
  pending_hashes_.clear();
  std::lock_guard lock(mutex_);
  if (tail_fd_ >= 0) (void)::ftruncate(tail_fd_, static_cast<off_t>(tail_length_));
}

Status TileFiles::CheckIdentity() {
  if (writable_ && tail_fd_ < 0) return Stopped(dir_);
  struct stat d {
  }, t{};
  const bool dir_ok = ::stat(dir_.c_str(), &d) == 0 && static_cast<std::uint64_t>(d.st_dev) == identity_.dir_dev &&
                      static_cast<std::uint64_t>(d.st_ino) == identity_.dir_ino;
  const bool tail_ok = ::stat(TailPath().c_str(), &t) == 0 && static_cast<std::uint64_t>(t.st_ino) == identity_.tail_ino;
  const bool tiles_ok = std::filesystem::is_directory(dir_ + "/tile");
  if (dir_ok && tail_ok && tiles_ok) return Ok();
  return MakeError(ErrorKind::kStorage, "the audit log's tile directory " + dir_ + " (or its entries.tail or tile/) was " +
                                            "deleted or replaced while tsad ran; nothing more is written (restart tsad)");
}

// The tail is full: it becomes tile/entries/<bundle> (rename, then fsync of both directories), and
// a new, empty tail takes its place.
Status TileFiles::RotateTail(std::uint64_t bundle) {
  const std::string target = TilePath(-1, bundle);
  TSA_TRY(MakeDirectories(std::filesystem::path(target).parent_path()));
  if (::rename(TailPath().c_str(), target.c_str()) != 0) return IoError("cannot rename the tail to", target);
  ::close(tail_fd_);
  tail_fd_ = ::open(TailPath().c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (tail_fd_ < 0) return IoError("cannot create", TailPath());
  TSA_TRY(SyncPath(std::filesystem::path(target).parent_path().string()));
  TSA_TRY(SyncPath(dir_));
  struct stat t {};
  if (::fstat(tail_fd_, &t) == 0) identity_.tail_ino = static_cast<std::uint64_t>(t.st_ino);
  return Ok();
}

Status TileFiles::WriteHashTile(int tile_level, std::uint64_t n, const std::vector<std::uint8_t>& bytes) {
  const std::string path = TilePath(tile_level, n);
  TSA_TRY(MakeDirectories(std::filesystem::path(path).parent_path()));
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", tmp);
  Status written = WriteAll(fd, bytes.data(), bytes.size(), 0, tmp);
  if (written && ::fdatasync(fd) != 0) written = IoError("cannot fdatasync", tmp);
  ::close(fd);
  TSA_TRY(written);
  // Written whole, then renamed: a reader (or a static web server) never sees half a tile.
  if (::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot rename", tmp);
  return SyncPath(std::filesystem::path(path).parent_path().string());
}

// Full hash tiles are immutable once written: each is complete when its 256th hash arrives. The
// last one of each level goes to the tile writer thread; in the rare batch that completes two
// tiles of one level, the earlier ones are written here (recovery rebuilds only the last).
Status TileFiles::TakeFullHashTiles(std::vector<FullTile>& background) {
  for (std::size_t level = 0; level < pending_hashes_.size(); ++level) {
    std::vector<TileHash> combined;
    std::uint64_t done = 0;  // full tiles of this level before the combined hashes
    {
      std::lock_guard lock(mutex_);
      if (partial_.size() <= level) partial_.resize(level + 1);
      combined = partial_[level];
      done = ((full_bundles_ * kTileEntries + tail_offsets_.size()) >> (8 * level)) / kTileEntries;
    }
    combined.insert(combined.end(), pending_hashes_[level].begin(), pending_hashes_[level].end());
    std::size_t used = 0;
    while (combined.size() - used >= kTileEntries) {
      FullTile tile{static_cast<int>(level), done++, {}};
      tile.bytes.reserve(kTileEntries * kTileHashSize);
      for (std::size_t i = used; i < used + kTileEntries; ++i)
        tile.bytes.insert(tile.bytes.end(), combined[i].begin(), combined[i].end());
      used += kTileEntries;
      if (combined.size() - used >= kTileEntries) {
        TSA_TRY(WriteHashTile(tile.level, tile.n, tile.bytes));
      } else {
        background.push_back(std::move(tile));
      }
    }
    pending_hashes_[level].assign(combined.begin() + static_cast<std::ptrdiff_t>(used), combined.end());
  }
  return Ok();
}

// The tail is full (Commit, after its fdatasync): entries.next, created and its directory entry
// made durable ahead of time, takes its place, so the rest of the batch goes into a file whose name
// survives a crash without a directory fsync on the tokens' path. The two renames are made under
// the readers' mutex; fsyncing both directories (the bundle's new name before the tail's old one
// goes, as in RotateTail) and preparing the next entries.next is a chore for the tile writer
// thread. A crash before those fsyncs is finished at the next start (AdoptInterruptedRotation).
Status TileFiles::SwitchTail(std::uint64_t bundle) {
  TSA_TRY(WaitForTileWriter());  // the previous rotation's chores, which prepared entries.next
  int next_fd = -1;
  {
    std::lock_guard lock(mutex_);
    std::swap(next_fd, next_fd_);
  }
  if (next_fd < 0) return MakeError(ErrorKind::kStorage, NextPath() + " was not prepared");
  const std::string target = TilePath(-1, bundle);
  const std::string target_dir = std::filesystem::path(target).parent_path().string();
  Status moved = MakeDirectories(target_dir);
  {
    std::lock_guard lock(mutex_);
    if (moved && ::rename(TailPath().c_str(), target.c_str()) != 0) moved = IoError("cannot rename the tail to", target);
    if (moved && ::rename(NextPath().c_str(), TailPath().c_str()) != 0) {
      moved = IoError("cannot rename " + NextPath() + " to", TailPath());
      ::close(tail_fd_);  // the bundle was renamed: Commit stops, the restart adopts entries.next
      tail_fd_ = -1;
    }
  }
  if (!moved) {
    ::close(next_fd);
    return moved;
  }
  ::close(tail_fd_);
  tail_fd_ = next_fd;
  struct stat t {};
  if (::fstat(tail_fd_, &t) == 0) identity_.tail_ino = static_cast<std::uint64_t>(t.st_ino);
  std::lock_guard lock(mutex_);
  // Two directory fsyncs: the bundle's directory (its new name) first, then the log directory,
  // which makes the tail's rename and the new entries.next durable at once.
  chores_.push_back([this, target_dir]() -> Status {
    TSA_ASSIGN_OR_RETURN(const int fd, CreateNextTail());
    Status synced = SyncPath(target_dir);
    if (synced) synced = SyncPath(dir_);
    if (!synced) {
      ::close(fd);
      return synced;
    }
    AdoptNextTail(fd);
    return Ok();
  });
  tiles_cv_.notify_all();
  return Ok();
}

// Before new full tiles are published, the previous ones must be on disk: then a crash can lose
// at most the last full tile of each level, which the recovery rebuilds (audit/tile_recovery.cc).
// The writer thread needs ~2 ms per tile and a new one comes every 256 leaves, so this rarely waits.
Status TileFiles::WaitForTileWriter() {
  std::unique_lock lock(mutex_);
  tiles_cv_.wait(lock, [&] { return (unwritten_.empty() && chores_.empty()) || !tile_write_error_.empty(); });
  if (!tile_write_error_.empty()) return MakeError(ErrorKind::kStorage, tile_write_error_ + " (restart tsad)");
  return Ok();
}

Status TileFiles::FlushHashTiles() { return WaitForTileWriter(); }

// The writer thread's top: a failure is kept (every later Commit fails with it, fail closed) and
// the unwritten tiles stay in memory, so readers still get them.
void TileFiles::RunTileWriter(std::stop_token stop) {
  core::NameThisThread("tsad-tile-writer");
  try {
    std::unique_lock lock(mutex_);
    while (tiles_cv_.wait(lock, stop, [&] { return !unwritten_.empty() || !chores_.empty(); })) {
      const bool chore = !chores_.empty();
      Status done = Ok();
      if (chore) {
        const std::function<Status()> next_chore = chores_.front();
        lock.unlock();
        done = next_chore();
      } else {
        const FullTile tile = unwritten_.front();
        lock.unlock();
        done = WriteHashTile(tile.level, tile.n, tile.bytes);
      }
      lock.lock();
      if (!done) {
        tile_write_error_ = "the hash tile writer stopped: " + done.error().message;
        tiles_cv_.notify_all();
        return;
      }
      if (chore) {
        chores_.erase(chores_.begin());
      } else {
        unwritten_.erase(unwritten_.begin());
      }
      tiles_cv_.notify_all();
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex_);
    tile_write_error_ = std::string("the hash tile writer stopped: ") + e.what();
    tiles_cv_.notify_all();
  }
}

std::optional<std::vector<std::uint8_t>> TileFiles::UnwrittenTile(int tile_level, std::uint64_t n) const {
  std::lock_guard lock(mutex_);
  for (const auto& tile : unwritten_) {
    if (tile.level == tile_level && tile.n == n) return tile.bytes;
  }
  return std::nullopt;
}

struct TileFiles::Cursor {
  std::uint64_t bundles = 0;  // full entry bundles
  std::uint64_t length = 0;   // bytes in the tail
  std::uint64_t in_tail = 0;  // entries in the tail
  std::vector<std::uint64_t> new_offsets;
  bool rotated = false;  // the tail filled up and was renamed into tile/entries/
};

// The pending entries up to the end of the current bundle go in one pwrite; a tail that is full
// then is fdatasynced and renamed (SwitchTail). TokenLog ends a batch at the bundle's end, so at
// most one rotation happens here and the rest of a commit's entries is its next commit's.
Status TileFiles::WritePending(Cursor& at) {
  std::size_t byte = 0;
  for (std::size_t i = 0; i < pending_sizes_.size();) {
    const std::size_t first_byte = byte;
    const std::uint64_t offset = at.length;
    for (; i < pending_sizes_.size() && at.in_tail < kTileEntries; ++i, ++at.in_tail) {
      at.new_offsets.push_back(at.length);
      byte += pending_sizes_[i];
      at.length += pending_sizes_[i];
    }
    TSA_TRY(WriteAll(tail_fd_, pending_bytes_.data() + first_byte, byte - first_byte, offset, TailPath()));
    if (at.in_tail < kTileEntries) continue;
    if (::fdatasync(tail_fd_) != 0) return IoError("cannot fdatasync", TailPath());
    TSA_TRY(SwitchTail(at.bundles));
    at.rotated = true;
    at.bundles += 1;
    at.length = 0;
    at.in_tail = 0;
    at.new_offsets.clear();
  }
  return Ok();
}

// A failed commit before any rename is rolled back (the tail is cut back by the next commit's
// offsets, nothing was published). After a rename the files are ahead of memory: the tiles stop,
// and the restart reconciles them (LoadTail, AdoptInterruptedRotation).
Status TileFiles::AbortCommit(Status failed, bool rotated, std::vector<std::vector<TileHash>> hashes) {
  pending_hashes_ = std::move(hashes);
  if (rotated || tail_fd_ < 0) {
    if (tail_fd_ >= 0) ::close(tail_fd_);
    tail_fd_ = -1;
    return MakeError(ErrorKind::kStorage, failed.error().message + " (after a new bundle was started: restart tsad)");
  }
  Rollback();
  return failed;
}

void TileFiles::PublishCommit(const Cursor& at, std::vector<FullTile> full_tiles) {
  std::lock_guard lock(mutex_);
  if (!full_tiles.empty()) {
    unwritten_ = std::move(full_tiles);
    tiles_cv_.notify_all();
  }
  full_bundles_ = at.bundles;
  tail_length_ = at.length;
  if (at.rotated) tail_offsets_.clear();
  tail_offsets_.insert(tail_offsets_.end(), at.new_offsets.begin(), at.new_offsets.end());
  if (partial_.size() < pending_hashes_.size()) partial_.resize(pending_hashes_.size());
  for (std::size_t level = 0; level < pending_hashes_.size(); ++level) partial_[level] = std::move(pending_hashes_[level]);
  pending_bytes_.clear();
  pending_sizes_.clear();
  pending_hashes_.clear();
}

Status TileFiles::Commit() {
  if (pending_sizes_.empty() && pending_hashes_.empty()) return Ok();
  if (tail_fd_ < 0) return Stopped(dir_);
  Cursor at;
  {
    std::lock_guard lock(mutex_);
    if (!tile_write_error_.empty()) return MakeError(ErrorKind::kStorage, tile_write_error_ + " (restart tsad)");
    at.bundles = full_bundles_;
    at.length = tail_length_;
    at.in_tail = tail_offsets_.size();
  }
  Status st = WritePending(at);
  // One fdatasync per batch (the tokens are durable before any reply).
  if (st && at.in_tail > 0 && ::fdatasync(tail_fd_) != 0) st = IoError("cannot fdatasync", TailPath());
  // Full hash tiles are handed to the tile writer thread with the new size (off the tokens' path:
  // they derive from the entries, which are durable now).
  std::vector<std::vector<TileHash>> hashes = pending_hashes_;
  std::vector<FullTile> full_tiles;
  if (st) st = TakeFullHashTiles(full_tiles);
  if (st && !full_tiles.empty()) st = WaitForTileWriter();
  if (!st) return AbortCommit(st, at.rotated, std::move(hashes));
  PublishCommit(at, std::move(full_tiles));
  return Ok();
}

Status TileFiles::ProbeWrite(std::size_t bytes) {
  const std::string path = dir_ + "/probe.tmp";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", path);
  std::vector<std::uint8_t> zeros(std::min<std::size_t>(bytes, 1u << 20), 0);
  Status st = Ok();
  for (std::size_t done = 0; done < bytes && st; done += zeros.size()) {
    st = WriteAll(fd, zeros.data(), std::min(zeros.size(), bytes - done), done, path);
  }
  if (st && ::fdatasync(fd) != 0) st = IoError("cannot fdatasync", path);
  ::close(fd);
  ::unlink(path.c_str());
  return st;
}

void TileFiles::SetPartialHashes(int tile_level, std::vector<TileHash> hashes) {
  std::lock_guard lock(mutex_);
  if (partial_.size() <= static_cast<std::size_t>(tile_level)) partial_.resize(static_cast<std::size_t>(tile_level) + 1);
  partial_[static_cast<std::size_t>(tile_level)] = std::move(hashes);
}

Result<std::optional<std::vector<std::uint8_t>>> TileFiles::ReadFullBundle(std::uint64_t n) const {
  return ReadWholeFile(TilePath(-1, n));
}

Result<std::optional<std::vector<std::uint8_t>>> TileFiles::ReadFullHashTile(int tile_level, std::uint64_t n) const {
  if (auto unwritten = UnwrittenTile(tile_level, n)) return unwritten;
  return ReadWholeFile(TilePath(tile_level, n));
}

Result<std::vector<std::vector<std::uint8_t>>> TileFiles::Entries(std::uint64_t first, std::uint64_t count) const {
  return Entries(first, count, 0);
}

Result<std::vector<std::vector<std::uint8_t>>> TileFiles::Entries(std::uint64_t first, std::uint64_t count, int attempt) const {
  std::uint64_t bundles = 0;
  std::vector<std::uint64_t> tail_offsets;
  std::uint64_t tail_length = 0;
  {
    std::lock_guard lock(mutex_);
    bundles = full_bundles_;
    tail_offsets = tail_offsets_;
    tail_length = tail_length_;
  }
  const std::uint64_t size = bundles * kTileEntries + tail_offsets.size();
  if (first > size || size - first < count)
    return MakeError(ErrorKind::kNotFound, "no entries past leaf " + std::to_string(size));
  std::vector<std::vector<std::uint8_t>> out;
  while (out.size() < count) {
    const std::uint64_t at = first + out.size();
    const std::uint64_t bundle = at / kTileEntries;
    std::vector<std::uint8_t> bytes;
    std::vector<std::uint64_t> offsets;
    if (bundle < bundles) {
      TSA_ASSIGN_OR_RETURN(auto file, ReadFullBundle(bundle));
      if (!file) return MakeError(ErrorKind::kStorage, "the entry bundle " + TilePath(-1, bundle) + " is missing");
      bytes = std::move(*file);
      std::uint64_t end = 0;
      offsets = EntryOffsets(bytes, end);
      if (offsets.size() != kTileEntries || end != bytes.size()) {
        return MakeError(ErrorKind::kStorage, "the entry bundle " + TilePath(-1, bundle) + " is damaged (" +
                                                  std::to_string(offsets.size()) + " entries, " + std::to_string(bytes.size()) +
                                                  " bytes)");
      }
    } else {
      TSA_ASSIGN_OR_RETURN(auto file, ReadWholeFile(TailPath()));
      if (!file || file->size() < tail_length) {
        // A rotation (SwitchTail) renamed the tail after this read took the size: read again once
        // the commit has published the new size (a few milliseconds).
        if (attempt < kTailRereads) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          return Entries(first, count, attempt + 1);
        }
        return MakeError(ErrorKind::kStorage, TailPath() + " is shorter than committed");
      }
      bytes = std::move(*file);
      offsets = tail_offsets;
    }
    for (std::uint64_t i = at % kTileEntries; i < offsets.size() && out.size() < count; ++i)
      out.push_back(EntryAt(bytes, offsets[i]));
  }
  return out;
}

Result<std::optional<TileHash>> TileFiles::Hash(int tile_level, std::uint64_t index) const {
  TSA_ASSIGN_OR_RETURN(auto hashes, HashRange(tile_level, index, 1));
  if (hashes.empty()) return std::optional<TileHash>();
  return std::optional<TileHash>(hashes.front());
}

Result<std::vector<TileHash>> TileFiles::HashRange(int tile_level, std::uint64_t first, std::uint64_t count) const {
  std::vector<TileHash> out;
  if (tile_level < 0 || tile_level > 7) return out;
  while (out.size() < count) {
    const std::uint64_t at = first + out.size();
    const std::uint64_t tile = at / kTileEntries;
    std::uint64_t full = 0;
    {
      std::lock_guard lock(mutex_);
      const std::uint64_t known = (full_bundles_ * kTileEntries + tail_offsets_.size()) >> (8 * tile_level);
      full = known / kTileEntries;
      if (tile >= full) {
        const auto level = static_cast<std::size_t>(tile_level);
        if (tile > full || level >= partial_.size()) return out;
        for (std::uint64_t pos = at - full * kTileEntries; pos < partial_[level].size() && out.size() < count; ++pos) {
          out.push_back(partial_[level][pos]);
        }
        return out;
      }
    }
    TSA_ASSIGN_OR_RETURN(auto bytes, ReadFullHashTile(tile_level, tile));
    if (!bytes || bytes->size() != kTileEntries * kTileHashSize) return out;
    for (std::uint64_t i = at % kTileEntries; i < kTileEntries && out.size() < count; ++i) {
      TileHash h{};
      std::copy_n(bytes->begin() + static_cast<std::ptrdiff_t>(i * kTileHashSize), kTileHashSize, h.begin());
      out.push_back(h);
    }
  }
  return out;
}

std::size_t TileFiles::PartialHashCount(int tile_level) const {
  std::lock_guard lock(mutex_);
  const auto level = static_cast<std::size_t>(tile_level);
  return level < partial_.size() ? partial_[level].size() : 0;
}

}  // namespace tsa::store
