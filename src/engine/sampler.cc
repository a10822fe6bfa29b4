#include "engine/sampler.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <unordered_map>
#include <utility>

namespace warden::engine {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr float kPosInf = std::numeric_limits<float>::infinity();

// Ring-buffer bound of repeat_penalty's window: far beyond any context in use, small enough that
// a config cannot make the sampler reserve gigabytes.
constexpr int64_t kMaxRepeatLastN = int64_t{1} << 20;

// The candidate order used everywhere: logit descending, then id ascending. NaN sorts as
// -infinity so that a NaN smuggled in by a plugin cannot break the strict weak ordering that
// std::sort relies on (FromLogits already removes NaN from model output).
inline float OrderKey(float logit) { return std::isnan(logit) ? kNegInf : logit; }
inline bool Before(const TokenData& a, const TokenData& b) {
  const float ka = OrderKey(a.logit);
  const float kb = OrderKey(b.logit);
  if (ka != kb) return ka > kb;
  return a.id < b.id;
}

// Shortest text that reads back as the same double ("0.95", "1e-06").
std::string FormatNumber(double x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, res.ptr);
}
std::string FormatFloat(float x) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, res.ptr);
}

// ---------------------------------------------------------------------------------------------
// Config validation shared by the built-in factories: every message starts with
// 'sampler "<name>": ' and names the key.

class ConfigReader {
 public:
  ConfigReader(std::string_view sampler, const SamplerConfig& config)
      : sampler_(sampler), config_(config) {}

  Status Error(std::string_view key, std::string_view what) const {
    return InvalidArgumentError("sampler \"" + std::string(sampler_) + "\": key \"" +
                                std::string(key) + "\": " + std::string(what));
  }

  // Refuses any key not in `known`: a misspelt parameter must not silently fall back to its
  // default.
  Status CheckKeys(std::initializer_list<std::string_view> known) const {
    for (const auto& kv : config_) {
      const std::string_view key = kv.key();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string list;
      for (std::string_view k : known) {
        if (!list.empty()) list += ", ";
        list += k;
      }
      return InvalidArgumentError(
          "sampler \"" + std::string(sampler_) + "\": unknown key \"" + std::string(key) + "\" (" +
          (list.empty() ? std::string("it takes no keys") : "known keys: " + list) + ")");
    }
    return Status::Ok();
  }

  // A finite JSON number (integer or not); `fallback` when the key is absent.
  Result<double> Number(std::string_view key, double fallback) const {
    const boost::json::value* v = config_.if_contains(key);
    if (v == nullptr) return fallback;
    double x;
    if (v->is_double()) {
      x = v->get_double();
    } else if (v->is_int64()) {
      x = static_cast<double>(v->get_int64());
    } else if (v->is_uint64()) {
      x = static_cast<double>(v->get_uint64());
    } else {
      return Error(key, "expected a number, got " + std::string(Kind(*v)));
    }
    if (!std::isfinite(x)) return Error(key, "must be finite, got " + FormatNumber(x));
    return x;
  }

