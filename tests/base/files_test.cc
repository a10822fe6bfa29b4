#include "base/files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "common/temp_dir.h"

namespace warden {
namespace {

using ::warden::testing::ReadAll;
using ::warden::testing::TempDir;

// Bytes whose value depends on the position, so that an off-by-some mapping shows up.
std::string PatternBytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
  return s;
}

std::string AsString(const MappedRegion& r) {
  return std::string(reinterpret_cast<const char*>(r.data()), r.size());
}

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// Names in `dir` other than `keep`.
std::vector<std::string> OtherEntries(const std::string& dir, const std::string& keep) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name != keep) out.push_back(name);
  }
  return out;
}

// Sets the umask for the lifetime of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(umask(mask)) {}
  ~ScopedUmask() { umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// Arms SIGALRM so that a call which blocks forever kills the test binary (a failure) instead of
// hanging the suite. The default action of SIGALRM terminates the process.
class ScopedAlarm {
 public:
  explicit ScopedAlarm(unsigned seconds) {
    old_handler_ = signal(SIGALRM, SIG_DFL);
    alarm(seconds);
  }
  ~ScopedAlarm() {
    alarm(0);
    signal(SIGALRM, old_handler_);
  }
  ScopedAlarm(const ScopedAlarm&) = delete;
  ScopedAlarm& operator=(const ScopedAlarm&) = delete;

 private:
  sighandler_t old_handler_;
};

mode_t ModeBits(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

// ---------------------------------------------------------------------------------------------
// MappedRegion

class MappedRegionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    contents_ = PatternBytes(3 * PageSize() + 123);
    path_ = dir_.Write("data.bin", contents_);
    auto f = ReadOnlyFile::Open(path_);
    ASSERT_TRUE(f.has_value()) << f.error().ToString();
    file_ = std::move(*f);
  }

  TempDir dir_;
  std::string contents_;
  std::string path_;
  ReadOnlyFile file_;
};

TEST_F(MappedRegionTest, MapAllReturnsTheWholeFile) {
  auto r = file_.MapAll();
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->size(), contents_.size());
  EXPECT_EQ(AsString(*r), contents_);
}

TEST_F(MappedRegionTest, MapsRangeAtUnalignedOffset) {
  const uint64_t offset = PageSize() + 17;
  const uint64_t length = 1000;
  auto r = MappedRegion::Map(file_.fd(), offset, length, /*populate=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->size(), length);
  EXPECT_EQ(AsString(*r), contents_.substr(offset, length));
}

TEST_F(MappedRegionTest, MapsRangeCrossingPageBoundaries) {
  const uint64_t offset = PageSize() - 5;
  const uint64_t length = PageSize() + 10;
  auto r = MappedRegion::Map(file_.fd(), offset, length, /*populate=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(AsString(*r), contents_.substr(offset, length));
}

TEST_F(MappedRegionTest, MapsRangeEndingExactlyAtEndOfFile) {
  const uint64_t offset = contents_.size() - 77;
  auto r = MappedRegion::Map(file_.fd(), offset, 77, /*populate=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(AsString(*r), contents_.substr(offset));
}

TEST_F(MappedRegionTest, BytesSpanMatchesDataAndSize) {
  auto r = MappedRegion::Map(file_.fd(), 3, 10, /*populate=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->bytes().data(), r->data());
  EXPECT_EQ(r->bytes().size(), 10u);
  EXPECT_EQ(r->bytes()[0], static_cast<uint8_t>(contents_[3]));
}

TEST_F(MappedRegionTest, ZeroLengthRangeIsEmpty) {
  auto r = MappedRegion::Map(file_.fd(), 5, 0, /*populate=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->size(), 0u);
  EXPECT_TRUE(r->bytes().empty());
}

TEST_F(MappedRegionTest, ZeroLengthRangeAtEndOfFileIsEmpty) {
  auto r = MappedRegion::Map(file_.fd(), contents_.size(), 0, /*populate=*/false);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->size(), 0u);
}

TEST_F(MappedRegionTest, RangeRunningPastEndIsInvalidArgument) {
  auto r = MappedRegion::Map(file_.fd(), contents_.size() - 10, 11, /*populate=*/false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find(std::to_string(contents_.size())), std::string::npos)
      << r.error().message();
}

