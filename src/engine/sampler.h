// Samplers: the plugins that turn a step's logits into the next token, and the chain that runs
// them in order.
//
// The contract follows llama.cpp's sampler API (DESIGN.md, "Plugins"):
//   Apply(Candidates&)  filter, modify or select: the one call made per generated token;
//   Accept(Token)       a token was appended to the sequence (prompt tokens included);
//   Reset()             a new sequence starts: back to the state a fresh Create gave;
//   Clone()             an independent copy, state included (history, RNG position).
// A SamplerChain is itself a Sampler, so chains nest and a whole chain clones as one.
//
// Candidates start as every vocabulary token with its logit. Samplers that filter remove
// entries, samplers that bias change `logit`, and exactly one sampler at the end of a chain
// selects: it sets `selected`. This covers the keyed samplers of the watermark (issue 5):
//   (a) history through Accept, so a sampler can key on the previous h tokens;
//   (b) biasing by editing logits (KGW's green-list delta);
//   (c) selection with the sampler's own keyed randomness from the candidates' probabilities
//       (tournament, Gumbel): call Softmax(), pick, set `selected`; nothing forces `dist`.
// None of it depends on the model: a caller that only has logits (the library API, a remote
// backend that returns logits) calls SamplerChain::Sample(logits) per step and Accept for the
// tokens it appended itself.
//
// Determinism: every built-in is a pure function of (candidates, accepted history, seed), with
// ties broken by the lower token id. The `dist` RNG is xoshiro256** seeded through splitmix64,
// defined bit for bit below, so the same seed draws the same numbers on every platform and
// compiler (std::uniform_real_distribution is implementation-defined and is not used). The
// probabilities themselves come from expf, which libms may round differently in the last bit;
// on one platform results are exactly reproducible.
//
// Thread-safety: a Sampler (and a chain) holds per-sequence state and is not thread-safe; use
// one per sequence (Clone() for parallel sequences). Factories and a filled SamplerRegistry are
// immutable: their const methods may be called from many threads.
// Ownership: a chain owns its samplers; the registry owns its factories.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/types.h"

namespace warden::engine {

// One candidate token. `p` is only meaningful after Candidates::Softmax() (and until logits
// change again); samplers that need probabilities call Softmax() themselves.
struct TokenData {
  Token id;
  float logit;
  float p;
};

// The candidate set a sampler works on. Ids are unique within one set.
struct Candidates {
  std::vector<TokenData> data;
  // True when `data` is ordered by logit descending, ties by id ascending. Cleared by anyone
  // who changes logits or order without keeping that order.
  bool sorted = false;
  // Index into `data` of the chosen token, set by a selecting sampler; -1 while none is chosen.
  // A sampler that removes or reorders entries resets it to -1.
  int64_t selected = -1;

  // Fills `out` with one entry per logit, id = index, p = 0, reusing its capacity. A NaN logit
  // becomes -infinity (never chosen) so that a broken model cannot poison the comparisons.
  // Precondition: logits.size() <= kMaxCandidates.
  static void FromLogits(std::span<const float> logits, Candidates* out);

  // Orders `data` by logit descending, ties by lower id (a total order: the result does not
  // depend on the sort algorithm). No-op when already sorted.
  void SortByLogit();
  // Sorts (if needed) and keeps the first `n` entries; resets `selected`.
  void KeepTop(size_t n);
  // Fills `p` with the softmax of the logits over the current entries (any order; no sort).
  // Sums are taken in double. If some logit is +infinity those entries share the mass; if every
  // logit is -infinity the mass is uniform, so `p` is never NaN.
  void Softmax();
  // The chosen token, or nullopt when no sampler selected (or `selected` is out of range).
  std::optional<Token> SelectedToken() const;
};

// The largest vocabulary a candidate set can hold (token ids are int32).
inline constexpr size_t kMaxCandidates = 0x7fffffff;

class Sampler {
 public:
  virtual ~Sampler() = default;