  // A JSON integer (or a number with an integral value) in [lo, hi].
  Result<int64_t> Integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi) const {
    const boost::json::value* v = config_.if_contains(key);
    if (v == nullptr) return fallback;
    int64_t x;
    if (v->is_int64()) {
      x = v->get_int64();
    } else if (v->is_uint64()) {
      if (v->get_uint64() > static_cast<uint64_t>(hi)) return RangeError(key, lo, hi, *v);
      x = static_cast<int64_t>(v->get_uint64());
    } else if (v->is_double()) {
      const double d = v->get_double();
      // 2^62 bounds every range used here and keeps the cast defined.
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 0x1p62) {
        return Error(key, "expected an integer, got " + FormatNumber(d));
      }
      x = static_cast<int64_t>(d);
    } else {
      return Error(key, "expected an integer, got " + std::string(Kind(*v)));
    }
    if (x < lo || x > hi) return RangeError(key, lo, hi, *v);
    return x;
  }

  // A non-negative JSON integer up to 2^64 - 1.
  Result<uint64_t> Unsigned(std::string_view key, uint64_t fallback) const {
    const boost::json::value* v = config_.if_contains(key);
    if (v == nullptr) return fallback;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64()) {
      if (v->get_int64() < 0) {
        return Error(key, "must be in [0, 2^64 - 1], got " + std::to_string(v->get_int64()));
      }
      return static_cast<uint64_t>(v->get_int64());
    }
    return Error(key, "expected an unsigned integer, got " + std::string(Kind(*v)));
  }

 private:
  static std::string_view Kind(const boost::json::value& v) {
    switch (v.kind()) {
      case boost::json::kind::null:
        return "null";
      case boost::json::kind::bool_:
        return "boolean";
      case boost::json::kind::int64:
      case boost::json::kind::uint64:
        return "integer";
      case boost::json::kind::double_:
        return "number";
      case boost::json::kind::string:
        return "string";
      case boost::json::kind::array:
        return "array";
      case boost::json::kind::object:
        return "object";
    }
    return "value";
  }

  Status RangeError(std::string_view key, int64_t lo, int64_t hi,
                    const boost::json::value& v) const {
    return Error(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                          boost::json::serialize(v));
  }

  std::string_view sampler_;
  const SamplerConfig& config_;
};

// ---------------------------------------------------------------------------------------------
// Built-in samplers.

class GreedySampler final : public Sampler {
 public:
  std::string_view name() const override { return "greedy"; }
  void Apply(Candidates& c) override {
    if (c.data.empty()) return;
    if (c.sorted) {
      c.selected = 0;
      return;
    }
    size_t best = 0;
    for (size_t i = 1; i < c.data.size(); ++i) {
      if (Before(c.data[i], c.data[best])) best = i;
    }
    c.selected = static_cast<int64_t>(best);
  }
  std::unique_ptr<Sampler> Clone() const override { return std::make_unique<GreedySampler>(); }
};

class TemperatureSampler final : public Sampler {
 public:
  explicit TemperatureSampler(float t) : t_(t) {}
  std::string_view name() const override { return "temperature"; }
  std::string Describe() const override { return "temperature(t=" + FormatFloat(t_) + ")"; }
  void Apply(Candidates& c) override {
    if (c.data.empty()) return;
    c.selected = -1;
    if (t_ == 0.0f) {
      // The limit t -> 0 of softmax(logits / t) puts all mass on the argmax: keep only it, so
      // that whatever selector follows picks it.
      size_t best = 0;
      if (!c.sorted) {
        for (size_t i = 1; i < c.data.size(); ++i) {
          if (Before(c.data[i], c.data[best])) best = i;
        }
      }
      c.data[0] = c.data[best];
      c.data.resize(1);
      c.sorted = true;
      return;
    }
    if (t_ == 1.0f) return;
    for (TokenData& d : c.data) d.logit /= t_;
    // Division keeps the order but may round two logits to the same value (or overflow to
    // infinity), which would need the id tie-break again.
    c.sorted = false;
  }
  std::unique_ptr<Sampler> Clone() const override {
    return std::make_unique<TemperatureSampler>(t_);
  }

 private:
  float t_;
};

class TopKSampler final : public Sampler {
 public:
  explicit TopKSampler(int32_t k) : k_(k) {}
  std::string_view name() const override { return "top_k"; }
  std::string Describe() const override { return "top_k(k=" + std::to_string(k_) + ")"; }
  void Apply(Candidates& c) override {
    if (k_ <= 0 || static_cast<size_t>(k_) >= c.data.size()) return;
    c.KeepTop(static_cast<size_t>(k_));
  }
  std::unique_ptr<Sampler> Clone() const override { return std::make_unique<TopKSampler>(k_); }

 private:
  int32_t k_;
};

