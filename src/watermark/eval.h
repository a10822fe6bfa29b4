// Watermark evaluation: how often a key's watermark is found (true-positive rate) at given
// false-positive rates, by text length and edit rate, how often it is wrongly found in
// unwatermarked and human-written text, and what it costs in perplexity.
//
// For every prompt the model writes one watermarked and one unwatermarked continuation of
// `max_tokens` tokens (same sampling parameters, seeds derived from `seed` and the prompt
// index). Each watermarked token sequence is cut to every length in `lengths`, edited at every
// rate in `edit_rates` (each token independently, with probability `rate`, is substituted by a
// random vocabulary token, deleted, or followed by an inserted random token, the three equally
// likely; a SamplerRng seeded from `seed`), and scored as token ids (no re-tokenization, so
// the edits are exactly the stated rate). TPR at fpr = share of sequences with p <= fpr.
// The unwatermarked continuations (at every length, unedited) and the human texts (tokenized
// with the model's tokenizer) give the empirical false-positive rate at each fpr. Perplexity is
// exp(-mean log-probability) of the generated tokens under the model's own softmax (before
// any sampler), averaged over prompts, for both sets.
//
// Thread-safety: RunEval uses the generator exclusively while it runs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "base/status.h"
#include "engine/generate.h"
#include "engine/sampler.h"
#include "watermark/key.h"

namespace warden::watermark {

struct EvalConfig {
  std::vector<std::string> prompts;      // at least one; each tokenized with BOS
  std::vector<std::string> human_texts;  // may be empty
  uint32_t max_tokens = 200;
  std::vector<uint32_t> lengths = {50, 100, 200};  // each in [1, max_tokens]
  std::vector<double> edit_rates = {0.0, 0.05, 0.1, 0.2, 0.3};  // each in [0, 1)
  std::vector<double> fprs = {1e-2, 1e-4, 1e-6};                  // each in (0, 1)
  engine::SamplingParams sampling;  // for both continuations; `seed` is replaced per prompt
  uint64_t seed = 1;
  Scheme scheme = Scheme::kKgw;
  SchemeParams params;  // validated for `scheme`
  // Called with a short line of progress ("prompt 3/20") on the calling thread; may be empty.
  std::function<void(std::string_view)> progress;
};

struct EvalCell {  // one (length, edit rate) row
  uint32_t length = 0;
  double edit_rate = 0;
  uint32_t samples = 0;
  std::vector<double> tpr;  // per fprs entry
  double median_p = 1;
};

struct FalsePositiveRow {  // "unwatermarked" or "human"
  std::string source;
  uint32_t samples = 0;
  std::vector<double> fpr;  // empirical, per fprs entry
  double min_p = 1;
};

struct EvalReport {
  std::string scheme;
  boost::json::object params;
  std::string key_id;
  std::vector<double> fprs;
  std::vector<EvalCell> cells;
  std::vector<FalsePositiveRow> false_positives;
  double perplexity_watermarked = 0;
  double perplexity_unwatermarked = 0;
  uint32_t prompts = 0;
  uint32_t max_tokens = 0;
  double seconds = 0;

  boost::json::object ToJson() const;
  // A plain-text table for the terminal.
  std::string ToText() const;
  // A self-contained SVG line chart: TPR at the middle fpr against edit rate, one line per
  // length (no scripts, no external resources).
  std::string ToSvg() const;
};

// InvalidArgument for an empty prompt list, a bad length, rate or fpr, or params that do not
// validate; errors of the generator otherwise (naming the prompt index).
Result<EvalReport> RunEval(engine::Generator& generator, const WatermarkKey& key,
                           const EvalConfig& config);

}  // namespace warden::watermark
