// engine_tool: the measuring half of bench/compare/engine.sh.
//
//   engine_tool write-model --type q8_0 --out M.gguf [--embd 768 --layers 12 --ff 2048
//                           --heads 12 --kv-heads 12 --vocab 16000 --ctx 1024]
//       writes a synthetic llama model with random weights (engine/synthetic_model.h);
//   engine_tool bandwidth [--threads 2] [--mib 512] [--reps 5]
//       STREAM-like copy and read bandwidth of this machine, median of reps, GB/s;
//   engine_tool run --model M.gguf [--threads 2] [--prompt 128] [--decode 64] [--reps 5]
//       prefill of a --prompt-token batch and --decode single-token steps through the engine's
//       Context (the code path `warden generate` uses), medians in tokens/s, plus the bytes
//       one decode step must read and the peak RSS.
// Output is one "key value" pair per line so the script can pick figures.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

#include "engine/context.h"
#include "engine/kernels.h"
#include "engine/model.h"
#include "engine/synthetic_model.h"
#include "formats/ggml_types.h"

namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

const char* Arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}
long ArgInt(int argc, char** argv, const char* name, long fallback) {
  const char* v = Arg(argc, argv, name, nullptr);
  return v ? std::strtol(v, nullptr, 10) : fallback;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "engine_tool: %s\n", what.c_str());
  return 1;
}

uint32_t TypeId(const std::string& name) {
  if (name == "f32") return warden::formats::kGgmlTypeF32;
  if (name == "f16") return warden::formats::kGgmlTypeF16;
  if (name == "q8_0") return warden::formats::kGgmlTypeQ8_0;
  if (name == "q4_0") return warden::formats::kGgmlTypeQ4_0;
  return UINT32_MAX;
}

int WriteModel(int argc, char** argv) {
  warden::engine::SyntheticModelSpec spec;
  spec.weight_type = TypeId(Arg(argc, argv, "--type", "q8_0"));
  if (spec.weight_type == UINT32_MAX) return Fail("--type: f32, f16, q8_0 or q4_0");
  spec.n_embd = ArgInt(argc, argv, "--embd", 768);
  spec.n_layer = ArgInt(argc, argv, "--layers", 12);
  spec.n_ff = ArgInt(argc, argv, "--ff", 2048);
  spec.n_head = ArgInt(argc, argv, "--heads", 12);
  spec.n_head_kv = ArgInt(argc, argv, "--kv-heads", 12);
  spec.n_vocab = ArgInt(argc, argv, "--vocab", 16000);
  spec.n_ctx = ArgInt(argc, argv, "--ctx", 1024);
  spec.seed = 1;
  const char* out = Arg(argc, argv, "--out", nullptr);
  if (out == nullptr) return Fail("write-model needs --out");
  warden::Status s = warden::engine::WriteSyntheticModel(spec, out);
  if (!s.ok()) return Fail(s.message());
  return 0;
}

// Sums n words with four independent 256-bit accumulators: as fast as the memory can deliver
// (a scalar loop is limited by the core, ~16 GB/s here, below what decode itself streams).
__attribute__((target("avx2"))) uint64_t SumWordsAvx2(const uint64_t* p, size_t n) {
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      acc[k] = _mm256_add_epi64(
          acc[k], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 4 * k)));
    }
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(acc[0], acc[1]),
                                      _mm256_add_epi64(acc[2], acc[3])));
  uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) sum += p[i];
  return sum;
}

uint64_t SumWords(const uint64_t* p, size_t n) {
  if (__builtin_cpu_supports("avx2")) return SumWordsAvx2(p, n);
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  for (; i < n; ++i) s0 += p[i];
  return s0 + s1 + s2 + s3;
}

// Copy: a[i] -> b[i] over two arrays much larger than the caches, split across threads;
// counts read + write bytes as STREAM does. Read: a sum over one array (reads only).
int Bandwidth(int argc, char** argv) {
  const size_t threads = ArgInt(argc, argv, "--threads", 2);
  const size_t bytes = static_cast<size_t>(ArgInt(argc, argv, "--mib", 512)) << 20;
  const int reps = ArgInt(argc, argv, "--reps", 5);
  const size_t n = bytes / sizeof(uint64_t);
  std::vector<uint64_t> a(n, 1), b(n, 0);
  auto parallel = [&](auto&& body) {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] { body(n * t / threads, n * (t + 1) / threads); });
    }
    for (auto& th : pool) th.join();
  };
  std::vector<double> copy, read;
  std::vector<uint64_t> sums(threads);
  for (int r = 0; r < reps + 1; ++r) {  // the first round warms up (page faults)
    auto t0 = Clock::now();
    parallel([&](size_t lo, size_t hi) { std::memcpy(&b[lo], &a[lo], (hi - lo) * 8); });
    const double c = std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    // Four interleaved streams per thread, as a matrix product reads several rows at once:
    // one sequential stream per core leaves memory-level parallelism unused and reads slower
    // than decode itself does.
    parallel([&](size_t lo, size_t hi) {
      constexpr size_t kStreams = 4, kChunk = 4096;  // words per step of each stream
      const size_t len = (hi - lo) / kStreams;
      uint64_t sum = 0;
      for (size_t off = 0; off < len; off += kChunk) {
        const size_t n_words = std::min(kChunk, len - off);
        for (size_t k = 0; k < kStreams; ++k) sum += SumWords(&a[lo + k * len + off], n_words);
      }
      sums[lo * threads / n] = sum;
    });
    const double rd = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r > 0) {
      copy.push_back(2.0 * bytes / c / 1e9);
      read.push_back(1.0 * bytes / rd / 1e9);
    }
  }
  uint64_t check = 0;
  for (uint64_t s : sums) check += s;
  std::printf("copy_gbs %.3f\nread_gbs %.3f\nchecksum %llu\n", Median(copy), Median(read),
              static_cast<unsigned long long>(check % 7));
  return 0;
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