class TopPSampler final : public Sampler {
 public:
  TopPSampler(float p, size_t min_keep) : p_(p), min_keep_(min_keep) {}
  std::string_view name() const override { return "top_p"; }
  std::string Describe() const override {
    return "top_p(p=" + FormatFloat(p_) + ", min_keep=" + std::to_string(min_keep_) + ")";
  }
  void Apply(Candidates& c) override {
    if (p_ >= 1.0f || c.data.size() <= 1) return;
    c.SortByLogit();
    c.Softmax();
    double cumulative = 0.0;
    size_t keep = c.data.size();
    for (size_t i = 0; i < c.data.size(); ++i) {
      cumulative += c.data[i].p;
      if (cumulative >= static_cast<double>(p_) && i + 1 >= min_keep_) {
        keep = i + 1;
        break;
      }
    }
    c.KeepTop(keep);
  }
  std::unique_ptr<Sampler> Clone() const override {
    return std::make_unique<TopPSampler>(p_, min_keep_);
  }

 private:
  float p_;
  size_t min_keep_;
};

class MinPSampler final : public Sampler {
 public:
  MinPSampler(float p, size_t min_keep) : p_(p), min_keep_(min_keep) {}
  std::string_view name() const override { return "min_p"; }
  std::string Describe() const override {
    return "min_p(p=" + FormatFloat(p_) + ", min_keep=" + std::to_string(min_keep_) + ")";
  }
  void Apply(Candidates& c) override {
    if (p_ <= 0.0f || c.data.size() <= 1) return;
    // p_i >= p * p_max  <=>  exp(logit_i - max) >= p  <=>  logit_i >= max + ln p: no softmax
    // and no sort needed.
    float max_logit = kNegInf;
    for (const TokenData& d : c.data) max_logit = std::max(max_logit, OrderKey(d.logit));
    const double threshold = static_cast<double>(max_logit) + std::log(static_cast<double>(p_));
    size_t passing = 0;
    for (const TokenData& d : c.data) passing += static_cast<double>(d.logit) >= threshold;
    if (passing < min_keep_) {
      c.KeepTop(std::min(min_keep_, c.data.size()));
      return;
    }
    // Order-preserving compaction, so a sorted set stays sorted.
    size_t out = 0;
    for (size_t i = 0; i < c.data.size(); ++i) {
      if (static_cast<double>(c.data[i].logit) >= threshold) c.data[out++] = c.data[i];
    }
    c.data.resize(out);
    c.selected = -1;
  }
  std::unique_ptr<Sampler> Clone() const override {
    return std::make_unique<MinPSampler>(p_, min_keep_);
  }

 private:
  float p_;
  size_t min_keep_;
};

class RepeatPenaltySampler final : public Sampler {
 public:
  RepeatPenaltySampler(size_t last_n, float penalty, float frequency, float presence)
      : last_n_(last_n), penalty_(penalty), frequency_(frequency), presence_(presence) {}
  std::string_view name() const override { return "repeat_penalty"; }
  std::string Describe() const override {
    return "repeat_penalty(last_n=" + std::to_string(last_n_) +
           ", penalty=" + FormatFloat(penalty_) + ", frequency=" + FormatFloat(frequency_) +
           ", presence=" + FormatFloat(presence_) + ")";
  }

  void Accept(Token token) override {
    if (last_n_ == 0) return;
    if (window_.size() < last_n_) {
      window_.push_back(token);
    } else {
      // The window is full: the oldest token (at next_) leaves, `token` takes its slot.
      Token& slot = window_[next_];
      auto it = counts_.find(slot);
      if (--it->second == 0) counts_.erase(it);
      slot = token;
      next_ = (next_ + 1) % last_n_;
    }
    ++counts_[token];
  }

  void Reset() override {
    window_.clear();
    counts_.clear();
    next_ = 0;
  }

  void Apply(Candidates& c) override {
    if (counts_.empty() || c.data.empty()) return;
    // Candidates straight from FromLogits are in id order, so data[id] is the token: check that
    // first and fall back to one scan for ids found elsewhere (after a filter reordered them).
    missed_.clear();
    for (const auto& [token, count] : counts_) {
      if (token >= 0 && static_cast<size_t>(token) < c.data.size() &&
          c.data[static_cast<size_t>(token)].id == token) {
        Penalize(c.data[static_cast<size_t>(token)].logit, count);
      } else {
        missed_.push_back(token);
      }
    }
    if (!missed_.empty()) {
      std::sort(missed_.begin(), missed_.end());
      for (TokenData& d : c.data) {
        if (std::binary_search(missed_.begin(), missed_.end(), d.id)) {
          Penalize(d.logit, counts_.find(d.id)->second);
        }
      }
    }
    c.sorted = false;
    c.selected = -1;
  }

