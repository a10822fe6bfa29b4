// Micro benchmarks of the matrix products in engine/kernels.h, one thread.
//
// BM_MatMul/type/rows/cols/tokens/isa: decode is tokens = 1 (a matrix-vector product, bound by
// how fast the weights stream: see bytes_per_second), prefill is tokens = 128 (bound by
// arithmetic: see FLOP/s, 2 per multiply-add). The times include preparing the input
// (activation quantization), as the forward pass pays it on every call.
// BM_MatMulDecode2Threads: decode of the large shape split over 2 threads (wall time).
// BM_AttentionF16: one query's attention over an F16 KV cache (kernels.h's F16 row helpers
// against per-element conversions).
// BM_StreamCopy is a STREAM-like copy of 2 x 128 MiB, for the machine's memory bandwidth.
//
// Run: build/bench/kernels_bench [--benchmark_filter=Q8_0]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "base/thread_pool.h"
#include "engine/kernels.h"
#include "formats/ggml_types.h"

namespace warden::engine {
namespace {

using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ8_0;

// Cheap deterministic filler: the values do not affect the speed of these kernels, only
// their layout does (large random-number generators would dominate start-up).
uint32_t NextRandom(uint32_t& state) {
  state = state * 1664525u + 1013904223u;
  return state >> 8;
}

// Weight bytes of the given shape, built once per shape and kept for the whole run.
const std::string& Weights(uint32_t type, size_t rows, size_t cols) {
  static std::map<std::tuple<uint32_t, size_t, size_t>, std::string> cache;
  std::string& bytes = cache[{type, rows, cols}];
  if (!bytes.empty()) return bytes;
  const size_t row_bytes = WeightRowBytes(type, cols);
  bytes.resize(rows * row_bytes);
  uint32_t state = 12345;
  auto* p = reinterpret_cast<uint8_t*>(bytes.data());
  for (size_t i = 0; i < bytes.size(); ++i) p[i] = static_cast<uint8_t>(NextRandom(state));
  // Give every element (F32, F16) or block scale (Q8_0, Q4_0) a sane finite value.
  const uint16_t scale = F32ToF16(0.01f);
  if (type == kGgmlTypeF32) {
    for (size_t i = 0; i < rows * cols; ++i) {
      const float v = static_cast<float>(NextRandom(state) % 2001) / 1000.0f - 1.0f;
      std::memcpy(p + 4 * i, &v, 4);
    }
  } else if (type == kGgmlTypeF16) {
    for (size_t i = 0; i < rows * cols; ++i) {
      const uint16_t h = F32ToF16(static_cast<float>(NextRandom(state) % 2001) / 1000.0f - 1.0f);
      std::memcpy(p + 2 * i, &h, 2);
    }
  } else {
    // The f16 scales of each block: Q8_0 and Q4_0 start with one, Q4_K with two (d, dmin),
    // Q6_K ends with one.
    const size_t block_bytes = WeightRowBytes(type, WeightBlockSize(type));
    std::vector<size_t> scale_offsets = {0};
    if (type == formats::kGgmlTypeQ4_K) scale_offsets = {0, 2};
    if (type == kGgmlTypeQ6_K) scale_offsets = {block_bytes - 2};
    for (size_t off = 0; off < bytes.size(); off += block_bytes) {
      for (size_t s : scale_offsets) std::memcpy(p + off + s, &scale, 2);
    }
  }
  return bytes;
}

void BM_MatMul(benchmark::State& state) {
  const auto type = static_cast<uint32_t>(state.range(0));
  const auto rows = static_cast<size_t>(state.range(1));
  const auto cols = static_cast<size_t>(state.range(2));
  const auto n_tokens = static_cast<size_t>(state.range(3));
  const auto isa = static_cast<KernelIsa>(state.range(4));
  const KernelIsa saved = ActiveIsa();
  SetIsaForTesting(isa);
  if (ActiveIsa() != isa) {
    SetIsaForTesting(saved);
    state.SkipWithError(("no " + std::string(IsaName(isa)) + " on this CPU").c_str());
    return;
  }
  const std::string& bytes = Weights(type, rows, cols);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     WeightRowBytes(type, cols)};
  std::vector<float> x(n_tokens * cols);
  uint32_t seed = 7;
  for (float& v : x) v = static_cast<float>(NextRandom(seed) % 2001) / 1000.0f - 1.0f;
  std::vector<float> y(n_tokens * rows);
  MatMulInput input;
  for (auto _ : state) {
    input.Prepare(type, x.data(), n_tokens, cols);
    MatMul(w, input, y.data(), rows, 0, rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  SetIsaForTesting(saved);
  const auto iterations = static_cast<int64_t>(state.iterations());
  state.SetBytesProcessed(iterations * static_cast<int64_t>(bytes.size()));
  state.SetItemsProcessed(iterations * static_cast<int64_t>(n_tokens));  // tokens
  state.counters["FLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(rows * cols * n_tokens) * static_cast<double>(iterations),
      benchmark::Counter::kIsRate);
  state.SetLabel(formats::GgmlTypeName(type) + " " + std::string(IsaName(isa)) +
                 (n_tokens == 1 ? " decode" : " prefill"));
}

void MatMulArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"type", "rows", "cols", "tokens", "isa"});
  for (int64_t type : {kGgmlTypeF32, kGgmlTypeF16, kGgmlTypeQ8_0, kGgmlTypeQ4_0,
                       formats::kGgmlTypeQ4_K, kGgmlTypeQ6_K}) {
    for (KernelIsa isa : {KernelIsa::kAvx512, KernelIsa::kAvx2, KernelIsa::kScalar}) {
      for (int64_t tokens : {1, 128}) {
        // AVX-512 decode has its own kernels for Q8_0 and F16 only (the rest runs the AVX2
        // code).
        const bool avx512_decode = type == kGgmlTypeQ8_0 || type == kGgmlTypeF16;
        if (isa == KernelIsa::kAvx512 && tokens == 1 && !avx512_decode) continue;
        b->Args({type, 768, 768, tokens, static_cast<int64_t>(isa)});
        b->Args({type, 3072, 768, tokens, static_cast<int64_t>(isa)});
      }
      // Short prefills (one and two AVX-512 token panels) to see where the vector paths
      // stand at the prefill threshold.
      if (isa != KernelIsa::kScalar) {
        for (int64_t tokens : {16, 32})
          b->Args({type, 3072, 768, tokens, static_cast<int64_t>(isa)});
      }
      // Larger than any core's private caches: decode streams from the shared cache or memory
      // (not the scalar path: it is not the one to size memory bandwidth with).
      if (isa == KernelIsa::kAvx2 ||
          (isa == KernelIsa::kAvx512 && (type == kGgmlTypeQ8_0 || type == kGgmlTypeF16))) {
        b->Args({type, 8192, 4096, 1, static_cast<int64_t>(isa)});
      }
    }
  }
}
BENCHMARK(BM_MatMul)->Apply(MatMulArgs)->MinTime(0.2)->Unit(benchmark::kMicrosecond);

