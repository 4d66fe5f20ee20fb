// The audit log's files seen as files, beside what SQLite does with them:
// - LogLock keeps a second tsad off a database that one already writes. SQLite's own locks only
//   serialise transactions; two writers would each keep their own in-memory Merkle frontier and
//   assign the same leaf indexes.
// - LogFiles remembers the identity (device, inode) of the database and its WAL and tells when
//   either was deleted or replaced under the running process. SQLite keeps writing into an
//   unlinked inode without an error (https://sqlite.org/howtocorrupt.html §2.4), so commits would
//   "succeed" into a file nobody will ever open again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tsa/core/result.h"

namespace tsa::store {

// flock(2) LOCK_EX on "<db>.lock", held until destruction. A separate file, not the database:
// SQLite uses POSIX fcntl locks on the database, and closing any other descriptor of that file
// would drop them (https://sqlite.org/howtocorrupt.html §2.2). The lock file is left in place
// (unlinking a lock file races with the next process that opens it). flock locks belong to the
// open file description, so a second Acquire in the same process fails too.
class LogLock {
 public:
  // kBusy "... is in use by another process" when another holder has it; kIo when the lock file
  // cannot be created.
  static Result<LogLock> Acquire(const std::string& db_path);
  LogLock(LogLock&& other) noexcept;
  LogLock& operator=(LogLock&&) = delete;
  ~LogLock();
  const std::string& path() const { return path_; }

 private:
  LogLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileId&) const = default;
};

// stat(2) of `path`: kNotFound when it does not exist, kIo for any other failure.
Result<FileId> IdentifyFile(const std::string& path);

// kNotFound naming the directory when the directory that would hold `path` does not exist (a
// typo in --db must not start a new, empty audit log somewhere else).
Status RequireParentDirectory(const std::string& path);

// The identity of a database file and of its WAL ("<db>-wal"). Not thread-safe (the writer).
class LogFiles {
 public:
  explicit LogFiles(std::string db_path) : db_path_(std::move(db_path)) {}
  // Records the database's identity (it must exist) and the WAL's when it exists. The WAL is
  // created by SQLite when a connection first reads the database in WAL mode and stays, with the
  // same inode, while any connection is open (https://sqlite.org/wal.html#the_wal_file).
  Status Record();
  // Two stat(2) calls. kStorage when the database or a recorded WAL vanished or is another file
  // now; a WAL not seen before is recorded when it appears.
  Status Check();

 private:
  std::string db_path_;
  FileId db_{};
  std::optional<FileId> wal_;
};

}  // namespace tsa::store