  std::unique_ptr<Sampler> Clone() const override {
    return std::make_unique<RepeatPenaltySampler>(*this);
  }

 private:
  void Penalize(float& logit, int count) const {
    // Dividing a positive logit and multiplying a negative one both lower the token's odds
    // (llama.cpp's convention; CTRL's paper only divides).
    if (penalty_ != 1.0f) logit = logit > 0.0f ? logit / penalty_ : logit * penalty_;
    logit -= static_cast<float>(count) * frequency_ + (count > 0 ? presence_ : 0.0f);
  }

  size_t last_n_;
  float penalty_;
  float frequency_;
  float presence_;
  std::vector<Token> window_;  // ring buffer of the last last_n_ accepted tokens
  size_t next_ = 0;            // slot of the oldest token once the window is full
  std::unordered_map<Token, int> counts_;
  std::vector<Token> missed_;  // scratch for Apply
};

class DistSampler final : public Sampler {
 public:
  explicit DistSampler(uint64_t seed) : seed_(seed), rng_(seed) {}
  std::string_view name() const override { return "dist"; }
  std::string Describe() const override { return "dist(seed=" + std::to_string(seed_) + ")"; }
  void Apply(Candidates& c) override {
    if (c.data.empty()) return;
    c.Softmax();
    double total = 0.0;
    for (const TokenData& d : c.data) total += d.p;
    const double target = rng_.NextDouble() * total;
    // Inverse CDF over the candidates in their current order. Rounding can leave `target` at
    // or above the final cumulative sum: then the last candidate with mass is taken.
    size_t chosen = c.data.size();
    double cumulative = 0.0;
    for (size_t i = 0; i < c.data.size(); ++i) {
      if (c.data[i].p <= 0.0f) continue;
      cumulative += c.data[i].p;
      chosen = i;
      if (cumulative > target) break;
    }
    if (chosen == c.data.size()) chosen = 0;  // unreachable: Softmax always leaves mass
    c.selected = static_cast<int64_t>(chosen);
  }
  void Reset() override { rng_ = SamplerRng(seed_); }
  std::unique_ptr<Sampler> Clone() const override { return std::make_unique<DistSampler>(*this); }

 private:
  uint64_t seed_;
  SamplerRng rng_;
};

// ---------------------------------------------------------------------------------------------
// Factories.

using CreateFn = Result<std::unique_ptr<Sampler>> (*)(const ConfigReader&);

class BuiltinFactory final : public SamplerFactory {
 public:
  BuiltinFactory(std::string_view name, std::string_view summary, CreateFn create)
      : name_(name), summary_(summary), create_(create) {}
  std::string_view name() const override { return name_; }
  SamplerMetadata metadata() const override { return {"stable", summary_}; }
  Result<std::unique_ptr<Sampler>> Create(const SamplerConfig& config) const override {
    return create_(ConfigReader(name_, config));
  }

 private:
  std::string_view name_;
  std::string_view summary_;
  CreateFn create_;
};

// Defaults of the registry's configs: the same as SamplingParams' so that a sampler created by
// name with {} behaves as the standard chain's stage.
constexpr double kDefaultTemperature = 0.8;
constexpr int64_t kDefaultTopK = 40;
constexpr double kDefaultTopP = 0.95;
constexpr double kDefaultMinP = 0.05;
constexpr int64_t kDefaultLastN = 64;
constexpr int64_t kMaxMinKeep = std::numeric_limits<int32_t>::max();

Result<std::unique_ptr<Sampler>> CreateGreedy(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({}));
  return std::unique_ptr<Sampler>(std::make_unique<GreedySampler>());
}