TEST_F(MappedRegionTest, OffsetPastEndIsInvalidArgument) {
  auto r = MappedRegion::Map(file_.fd(), contents_.size() + 1, 1, /*populate=*/false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(MappedRegionTest, LengthThatOverflowsOffsetPlusLengthIsInvalidArgument) {
  // offset + length wraps around to a small number; a naive check would accept it.
  auto r = MappedRegion::Map(file_.fd(), 16, UINT64_MAX - 8, /*populate=*/false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(MappedRegionTest, PopulateOnAndOffGiveSameBytes) {
  const uint64_t offset = 2 * PageSize() - 300;
  const uint64_t length = PageSize() + 400;
  auto lazy = MappedRegion::Map(file_.fd(), offset, length, /*populate=*/false);
  auto eager = MappedRegion::Map(file_.fd(), offset, length, /*populate=*/true);
  ASSERT_TRUE(lazy.has_value()) << lazy.error().ToString();
  ASSERT_TRUE(eager.has_value()) << eager.error().ToString();
  EXPECT_EQ(AsString(*eager), AsString(*lazy));
  EXPECT_EQ(AsString(*eager), contents_.substr(offset, length));
}

TEST_F(MappedRegionTest, BadDescriptorIsAnError) {
  auto r = MappedRegion::Map(-1, 0, 1, /*populate=*/false);
  EXPECT_FALSE(r.has_value());
}

TEST_F(MappedRegionTest, MoveConstructionTransfersTheMapping) {
  auto r = MappedRegion::Map(file_.fd(), 10, 20, /*populate=*/false);
  ASSERT_TRUE(r.has_value());
  MappedRegion a = std::move(*r);
  MappedRegion b(std::move(a));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is defined
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(AsString(b), contents_.substr(10, 20));
}

TEST_F(MappedRegionTest, MoveAssignmentReplacesTheMapping) {
  auto r1 = MappedRegion::Map(file_.fd(), 0, 8, /*populate=*/false);
  auto r2 = MappedRegion::Map(file_.fd(), 100, 8, /*populate=*/false);
  ASSERT_TRUE(r1.has_value());
  ASSERT_TRUE(r2.has_value());
  MappedRegion a = std::move(*r1);
  MappedRegion b = std::move(*r2);
  a = std::move(b);
  EXPECT_EQ(AsString(a), contents_.substr(100, 8));
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move)
}

TEST_F(MappedRegionTest, MappingOutlivesTheDescriptor) {
  auto r = MappedRegion::Map(file_.fd(), 50, 60, /*populate=*/false);
  ASSERT_TRUE(r.has_value());
  file_ = ReadOnlyFile();  // closes the descriptor
  EXPECT_EQ(AsString(*r), contents_.substr(50, 60));
}

TEST(MapAllTest, EmptyFileGivesEmptySpan) {
  TempDir dir;
  auto f = ReadOnlyFile::Open(dir.Write("empty", ""));
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  auto r = f->MapAll();
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->bytes().empty());
}

// ---------------------------------------------------------------------------------------------
// ReadOnlyFile

TEST(ReadOnlyFileTest, OpensRegularFileAndReportsSizeAndPath) {
  TempDir dir;
  std::string path = dir.Write("f.txt", "hello world");
  auto f = ReadOnlyFile::Open(path);
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  EXPECT_GE(f->fd(), 0);
  EXPECT_EQ(f->size(), 11u);
  EXPECT_EQ(f->path(), path);
}

TEST(ReadOnlyFileTest, DescriptorIsCloseOnExec) {
  TempDir dir;
  auto f = ReadOnlyFile::Open(dir.Write("f", "x"));
  ASSERT_TRUE(f.has_value());
  int fd_flags = fcntl(f->fd(), F_GETFD);
  ASSERT_GE(fd_flags, 0);
  EXPECT_TRUE(fd_flags & FD_CLOEXEC);
}

TEST(ReadOnlyFileTest, DescriptorIsReadOnly) {
  TempDir dir;
  auto f = ReadOnlyFile::Open(dir.Write("f", "x"));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(write(f->fd(), "y", 1), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(ReadOnlyFileTest, MissingFileIsNotFoundNamingThePath) {
  TempDir dir;
  std::string path = dir / "does-not-exist";
  auto f = ReadOnlyFile::Open(path);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kNotFound);
  EXPECT_NE(f.error().message().find(path), std::string::npos) << f.error().message();
}

TEST(ReadOnlyFileTest, PathThroughAFileIsNotFound) {
  TempDir dir;
  std::string file = dir.Write("plain", "x");
  auto f = ReadOnlyFile::Open(file + "/child");  // ENOTDIR
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kNotFound);
}

TEST(ReadOnlyFileTest, DirectoryIsDataLoss) {
  TempDir dir;
  auto f = ReadOnlyFile::Open(dir.path());
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(f.error().message().find("directory"), std::string::npos) << f.error().message();
  EXPECT_NE(f.error().message().find(dir.path()), std::string::npos) << f.error().message();
}

TEST(ReadOnlyFileTest, CharacterDeviceIsDataLoss) {
  auto f = ReadOnlyFile::Open("/dev/null");
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kDataLoss);
}

TEST(ReadOnlyFileTest, FifoWithoutWriterIsDataLossWithoutBlocking) {
  TempDir dir;
  std::string fifo = dir / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  // A blocking open of a FIFO with no writer never returns; the alarm turns that regression
  // into a killed (failed) test rather than a hung suite.
  ScopedAlarm guard(5);
  auto f = ReadOnlyFile::Open(fifo);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(f.error().message().find("not a regular file"), std::string::npos)
      << f.error().message();
}

TEST(ReadOnlyFileTest, ReadFileToStringOnFifoIsDataLossWithoutBlocking) {
  TempDir dir;
  std::string fifo = dir / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  ScopedAlarm guard(5);
  auto s = ReadFileToString(fifo, 1 << 20);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kDataLoss);
}

