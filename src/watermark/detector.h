// The watermark detector: scores a token sequence against a key and reports an exact p-value.
//
// Position i of a sequence (i >= h = params.context) is scored when its PRF input has not been
// scored before in this sequence: kgw dedups (context, token) pairs, tournament and gumbel
// dedup contexts (the generator's context-history mask). Which positions are scored depends
// only on the text, never on the key, so under the null hypothesis (text independent of the
// key) the scored PRF values are independent and uniform, and the scores have exact null
// distributions:
//   kgw         score = number of green tokens among n scored; null Binomial(n, gamma')
//               (gamma' = GreenThreshold53(gamma) / 2^53); p = P(X >= score)
//   tournament  score = sum over scored tokens and layers of the g-values; null
//               Binomial(n * layers, 1/2); p = P(X >= score)
//   gumbel      score = sum of -ln(1 - r); null Gamma(n, 1); p = P(X >= score)
// Tails come from Boost.Math (regularized incomplete beta and gamma, computed as
// complements, so p-values far below 1e-300 underflow to 0 rather than losing precision
// near 1). For the discrete schemes p is the exact tail, so P(p <= alpha) <= alpha.
//
// Verdict at false-positive rate `fpr`: "watermarked" when p <= fpr; "inconclusive" when fewer
// than `min_scored` tokens were scored or when even a maximal score on the scored tokens could
// not reach fpr (the text is too short to tell); "not_detected" otherwise. A text without
// enough evidence is never called watermarked.
//
// Memory is bounded: the set of seen fingerprints holds at most `max_seen` entries; once it is
// full, new positions are no longer scored (a conservative choice that keeps p exact). A
// sliding window (window > 0) keeps only the last `window` scored values.
//
// Thread-safety: a Detector is a value used by one thread; different detectors may run
// concurrently. Ownership: plain data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/types.h"
#include "watermark/key.h"
#include "watermark/prf.h"

namespace warden::watermark {

enum class Verdict { kWatermarked, kNotDetected, kInconclusive };
std::string_view VerdictName(Verdict verdict);  // "watermarked", "not_detected", "inconclusive"

struct DetectOptions {
  double fpr = 1e-6;          // (0, 1)
  uint64_t min_scored = 16;   // fewer scored tokens is inconclusive
  // Sliding-window search for a watermarked passage inside longer text: windows of `window`
  // scored tokens, advanced by `stride` scored tokens (0 = window / 4, at least 1). 0 = off.
  uint64_t window = 0;
  uint64_t stride = 0;
  // Fingerprints kept for dedup: an open-addressing table of 8-byte slots at most 3/4 full,
  // 11-21 bytes per entry, so the default bounds it at 176 MiB.
  uint64_t max_seen = 1ull << 23;
};

// Checks fpr in (0, 1), window/stride consistency (stride <= window). InvalidArgument naming
// the field.
Status ValidateDetectOptions(const DetectOptions& options);

// Where a token came from in the text: bytes [begin, end).
struct TokenSpan {
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct WindowResult {
  uint64_t begin = 0;     // token index (in the sequence given to Push) of the first token
  uint64_t end = 0;       // one past the last token of the window
  // Bytes of the text the window covers, when Push was given spans (0, 0 otherwise).
  uint64_t byte_begin = 0;
  uint64_t byte_end = 0;
  uint64_t scored = 0;
  double score = 0;
  double p_value = 1;     // of this window alone
  double p_adjusted = 1;  // times the number of windows tested (Bonferroni), at most 1
};

struct Detection {
  Scheme scheme = Scheme::kKgw;
  uint64_t tokens = 0;          // tokens pushed
  uint64_t tokens_scored = 0;
  uint64_t tokens_repeated = 0;  // positions skipped as repeats (or because the seen set was full)
  double score = 0;
  double p_value = 1;
  Verdict verdict = Verdict::kInconclusive;
  // With a window: the window with the smallest p-value, and how many windows were tested.
  // The verdict then uses the smaller of p_value and best_window->p_adjusted.
  std::optional<WindowResult> best_window;
  uint64_t windows_tested = 0;
};

// p = P(X >= score) under the null of `scheme` for `scored` tokens (see the header comment).
// 1 when scored == 0.
double PValue(Scheme scheme, const SchemeParams& params, uint64_t scored, double score);

// The smallest p-value `scored` tokens can give (every token green / every g-value 1; for
// gumbel, 0: a continuous score can reach any p).
double MinPossiblePValue(Scheme scheme, const SchemeParams& params, uint64_t scored);

class Detector {
 public:
  // InvalidArgument for params or options that do not validate.
  static Result<Detector> Create(const WatermarkKey& key, Scheme scheme, const SchemeParams& params,
                                 const DetectOptions& options = {});

