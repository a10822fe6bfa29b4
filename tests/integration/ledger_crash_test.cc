// Crash safety of `warden ledger append`: a child process appends in a loop through the real
// binary, reporting each acknowledged append (exit 0) on a pipe; the parent SIGKILLs the
// child's whole process group (the running warden included) at random moments, several
// rounds. Afterwards `warden ledger audit` passes and every acknowledged entry is there.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "common/run_binary.h"
#include "common/temp_dir.h"
#include "ledger/ledger.h"

namespace warden {
namespace {

using testing::RunBinary;
using testing::TempDir;

std::string EntryFor(uint64_t n) {
  char hex[65];
  for (int i = 0; i < 64; ++i) hex[i] = "0123456789abcdef"[(n * 7919 + i * 31) % 16];
  hex[64] = 0;
  return std::string("{\"root\": \"sha256:") + hex + "\", \"size\": " + std::to_string(n) +
         ", \"source\": \"crash-test\"}";
}

// Child: appends entries n = first, first+1, ... until killed; writes "index n\n" per ack.
[[noreturn]] void AppendForever(const TempDir& dir, const std::string& db, uint64_t first, int fd) {
  setpgid(0, 0);
  for (uint64_t n = first;; ++n) {
    const std::string file = dir.Write("entry-" + std::to_string(n) + ".json", EntryFor(n));
    auto r = RunBinary(WARDEN_BINARY, {"ledger", "append", "audit-checkpoint", file, "--db", db});
    if (r.exit_code != 0) _exit(3);
    const size_t at = r.out.find("at index ");
    if (at == std::string::npos) _exit(4);
    const std::string line =
        std::to_string(std::stoull(r.out.substr(at + 9))) + " " + std::to_string(n) + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(5);
  }
}

TEST(LedgerCrashTest, KilledAppendsLoseNothingAcknowledged) {
  TempDir dir;
  const std::string db = dir / "crash.ledger";
  auto init = RunBinary(WARDEN_BINARY, {"keygen", "--type", "ed25519", "--out", dir / "log.key"});
  ASSERT_EQ(init.exit_code, 0) << testing::Describe(init);
  init = RunBinary(WARDEN_BINARY, {"ledger", "init", "--db", db, "--key", dir / "log.key"});
  ASSERT_EQ(init.exit_code, 0) << testing::Describe(init);

  std::mt19937 rng(20261129);
  std::map<uint64_t, uint64_t> acked;  // index -> n
  uint64_t next = 1;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      AppendForever(dir, db, next, fds[1]);
    }
    close(fds[1]);
    setpgid(pid, pid);  // also done by the child; whichever runs first
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 250));
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child stopped by itself, status " << status;
    std::string got;
    char buf[4096];
    for (ssize_t k; (k = read(fds[0], buf, sizeof(buf))) > 0;) got.append(buf, k);
    close(fds[0]);
    size_t pos = 0;
    for (size_t nl; (nl = got.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      const std::string line = got.substr(pos, nl - pos);
      const size_t sp = line.find(' ');
      acked[std::stoull(line.substr(0, sp))] = std::stoull(line.substr(sp + 1));
    }
    next += 1000;  // fresh entries each round, so a lost one cannot hide behind a retry
  }
  ASSERT_GE(acked.size(), 5u) << "too few appends were acknowledged to test anything";
  RecordProperty("acknowledged", static_cast<int>(acked.size()));

  auto audit = RunBinary(WARDEN_BINARY, {"ledger", "audit", "--db", db});
  EXPECT_EQ(audit.exit_code, 0) << testing::Describe(audit);

  auto l = ledger::Ledger::Open(db);
  ASSERT_TRUE(l.has_value()) << l.error().ToString();
  for (const auto& [index, n] : acked) {
    auto e = l->store().Get(index);
    ASSERT_TRUE(e.has_value()) << "acknowledged entry " << index << " is missing";
    EXPECT_NE(e->body.find("\"size\":" + std::to_string(n) + ","), std::string::npos)
        << "entry " << index << " holds " << e->body << ", expected size " << n;
  }
  // And the log still works after the crashes.
  auto cp =
      RunBinary(WARDEN_BINARY, {"ledger", "checkpoint", "--db", db, "--key", dir / "log.key"});
  EXPECT_EQ(cp.exit_code, 0) << testing::Describe(cp);
}

}  // namespace
}  // namespace warden
