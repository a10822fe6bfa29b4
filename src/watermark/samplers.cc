#include "watermark/samplers.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "watermark/internal/prf_batch.h"

namespace warden::watermark {
namespace {

using engine::Candidates;
using engine::Sampler;
using engine::SamplerRng;
using engine::Token;
using engine::TokenData;

// Shortest text that reads back as the same double ("0.25", "2").
std::string FormatNumber(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, res.ptr);
}

// The context length a sampler keys on: SchemeParams::context, where 0 means the scheme's
// default. Beyond kMaxContext the fixed history buffer would overflow, which only a caller that
// skipped ValidateParams can cause.
uint32_t ContextLength(Scheme scheme, const SchemeParams& params) {
  const uint32_t h = params.context == 0 ? DefaultParams(scheme).context : params.context;
  WARDEN_CHECK(h >= 1 && h <= kMaxContext);
  return h;
}

// The last h accepted tokens, oldest first, contiguous so that they can be handed to the PRF
// as one span. h is at most kMaxContext (16), so shifting on every Accept costs less than the
// bookkeeping of a ring buffer would.
class History {
 public:
  explicit History(uint32_t h) : h_(h) {}

  void Append(Token t) {
    if (size_ < h_) {
      tokens_[size_++] = t;
      return;
    }
    std::copy(tokens_.begin() + 1, tokens_.begin() + h_, tokens_.begin());
    tokens_[h_ - 1] = t;
  }
  void Clear() { size_ = 0; }
  // True once h tokens have been accepted: a step has a full PRF context.
  bool full() const { return size_ == h_; }
  std::span<const Token> context() const { return {tokens_.data(), size_}; }
  uint32_t h() const { return h_; }

 private:
  uint32_t h_;
  uint32_t size_ = 0;
  std::array<Token, kMaxContext> tokens_{};
};

// Inverse-CDF draw over `weights` (one per candidate, in the candidates' order), done exactly as
// engine `dist` does it (same summation order, same RNG use, same rounding fallback to the last
// candidate with mass), so that an unwatermarked step of a selector picks what `dist` with the
// same seed would. Returns an index into `weights`.
size_t DrawInverseCdf(std::span<const double> weights, SamplerRng& rng) {
  double total = 0.0;
  for (double w : weights) total += w;
  const double target = rng.NextDouble() * total;
  size_t chosen = weights.size();
  double cumulative = 0.0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0.0) continue;
    cumulative += weights[i];
    chosen = i;
    if (cumulative > target) break;
  }
  return chosen == weights.size() ? 0 : chosen;  // no mass at all: unreachable after Softmax
}

// ---------------------------------------------------------------------------------------------
// kgw: a logit bias on the green list of the current context.

class KgwSampler final : public Sampler {
 public:
  KgwSampler(const Prf& prf, const SchemeParams& params)
      : prf_(prf),
        gamma_(params.gamma),
        delta_(params.delta),
        delta_f_(static_cast<float>(params.delta)),
        green_threshold_(GreenThreshold53(params.gamma)),
        history_(ContextLength(Scheme::kKgw, params)) {}

  std::string_view name() const override { return "watermark_kgw"; }
  std::string Describe() const override {
    return "watermark_kgw(context=" + std::to_string(history_.h()) +
           ", gamma=" + FormatNumber(gamma_) + ", delta=" + FormatNumber(delta_) + ")";
  }

  void Apply(Candidates& c) override {
    // The first h positions have no context to key on; kgw's detector does not score them
    // either.
    if (!history_.full() || c.data.empty()) return;
    // Every candidate with a finite logit and a green PRF value gets delta (-inf must stay
    // masked; +inf and NaN have nothing to gain), vectorised across candidates.
    const internal::SipBatch batch = internal::PrepareBatch(prf_.Absorb(history_.context()));
    internal::ActiveKernels(c.data.size())
        .kgw_bias(batch, c.data.data(), c.data.size(), green_threshold_, delta_f_);
    c.sorted = false;
    c.selected = -1;
  }

  void Accept(Token token) override { history_.Append(token); }
  void Reset() override { history_.Clear(); }
  std::unique_ptr<Sampler> Clone() const override { return std::make_unique<KgwSampler>(*this); }

 private:
  Prf prf_;
  double gamma_;
  double delta_;
  float delta_f_;
  uint64_t green_threshold_;
  History history_;
};

// ---------------------------------------------------------------------------------------------
// The selectors' shared part: history, the context-history mask, the seeded RNG for
// unwatermarked steps, and scratch buffers reused across steps.