  // Appends tokens to the sequence (call repeatedly to stream a long text; the context carries
  // over between calls).
  void Push(std::span<const engine::Token> tokens);
  // The same, with each token's byte span in the text (spans.size() == tokens.size()), so that
  // the best window can be reported as bytes.
  void Push(std::span<const engine::Token> tokens, std::span<const TokenSpan> spans);
  // The result so far (may be called repeatedly; Push may continue afterwards).
  Detection Current() const;
  // Forgets the sequence (same key and options).
  void Reset();

  // The per-token score of `token` after `context` (exactly h tokens) under this detector's key
  // and scheme, without dedup: 0/1 green for kgw, the number of g-values equal to 1 for
  // tournament, -ln(1 - r) for gumbel. Exposed for tests and known-answer vectors.
  double TokenScore(std::span<const engine::Token> context, engine::Token token) const;

 private:
  Detector(Prf prf, Scheme scheme, SchemeParams params, DetectOptions options);

  // Records `fingerprint` as seen; false when it already was (or the set is full).
  bool InsertSeen(uint64_t fingerprint);
  void GrowSeen();
  // A scored token as the sliding window keeps it.
  struct WindowEntry {
    uint64_t index = 0;
    TokenSpan bytes;
    double score = 0;
  };

  // `spans` is empty or has one entry per token.
  void PushImpl(std::span<const engine::Token> tokens, std::span<const TokenSpan> spans);
  void PrefetchSeen(uint64_t fingerprint) const;
  // Scores position `index` (its context is `context`, exactly h tokens; `fingerprint` its
  // RepeatFingerprint) unless it is a repeat.
  void ScorePosition(std::span<const engine::Token> context, engine::Token token, uint64_t index,
                     TokenSpan bytes, uint64_t fingerprint);
  void AddToWindow(const WindowEntry& entry);
  void TestWindow();

  Prf prf_;
  Scheme scheme_;
  SchemeParams params_;
  DetectOptions options_;
  uint64_t green_threshold_ = 0;
  uint64_t stride_ = 0;  // options_.stride with 0 resolved
  // The last min(h, tokens_) tokens pushed, oldest first: the context of the next token.
  std::array<engine::Token, kMaxContext> last_{};
  // Seen fingerprints: an open-addressing table with linear probing, a power-of-two number of
  // slots at most 3/4 full, 0 marking an empty slot (a fingerprint equal to 0 is kept in
  // seen_zero_). std::unordered_set allocates a node per insertion, which alone costs more than
  // scoring a token.
  std::vector<uint64_t> seen_slots_;
  uint64_t seen_size_ = 0;
  bool seen_zero_ = false;
  uint64_t slot_salt_ = 0;
  uint64_t tokens_ = 0;
  uint64_t scored_ = 0;
  uint64_t repeated_ = 0;
  double score_ = 0;
  // Sliding window state: a ring of the last `window` scored tokens.
  std::vector<WindowEntry> window_;
  size_t window_head_ = 0;  // the oldest entry once the ring is full
  double window_score_ = 0;
  uint64_t since_last_window_ = 0;
  uint64_t windows_tested_ = 0;
  std::optional<WindowResult> best_window_;  // p_adjusted filled in by Current()
};

}  // namespace warden::watermark
