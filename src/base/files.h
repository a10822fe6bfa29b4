// Files: read-only memory maps, bounded whole-file reads, and crash-safe writes.
//
// MappedRegion maps a byte range of a file read-only. Hashing maps large files in windows
// (see provenance/hashing.h) so that resident memory stays bounded whatever the file size.
// WriteFileAtomic writes to a temporary file in the same directory, fsyncs it, renames it over
// the target and fsyncs the directory: after it returns OK the bytes survive a kill -9 or a
// power cut, and a reader never sees a half-written file.
//
// Thread-safety: a MappedRegion may be read from many threads; the functions are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace warden {

// A read-only mapping of [offset, offset+length) of a file. Movable, not copyable; unmaps on
// destruction. A zero-length region maps nothing and has an empty span.
class MappedRegion {
 public:
  MappedRegion() = default;
  ~MappedRegion();
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  // Maps `length` bytes at `offset` of the open descriptor `fd`. The range must lie inside the
  // file (InvalidArgument otherwise). `populate` pre-faults the pages in one call (cheaper than
  // one fault per page when every byte will be read, as in hashing).
  static Result<MappedRegion> Map(int fd, uint64_t offset, uint64_t length, bool populate);

  std::span<const uint8_t> bytes() const { return {data_, length_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return length_; }

 private:
  void* base_ = nullptr;  // page-aligned start of the mapping
  size_t mapped_ = 0;     // page-aligned length of the mapping
  const uint8_t* data_ = nullptr;
  size_t length_ = 0;
};

// An open, read-only file descriptor that closes itself. Errors name the path.
class ReadOnlyFile {
 public:
  ReadOnlyFile() = default;
  ~ReadOnlyFile();
  ReadOnlyFile(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile& operator=(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  // Opens `path` (NotFound, PermissionDenied, or DataLoss if it is not a regular file: a
  // directory, device or FIFO; a FIFO is refused without blocking).
  // With `no_follow`, a symlink at `path` itself is refused.
  static Result<ReadOnlyFile> Open(const std::string& path, bool no_follow = false);

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Maps the whole file (empty span for an empty file).
  Result<MappedRegion> MapAll() const { return MappedRegion::Map(fd_, 0, size_, false); }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  std::string path_;
};

// Reads a whole file into a string; refuses files larger than `max_bytes`
// (ResourceExhausted) so that a hostile path cannot make us allocate without bound.
Result<std::string> ReadFileToString(const std::string& path, uint64_t max_bytes);

// Crash-safe replace of `path` with `contents`, created with permission bits `mode`.
Status WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode = 0644);

// Status for a failed syscall: errno mapped to a code, message "<what> <path>: <strerror>".
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

}  // namespace warden