class MaskedSelector : public Sampler {
 public:
  void Accept(Token token) override {
    // The context that `token` completes is now used: a later step with the same context is
    // unwatermarked (recording it before appending is what makes it "the context of the
    // position `token` fills").
    if (history_.full()) seen_.insert(RepeatFingerprint(history_.context(), 0, false));
    history_.Append(token);
  }
  void Reset() override {
    history_.Clear();
    seen_.clear();
    rng_ = SamplerRng(seed_);
  }

 protected:
  MaskedSelector(const Prf& prf, uint32_t h, uint64_t seed)
      : prf_(prf), history_(h), seed_(seed), rng_(seed) {}

  // True when this step carries the watermark: a full context not seen before in the sequence.
  bool Watermarked() const {
    if (!history_.full()) return false;
    return !seen_.contains(RepeatFingerprint(history_.context(), 0, false));
  }

  // The draw of an unwatermarked step: `dist` on the candidates' probabilities (Softmax done).
  void DrawLikeDist(Candidates& c) {
    weights_.resize(c.data.size());
    for (size_t i = 0; i < c.data.size(); ++i) weights_[i] = c.data[i].p;
    c.selected = static_cast<int64_t>(DrawInverseCdf(weights_, rng_));
  }

  Prf prf_;
  History history_;
  std::unordered_set<uint64_t> seen_;  // fingerprints of contexts used so far
  uint64_t seed_;
  SamplerRng rng_;
  std::vector<double> weights_;  // scratch: one per candidate
};

// ---------------------------------------------------------------------------------------------
// tournament: closed-form SynthID-style tournament over `layers` keyed bits, then one draw.

class TournamentSampler final : public MaskedSelector {
 public:
  TournamentSampler(const Prf& prf, const SchemeParams& params, uint64_t seed)
      : MaskedSelector(prf, ContextLength(Scheme::kTournament, params), seed),
        layers_(params.layers) {
    WARDEN_CHECK(layers_ >= 1 && layers_ <= kMaxLayers);
  }

  std::string_view name() const override { return "watermark_tournament"; }
  std::string Describe() const override {
    return "watermark_tournament(context=" + std::to_string(history_.h()) +
           ", layers=" + std::to_string(layers_) + ", seed=" + std::to_string(seed_) + ")";
  }

  void Apply(Candidates& c) override {
    if (c.data.empty()) return;
    c.Softmax();
    if (!Watermarked()) {
      DrawLikeDist(c);
      return;
    }
    const size_t n = c.data.size();
    // The kernel works in blocks: zero weights (and values) pad the last one.
    const size_t padded = internal::PaddedSize(n);
    weights_.resize(padded);
    values_.resize(padded);
    for (size_t i = 0; i < n; ++i) weights_[i] = c.data[i].p;
    std::fill(weights_.begin() + static_cast<ptrdiff_t>(n), weights_.end(), 0.0);
    std::fill(values_.begin() + static_cast<ptrdiff_t>(n), values_.end(), 0);
    const internal::Kernels& kernels = internal::ActiveKernels(n);
    kernels.prf_candidates(internal::PrepareBatch(prf_.Absorb(history_.context())),
                           c.data.data(), n, values_.data());
    // One layer of the tournament in closed form: two players drawn independently from p meet,
    // the one with g = 1 wins (ties stay a fair coin), so a g = 1 token with mass G on the
    // g = 1 side ends with p * (2 - G) and a g = 0 token with p * (1 - G). The weights keep
    // summing to 1 up to rounding; the draw normalises by the actual total anyway.
    //
    // Each pass applies layer l and already sums the g = 1 mass of layer l + 1, choosing the
    // factor without a branch (the bits are random: a branch would be mispredicted half the
    // time). Weights that sink below internal::kTournamentNegligible (1e-300) become 0: far
    // below what a 53-bit uniform draw can resolve, and subnormal arithmetic on them would be
    // many times slower. The masses are summed in 16 interleaved partial sums combined in a
    // fixed tree (internal::CombinePartialSums), the order every kernel path implements, so the
    // selection is the same on every machine.
    kernels.tournament(weights_.data(), values_.data(), padded, layers_);
    c.selected = static_cast<int64_t>(DrawInverseCdf(std::span(weights_).first(n), rng_));
  }

  std::unique_ptr<Sampler> Clone() const override {
    return std::make_unique<TournamentSampler>(*this);
  }

 private:
  uint32_t layers_;
  std::vector<uint64_t> values_;  // scratch: the PRF value of each candidate
};

// ---------------------------------------------------------------------------------------------
// gumbel: Aaronson's exponential-minimum sampling, deterministic given the context.