// Decode on 2 threads (each takes half the rows), the engine's configuration for the
// bandwidth target. ThreadPool's wake-up costs a few microseconds per call, small next to
// these matrices.
void BM_MatMulDecode2Threads(benchmark::State& state) {
  const auto type = static_cast<uint32_t>(state.range(0));
  const size_t rows = 8192, cols = 4096;
  const std::string& bytes = Weights(type, rows, cols);
  const WeightView w{type, reinterpret_cast<const uint8_t*>(bytes.data()), rows, cols,
                     WeightRowBytes(type, cols)};
  std::vector<float> x(cols, 0.5f), y(rows);
  MatMulInput input;
  ThreadPool pool(1);
  for (auto _ : state) {
    input.Prepare(type, x.data(), 1, cols);
    pool.ParallelFor(
        2, [&](size_t i) { MatMul(w, input, y.data(), rows, i * rows / 2, (i + 1) * rows / 2); });
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(bytes.size()));
  state.SetLabel(formats::GgmlTypeName(type) + " " + std::string(IsaName(ActiveIsa())));
}
BENCHMARK(BM_MatMulDecode2Threads)
    ->Arg(kGgmlTypeF32)
    ->Arg(kGgmlTypeF16)
    ->Arg(kGgmlTypeQ8_0)
    ->Arg(kGgmlTypeQ4_0)
    ->Arg(formats::kGgmlTypeQ4_K)
    ->Arg(kGgmlTypeQ6_K)
    ->MinTime(0.3)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// One query's attention over an F16 cache, as an online softmax (head_dim 64, 256 keys): the
