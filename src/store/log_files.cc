#include "tsa/store/log_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tsa::store {
namespace {

std::string Errno(int err) { return ErrnoText(err); }

Status CheckOne(const std::string& path, const FileId& expected, const char* what) {
  auto now = IdentifyFile(path);
  if (!now && now.error().kind == ErrorKind::kNotFound) {
    return MakeError(ErrorKind::kStorage, std::string("the audit log's ") + what + " " + path +
                                              " was deleted while tsad ran; nothing more is written (restart tsad)");
  }
  if (!now) return MakeError(ErrorKind::kStorage, now.error().message);
  if (!(*now == expected)) {
    return MakeError(ErrorKind::kStorage, std::string("the audit log's ") + what + " " + path +
                                              " was replaced by another file while tsad ran; nothing more is written "
                                              "(restart tsad)");
  }
  return Ok();
}

}  // namespace

Result<LogLock> LogLock::Acquire(const std::string& db_path) {
  std::string path = db_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError(ErrorKind::kIo, "cannot create the lock file " + path + ": " + Errno(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return MakeError(ErrorKind::kBusy, "the audit log " + db_path + " is in use by another process (" + path + " is locked)");
    }
    return MakeError(ErrorKind::kIo, "cannot lock " + path + ": " + Errno(err));
  }
  return LogLock(fd, std::move(path));
}

LogLock::LogLock(LogLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }

LogLock::~LogLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<FileId> IdentifyFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return MakeError(err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo, "cannot stat " + path + ": " + Errno(err));
  }
  return FileId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

Status RequireParentDirectory(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Ok();
  return MakeError(ErrorKind::kNotFound, "the directory " + dir.string() + " of the audit log " + path +
                                             " does not exist (tsad creates the database, not its directory)");
}

Status LogFiles::Record() {
  TSA_ASSIGN_OR_RETURN(db_, IdentifyFile(db_path_));
  auto wal = IdentifyFile(db_path_ + "-wal");
  if (wal) wal_ = *wal;
  return Ok();
}

Status LogFiles::Check() {
  TSA_TRY(CheckOne(db_path_, db_, "database"));
  if (wal_) return CheckOne(db_path_ + "-wal", *wal_, "WAL");
  if (auto wal = IdentifyFile(db_path_ + "-wal")) wal_ = *wal;
  return Ok();
}

}  // namespace tsa::store
