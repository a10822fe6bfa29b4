// Kill -9 durability: a child process appends and reports every acknowledged index through a
// pipe; the parent kills it at random moments, reopens the ledger and checks that it audits
// clean and that every acknowledged entry is there with its body.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "ledger/store.h"

namespace warden::ledger {
namespace {

struct Ack {
  uint64_t index;
  uint64_t seq;  // the child's sequence number, which names the body
};

std::string BodyFor(int round, uint64_t seq) {
  return "{\"round\":" + std::to_string(round) + ",\"seq\":" + std::to_string(seq) + "}";
}

// The child: append forever (single entries and batches), writing an Ack after each returns.
[[noreturn]] void ChildAppendLoop(const std::string& path, int round, int fd, uint64_t seed) {
  auto store = LogStore::Open(path);
  if (!store.ok()) _exit(3);
  std::mt19937_64 rng(seed);
  uint64_t seq = 0;
  while (true) {
    const size_t batch = (rng() % 4 == 0) ? 1 + rng() % 50 : 1;
    std::vector<std::pair<std::string, std::string>> entries;
    for (size_t i = 0; i < batch; ++i) entries.push_back({"crash", BodyFor(round, seq + i)});
    auto r = store->AppendBatch(entries);
    if (!r.ok()) _exit(4);
    for (size_t i = 0; i < r->size(); ++i) {
      Ack a{(*r)[i].index, seq + i};
      if (write(fd, &a, sizeof(a)) != static_cast<ssize_t>(sizeof(a))) _exit(5);
    }
    seq += batch;
  }
}

// Reads every complete Ack available on `fd` until EOF.
void DrainAcks(int fd, std::vector<Ack>* acks) {
  Ack a;
  size_t have = 0;
  char* p = reinterpret_cast<char*>(&a);
  while (true) {
    const ssize_t n = read(fd, p + have, sizeof(a) - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    if (have == sizeof(a)) {
      acks->push_back(a);
      have = 0;
    }
  }
}

TEST(CrashDurability, AcknowledgedAppendsSurviveSigkill) {
  testing::TempDir dir;
  const std::string path = dir / "ledger.db";
  { ASSERT_TRUE(LogStore::Create(path, "crash.example/log").ok()); }
  std::mt19937_64 rng(20261129);
  constexpr int kRounds = 6;
  uint64_t total_acked = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const uint64_t seed = rng();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildAppendLoop(path, round, fds[1], seed);
    }
    close(fds[1]);
    // Wait for the first ack (the child is up and appending), then a random while more.
    pollfd pfd{fds[0], POLLIN, 0};
    ASSERT_EQ(poll(&pfd, 1, 10000), 1) << "child never acknowledged an append";
    usleep(static_cast<useconds_t>(1000 + rng() % 120000));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);
    std::vector<Ack> acks;
    DrainAcks(fds[0], &acks);
    close(fds[0]);
    ASSERT_FALSE(acks.empty());
    total_acked += acks.size();

    auto store = LogStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    Status audit = store->Audit();
    ASSERT_TRUE(audit.ok()) << audit.ToString();
    for (const Ack& a : acks) {
      auto e = store->Get(a.index);
      ASSERT_TRUE(e.ok()) << "acknowledged index " << a.index << ": " << e.error().ToString();
      ASSERT_EQ(e->body, BodyFor(round, a.seq)) << "index " << a.index;
    }
    // A consistency proof from the size before this round still verifies.
    const uint64_t size = store->Size();
    ASSERT_GE(size, acks.back().index + 1);
    if (acks.front().index > 0) {
      const uint64_t old = acks.front().index;
      auto proof = store->ConsistencyProof(old, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(old, size, *proof, *store->RootAt(old), *store->Root()).ok());
    }
  }
  EXPECT_GT(total_acked, static_cast<uint64_t>(kRounds));
}

}  // namespace
}  // namespace warden::ledger