  // The registry name of the sampler ("top_k", "dist", ...).
  virtual std::string_view name() const = 0;
  // The name with its parameters, e.g. "top_k(k=40)", for logs and --json output.
  virtual std::string Describe() const { return std::string(name()); }
  // Filters, modifies or selects. Must cope with any candidate set, including an empty one
  // (then it does nothing), and must never leave duplicate ids.
  virtual void Apply(Candidates& candidates) = 0;
  // Token `token` was appended to the sequence. Called for prompt tokens too, so that history
  // (repetition penalty, a watermark's context) covers the whole sequence. Ids are not
  // checked against the vocabulary: an unknown id simply never matches a candidate.
  virtual void Accept(Token token) { (void)token; }
  // A new sequence: clears history and restores the RNG to its seed, exactly as a freshly
  // created sampler with the same config.
  virtual void Reset() {}
  // An independent copy with the same config and state; the copy continues exactly as the
  // original would (same RNG stream), and changing one never affects the other.
  virtual std::unique_ptr<Sampler> Clone() const = 0;
};

// Runs samplers in the order added. Apply runs every sampler; a selector should come last (a
// filter after it resets `selected`). Not thread-safe; owns its samplers.
class SamplerChain final : public Sampler {
 public:
  SamplerChain() = default;

  void Add(std::unique_ptr<Sampler> sampler);
  size_t size() const { return samplers_.size(); }
  const Sampler& at(size_t i) const { return *samplers_[i]; }

  std::string_view name() const override { return "chain"; }
  // "repeat_penalty(...) -> top_k(k=40) -> ... -> dist(seed=0)".
  std::string Describe() const override;
  void Apply(Candidates& candidates) override;
  void Accept(Token token) override;
  void Reset() override;
  std::unique_ptr<Sampler> Clone() const override;

  // One step for a caller that has logits: builds candidates from `logits` (reusing an
  // internal buffer), applies every sampler, Accepts the chosen token, and returns it.
  // Errors: InvalidArgument for empty logits, more than kMaxCandidates, or no logit above
  // -infinity (all NaN / -inf); FailedPrecondition when no sampler selected a token (a chain
  // must end with a selector such as greedy or dist) or when the chain masked every candidate
  // (the selected one has logit -infinity).
  Result<Token> Sample(std::span<const float> logits);
  // The candidates of the last Sample() call after the chain ran (e.g. their probabilities).
  const Candidates& last_candidates() const { return candidates_; }

 private:
  std::vector<std::unique_ptr<Sampler>> samplers_;
  Candidates candidates_;  // reused across Sample() calls: no allocation per token
};

// log softmax(logits)[token] computed in double over the whole vector: the model's own
// log-probability of a token, before any sampler (what `generate --json` reports). Returns
// -infinity when `token` is out of range or its logit is NaN / -infinity.
double LogSoftmaxAt(std::span<const float> logits, Token token);

// The seeded random source of `dist`, fixed bit for bit so that a seed means the same draws on
// every platform: xoshiro256** (Blackman and Vigna, 2018) whose 256-bit state is filled by four
// successive outputs of splitmix64 started at `seed`. Any seed is valid; seed 0 is an ordinary
// seed (it does not mean "random"). Copyable: a copy continues the same stream.
class SamplerRng {
 public:
  explicit SamplerRng(uint64_t seed);
  // The next 64-bit output of xoshiro256**.
  uint64_t Next();
  // A double in [0, 1): the top 53 bits of Next() times 2^-53 (exact; never 1.0).
  double NextDouble();

