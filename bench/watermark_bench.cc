// Watermark micro benchmarks: the detector's scoring throughput (tokens per second on one core,
// after tokenization) and the per-step cost of each scheme's sampler at generation.
//
// Detection runs on 4M token ids drawn uniformly from a 32000-token vocabulary, so that nearly
// every (context, token) is new and scored (the expensive path: a repeat is only a lookup).
// bench/compare/watermark.sh runs these next to end-to-end `warden generate` timings.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/sampler.h"
#include "watermark/detector.h"
#include "watermark/key.h"
#include "watermark/samplers.h"

namespace warden::watermark {
namespace {

constexpr size_t kTokens = 4'000'000;
constexpr int kVocab = 32000;

const std::vector<engine::Token>& RandomTokens() {
  static const std::vector<engine::Token> tokens = [] {
    std::mt19937_64 rng(1);
    std::uniform_int_distribution<engine::Token> pick(0, kVocab - 1);
    std::vector<engine::Token> t(kTokens);
    for (auto& x : t) x = pick(rng);
    return t;
  }();
  return tokens;
}

WatermarkKey FixedKey(Scheme scheme) {
  WatermarkKey key;
  for (size_t i = 0; i < key.secret.size(); ++i) key.secret[i] = static_cast<uint8_t>(i);
  key.key_id = KeyIdOf(key.secret);
  key.scheme = scheme;
  key.params = DefaultParams(scheme);
  return key;
}

void BM_Detect(benchmark::State& state) {
  const Scheme scheme = static_cast<Scheme>(state.range(0));
  const WatermarkKey key = FixedKey(scheme);
  const auto& tokens = RandomTokens();
  for (auto _ : state) {
    auto detector = Detector::Create(key, scheme, key.params);
    detector->Push(tokens);
    benchmark::DoNotOptimize(detector->Current().p_value);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * tokens.size()));
  state.SetLabel(std::string(SchemeName(scheme)));
}
BENCHMARK(BM_Detect)
    ->Arg(static_cast<int>(Scheme::kKgw))
    ->Arg(static_cast<int>(Scheme::kTournament))
    ->Arg(static_cast<int>(Scheme::kGumbel))
    ->Unit(benchmark::kMillisecond);

// One sampling step over a full vocabulary of logits: the watermark's sampler alone (kgw's bias
// touches every entry; the selectors see what truncation left, here the whole vocabulary as in
// `watermark eval`'s untruncated sampling).
void BM_SamplerStep(benchmark::State& state) {
  const Scheme scheme = static_cast<Scheme>(state.range(0));
  const int vocab = static_cast<int>(state.range(1));
  const WatermarkKey key = FixedKey(scheme);
  const Prf prf(key.secret, SchemeName(scheme));
  std::unique_ptr<engine::Sampler> sampler =
      scheme == Scheme::kKgw          ? MakeKgwSampler(prf, key.params)
      : scheme == Scheme::kTournament ? MakeTournamentSampler(prf, key.params, 1)
                                      : MakeGumbelSampler(prf, key.params, 1);
  std::mt19937_64 rng(2);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(static_cast<size_t>(vocab));
  for (float& l : logits) l = normal(rng);
  engine::Candidates candidates;
  engine::Token t = 1;
  for (int i = 0; i < 8; ++i) sampler->Accept(t++);
  for (auto _ : state) {
    engine::Candidates::FromLogits(logits, &candidates);
    sampler->Apply(candidates);
    benchmark::DoNotOptimize(candidates.selected);
    // A new context every step, as in generation (no repeated-context masking).
    sampler->Accept(t++ % vocab);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(std::string(SchemeName(scheme)) + " vocab " + std::to_string(vocab));
}
BENCHMARK(BM_SamplerStep)
    ->Args({static_cast<int>(Scheme::kKgw), 512})
    ->Args({static_cast<int>(Scheme::kKgw), 32000})
    ->Args({static_cast<int>(Scheme::kTournament), 512})
    ->Args({static_cast<int>(Scheme::kTournament), 32000})
    ->Args({static_cast<int>(Scheme::kGumbel), 512})
    ->Args({static_cast<int>(Scheme::kGumbel), 32000})
    ->Unit(benchmark::kMicrosecond);

// The baseline of BM_SamplerStep: building the candidates alone.
void BM_CandidatesOnly(benchmark::State& state) {
  const int vocab = static_cast<int>(state.range(0));
  std::vector<float> logits(static_cast<size_t>(vocab), 0.5f);
  engine::Candidates candidates;
  for (auto _ : state) {
    engine::Candidates::FromLogits(logits, &candidates);
    benchmark::DoNotOptimize(candidates.data.data());
  }
}
BENCHMARK(BM_CandidatesOnly)->Arg(512)->Arg(32000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace warden::watermark
