// libFuzzer target for the watermark: key files (watermark/key.h), the one file format the
// module reads, and the detector (watermark/detector.h) on arbitrary token sequences and
// parameters, the part that turns attacker-chosen text into a claim.
//
// The first byte picks the mode (its value mod 3), the rest is the input:
//   0: a key file for ParseKey;
//   1: bytes 1-4 choose scheme, context, gamma/layers, window; the rest are 16-bit token ids;
//   2: the samplers: bytes 1-3 choose scheme, context and seed, then steps of one accepted
//      token byte and logits as bytes (mapped to values including +-inf, NaN and huge ones).
// Seeds in fuzz/corpus/watermark_fuzz/ carry that prefix byte.
//
// Checks beyond "no crash, no leak, no UB": a parse error is DataLoss; an accepted key
// serializes to a file that parses to the same key. The detector's p-values are in [0, 1];
// every token is scored, skipped as a repeat or lacks context; pushing the sequence in two
// pieces gives exactly the result of one push; "watermarked" implies p <= fpr and enough scored
// tokens. The samplers (through the standard chain, with the vectorised kernels) always select
// a candidate that exists and never duplicate ids, or report an error for all-masked logits.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "watermark/detector.h"
#include "engine/sampler.h"
#include "watermark/key.h"
#include "watermark/samplers.h"

namespace {

namespace wm = warden::watermark;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void FuzzKey(std::string_view text) {
  auto key = wm::ParseKey(text, "fuzz.key");
  if (!key) {
    Check(key.error().code() == warden::StatusCode::kDataLoss);
    return;
  }
  auto again = wm::ParseKey(wm::SerializeKey(*key), "again.key");
  Check(again.has_value());
  Check(again->secret == key->secret && again->key_id == key->key_id &&
        again->scheme == key->scheme && again->params.context == key->params.context);
}

void FuzzDetector(const uint8_t* data, size_t size) {
  if (size < 4) return;
  const wm::Scheme scheme = static_cast<wm::Scheme>(data[0] % 3);
  wm::SchemeParams params = wm::DefaultParams(scheme);
  params.context = 1 + data[1] % 4;
  params.gamma = (1 + data[2] % 254) / 256.0;
  params.layers = 1 + data[2] % 64;
  wm::DetectOptions options;
  options.window = data[3] % 4 == 0 ? 0 : 1 + data[3] % 64;
  options.min_scored = 4;
  wm::WatermarkKey key;
  key.secret[0] = data[3];
  key.key_id = wm::KeyIdOf(key.secret);
  key.scheme = scheme;
  key.params = params;
  std::vector<warden::engine::Token> tokens;
  for (size_t i = 4; i + 1 < size; i += 2) {
    tokens.push_back(static_cast<warden::engine::Token>(data[i] | (data[i + 1] << 8)));
  }
  auto one = wm::Detector::Create(key, scheme, params, options);
  auto two = wm::Detector::Create(key, scheme, params, options);
  Check(one.has_value() && two.has_value());
  one->Push(tokens);
  const size_t half = tokens.size() / 2;
  two->Push(std::span(tokens).first(half));
  two->Push(std::span(tokens).subspan(half));
  const wm::Detection a = one->Current(), b = two->Current();
  Check(a.p_value >= 0 && a.p_value <= 1);
  Check(a.p_value == b.p_value && a.score == b.score && a.tokens_scored == b.tokens_scored &&
        a.verdict == b.verdict && a.windows_tested == b.windows_tested);
  const uint64_t unscored = std::min<uint64_t>(tokens.size(), params.context);
  Check(a.tokens == tokens.size());
  Check(a.tokens_scored + a.tokens_repeated + unscored == a.tokens);
  if (a.verdict == wm::Verdict::kWatermarked) {
    Check(a.tokens_scored >= options.min_scored || a.best_window.has_value());
  }
  if (a.best_window) {
    Check(a.best_window->p_value >= 0 && a.best_window->p_value <= 1);
    Check(a.best_window->p_adjusted >= a.best_window->p_value && a.best_window->p_adjusted <= 1);
    Check(a.best_window->begin <= a.best_window->end && a.best_window->end <= a.tokens);
  }
}

float LogitOf(uint8_t b) {
  switch (b) {
    case 0:
      return -std::numeric_limits<float>::infinity();
    case 1:
      return std::numeric_limits<float>::infinity();
    case 2:
      return std::numeric_limits<float>::quiet_NaN();
    case 3:
      return 3e38f;
    default:
      return (static_cast<float>(b) - 128.0f) / 8.0f;
  }
}

void FuzzSamplers(const uint8_t* data, size_t size) {
  if (size < 4) return;
  const wm::Scheme scheme = static_cast<wm::Scheme>(data[0] % 3);
  wm::SchemeParams params = wm::DefaultParams(scheme);
  params.context = 1 + data[1] % 3;
  wm::WatermarkKey key;
  key.secret[1] = data[2];
  key.key_id = wm::KeyIdOf(key.secret);
  key.scheme = scheme;
  key.params = params;
  warden::engine::SamplingParams sampling;
  sampling.temperature = (data[3] % 4) * 0.5f;  // 0 (greedy) .. 1.5
  sampling.top_k = data[3] % 8 == 0 ? 0 : 40;
  sampling.seed = data[3];
  auto ext = wm::MakeWatermarkExtensions(key, scheme, params, sampling.seed);
  Check(ext.has_value());
  warden::engine::SamplerRegistry registry;
  warden::engine::RegisterBuiltinSamplers(registry);
  auto chain = warden::engine::BuildSamplerChain(sampling, registry, std::move(*ext));
  Check(chain.has_value());
  // Steps of 1 + n bytes: an accepted token, then n logits (the vocabulary size is fixed by the
  // input length so that every step has the same vocabulary).
  const size_t vocab = 3 + data[3] % 61;
  std::vector<float> logits(vocab);
  for (size_t at = 4; at + 1 + vocab <= size; at += 1 + vocab) {
    (*chain)->Accept(data[at] % vocab);
    for (size_t i = 0; i < vocab; ++i) logits[i] = LogitOf(data[at + 1 + i]);
    auto token = (*chain)->Sample(logits);
    if (!token) {
      Check(token.error().code() == warden::StatusCode::kInvalidArgument ||
            token.error().code() == warden::StatusCode::kFailedPrecondition);
      continue;
    }
    Check(*token >= 0 && static_cast<size_t>(*token) < vocab);
    const auto& c = (*chain)->last_candidates();
    std::vector<bool> seen(vocab, false);
    for (const auto& d : c.data) {
      Check(d.id >= 0 && static_cast<size_t>(d.id) < vocab && !seen[d.id]);
      seen[d.id] = true;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 3) {
    case 0:
      FuzzKey(std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
      break;
    case 1:
      FuzzDetector(data + 1, size - 1);
      break;
    default:
      FuzzSamplers(data + 1, size - 1);
      break;
  }
  return 0;
}