Result<std::unique_ptr<Sampler>> CreateTemperature(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({"temperature"}));
  WARDEN_ASSIGN_OR_RETURN(double t, r.Number("temperature", kDefaultTemperature));
  if (t < 0.0 || t > std::numeric_limits<float>::max()) {
    return r.Error("temperature", "must be >= 0, got " + FormatNumber(t));
  }
  return std::unique_ptr<Sampler>(std::make_unique<TemperatureSampler>(static_cast<float>(t)));
}

Result<std::unique_ptr<Sampler>> CreateTopK(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({"k"}));
  WARDEN_ASSIGN_OR_RETURN(int64_t k,
                          r.Integer("k", kDefaultTopK, 0, std::numeric_limits<int32_t>::max()));
  return std::unique_ptr<Sampler>(std::make_unique<TopKSampler>(static_cast<int32_t>(k)));
}

Result<std::unique_ptr<Sampler>> CreateTopP(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({"p", "min_keep"}));
  WARDEN_ASSIGN_OR_RETURN(double p, r.Number("p", kDefaultTopP));
  if (!(p > 0.0 && p <= 1.0)) return r.Error("p", "must be in (0, 1], got " + FormatNumber(p));
  WARDEN_ASSIGN_OR_RETURN(int64_t min_keep, r.Integer("min_keep", 1, 1, kMaxMinKeep));
  return std::unique_ptr<Sampler>(
      std::make_unique<TopPSampler>(static_cast<float>(p), static_cast<size_t>(min_keep)));
}

Result<std::unique_ptr<Sampler>> CreateMinP(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({"p", "min_keep"}));
  WARDEN_ASSIGN_OR_RETURN(double p, r.Number("p", kDefaultMinP));
  if (!(p >= 0.0 && p <= 1.0)) return r.Error("p", "must be in [0, 1], got " + FormatNumber(p));
  WARDEN_ASSIGN_OR_RETURN(int64_t min_keep, r.Integer("min_keep", 1, 1, kMaxMinKeep));
  return std::unique_ptr<Sampler>(
      std::make_unique<MinPSampler>(static_cast<float>(p), static_cast<size_t>(min_keep)));
}

Result<std::unique_ptr<Sampler>> CreateRepeatPenalty(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({"last_n", "penalty", "frequency", "presence"}));
  WARDEN_ASSIGN_OR_RETURN(int64_t last_n, r.Integer("last_n", kDefaultLastN, 0, kMaxRepeatLastN));
  WARDEN_ASSIGN_OR_RETURN(double penalty, r.Number("penalty", 1.0));
  if (!(penalty > 0.0) || penalty > std::numeric_limits<float>::max()) {
    return r.Error("penalty", "must be > 0, got " + FormatNumber(penalty));
  }
  WARDEN_ASSIGN_OR_RETURN(double frequency, r.Number("frequency", 0.0));
  WARDEN_ASSIGN_OR_RETURN(double presence, r.Number("presence", 0.0));
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  if (std::fabs(frequency) > kFloatMax) {
    return r.Error("frequency", "must fit a float, got " + FormatNumber(frequency));
  }
  if (std::fabs(presence) > kFloatMax) {
    return r.Error("presence", "must fit a float, got " + FormatNumber(presence));
  }
  return std::unique_ptr<Sampler>(std::make_unique<RepeatPenaltySampler>(
      static_cast<size_t>(last_n), static_cast<float>(penalty), static_cast<float>(frequency),
      static_cast<float>(presence)));
}

Result<std::unique_ptr<Sampler>> CreateDist(const ConfigReader& r) {
  WARDEN_RETURN_IF_ERROR(r.CheckKeys({"seed"}));
  WARDEN_ASSIGN_OR_RETURN(uint64_t seed, r.Unsigned("seed", 0));
  return std::unique_ptr<Sampler>(std::make_unique<DistSampler>(seed));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Candidates.

void Candidates::FromLogits(std::span<const float> logits, Candidates* out) {
  WARDEN_CHECK(logits.size() <= kMaxCandidates);
  out->data.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    out->data[i] = TokenData{static_cast<Token>(i), std::isnan(l) ? kNegInf : l, 0.0f};
  }
  out->sorted = false;
  out->selected = -1;
}