TEST(ReadOnlyFileTest, SymlinkIsFollowedByDefault) {
  TempDir dir;
  std::string target = dir.Write("target", "abc");
  std::string link = dir / "link";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  auto f = ReadOnlyFile::Open(link);
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  EXPECT_EQ(f->size(), 3u);
}

TEST(ReadOnlyFileTest, SymlinkIsRefusedWithNoFollow) {
  TempDir dir;
  std::string target = dir.Write("target", "abc");
  std::string link = dir / "link";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  auto f = ReadOnlyFile::Open(link, /*no_follow=*/true);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.error().message().find("symbolic link"), std::string::npos) << f.error().message();
}

TEST(ReadOnlyFileTest, RegularFileIsAcceptedWithNoFollow) {
  TempDir dir;
  auto f = ReadOnlyFile::Open(dir.Write("plain", "abcd"), /*no_follow=*/true);
  ASSERT_TRUE(f.has_value()) << f.error().ToString();
  EXPECT_EQ(f->size(), 4u);
}

TEST(ReadOnlyFileTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root bypasses file permissions";
  TempDir dir;
  std::string path = dir.Write("secret", "x");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  auto f = ReadOnlyFile::Open(path);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code(), StatusCode::kPermissionDenied);
}

TEST(ReadOnlyFileTest, MoveTransfersOwnershipOfTheDescriptor) {
  TempDir dir;
  std::string path = dir.Write("f", "xyz");
  auto f = ReadOnlyFile::Open(path);
  ASSERT_TRUE(f.has_value());
  ReadOnlyFile a = std::move(*f);
  const int fd = a.fd();
  ReadOnlyFile b(std::move(a));
  EXPECT_EQ(a.fd(), -1);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.fd(), fd);
  EXPECT_EQ(b.path(), path);
  EXPECT_EQ(fcntl(fd, F_GETFD), fcntl(b.fd(), F_GETFD));
  EXPECT_GE(fcntl(fd, F_GETFD), 0) << "descriptor closed by the moved-from object";
}

