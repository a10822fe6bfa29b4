// ThreadPool: a fixed set of worker threads running submitted closures.
//
// ParallelFor(n, fn) runs fn(0..n-1) across the workers and the calling thread, in index
// order of *start* (index i starts no later than index i+1), and returns when all are done.
// Callers that want the biggest jobs first (to balance load) sort their jobs before calling.
//
// Thread-safety: Schedule and ParallelFor may be called from any thread, but ParallelFor must
// not be called from inside a task of the same pool (it would wait on itself).
// The destructor finishes queued tasks, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace warden {

class ThreadPool {
 public:
  // `workers` background threads; 0 is valid (ParallelFor then runs on the caller alone).
  // For "every core", pass HardwareThreads() - 1: the caller of ParallelFor works too.
  explicit ThreadPool(size_t workers);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  // Queues `task` for a worker; with no workers it runs at once on the calling thread.
  void Schedule(std::function<void()> task);

  // Runs fn(i) for every i in [0, n); the calling thread helps. Uses at most size()+1 threads.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

  // The number of hardware threads (at least 1).
  static size_t HardwareThreads();

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace warden