void Candidates::SortByLogit() {
  if (sorted) return;
  std::sort(data.begin(), data.end(), Before);
  sorted = true;
  selected = -1;
}

void Candidates::KeepTop(size_t n) {
  selected = -1;
  if (n >= data.size()) {
    SortByLogit();
    return;
  }
  if (!sorted) {
    // Only the first n need ordering: O(V log n) instead of a full sort.
    std::partial_sort(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n), data.end(),
                      Before);
    sorted = true;
  }
  data.resize(n);
}

void Candidates::Softmax() {
  if (data.empty()) return;
  float max_logit = kNegInf;
  for (const TokenData& d : data) max_logit = std::max(max_logit, OrderKey(d.logit));
  double sum = 0.0;
  if (max_logit == kPosInf) {
    for (TokenData& d : data) {
      d.p = d.logit == kPosInf ? 1.0f : 0.0f;
      sum += d.p;
    }
  } else if (max_logit == kNegInf) {
    for (TokenData& d : data) d.p = 1.0f;
    sum = static_cast<double>(data.size());
  } else {
    for (TokenData& d : data) {
      d.p = std::isnan(d.logit) ? 0.0f : std::exp(d.logit - max_logit);
      sum += d.p;
    }
  }
  // sum >= 1: the maximum contributes exp(0) = 1 (or 1 per +inf / -inf entry).
  const double inv = 1.0 / sum;
  for (TokenData& d : data) d.p = static_cast<float>(d.p * inv);
}

std::optional<Token> Candidates::SelectedToken() const {
  if (selected < 0 || static_cast<uint64_t>(selected) >= data.size()) return std::nullopt;
  return data[static_cast<size_t>(selected)].id;
}

// ---------------------------------------------------------------------------------------------
// SamplerChain.

void SamplerChain::Add(std::unique_ptr<Sampler> sampler) {
  WARDEN_CHECK(sampler != nullptr);
  samplers_.push_back(std::move(sampler));
}

std::string SamplerChain::Describe() const {
  std::string out;
  for (const auto& s : samplers_) {
    if (!out.empty()) out += " -> ";
    out += s->Describe();
  }
  return out.empty() ? std::string("chain()") : out;
}

void SamplerChain::Apply(Candidates& candidates) {
  for (const auto& s : samplers_) s->Apply(candidates);
}

void SamplerChain::Accept(Token token) {
  for (const auto& s : samplers_) s->Accept(token);
}

void SamplerChain::Reset() {
  for (const auto& s : samplers_) s->Reset();
}

std::unique_ptr<Sampler> SamplerChain::Clone() const {
  auto copy = std::make_unique<SamplerChain>();
  copy->samplers_.reserve(samplers_.size());
  for (const auto& s : samplers_) copy->samplers_.push_back(s->Clone());
  return copy;
}

Result<Token> SamplerChain::Sample(std::span<const float> logits) {
  if (logits.empty()) return InvalidArgumentError("logits: empty (vocabulary size 0)");
  if (logits.size() > kMaxCandidates) {
    return InvalidArgumentError("logits: " + std::to_string(logits.size()) +
                                " values exceed the largest vocabulary (2^31 - 1)");
  }
  Candidates::FromLogits(logits, &candidates_);
  bool any = false;
  for (const TokenData& d : candidates_.data) {
    if (d.logit > kNegInf) {
      any = true;
      break;
    }
  }
  if (!any) {
    return InvalidArgumentError("logits: all " + std::to_string(logits.size()) +
                                " values are NaN or -infinity");
  }
  Apply(candidates_);
  std::optional<Token> token = candidates_.SelectedToken();
  if (!token.has_value()) {
    return FailedPreconditionError("sampler chain \"" + Describe() +
                                   "\" selected no token: a chain must end with a selector "
                                   "(greedy, dist, ...)");
  }
  if (candidates_.data[static_cast<size_t>(candidates_.selected)].logit == kNegInf) {
    return FailedPreconditionError("sampler chain \"" + Describe() +
                                   "\" masked every candidate (all logits -infinity)");
  }
  Accept(*token);
  return *token;
}

