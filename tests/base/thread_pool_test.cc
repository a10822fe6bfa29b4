#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace warden {
namespace {

using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// ParallelFor visits each index exactly once, for a grid of sizes and worker counts.

struct GridCase {
  size_t workers;
  size_t n;
};

void PrintTo(const GridCase& c, std::ostream* os) {
  *os << "workers=" << c.workers << " n=" << c.n;
}

class ParallelForGridTest : public ::testing::TestWithParam<GridCase> {};

TEST_P(ParallelForGridTest, VisitsEveryIndexExactlyOnce) {
  const auto [workers, n] = GetParam();
  ThreadPool pool(workers);
  std::vector<std::atomic<int>> visits(n);
  pool.ParallelFor(n, [&](size_t i) {
    ASSERT_LT(i, n);
    visits[i].fetch_add(1);
  });
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(visits[i].load(), 1) << "index " << i;
}

std::vector<GridCase> Grid() {
  std::vector<GridCase> out;
  for (size_t workers : {0, 1, 3}) {
    for (size_t n : {0, 1, 2, 7, 1000}) out.push_back({workers, n});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Sizes, ParallelForGridTest, ::testing::ValuesIn(Grid()),
                         [](const ::testing::TestParamInfo<GridCase>& info) {
                           return "Workers" + std::to_string(info.param.workers) + "N" +
                                  std::to_string(info.param.n);
                         });

// ---------------------------------------------------------------------------------------------

TEST(ThreadPoolTest, SizeIsTheNumberOfWorkers) {
  EXPECT_EQ(ThreadPool(0).size(), 0u);
  EXPECT_EQ(ThreadPool(3).size(), 3u);
}

TEST(ThreadPoolTest, HardwareThreadsIsAtLeastOne) { EXPECT_GE(ThreadPool::HardwareThreads(), 1u); }

TEST(ThreadPoolTest, ParallelForWithZeroNeverCallsFn) {
  ThreadPool pool(2);
  std::atomic<int> calls{0};
  pool.ParallelFor(0, [&](size_t) { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 0);
}

TEST(ThreadPoolTest, ParallelForWithoutWorkersRunsOnCallingThread) {
  ThreadPool pool(0);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  pool.ParallelFor(50, [&](size_t) {
    if (std::this_thread::get_id() != caller) elsewhere.fetch_add(1);
  });
  EXPECT_EQ(elsewhere.load(), 0);
}

TEST(ThreadPoolTest, ParallelForReturnsOnlyAfterEveryCallHasFinished) {
  ThreadPool pool(3);
  std::atomic<int> finished{0};
  pool.ParallelFor(8, [&](size_t) {
    std::this_thread::sleep_for(milliseconds(5));
    finished.fetch_add(1);
  });
  EXPECT_EQ(finished.load(), 8);
}

TEST(ThreadPoolTest, ParallelForRunsOnMoreThanOneThreadWhenWorkersExist) {
  ThreadPool pool(3);
  std::mutex mu;
  std::set<std::thread::id> ids;
  // Each call sleeps long enough that idle workers pick up indices before the caller has
  // drained them all; 16 x 10 ms spread over 4 threads is ~40 ms of wall time.
  pool.ParallelFor(16, [&](size_t) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(milliseconds(10));
  });
  EXPECT_GT(ids.size(), 1u);
  EXPECT_LE(ids.size(), 4u) << "ParallelFor may use at most size()+1 threads";
}

TEST(ThreadPoolTest, ParallelForUsesAtMostSizePlusOneThreads) {
  ThreadPool pool(1);
  std::mutex mu;
  std::set<std::thread::id> ids;
  pool.ParallelFor(20, [&](size_t) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(milliseconds(1));
  });
  EXPECT_LE(ids.size(), 2u);
}

TEST(ThreadPoolTest, ParallelForFromSeveralThreadsConcurrentlyOnOnePool) {
  ThreadPool pool(3);
  constexpr size_t kCallers = 4;
  constexpr size_t kN = 500;
  std::vector<std::vector<std::atomic<int>>> visits(kCallers);
  for (auto& v : visits) v = std::vector<std::atomic<int>>(kN);
  std::vector<std::thread> callers;
  for (size_t c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 5; ++round) {
        pool.ParallelFor(kN, [&, c](size_t i) { visits[c][i].fetch_add(1); });
      }
    });
  }
  for (auto& t : callers) t.join();
  for (size_t c = 0; c < kCallers; ++c) {
    for (size_t i = 0; i < kN; ++i) {
      ASSERT_EQ(visits[c][i].load(), 5) << "caller " << c << " index " << i;
    }
  }
}

TEST(ThreadPoolTest, PoolIsReusableAcrossManyParallelForCalls) {
  ThreadPool pool(2);
  std::atomic<size_t> sum{0};
  for (int round = 0; round < 200; ++round) {
    pool.ParallelFor(10, [&](size_t i) { sum.fetch_add(i); });
  }
  EXPECT_EQ(sum.load(), 200u * 45u);
}

TEST(ThreadPoolTest, ScheduledTasksAllRunBeforeDestructionReturns) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 100; ++i) {
      pool.Schedule([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        ran.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolTest, ScheduledTasksRunOnWorkerThreads) {
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> on_caller{0};
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 10; ++i) {
      pool.Schedule([&] {
        if (std::this_thread::get_id() == caller) on_caller.fetch_add(1);
        ran.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(ran.load(), 10);
  EXPECT_EQ(on_caller.load(), 0);
}

TEST(ThreadPoolTest, TasksScheduledByTasksDuringShutdownStillRun) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(1);
    pool.Schedule([&] {
      std::this_thread::sleep_for(milliseconds(20));  // destructor starts meanwhile
      pool.Schedule([&] { ran.fetch_add(1); });
      ran.fetch_add(1);
    });
  }
  EXPECT_EQ(ran.load(), 2);
}

TEST(ThreadPoolTest, ScheduleFromManyThreadsRunsEveryTask) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(3);
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p) {
      producers.emplace_back([&] {
        for (int i = 0; i < 250; ++i) pool.Schedule([&] { ran.fetch_add(1); });
      });
    }
    for (auto& t : producers) t.join();
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPoolTest, ParallelForCompletesWhileWorkersAreBusyWithScheduledTasks) {
  // Helpers queue behind the long task; the caller must still finish every index.
  ThreadPool pool(1);
  std::atomic<bool> release{false};
  pool.Schedule([&] {
    while (!release.load()) std::this_thread::sleep_for(milliseconds(1));
  });
  std::vector<std::atomic<int>> visits(20);
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(20));
    release.store(true);
  });
  pool.ParallelFor(visits.size(), [&](size_t i) { visits[i].fetch_add(1); });
  releaser.join();
  for (size_t i = 0; i < visits.size(); ++i) EXPECT_EQ(visits[i].load(), 1) << "index " << i;
}

// With no worker thread nobody would drain the queue: Schedule runs the task itself.
TEST(ThreadPoolTest, ScheduledTaskRunsBeforeDestructionWithZeroWorkers) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(0);
    pool.Schedule([&] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace warden