TEST(ReadOnlyFileTest, DestructorClosesTheDescriptor) {
  TempDir dir;
  int fd = -1;
  {
    auto f = ReadOnlyFile::Open(dir.Write("f", "xyz"));
    ASSERT_TRUE(f.has_value());
    fd = f->fd();
  }
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

// ---------------------------------------------------------------------------------------------
// ReadFileToString

TEST(ReadFileToStringTest, ReadsBinaryContentsExactly) {
  TempDir dir;
  std::string contents = PatternBytes(70000);
  contents[5] = '\0';
  auto s = ReadFileToString(dir.Write("bin", contents), 1 << 20);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(*s, contents);
}

TEST(ReadFileToStringTest, EmptyFileGivesEmptyString) {
  TempDir dir;
  auto s = ReadFileToString(dir.Write("empty", ""), 0);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(*s, "");
}

TEST(ReadFileToStringTest, FileExactlyAtLimitIsRead) {
  TempDir dir;
  auto s = ReadFileToString(dir.Write("f", "0123456789"), 10);
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ(*s, "0123456789");
}

TEST(ReadFileToStringTest, FileOneByteOverLimitIsResourceExhausted) {
  TempDir dir;
  std::string path = dir.Write("f", "0123456789");
  auto s = ReadFileToString(path, 9);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(s.error().message().find(path), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("10 bytes"), std::string::npos) << s.error().message();
}

TEST(ReadFileToStringTest, MissingFileIsNotFound) {
  TempDir dir;
  auto s = ReadFileToString(dir / "nope", 100);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kNotFound);
}

TEST(ReadFileToStringTest, DirectoryIsDataLoss) {
  TempDir dir;
  auto s = ReadFileToString(dir.path(), 100);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kDataLoss);
}

// ---------------------------------------------------------------------------------------------
// WriteFileAtomic

TEST(WriteFileAtomicTest, WritesContents) {
  TempDir dir;
  std::string path = dir / "out.bin";
  std::string contents = PatternBytes(12345);
  ASSERT_TRUE(WriteFileAtomic(path, contents).ok());
  EXPECT_EQ(ReadAll(path), contents);
}