double LogSoftmaxAt(std::span<const float> logits, Token token) {
  constexpr double kNegInfD = -std::numeric_limits<double>::infinity();
  if (token < 0 || static_cast<size_t>(token) >= logits.size()) return kNegInfD;
  const float x = logits[static_cast<size_t>(token)];
  if (std::isnan(x) || x == kNegInf) return kNegInfD;
  double max_logit = kNegInfD;
  size_t infinite = 0;
  for (float l : logits) {
    if (std::isnan(l)) continue;
    max_logit = std::max(max_logit, static_cast<double>(l));
    infinite += l == kPosInf;
  }
  if (infinite > 0) {
    return x == kPosInf ? -std::log(static_cast<double>(infinite)) : kNegInfD;
  }
  double sum = 0.0;
  for (float l : logits) {
    if (!std::isnan(l)) sum += std::exp(static_cast<double>(l) - max_logit);
  }
  return (static_cast<double>(x) - max_logit) - std::log(sum);
}

// ---------------------------------------------------------------------------------------------
// SamplerRng: splitmix64 seeding, xoshiro256** output (constants from the published reference
// algorithms; written here from their description).

namespace {
inline uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

SamplerRng::SamplerRng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& word : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    word = z ^ (z >> 31);
  }
  // Four successive splitmix64 outputs are distinct (it is a bijection of its counter), so the
  // state is never all zero, the one state xoshiro cannot leave.
}

uint64_t SamplerRng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double SamplerRng::NextDouble() {
  constexpr double kTwoToMinus53 = 0x1.0p-53;
  return static_cast<double>(Next() >> 11) * kTwoToMinus53;
}

// ---------------------------------------------------------------------------------------------
// Registry.

Status SamplerRegistry::Register(std::unique_ptr<SamplerFactory> factory) {
  if (factory == nullptr) return InvalidArgumentError("sampler registry: null factory");
  const std::string name(factory->name());
  if (name.empty()) return InvalidArgumentError("sampler registry: factory with an empty name");
  if (factories_.count(name) != 0) {
    return InvalidArgumentError("sampler registry: \"" + name + "\" is already registered");
  }
  factories_.emplace(name, std::move(factory));
  return Status::Ok();
}

Result<std::unique_ptr<Sampler>> SamplerRegistry::Create(std::string_view name,
                                                         const SamplerConfig& config) const {
  const SamplerFactory* factory = Find(name);
  if (factory == nullptr) {
    std::string known;
    for (const auto& [n, f] : factories_) {
      if (!known.empty()) known += ", ";
      known += n;
    }
    return NotFoundError("unknown sampler \"" + std::string(name) +
                         "\" (registered: " + (known.empty() ? std::string("none") : known) + ")");
  }
  return factory->Create(config);
}