int Run(int argc, char** argv) {
  const char* path = Arg(argc, argv, "--model", nullptr);
  if (path == nullptr) return Fail("run needs --model");
  const uint32_t threads = ArgInt(argc, argv, "--threads", 2);
  const size_t n_prompt = ArgInt(argc, argv, "--prompt", 128);
  const size_t n_decode = ArgInt(argc, argv, "--decode", 64);
  const int reps = ArgInt(argc, argv, "--reps", 5);

  auto model = warden::engine::Model::Load(path);
  if (!model) return Fail(model.error().message());
  const auto& cfg = (*model)->config();
  warden::engine::ContextOptions options;
  options.threads = threads;
  options.n_ctx = static_cast<uint32_t>(n_prompt + n_decode + 1);
  auto ctx = warden::engine::Context::Create(*model, options);
  if (!ctx) return Fail(ctx.error().message());

  std::vector<warden::engine::Token> prompt(n_prompt);
  for (size_t i = 0; i < n_prompt; ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 3) % cfg.n_vocab);

  std::vector<double> prefill_tps, decode_tps;
  for (int r = 0; r < reps + 1; ++r) {  // round 0 warms the page cache and the buffers
    (*ctx)->Reset();
    auto t0 = Clock::now();
    auto logits = (*ctx)->Decode(prompt);
    if (!logits) return Fail(logits.error().message());
    const double p = std::chrono::duration<double>(Clock::now() - t0).count();
    warden::engine::Token next = 1;
    t0 = Clock::now();
    for (size_t i = 0; i < n_decode; ++i) {
      auto l = (*ctx)->Decode(std::span<const warden::engine::Token>(&next, 1));
      if (!l) return Fail(l.error().message());
      next = static_cast<int32_t>(std::max_element(l->begin(), l->end()) - l->begin());
    }
    const double d = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r > 0) {
      prefill_tps.push_back(n_prompt / p);
      decode_tps.push_back(n_decode / d);
    }
  }
  // What one decode step must read: every weight except the embedding table (one row of it),
  // plus, on average over the decode steps, the keys and values of the positions before it.
  const double weights = static_cast<double>((*model)->weight_bytes());
  const auto& embd = (*model)->token_embedding();
  const double embd_bytes = (*model)->tied_output() ? 0.0 : double(embd.rows) * embd.row_bytes;
  double params = 0;
  for (const auto& t : (*model)->gguf().tensors) {
    double n = 1;
    for (uint64_t d : t.dims) n *= static_cast<double>(d);
    params += n;
  }
  const double kv_per_pos = 2.0 * cfg.n_layer * cfg.n_head_kv * cfg.head_dim * sizeof(float);
  const double avg_pos = n_prompt + n_decode / 2.0;
  const double step_bytes = weights - embd_bytes + kv_per_pos * avg_pos;
  std::printf("isa %s\n", std::string(warden::engine::IsaName(warden::engine::ActiveIsa())).c_str());
  std::printf("params %.1fM\nweight_bytes %.0f\nstep_bytes %.0f\n",
              params / 1e6, weights, step_bytes);
  std::printf("kv_cache_bytes %llu\n", static_cast<unsigned long long>((*ctx)->kv_cache_bytes()));
  std::printf("prefill_tps %.2f\ndecode_tps %.3f\npeak_rss_mib %.1f\n", Median(prefill_tps),
              Median(decode_tps), PeakRssMiB());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "write-model") return WriteModel(argc, argv);
  if (cmd == "bandwidth") return Bandwidth(argc, argv);
  if (cmd == "run") return Run(argc, argv);
  std::fprintf(stderr, "usage: engine_tool write-model|bandwidth|run ... (see the source)\n");
  return 2;
}
