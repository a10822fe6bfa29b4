#include "watermark/detector.h"

#include <algorithm>
#include <bit>
#include <boost/math/policies/policy.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <cmath>
#include <string>
#include <utility>

namespace warden::watermark {
namespace {

namespace bmp = boost::math::policies;

// Our code does not throw: every Boost.Math error reports through errno instead (the result is
// then NaN or infinite, which PValue turns into the conservative 1), and a tail too small for a
// double is plainly 0, which is what it is to every caller.
using NoThrowPolicy = bmp::policy<
    bmp::domain_error<bmp::errno_on_error>, bmp::pole_error<bmp::errno_on_error>,
    bmp::overflow_error<bmp::errno_on_error>, bmp::evaluation_error<bmp::errno_on_error>,
    bmp::rounding_error<bmp::errno_on_error>, bmp::indeterminate_result_error<bmp::errno_on_error>,
    bmp::underflow_error<bmp::ignore_error>, bmp::denorm_error<bmp::ignore_error>>;

// The first Push of a long text allocates this many slots (8 KiB); the table doubles from there.
constexpr size_t kInitialSeenSlots = 1024;

// A p-value is a probability; anything Boost could not compute counts as no evidence at all.
double ClampProbability(double p) {
  if (std::isnan(p)) return 1;
  return std::clamp(p, 0.0, 1.0);
}

// P(Binomial(trials, q) >= k) = I_q(k, trials - k + 1) for 1 <= k <= trials.
double BinomialUpperTail(double trials, double score, double q) {
  if (std::isnan(score)) return 1;
  const double k = std::ceil(score);  // P(X >= 3.5) = P(X >= 4) for an integer X
  if (k <= 0) return 1;
  if (k > trials) return 0;
  if (q >= 1) return 1;
  return ClampProbability(boost::math::ibeta(k, trials - k + 1, q, NoThrowPolicy()));
}

double KgwGreenProbability(const SchemeParams& params) {
  return std::ldexp(static_cast<double>(GreenThreshold53(params.gamma)), -53);
}

uint64_t LayerMask(uint32_t layers) {
  return layers >= 64 ? ~uint64_t{0} : (uint64_t{1} << layers) - 1;
}

// splitmix64's finalizer: a bijection that spreads every input bit over the slot index.
uint64_t MixSlot(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kWatermarked:
      return "watermarked";
    case Verdict::kNotDetected:
      return "not_detected";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "inconclusive";
}

Status ValidateDetectOptions(const DetectOptions& options) {
  if (!(options.fpr > 0 && options.fpr < 1)) {
    return InvalidArgumentError("watermark detect: \"fpr\" must be in (0, 1), got " +
                                std::to_string(options.fpr));
  }
  if (options.stride > options.window) {
    return InvalidArgumentError("watermark detect: \"stride\" (" + std::to_string(options.stride) +
                                ") must be at most \"window\" (" + std::to_string(options.window) +
                                ")");
  }
  return Status::Ok();
}

double PValue(Scheme scheme, const SchemeParams& params, uint64_t scored, double score) {
  if (scored == 0) return 1;
  const double n = static_cast<double>(scored);
  switch (scheme) {
    case Scheme::kKgw:
      return BinomialUpperTail(n, score, KgwGreenProbability(params));
    case Scheme::kTournament:
      return BinomialUpperTail(n * params.layers, score, 0.5);
    case Scheme::kGumbel:
      if (std::isnan(score)) return 1;
      if (score <= 0) return 1;
      return ClampProbability(boost::math::gamma_q(n, score, NoThrowPolicy()));
  }
  return 1;
}

double MinPossiblePValue(Scheme scheme, const SchemeParams& params, uint64_t scored) {
  if (scored == 0) return 1;
  switch (scheme) {
    case Scheme::kKgw:
      return std::pow(KgwGreenProbability(params), static_cast<double>(scored));
    case Scheme::kTournament: {
      // 2^-(scored * layers); beyond -1100 the double is 0 anyway (and the exponent fits int).
      const double bits = static_cast<double>(scored) * params.layers;
      return bits > 1100 ? 0.0 : std::ldexp(1.0, -static_cast<int>(bits));
    }
    case Scheme::kGumbel:
      return 0;
  }
  return 1;
}

Result<Detector> Detector::Create(const WatermarkKey& key, Scheme scheme,
                                  const SchemeParams& params, const DetectOptions& options) {
  SchemeParams resolved = params;
  if (resolved.context == 0) resolved.context = DefaultParams(scheme).context;
  WARDEN_RETURN_IF_ERROR(ValidateParams(scheme, resolved));
  WARDEN_RETURN_IF_ERROR(ValidateDetectOptions(options));
  return Detector(Prf(key.secret, SchemeName(scheme)), scheme, resolved, options);
}

Detector::Detector(Prf prf, Scheme scheme, SchemeParams params, DetectOptions options)
    : prf_(prf), scheme_(scheme), params_(params), options_(options) {
  green_threshold_ = GreenThreshold53(params_.gamma);
  stride_ = options_.stride != 0 ? options_.stride : std::max<uint64_t>(1, options_.window / 4);
  // The slot of a fingerprint is salted with the secret: the fingerprint function is public,
  // so without the salt a hostile text could be built to pile its fingerprints into one probe
  // run and make every insertion walk it. The salt changes only the table's layout, never
  // which positions count as repeats.
  slot_salt_ = prf_.subkey().k0 ^ std::rotl(prf_.subkey().k1, 32);
}

void Detector::Reset() {
  last_.fill(0);
  // Give back the memory of a long text rather than keep a table sized for it.
  std::vector<uint64_t>().swap(seen_slots_);
  seen_size_ = 0;
  seen_zero_ = false;
  tokens_ = 0;
  scored_ = 0;
  repeated_ = 0;
  score_ = 0;
  std::vector<WindowEntry>().swap(window_);
  window_head_ = 0;
  window_score_ = 0;
  since_last_window_ = 0;
  windows_tested_ = 0;
  best_window_.reset();
}

double Detector::TokenScore(std::span<const engine::Token> context, engine::Token token) const {
  const uint64_t v = prf_(context, token);
  switch (scheme_) {
    case Scheme::kKgw:
      return KgwGreen(v, green_threshold_) ? 1.0 : 0.0;
    case Scheme::kTournament:
      return static_cast<double>(std::popcount(v & LayerMask(params_.layers)));
    case Scheme::kGumbel:
      return -std::log1p(-GumbelUniform(v));
  }
  return 0;
}

void Detector::GrowSeen() {
  std::vector<uint64_t> old;
  old.swap(seen_slots_);
  seen_slots_.assign(old.empty() ? kInitialSeenSlots : old.size() * 2, 0);
  const size_t mask = seen_slots_.size() - 1;
  for (uint64_t fp : old) {
    if (fp == 0) continue;
    size_t i = MixSlot(fp ^ slot_salt_) & mask;
    while (seen_slots_[i] != 0) i = (i + 1) & mask;
    seen_slots_[i] = fp;
  }
}

bool Detector::InsertSeen(uint64_t fingerprint) {
  if (seen_size_ >= options_.max_seen) return false;
  if (fingerprint == 0) {
    if (seen_zero_) return false;
    seen_zero_ = true;
    ++seen_size_;
    return true;
  }
  // At most 3/4 full, so that linear probing stays short.
  if (4 * (seen_size_ + 1) > 3 * seen_slots_.size()) GrowSeen();
  const size_t mask = seen_slots_.size() - 1;
  size_t i = MixSlot(fingerprint ^ slot_salt_) & mask;
  while (seen_slots_[i] != 0) {
    if (seen_slots_[i] == fingerprint) return false;
    i = (i + 1) & mask;
  }
  seen_slots_[i] = fingerprint;
  ++seen_size_;
  return true;
}

void Detector::PrefetchSeen(uint64_t fingerprint) const {
  if (seen_slots_.empty()) return;
  __builtin_prefetch(&seen_slots_[MixSlot(fingerprint ^ slot_salt_) & (seen_slots_.size() - 1)]);
}

void Detector::ScorePosition(std::span<const engine::Token> context, engine::Token token,
                             uint64_t index, TokenSpan bytes, uint64_t fingerprint) {
  if (!InsertSeen(fingerprint)) {
    ++repeated_;
    return;
  }
  const double s = TokenScore(context, token);
  ++scored_;
  score_ += s;
  if (options_.window > 0) AddToWindow({index, bytes, s});
}

void Detector::AddToWindow(const WindowEntry& entry) {
  const uint64_t w = options_.window;
  if (window_.size() < w) {
    window_.push_back(entry);
    window_score_ += entry.score;
    if (window_.size() < w) return;
  } else {
    WindowEntry& oldest = window_[window_head_];
    window_score_ = window_score_ - oldest.score + entry.score;
    oldest = entry;
    window_head_ = (window_head_ + 1) % w;
  }
  // The first full window is tested at once, later ones every stride_ scored tokens.
  if (windows_tested_ != 0 && ++since_last_window_ < stride_) return;
  since_last_window_ = 0;
  TestWindow();
}

void Detector::TestWindow() {
  const uint64_t w = options_.window;
  ++windows_tested_;
  const double p = PValue(scheme_, params_, w, window_score_);
  // Strictly smaller: among equal p-values the earliest window is reported.
  if (best_window_.has_value() && !(p < best_window_->p_value)) return;
  const WindowEntry& first = window_[window_head_];
  const WindowEntry& last = window_[(window_head_ + w - 1) % w];
  WindowResult r;
  r.begin = first.index;
  r.end = last.index + 1;
  r.byte_begin = first.bytes.begin;
  r.byte_end = last.bytes.end;
  r.scored = w;
  r.score = window_score_;
  r.p_value = p;
  best_window_ = r;
}

void Detector::Push(std::span<const engine::Token> tokens) { PushImpl(tokens, {}); }

void Detector::Push(std::span<const engine::Token> tokens, std::span<const TokenSpan> spans) {
  WARDEN_CHECK(spans.size() == tokens.size());
  PushImpl(tokens, spans);
}

void Detector::PushImpl(std::span<const engine::Token> tokens, std::span<const TokenSpan> spans) {
  const size_t h = params_.context;
  const size_t n = tokens.size();
  const size_t have = static_cast<size_t>(std::min<uint64_t>(h, tokens_));
  // The contexts of the first h new tokens straddle the previous call: lay the carried tokens
  // and the first new ones side by side so that every context is one contiguous span.
  std::array<engine::Token, 2 * kMaxContext> joint{};
  std::copy_n(last_.begin(), have, joint.begin());
  const size_t head = std::min(n, h);
  std::copy_n(tokens.begin(), head, joint.begin() + have);
  auto context_of = [&](size_t j) {
    return j >= h ? tokens.subspan(j - h, h)
                  : std::span<const engine::Token>(joint).subspan(have + j - h, h);
  };
  const bool kgw = scheme_ == Scheme::kKgw;
  // Positions go in batches: first every fingerprint of the batch, with a prefetch of its slot,
  // then the inserts in order. Once the table outgrows the cache, a lone insert waits for one
  // memory access after another; this way a batch's accesses overlap.
  constexpr size_t kBatch = 16;
  std::array<uint64_t, kBatch> fingerprints;
  for (size_t b = have >= h ? 0 : h - have; b < n; b += kBatch) {
    const size_t e = std::min(n, b + kBatch);
    for (size_t j = b; j < e; ++j) {
      fingerprints[j - b] = RepeatFingerprint(context_of(j), tokens[j], /*with_token=*/kgw);
      PrefetchSeen(fingerprints[j - b]);
    }
    for (size_t j = b; j < e; ++j) {
      ScorePosition(context_of(j), tokens[j], tokens_ + j, spans.empty() ? TokenSpan{} : spans[j],
                    fingerprints[j - b]);
    }
  }

  // Carry the last h tokens (fewer at the start of a text) into the next call.
  const size_t total = have + n;
  const size_t keep = std::min(h, total);
  if (n >= keep) {
    std::copy_n(tokens.end() - keep, keep, last_.begin());
  } else {
    std::copy_n(joint.begin() + (total - keep), keep, last_.begin());  // n < h: all in joint
  }
  tokens_ += n;
}

Detection Detector::Current() const {
  Detection d;
  d.scheme = scheme_;
  d.tokens = tokens_;
  d.tokens_scored = scored_;
  d.tokens_repeated = repeated_;
  d.score = score_;
  d.p_value = PValue(scheme_, params_, scored_, score_);
  d.windows_tested = windows_tested_;
  double p = d.p_value;
  if (best_window_.has_value()) {
    d.best_window = *best_window_;
    d.best_window->p_adjusted =
        std::min(1.0, best_window_->p_value * static_cast<double>(windows_tested_));
    p = std::min(p, d.best_window->p_adjusted);
  }
  if (scored_ < options_.min_scored ||
      MinPossiblePValue(scheme_, params_, scored_) > options_.fpr) {
    d.verdict = Verdict::kInconclusive;
  } else {
    d.verdict = p <= options_.fpr ? Verdict::kWatermarked : Verdict::kNotDetected;
  }
  return d;
}

}  // namespace warden::watermark