 private:
  uint64_t s_[4];
};

// Configuration of one sampler: a JSON object of parameters. Factories refuse unknown keys,
// wrong types and out-of-range values; every key has a default (see docs/engine.md).
using SamplerConfig = boost::json::object;

struct SamplerMetadata {
  std::string_view maturity;  // "stable" or "alpha"
  std::string_view summary;   // one line for `--help` and docs
};

class SamplerFactory {
 public:
  virtual ~SamplerFactory() = default;
  virtual std::string_view name() const = 0;
  virtual SamplerMetadata metadata() const = 0;
  // Validates `config` once and builds a sampler. Errors: InvalidArgument naming the sampler
  // and the key: 'sampler "top_p": key "p": must be in (0, 1], got 1.5'.
  virtual Result<std::unique_ptr<Sampler>> Create(const SamplerConfig& config) const = 0;
};

// Factories by name. Fill it once (RegisterBuiltinSamplers, then plugins such as the
// watermark's), then share it read-only.
class SamplerRegistry {
 public:
  // InvalidArgument for a null factory, an empty name, or a name already registered.
  Status Register(std::unique_ptr<SamplerFactory> factory);
  // NotFound (listing the registered names) for an unknown name; the factory's errors
  // otherwise.
  Result<std::unique_ptr<Sampler>> Create(std::string_view name, const SamplerConfig& config) const;
  // Registered names in byte order.
  std::vector<std::string_view> Names() const;
  // The factory, or nullptr.
  const SamplerFactory* Find(std::string_view name) const;

 private:
  std::map<std::string, std::unique_ptr<SamplerFactory>, std::less<>> factories_;
};

// Registers the built-ins (all "stable"):
//   greedy          argmax, ties to the lower id. No keys.
//   temperature     {"temperature": >= 0 (default 0.8)}: logits / t; t == 0 keeps only the
//                   argmax candidate (so the selector after it behaves as greedy).
//   top_k           {"k": >= 0 (default 40)}: the k highest logits; 0 disables.
//   top_p           {"p": (0, 1] (default 0.95), "min_keep": >= 1 (default 1)}: the smallest
//                   prefix, by probability, whose mass reaches p; 1 disables.
//   min_p           {"p": [0, 1] (default 0.05), "min_keep": >= 1 (default 1)}: candidates with
//                   probability >= p * the top probability; 0 disables.
//   repeat_penalty  {"last_n": [0, 2^20] (default 64), "penalty": > 0 (default 1.0),
//                    "frequency": (default 0), "presence": (default 0)}: over the last
//                   `last_n` accepted tokens, logit > 0 ? logit / penalty : logit * penalty,
//                   then logit -= count * frequency + (count > 0) * presence.
//   dist            {"seed": unsigned 64-bit integer (default 0)}: draws from the softmax of
//                   the candidates, in their current order, with SamplerRng.
// Call it once per registry, before any plugin that could take one of these names: a name
// already taken is a programmer error (WARDEN_CHECK), not a runtime condition.
void RegisterBuiltinSamplers(SamplerRegistry& registry);

// What `warden generate` flags and the gateway's request fields map to. Neutral values switch
// a stage off: top_k 0, top_p 1, min_p 0, repeat_penalty 1 with zero frequency/presence.
struct SamplingParams {
  float temperature = 0.8f;  // 0 = greedy
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int32_t repeat_last_n = 64;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  uint64_t seed = 0;  // 0 is a seed like any other: runs are reproducible by default
};

// Hooks for keyed samplers (the watermark) inside the standard chain; null means "standard".
struct ChainExtensions {
  // Runs after the penalties, before truncation, on the full vocabulary (KGW's logit bias).
  std::unique_ptr<Sampler> bias;
  // Replaces `dist` as the final selector (tournament, Gumbel). With temperature 0 it still
  // runs, after a temperature-0 stage that leaves only the argmax.
  std::unique_ptr<Sampler> selector;
};

// Builds the standard chain from registry samplers, leaving out stages whose parameters are
// neutral:
//   temperature > 0:  repeat_penalty -> [bias] -> top_k -> top_p -> min_p -> temperature ->
//                     dist(seed) | selector
//   temperature == 0: repeat_penalty -> [bias] -> greedy
//                     (with a selector: ... -> temperature(0) -> selector)
// Errors: InvalidArgument naming the field for a value out of range (temperature < 0 or not
// finite, top_k < 0, top_p outside (0, 1], min_p outside [0, 1], repeat_penalty <= 0 or not
// finite, repeat_last_n outside [0, 2^20], non-finite frequency/presence penalty); NotFound
// when `registry` lacks a built-in.
Result<std::unique_ptr<SamplerChain>> BuildSamplerChain(const SamplingParams& params,
                                                        const SamplerRegistry& registry,
                                                        ChainExtensions extensions = {});

}  // namespace warden::engine