TEST(WriteFileAtomicTest, WritesEmptyContents) {
  TempDir dir;
  std::string path = dir / "empty";
  ASSERT_TRUE(WriteFileAtomic(path, "").ok());
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

TEST(WriteFileAtomicTest, ReplacesExistingFile) {
  TempDir dir;
  std::string path = dir.Write("out", "old contents that are longer than the new ones");
  ASSERT_TRUE(WriteFileAtomic(path, "new").ok());
  EXPECT_EQ(ReadAll(path), "new");
}

TEST(WriteFileAtomicTest, ReplacesFileRatherThanWritingThroughIt) {
  // A reader that opened the old file keeps seeing the old bytes: the new file is a new inode.
  TempDir dir;
  std::string path = dir.Write("out", "old");
  auto before = ReadOnlyFile::Open(path);
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(WriteFileAtomic(path, "new!").ok());
  char buf[8] = {};
  ASSERT_EQ(pread(before->fd(), buf, sizeof(buf), 0), 3);
  EXPECT_EQ(std::string(buf, 3), "old");
  EXPECT_EQ(ReadAll(path), "new!");
}

TEST(WriteFileAtomicTest, DefaultModeIs0644) {
  TempDir dir;
  std::string path = dir / "out";
  ScopedUmask mask(022);
  ASSERT_TRUE(WriteFileAtomic(path, "x").ok());
  EXPECT_EQ(ModeBits(path), 0644u);
}

TEST(WriteFileAtomicTest, ModeIsExactDespiteRestrictiveUmask) {
  // The file is fchmod'ed, so the umask does not strip bits from the requested mode.
  TempDir dir;
  std::string path = dir / "out";
  ScopedUmask mask(077);
  ASSERT_TRUE(WriteFileAtomic(path, "x", 0644).ok());
  EXPECT_EQ(ModeBits(path), 0644u);
}

TEST(WriteFileAtomicTest, PrivateModeIsHonoured) {
  TempDir dir;
  std::string path = dir / "key";
  ScopedUmask mask(0);
  ASSERT_TRUE(WriteFileAtomic(path, "secret", 0600).ok());
  EXPECT_EQ(ModeBits(path), 0600u);
}

TEST(WriteFileAtomicTest, ReplacingFileAppliesNewMode) {
  TempDir dir;
  std::string path = dir.Write("out", "old");
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  ASSERT_TRUE(WriteFileAtomic(path, "new", 0600).ok());
  EXPECT_EQ(ModeBits(path), 0600u);
}

TEST(WriteFileAtomicTest, LeavesNoTemporaryFilesBehind) {
  TempDir dir;
  std::string path = dir / "out";
  ASSERT_TRUE(WriteFileAtomic(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two").ok());
  EXPECT_TRUE(OtherEntries(dir.path(), "out").empty())
      << "left behind: " << ::testing::PrintToString(OtherEntries(dir.path(), "out"));
}

TEST(WriteFileAtomicTest, TargetInMissingDirectoryIsNotFound) {
  TempDir dir;
  std::string path = dir / "missing/sub/out";
  Status s = WriteFileAtomic(path, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("missing/sub"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

TEST(WriteFileAtomicTest, TargetThatIsADirectoryFailsAndCleansUp) {
  TempDir dir;
  std::filesystem::create_directory(dir / "target");
  dir.Write("target/inside", "keep");
  Status s = WriteFileAtomic(dir / "target", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir / "target"));
  EXPECT_EQ(ReadAll(dir / "target/inside"), "keep");
  EXPECT_TRUE(OtherEntries(dir.path(), "target").empty())
      << "left behind: " << ::testing::PrintToString(OtherEntries(dir.path(), "target"));
}

TEST(WriteFileAtomicTest, UnwritableDirectoryIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root bypasses directory permissions";
  TempDir dir;
  std::filesystem::create_directory(dir / "ro");
  ASSERT_EQ(chmod((dir / "ro").c_str(), 0555), 0);
  Status s = WriteFileAtomic(dir / "ro/out", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
}

TEST(WriteFileAtomicTest, RelativePathWithoutDirectoryWritesInCurrentDirectory) {
  TempDir dir;
  std::filesystem::path old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  Status s = WriteFileAtomic("plain-name", "abc");
  std::filesystem::current_path(old_cwd);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ReadAll(dir / "plain-name"), "abc");
  EXPECT_TRUE(OtherEntries(dir.path(), "plain-name").empty());
}

// ---------------------------------------------------------------------------------------------
// ErrnoStatus

struct ErrnoCase {
  int err;
  StatusCode code;
};

void PrintTo(const ErrnoCase& c, std::ostream* os) {
  *os << strerrorname_np(c.err) << " -> " << StatusCodeName(c.code);
}

class ErrnoStatusTest : public ::testing::TestWithParam<ErrnoCase> {};

TEST_P(ErrnoStatusTest, MapsErrnoToCode) {
  Status s = ErrnoStatus(GetParam().err, "open", "/x");
  EXPECT_EQ(s.code(), GetParam().code) << s.ToString();
}

INSTANTIATE_TEST_SUITE_P(Table, ErrnoStatusTest,
                         ::testing::Values(ErrnoCase{ENOENT, StatusCode::kNotFound},
                                           ErrnoCase{ENOTDIR, StatusCode::kNotFound},
                                           ErrnoCase{EACCES, StatusCode::kPermissionDenied},
                                           ErrnoCase{EPERM, StatusCode::kPermissionDenied},
                                           ErrnoCase{ELOOP, StatusCode::kInvalidArgument},
                                           ErrnoCase{ENOMEM, StatusCode::kResourceExhausted},
                                           ErrnoCase{ENOSPC, StatusCode::kResourceExhausted},
                                           ErrnoCase{EMFILE, StatusCode::kResourceExhausted},
                                           ErrnoCase{ENFILE, StatusCode::kResourceExhausted},
                                           ErrnoCase{EIO, StatusCode::kUnavailable},
                                           ErrnoCase{EAGAIN, StatusCode::kUnavailable}),
                         [](const ::testing::TestParamInfo<ErrnoCase>& info) {
                           const char* name = strerrorname_np(info.param.err);
                           return std::string(name != nullptr ? name : "unknown");
                         });

TEST(ErrnoStatusMessageTest, SaysWhatPathAndReason) {
  Status s = ErrnoStatus(ENOENT, "cannot open", "/some/file");
  EXPECT_EQ(s.message(), std::string("cannot open /some/file: ") + std::strerror(ENOENT));
}

TEST(ErrnoStatusMessageTest, SymlinkLoopSaysSymbolicLink) {
  Status s = ErrnoStatus(ELOOP, "cannot open", "/l");
  EXPECT_NE(s.message().find("(symbolic link)"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace warden
