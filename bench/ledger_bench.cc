// Ledger micro benchmarks: batched durable appends, and proof generation / verification in a
// log of 1M entries.
//
// The 1M-entry ledger is built once and kept at $WARDEN_LEDGER_BENCH_DIR (default /tmp)
// /warden-ledger-bench-1M.db; delete it to rebuild. Appends go to a fresh file per run.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/store.h"

namespace warden::ledger {
namespace {

constexpr uint64_t kBig = 1'000'000;

std::string BenchDir() {
  const char* d = std::getenv("WARDEN_LEDGER_BENCH_DIR");
  return d && *d ? d : "/tmp";
}

// ~160-byte canonical-JSON-like body.
std::string Body(uint64_t i) {
  return "{\"decision\":\"allow\",\"model\":\"llama-3-8b\",\"request\":" + std::to_string(i) +
         ",\"scanners\":[\"pii\",\"prompt-injection\",\"toxicity\"],\"tier\":\"standard\","
         "\"ts\":\"2026-11-29T12:00:00Z\"}";
}

std::vector<std::pair<std::string, std::string>> Batch(uint64_t from, size_t n) {
  std::vector<std::pair<std::string, std::string>> b;
  b.reserve(n);
  for (size_t k = 0; k < n; ++k) b.push_back({"audit-record", Body(from + k)});
  return b;
}

void Die(const Status& s) {
  std::fprintf(stderr, "ledger_bench: %s\n", s.ToString().c_str());
  std::exit(1);
}

LogStore& BigLedger() {
  static LogStore* store = [] {
    const std::string path = BenchDir() + "/warden-ledger-bench-1M.db";
    auto opened = LogStore::Open(path);
    if (opened.ok() && opened->Size() == kBig) return new LogStore(std::move(opened).value());
    std::filesystem::remove(path);
    std::fprintf(stderr, "building %s (1M entries)...\n", path.c_str());
    auto created = LogStore::Create(path, "bench.example/log");
    if (!created.ok()) Die(created.error());
    for (uint64_t i = 0; i < kBig; i += 10000) {
      auto r = created->AppendBatch(Batch(i, 10000));
      if (!r.ok()) Die(r.error());
    }
    return new LogStore(std::move(created).value());
  }();
  return *store;
}

void BM_AppendBatch1000(benchmark::State& state) {
  const std::string path =
      BenchDir() + "/warden-ledger-bench-append-" + std::to_string(getpid()) + ".db";
  std::filesystem::remove(path);
  auto store = LogStore::Create(path, "bench.example/append");
  if (!store.ok()) Die(store.error());
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = Batch(n, 1000);
    state.ResumeTiming();
    auto r = store->AppendBatch(batch);
    if (!r.ok()) Die(r.error());
    n += 1000;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  store = Status(StatusCode::kInternal, "closed");
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}
BENCHMARK(BM_AppendBatch1000)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

void BM_AppendSingle(benchmark::State& state) {
  const std::string path =
      BenchDir() + "/warden-ledger-bench-single-" + std::to_string(getpid()) + ".db";
  std::filesystem::remove(path);
  auto store = LogStore::Create(path, "bench.example/single");
  if (!store.ok()) Die(store.error());
  uint64_t n = 0;
  for (auto _ : state) {
    auto r = store->Append("audit-record", Body(n++));
    if (!r.ok()) Die(r.error());
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  store = Status(StatusCode::kInternal, "closed");
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
}
BENCHMARK(BM_AppendSingle)->Unit(benchmark::kMillisecond)->MinTime(1.0)->UseRealTime();

void BM_InclusionProof_1M(benchmark::State& state) {
  LogStore& store = BigLedger();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto p = store.InclusionProof(rng() % kBig, kBig);
    if (!p.ok()) Die(p.error());
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_InclusionProof_1M)->Unit(benchmark::kMicrosecond);

void BM_VerifyInclusion_1M(benchmark::State& state) {
  LogStore& store = BigLedger();
  const Hash root = *store.Root();
  struct Case {
    uint64_t index;
    Hash leaf;
    std::vector<Hash> proof;
  };
  std::vector<Case> cases;
  std::mt19937_64 rng(2);
  for (int k = 0; k < 256; ++k) {
    const uint64_t i = rng() % kBig;
    cases.push_back({i, store.Get(i)->leaf_hash, *store.InclusionProof(i, kBig)});
  }
  size_t k = 0;
  for (auto _ : state) {
    const Case& c = cases[k++ % cases.size()];
    Status s = VerifyInclusion(c.index, kBig, c.leaf, c.proof, root);
    if (!s.ok()) Die(s);
  }
}
BENCHMARK(BM_VerifyInclusion_1M)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof_1M(benchmark::State& state) {
  LogStore& store = BigLedger();
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    auto p = store.ConsistencyProof(1 + rng() % (kBig - 1), kBig);
    if (!p.ok()) Die(p.error());
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_ConsistencyProof_1M)->Unit(benchmark::kMicrosecond);

void BM_VerifyConsistency_1M(benchmark::State& state) {
  LogStore& store = BigLedger();
  const Hash root = *store.Root();
  struct Case {
    uint64_t size1;
    Hash root1;
    std::vector<Hash> proof;
  };
  std::vector<Case> cases;
  std::mt19937_64 rng(4);
  for (int k = 0; k < 256; ++k) {
    const uint64_t m = 1 + rng() % (kBig - 1);
    cases.push_back({m, *store.RootAt(m), *store.ConsistencyProof(m, kBig)});
  }
  size_t k = 0;
  for (auto _ : state) {
    const Case& c = cases[k++ % cases.size()];
    Status s = VerifyConsistency(c.size1, kBig, c.proof, c.root1, root);
    if (!s.ok()) Die(s);
  }
}
BENCHMARK(BM_VerifyConsistency_1M)->Unit(benchmark::kMicrosecond);

void BM_RootAt_1M(benchmark::State& state) {
  LogStore& store = BigLedger();
  std::mt19937_64 rng(5);
  for (auto _ : state) {
    auto r = store.RootAt(1 + rng() % (kBig - 1));
    if (!r.ok()) Die(r.error());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RootAt_1M)->Unit(benchmark::kMicrosecond);

void BM_OpenLedger_1M(benchmark::State& state) {
  BigLedger();
  const std::string path = BenchDir() + "/warden-ledger-bench-1M.db";
  for (auto _ : state) {
    auto s = LogStore::Open(path);
    if (!s.ok()) Die(s.error());
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_OpenLedger_1M)->Unit(benchmark::kMicrosecond);

void BM_TreeBuilderAppend(benchmark::State& state) {
  TreeBuilder b;
  const Hash leaf = LeafHash("x");
  std::vector<std::pair<Perfect, Hash>> completed;
  for (auto _ : state) {
    completed.clear();
    b.Append(leaf, &completed);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TreeBuilderAppend);

}  // namespace
}  // namespace warden::ledger