std::vector<std::string_view> SamplerRegistry::Names() const {
  std::vector<std::string_view> names;
  names.reserve(factories_.size());
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

const SamplerFactory* SamplerRegistry::Find(std::string_view name) const {
  auto it = factories_.find(name);
  return it == factories_.end() ? nullptr : it->second.get();
}

void RegisterBuiltinSamplers(SamplerRegistry& registry) {
  struct Builtin {
    std::string_view name;
    std::string_view summary;
    CreateFn create;
  };
  static constexpr Builtin kBuiltins[] = {
      {"greedy", "the most likely token (ties: lower id)", &CreateGreedy},
      {"temperature", "divides logits by t; t = 0 keeps only the most likely token",
       &CreateTemperature},
      {"top_k", "keeps the k most likely tokens", &CreateTopK},
      {"top_p", "keeps the smallest set of most likely tokens whose mass reaches p", &CreateTopP},
      {"min_p", "keeps tokens at least p times as likely as the most likely one", &CreateMinP},
      {"repeat_penalty", "penalizes tokens seen in the last N accepted tokens",
       &CreateRepeatPenalty},
      {"dist", "draws from the candidates' probabilities with a seeded, portable RNG", &CreateDist},
  };
  for (const Builtin& b : kBuiltins) {
    const Status status =
        registry.Register(std::make_unique<BuiltinFactory>(b.name, b.summary, b.create));
    WARDEN_CHECK(status.ok());
  }
}

// ---------------------------------------------------------------------------------------------
// The standard chain.

namespace {

Status FieldError(std::string_view field, std::string_view rule, double got) {
  return InvalidArgumentError("sampling parameter " + std::string(field) + ": " +
                              std::string(rule) + ", got " + FormatNumber(got));
}

Status ValidateParams(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) {
    return FieldError("temperature", "must be >= 0 and finite", p.temperature);
  }
  if (p.top_k < 0) return FieldError("top_k", "must be >= 0 (0 disables)", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    return FieldError("top_p", "must be in (0, 1] (1 disables)", p.top_p);
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    return FieldError("min_p", "must be in [0, 1] (0 disables)", p.min_p);
  }
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty)) {
    return FieldError("repeat_penalty", "must be > 0 and finite (1 disables)", p.repeat_penalty);
  }
  if (p.repeat_last_n < 0 || p.repeat_last_n > kMaxRepeatLastN) {
    return FieldError("repeat_last_n", "must be in [0, 1048576]", p.repeat_last_n);
  }
  if (!std::isfinite(p.frequency_penalty)) {
    return FieldError("frequency_penalty", "must be finite", p.frequency_penalty);
  }
  if (!std::isfinite(p.presence_penalty)) {
    return FieldError("presence_penalty", "must be finite", p.presence_penalty);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SamplerChain>> BuildSamplerChain(const SamplingParams& params,
                                                        const SamplerRegistry& registry,
                                                        ChainExtensions extensions) {
  WARDEN_RETURN_IF_ERROR(ValidateParams(params));
  auto chain = std::make_unique<SamplerChain>();
  auto add = [&](std::string_view name, SamplerConfig config) -> Status {
    WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<Sampler> s, registry.Create(name, config));
    chain->Add(std::move(s));
    return Status::Ok();
  };
  const bool penalties = params.repeat_last_n > 0 &&
                         (params.repeat_penalty != 1.0f || params.frequency_penalty != 0.0f ||
                          params.presence_penalty != 0.0f);
  if (penalties) {
    WARDEN_RETURN_IF_ERROR(add("repeat_penalty", {{"last_n", params.repeat_last_n},
                                                  {"penalty", params.repeat_penalty},
                                                  {"frequency", params.frequency_penalty},
                                                  {"presence", params.presence_penalty}}));
  }
  if (extensions.bias != nullptr) chain->Add(std::move(extensions.bias));
  if (params.temperature == 0.0f) {
    if (extensions.selector != nullptr) {
      WARDEN_RETURN_IF_ERROR(add("temperature", {{"temperature", 0.0}}));
      chain->Add(std::move(extensions.selector));
    } else {
      WARDEN_RETURN_IF_ERROR(add("greedy", {}));
    }
    return chain;
  }
  if (params.top_k > 0) WARDEN_RETURN_IF_ERROR(add("top_k", {{"k", params.top_k}}));
  if (params.top_p < 1.0f) WARDEN_RETURN_IF_ERROR(add("top_p", {{"p", params.top_p}}));
  if (params.min_p > 0.0f) WARDEN_RETURN_IF_ERROR(add("min_p", {{"p", params.min_p}}));
  if (params.temperature != 1.0f) {
    WARDEN_RETURN_IF_ERROR(add("temperature", {{"temperature", params.temperature}}));
  }
  if (extensions.selector != nullptr) {
    chain->Add(std::move(extensions.selector));
  } else {
    WARDEN_RETURN_IF_ERROR(add("dist", {{"seed", params.seed}}));
  }
  return chain;
}

}  // namespace warden::engine