// row helpers of kernels.h (arg 1) against the same arithmetic one element at a time through
// F16ToF32/F32ToF16 (arg 0, how engine/context.cc wrote it first; the same arithmetic but
// for the order of the dot product's double partial sums).
void BM_AttentionF16(benchmark::State& state) {
  const bool rows = state.range(0) != 0;
  constexpr size_t kHeadDim = 64, kKeys = 256;
  std::vector<uint16_t> k(kKeys * kHeadDim), v(kKeys * kHeadDim), acc(kHeadDim);
  std::vector<float> q(kHeadDim);
  uint32_t seed = 3;
  auto random_value = [&] { return static_cast<float>(NextRandom(seed) % 2001) / 1000.0f - 1.0f; };
  for (uint16_t& h : k) h = F32ToF16(random_value());
  for (uint16_t& h : v) h = F32ToF16(random_value());
  for (float& f : q) f = random_value();
  for (auto _ : state) {
    std::fill(acc.begin(), acc.end(), uint16_t{0});
    float max = -1e30f;
    for (size_t j = 0; j < kKeys; ++j) {
      const uint16_t* kj = k.data() + j * kHeadDim;
      const uint16_t* vj = v.data() + j * kHeadDim;
      float s = 0;
      if (rows) {
        s = DotF32F16Row(q.data(), kj, kHeadDim);
      } else {
        double sum = 0;
        for (size_t i = 0; i < kHeadDim; ++i) sum += static_cast<double>(q[i] * F16ToF32(kj[i]));
        s = static_cast<float>(sum);
      }
      float weight = 1.0f;
      if (s > max) {
        const float rescale = std::exp(max - s);
        max = s;
        if (rows) {
          ScaleF16Row(rescale, acc.data(), kHeadDim);
        } else {
          for (size_t i = 0; i < kHeadDim; ++i) acc[i] = F32ToF16(F16ToF32(acc[i]) * rescale);
        }
      } else {
        weight = std::exp(s - max);
      }
      if (rows) {
        AxpyF16Row(weight, vj, acc.data(), kHeadDim);
      } else {
        for (size_t i = 0; i < kHeadDim; ++i) {
          acc[i] = F32ToF16(std::fma(F16ToF32(vj[i]), weight, F16ToF32(acc[i])));
        }
      }
    }
    benchmark::DoNotOptimize(acc.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kKeys));  // keys
  state.SetLabel(std::string(rows ? "row helpers " : "per element ") +
                 std::string(IsaName(ActiveIsa())));
}
BENCHMARK(BM_AttentionF16)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_StreamCopy(benchmark::State& state) {
  constexpr size_t kBytes = size_t{128} << 20;
  std::vector<char> a(kBytes, 1), b(kBytes, 2);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), kBytes);
    benchmark::ClobberMemory();
  }
  // STREAM counts a copy as read + write.
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 * kBytes);
}
BENCHMARK(BM_StreamCopy)->MinTime(0.5)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warden::engine
