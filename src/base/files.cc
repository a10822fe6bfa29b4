#include "base/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace warden {

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string msg(what);
  msg += " ";
  msg += path;
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(std::move(msg));
    case EACCES:
    case EPERM:
      return PermissionDeniedError(std::move(msg));
    case ELOOP:
      return InvalidArgumentError(std::move(msg) + " (symbolic link)");
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
      return ResourceExhaustedError(std::move(msg));
    default:
      return UnavailableError(std::move(msg));
  }
}

MappedRegion::~MappedRegion() {
  if (base_ != nullptr) munmap(base_, mapped_);
}

MappedRegion::MappedRegion(MappedRegion&& o) noexcept
    : base_(o.base_), mapped_(o.mapped_), data_(o.data_), length_(o.length_) {
  o.base_ = nullptr;
  o.mapped_ = 0;
  o.data_ = nullptr;
  o.length_ = 0;
}

MappedRegion& MappedRegion::operator=(MappedRegion&& o) noexcept {
  if (this != &o) {
    if (base_ != nullptr) munmap(base_, mapped_);
    base_ = o.base_;
    mapped_ = o.mapped_;
    data_ = o.data_;
    length_ = o.length_;
    o.base_ = nullptr;
    o.mapped_ = 0;
    o.data_ = nullptr;
    o.length_ = 0;
  }
  return *this;
}

Result<MappedRegion> MappedRegion::Map(int fd, uint64_t offset, uint64_t length, bool populate) {
  MappedRegion r;
  if (length == 0) return r;
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "fstat", "");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (offset > file_size || length > file_size - offset) {
    return InvalidArgumentError("map range [" + std::to_string(offset) + ", +" +
                                std::to_string(length) + ") is outside the file of " +
                                std::to_string(file_size) + " bytes");
  }
  static const uint64_t kPage = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t aligned = offset - offset % kPage;
  const uint64_t delta = offset - aligned;
  const size_t map_len = static_cast<size_t>(length + delta);
  const int flags = MAP_PRIVATE | (populate ? MAP_POPULATE : 0);
  void* p = mmap(nullptr, map_len, PROT_READ, flags, fd, static_cast<off_t>(aligned));
  if (p == MAP_FAILED) return ErrnoStatus(errno, "mmap", "");
  r.base_ = p;
  r.mapped_ = map_len;
  r.data_ = static_cast<const uint8_t*>(p) + delta;
  r.length_ = static_cast<size_t>(length);
  return r;
}

ReadOnlyFile::~ReadOnlyFile() {
  if (fd_ >= 0) close(fd_);
}

ReadOnlyFile::ReadOnlyFile(ReadOnlyFile&& o) noexcept
    : fd_(o.fd_), size_(o.size_), path_(std::move(o.path_)) {
  o.fd_ = -1;
  o.size_ = 0;
}

ReadOnlyFile& ReadOnlyFile::operator=(ReadOnlyFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
    o.size_ = 0;
  }
  return *this;
}

Result<ReadOnlyFile> ReadOnlyFile::Open(const std::string& path, bool no_follow) {
  // O_NONBLOCK: opening a FIFO with no writer would otherwise block forever before the
  // regular-file check below can refuse it. It changes nothing for regular files.
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (no_follow) flags |= O_NOFOLLOW;
  int fd = open(path.c_str(), flags);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  ReadOnlyFile f;
  f.fd_ = fd;
  f.path_ = path;
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (!S_ISREG(st.st_mode)) {
    return DataLossError(
        path + (S_ISDIR(st.st_mode) ? ": is a directory, not a file" : ": not a regular file"));
  }
  f.size_ = static_cast<uint64_t>(st.st_size);
  return f;
}

Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes) {
  WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile f, ReadOnlyFile::Open(path));
  if (f.size() > max_bytes) {
    return ResourceExhaustedError(path + ": " + std::to_string(f.size()) +
                                  " bytes is more than the limit of " + std::to_string(max_bytes) +
                                  " bytes for this kind of file");
  }
  std::string out(static_cast<size_t>(f.size()), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = pread(f.fd(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;  // the file shrank under us: return what is there
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return ErrnoStatus(errno, "cannot create temporary file in", dir.string());
  auto fail = [&](int err, std::string_view what) {
    close(fd);
    unlink(tmpl.c_str());
    return ErrnoStatus(err, what, path);
  };
  if (fchmod(fd, mode) != 0) return fail(errno, "cannot chmod");
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno, "cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail(errno, "cannot fsync");
  if (close(fd) != 0) {
    unlink(tmpl.c_str());
    return ErrnoStatus(errno, "cannot close", path);
  }
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmpl.c_str());
    return ErrnoStatus(err, "cannot rename into place", path);
  }
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return Status::Ok();
}

}  // namespace warden