class GumbelSampler final : public MaskedSelector {
 public:
  GumbelSampler(const Prf& prf, const SchemeParams& params, uint64_t seed)
      : MaskedSelector(prf, ContextLength(Scheme::kGumbel, params), seed) {}

  std::string_view name() const override { return "watermark_gumbel"; }
  std::string Describe() const override {
    return "watermark_gumbel(context=" + std::to_string(history_.h()) +
           ", seed=" + std::to_string(seed_) + ")";
  }

  void Apply(Candidates& c) override {
    if (c.data.empty()) return;
    c.Softmax();
    if (!Watermarked()) {
      DrawLikeDist(c);
      return;
    }
    // -ln(r_t) is Exp(1), so -ln(r_t) / p_t is Exp(p_t) and the minimum falls on t with
    // probability p_t / sum p: the keyed choice is a sample from p.
    //
    // std::log for every candidate would cost more than the hash. The kernels bracket each
    // score, (1 - r) / p <= -ln(r) / p <= (1 - r) / (r p), and keep only the candidates whose
    // lower bound does not exceed the least upper bound (with a margin for rounding): the
    // argmin is among them, and usually few others are. Those get the exact score, in
    // candidate order as before, so the choice is exactly the argmin over all candidates.
    const size_t n = c.data.size();
    values_.resize(n);
    survivors_.resize(n);
    const internal::Kernels& kernels = internal::ActiveKernels(n);
    kernels.prf_candidates(internal::PrepareBatch(prf_.Absorb(history_.context())),
                           c.data.data(), n, values_.data());
    const double bound = kernels.gumbel_bound(values_.data(), c.data.data(), n);
    const size_t count =
        kernels.gumbel_filter(values_.data(), c.data.data(), n, bound, survivors_.data());
    size_t best = n;
    double best_score = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < count; ++k) {
      const size_t i = survivors_[k];
      const TokenData& d = c.data[i];
      const double score = -std::log(GumbelUniform(values_[i])) / static_cast<double>(d.p);
      if (best == c.data.size() || score < best_score ||
          (score == best_score && d.id < c.data[best].id)) {
        best = i;
        best_score = score;
      }
    }
    c.selected = static_cast<int64_t>(best == c.data.size() ? 0 : best);
  }

  std::unique_ptr<Sampler> Clone() const override { return std::make_unique<GumbelSampler>(*this); }

 private:
  std::vector<uint64_t> values_;     // scratch: the PRF value of each candidate
  std::vector<uint32_t> survivors_;  // scratch: the candidates that may be the argmin
};

// ---------------------------------------------------------------------------------------------
// Registry factories.

class WatermarkFactory final : public engine::SamplerFactory {
 public:
  WatermarkFactory(Scheme scheme, std::string_view name, std::string_view summary)
      : scheme_(scheme), name_(name), summary_(summary) {}

  std::string_view name() const override { return name_; }
  engine::SamplerMetadata metadata() const override { return {"stable", summary_}; }

