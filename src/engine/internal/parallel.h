// ParallelRunner: a fixed team of threads that runs one function on every member at once,
// with a cheap barrier between the stages of that function.
//
// Why not base/thread_pool.h: a forward pass has ~10 dependent stages per layer (a few
// hundred per token), each only microseconds long when decoding one token. A queue with a
// mutex and a condition variable per stage costs tens of microseconds of wake-ups each;
// here the team is woken once per Run and then synchronises with spinning barriers (an
// atomic counter and a phase flag), which cost well under a microsecond while the team is
// busy. Idle workers spin briefly after a Run (the next one usually follows at once: the
// next token) and then sleep on a futex (std::atomic::wait), so an idle Context burns no CPU.
// Every spin loop yields the CPU after a while so that an oversubscribed machine (more
// threads than free cores) degrades gracefully instead of livelocking.
//
// Usage: runner.Run(n, [&](size_t tid, size_t n) { ...stage 1, my share...;
// runner.Barrier(); ...stage 2...; }). The caller of Run is member 0; it returns when every
// member returned. Every member must call Barrier() the same number of times in one Run.
//
// Thread-safety: Run must not be called concurrently or from inside a Run. Barrier may only
// be called from inside a Run, by members. Header-only until it gets its own .cc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace warden::engine::internal {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_pause();
#endif
}

class ParallelRunner {
 public:
  // `n_threads` members in all, the caller included (>= 1); n_threads - 1 workers start now.
  explicit ParallelRunner(size_t n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
    workers_.reserve(n_threads_ - 1);
    for (size_t i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
  }

  ~ParallelRunner() {
    stopping_.store(true, std::memory_order_relaxed);
    Wake();
    for (std::thread& t : workers_) t.join();
  }

  ParallelRunner(const ParallelRunner&) = delete;
  ParallelRunner& operator=(const ParallelRunner&) = delete;

  size_t size() const { return n_threads_; }

  // Runs fn(tid, n) on members 0..n-1, n = min(n_active, size()) (at least 1); returns when
  // all have returned. With n == 1 the caller runs fn alone and no worker is woken (small
  // jobs are not worth a wake-up).
  template <typename Fn>
  void Run(size_t n_active, Fn&& fn) {
    const size_t n = n_active < 1 ? 1 : (n_active > n_threads_ ? n_threads_ : n_active);
    active_ = n;
    if (n == 1) {
      fn(size_t{0}, size_t{1});
      return;
    }
    task_ = &fn;
    trampoline_ = [](void* f, size_t tid, size_t n) { (*static_cast<Fn*>(f))(tid, n); };
    done_.store(0, std::memory_order_relaxed);
    Wake();
    fn(size_t{0}, n);
    // Wait for the workers to finish this Run before `fn` (on our stack) goes away.
    SpinUntil([&] { return done_.load(std::memory_order_acquire) == n_threads_ - 1; });
  }
  template <typename Fn>
  void Run(Fn&& fn) {
    Run(n_threads_, std::forward<Fn>(fn));
  }

  // Waits until every active member has reached this barrier (inside Run only).
  void Barrier() {
    if (active_ == 1) return;
    const uint32_t phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == active_) {
      arrived_.store(0, std::memory_order_relaxed);
      phase_.store(phase + 1, std::memory_order_release);
      return;
    }
    SpinUntil([&] { return phase_.load(std::memory_order_acquire) != phase; });
  }

 private:
  // Pause-spins this many rounds (~10-30 us) before yielding the CPU at each further round:
  // long enough to cover the imbalance between members of one stage, short enough not to
  // burn a time slice when the member waited for has been descheduled.
  static constexpr int kSpinsBeforeYield = 256;
  // An idle worker keeps polling this many rounds (yielding after the spins) before it
  // sleeps on the futex: the next Run (the next token) usually comes within microseconds.
  static constexpr int kPollsBeforeSleep = 4096;

  template <typename Pred>
  static void SpinUntil(Pred done) {
    for (int i = 0; !done(); ++i) {
      if (i < kSpinsBeforeYield) {
        CpuRelax();
      } else {
        std::this_thread::yield();
      }
    }
  }

  void Wake() {
    // seq_cst on both sides (here and in WorkerLoop) so that either the worker sees the new
    // epoch or we see it registered as a sleeper: a wake-up cannot be lost.
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) epoch_.notify_all();
  }

  void WorkerLoop(size_t tid) {
    uint64_t seen = 0;
    for (;;) {
      int polls = 0;
      uint64_t now;
      while ((now = epoch_.load(std::memory_order_acquire)) == seen) {
        if (polls < kSpinsBeforeYield) {
          CpuRelax();
        } else if (polls < kPollsBeforeSleep) {
          std::this_thread::yield();
        } else {
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          if (epoch_.load(std::memory_order_seq_cst) == seen) {
            epoch_.wait(seen, std::memory_order_seq_cst);
          }
          sleepers_.fetch_sub(1, std::memory_order_seq_cst);
        }
        ++polls;
      }
      seen = now;
      if (stopping_.load(std::memory_order_relaxed)) return;
      if (tid < active_) trampoline_(task_, tid, active_);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  const size_t n_threads_;
  std::vector<std::thread> workers_;
  // The current task; written by Run before the epoch is bumped (the release in Wake
  // publishes it), read by workers after they see the new epoch.
  void* task_ = nullptr;
  void (*trampoline_)(void*, size_t, size_t) = nullptr;
  size_t active_ = 1;  // members taking part in the current Run
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint32_t> sleepers_{0};
  std::atomic<size_t> done_{0};
  std::atomic<bool> stopping_{false};
  // Barrier state.
  std::atomic<size_t> arrived_{0};
  std::atomic<uint32_t> phase_{0};
};

}  // namespace warden::engine::internal