  Result<std::unique_ptr<Sampler>> Create(const engine::SamplerConfig& config) const override {
    const bool has_seed = scheme_ != Scheme::kKgw;
    std::vector<std::string_view> known = {"secret", "context"};
    switch (scheme_) {
      case Scheme::kKgw:
        known.insert(known.end(), {"gamma", "delta"});
        break;
      case Scheme::kTournament:
        known.insert(known.end(), {"layers", "seed"});
        break;
      case Scheme::kGumbel:
        known.push_back("seed");
        break;
    }
    // Refused here rather than by ParamsFromJson so that the message lists every key the
    // sampler takes, "secret" and "seed" included.
    for (const auto& kv : config) {
      if (std::find(known.begin(), known.end(), kv.key()) != known.end()) continue;
      std::string list;
      for (std::string_view k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      return InvalidArgumentError(Prefix() + "unknown key \"" + std::string(kv.key()) +
                                  "\" (known keys: " + list + ")");
    }

    WatermarkKey key;
    WARDEN_ASSIGN_OR_RETURN(key.secret, Secret(config));
    uint64_t seed = 0;
    if (has_seed) {
      WARDEN_ASSIGN_OR_RETURN(seed, Seed(config));
    }

    boost::json::object param_json;
    for (const auto& kv : config) {
      if (kv.key() != "secret" && kv.key() != "seed") param_json.emplace(kv.key(), kv.value());
    }
    Result<SchemeParams> params = ParamsFromJson(scheme_, param_json);
    if (!params.ok()) {
      return Status(params.status().code(), Prefix() + params.status().message());
    }
    WARDEN_ASSIGN_OR_RETURN(engine::ChainExtensions ext,
                            MakeWatermarkExtensions(key, scheme_, *params, seed));
    return ext.bias != nullptr ? std::move(ext.bias) : std::move(ext.selector);
  }

 private:
  std::string Prefix() const { return "sampler \"" + std::string(name_) + "\": "; }
  Status KeyError(std::string_view key, std::string_view what) const {
    return InvalidArgumentError(Prefix() + "key \"" + std::string(key) +
                                "\": " + std::string(what));
  }

  // The secret, never echoed in an error: even part of it would weaken the key.
  Result<std::array<uint8_t, kSecretBytes>> Secret(const engine::SamplerConfig& config) const {
    constexpr std::string_view kWant = "must be a string of 64 hex digits (32 bytes)";
    const boost::json::value* v = config.if_contains("secret");
    if (v == nullptr) return KeyError("secret", "missing (required; " + std::string(kWant) + ")");
    if (!v->is_string()) return KeyError("secret", kWant);
    const boost::json::string& hex = v->get_string();
    if (hex.size() != 2 * kSecretBytes) {
      return KeyError("secret",
                      std::string(kWant) + ", got " + std::to_string(hex.size()) + " characters");
    }
    Result<std::vector<uint8_t>> bytes = HexDecode(std::string_view(hex.data(), hex.size()));
    if (!bytes.ok() || bytes->size() != kSecretBytes) {
      return KeyError("secret", std::string(kWant) + ", got a non-hex character");
    }
    std::array<uint8_t, kSecretBytes> secret{};
    std::copy(bytes->begin(), bytes->end(), secret.begin());
    return secret;
  }

  // As `dist`'s seed: any unsigned 64-bit integer, default 0.
  Result<uint64_t> Seed(const engine::SamplerConfig& config) const {
    const boost::json::value* v = config.if_contains("seed");
    if (v == nullptr) return uint64_t{0};
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64()) {
      if (v->get_int64() < 0) {
        return KeyError("seed", "must be in [0, 2^64 - 1], got " + std::to_string(v->get_int64()));
      }
      return static_cast<uint64_t>(v->get_int64());
    }
    return KeyError("seed", "expected an unsigned integer, got " + boost::json::serialize(*v));
  }

  Scheme scheme_;
  std::string_view name_;
  std::string_view summary_;
};

}  // namespace

std::unique_ptr<engine::Sampler> MakeKgwSampler(const Prf& prf, const SchemeParams& params) {
  return std::make_unique<KgwSampler>(prf, params);
}

std::unique_ptr<engine::Sampler> MakeTournamentSampler(const Prf& prf, const SchemeParams& params,
                                                       uint64_t seed) {
  return std::make_unique<TournamentSampler>(prf, params, seed);
}

std::unique_ptr<engine::Sampler> MakeGumbelSampler(const Prf& prf, const SchemeParams& params,
                                                   uint64_t seed) {
  return std::make_unique<GumbelSampler>(prf, params, seed);
}

Result<engine::ChainExtensions> MakeWatermarkExtensions(const WatermarkKey& key, Scheme scheme,
                                                        const SchemeParams& params, uint64_t seed) {
  SchemeParams resolved = params;
  if (resolved.context == 0) resolved.context = DefaultParams(scheme).context;
  WARDEN_RETURN_IF_ERROR(ValidateParams(scheme, resolved));
  const Prf prf(key.secret, SchemeName(scheme));
  engine::ChainExtensions ext;
  switch (scheme) {
    case Scheme::kKgw:
      ext.bias = MakeKgwSampler(prf, resolved);
      break;
    case Scheme::kTournament:
      ext.selector = MakeTournamentSampler(prf, resolved, seed);
      break;
    case Scheme::kGumbel:
      ext.selector = MakeGumbelSampler(prf, resolved, seed);
      break;
  }
  return ext;
}

void RegisterWatermarkSamplers(engine::SamplerRegistry& registry) {
  struct Entry {
    Scheme scheme;
    std::string_view name;
    std::string_view summary;
  };
  static constexpr Entry kEntries[] = {
      {Scheme::kKgw, "watermark_kgw",
       "keyed watermark: adds delta to the logits of a keyed green list (not distortion-free)"},
      {Scheme::kTournament, "watermark_tournament",
       "keyed watermark: selects by a keyed tournament over g-values (distortion-free)"},
      {Scheme::kGumbel, "watermark_gumbel",
       "keyed watermark: selects by keyed exponential-minimum sampling (distortion-free)"},
  };
  for (const Entry& e : kEntries) {
    const Status status =
        registry.Register(std::make_unique<WatermarkFactory>(e.scheme, e.name, e.summary));
    WARDEN_CHECK(status.ok());
  }
}

}  // namespace warden::watermark
