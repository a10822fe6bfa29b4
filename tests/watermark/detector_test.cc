// The watermark detector (watermark/detector.h): exact p-values against slow independent
// references, calibration under the null hypothesis (text written without the key), dedup of
// repeated PRF inputs, streaming, verdicts, the memory bound and the sliding window.
//
// Every random choice comes from a fixed seed, so each statistical assertion is deterministic;
// the comments give the probability that a correct implementation would fail it on a fresh
// seed.
#include "watermark/detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/files.h"
#include "engine/tokenizer.h"
#include "formats/gguf.h"
#include "watermark/key.h"
#include "watermark/prf.h"

namespace warden::watermark {
namespace {

using engine::Token;

constexpr char kModelPath[] = WARDEN_SOURCE_DIR "/data/models/stories260K.gguf";
constexpr char kHumanTextPath[] = WARDEN_TESTDATA_DIR "/watermark/human.txt";
constexpr Token kVocab = 512;  // stories260K's vocabulary

// ---------------------------------------------------------------------------------------
// Helpers.

WatermarkKey KeyFromSeed(uint64_t seed) {
  std::mt19937_64 rng(seed);
  WatermarkKey key;
  for (auto& b : key.secret) b = static_cast<uint8_t>(rng());
  return key;
}

SchemeParams ParamsFor(Scheme scheme) { return DefaultParams(scheme); }

Detector MakeDetector(const WatermarkKey& key, Scheme scheme, const SchemeParams& params,
                      const DetectOptions& options = {}) {
  auto d = Detector::Create(key, scheme, params, options);
  if (!d.has_value()) ADD_FAILURE() << d.error().ToString();
  return std::move(d).value();
}

Detection Detect(const WatermarkKey& key, Scheme scheme, const SchemeParams& params,
                 std::span<const Token> text, const DetectOptions& options = {}) {
  Detector d = MakeDetector(key, scheme, params, options);
  d.Push(text);
  return d.Current();
}

// Uniform on [0, 1) from the top 53 bits; written out (rather than std::uniform_real_distribution)
// so that the draws are the same with every standard library.
double Uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

Token UniformToken(std::mt19937_64& rng, Token vocab = kVocab) {
  return static_cast<Token>(rng() % static_cast<uint64_t>(vocab));
}

// Zipf(1) over the vocabulary in a shuffled order: a skewed unigram distribution like a real
// text's, so that (context, token) pairs and contexts repeat often.
class Unigram {
 public:
  explicit Unigram(uint64_t seed, Token vocab = kVocab) : order_(vocab), cdf_(vocab) {
    std::mt19937_64 rng(seed);
    for (Token t = 0; t < vocab; ++t) order_[t] = t;
    for (Token i = vocab - 1; i > 0; --i) std::swap(order_[i], order_[UniformToken(rng, i + 1)]);
    double total = 0;
    for (Token r = 0; r < vocab; ++r) cdf_[r] = total += 1.0 / (r + 1);
    for (double& c : cdf_) c /= total;
  }
  Token Sample(std::mt19937_64& rng) const {
    const size_t r = std::upper_bound(cdf_.begin(), cdf_.end(), Uniform(rng)) - cdf_.begin();
    return order_[std::min(r, order_.size() - 1)];
  }

 private:
  std::vector<Token> order_;
  std::vector<double> cdf_;
};

// Unigram draws with, now and then, a phrase copied from earlier in the text (repeated n-grams
// are what the dedup is for).
std::vector<Token> UnigramText(const Unigram& unigram, std::mt19937_64& rng, size_t length) {
  std::vector<Token> text;
  while (text.size() < length) {
    if (text.size() > 20 && Uniform(rng) < 0.05) {
      const size_t n = 4 + rng() % 6;
      const size_t from = rng() % (text.size() - n);
      for (size_t i = 0; i < n && text.size() < length; ++i) text.push_back(text[from + i]);
    } else {
      text.push_back(unigram.Sample(rng));
    }
  }
  return text;
}

std::vector<Token> UniformText(std::mt19937_64& rng, size_t length, Token vocab = kVocab) {
  std::vector<Token> text(length);
  for (Token& t : text) t = UniformToken(rng, vocab);
  return text;
}

// Appends `count` tokens that are green under `det` (kgw, context 1) given the previous token,
// never repeating a (previous, token) pair of `text`, so that every one of them is scored.
void AppendGreen(const Detector& det, std::mt19937_64& rng, size_t count,
                 std::vector<Token>& text) {
  std::set<std::pair<Token, Token>> used;
  for (size_t i = 1; i < text.size(); ++i) used.emplace(text[i - 1], text[i]);
  for (size_t i = 0; i < count; ++i) {
    const Token prev = text.back();
    Token t;
    do {
      t = UniformToken(rng);
    } while (det.TokenScore(std::span(&prev, 1), t) != 1 || used.count({prev, t}) != 0);
    used.emplace(prev, t);
    text.push_back(t);
  }
}

// ln P(Binomial(n, q) >= k), summed over the pmf in log space with long double: the slow
// reference for the kgw and tournament tails.
long double RefLogBinomialUpperTail(int64_t n, int64_t k, long double q) {
  if (k <= 0) return 0;
  long double max_term = -std::numeric_limits<long double>::infinity();
  std::vector<long double> terms;
  for (int64_t j = k; j <= n; ++j) {
    const long double t = std::lgamma(static_cast<long double>(n + 1)) -
                          std::lgamma(static_cast<long double>(j + 1)) -
                          std::lgamma(static_cast<long double>(n - j + 1)) + j * std::log(q) +
                          (n - j) * std::log1p(-q);
    terms.push_back(t);
    max_term = std::max(max_term, t);
  }
  long double sum = 0;
  for (long double t : terms) sum += std::exp(t - max_term);
  return max_term + std::log(sum);
}

// ln Q(n, x) for the gumbel null, from the closed form Q(n, x) = e^-x sum_{k<n} x^k / k!.
long double RefLogGammaQ(int n, long double x) {
  long double term = 1, sum = 1;
  for (int k = 1; k < n; ++k) sum += term *= x / k;
  return -x + std::log(sum);
}

// The exact green probability of kgw, computed here without the code under test.
double GreenProbability(double gamma) { return std::ceil(std::ldexp(gamma, 53)) * 0x1.0p-53; }

// One-sample Kolmogorov-Smirnov distance of `u` from Uniform(0, 1).
double KsDistanceFromUniform(std::vector<double> u) {
  std::sort(u.begin(), u.end());
  const double n = static_cast<double>(u.size());
  double d = 0;
  for (size_t i = 0; i < u.size(); ++i) {
    d = std::max({d, (i + 1) / n - u[i], u[i] - i / n});
  }
  return d;
}

// The 0.999 quantile of the KS distance for large samples: a correct p-value fails with
// probability 0.001.
double KsCritical999(size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

struct NullDraw {
  uint64_t scored = 0;
  double score = 0;
  double p = 1;
  double u = 0;  // the randomization of a discrete p-value
};

// The p-value made continuous: P(X > x) + U * P(X = x) is Uniform(0, 1) exactly when `tail`
// gives the true null tail P(X >= .) of the discrete score X.
template <typename Tail>
double Randomized(const NullDraw& d, Tail tail) {
  const double above = tail(d.scored, d.score + 1);
  return above + d.u * (tail(d.scored, d.score) - above);
}

// Scores every text under `keys_per_text` independent keys (fixed seeds). Texts where nothing
// was scored carry no information and are dropped.
std::vector<NullDraw> NullDraws(Scheme scheme, const SchemeParams& params,
                                const std::vector<std::vector<Token>>& texts, int keys_per_text,
                                uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<NullDraw> draws;
  for (const auto& text : texts) {
    for (int k = 0; k < keys_per_text; ++k) {
      const Detection det = Detect(KeyFromSeed(rng()), scheme, params, text);
      if (det.tokens_scored == 0) continue;
      draws.push_back({det.tokens_scored, det.score, det.p_value, Uniform(rng)});
    }
  }
  return draws;
}

std::vector<std::vector<Token>> RandomNullTexts(uint64_t seed, size_t count, size_t min_len,
                                                size_t max_len) {
  std::mt19937_64 rng(seed);
  const Unigram unigram(seed ^ 0x5eed);
  std::vector<std::vector<Token>> texts;
  for (size_t i = 0; i < count; ++i) {
    texts.push_back(UnigramText(unigram, rng, min_len + rng() % (max_len - min_len + 1)));
  }
  return texts;
}

// ---------------------------------------------------------------------------------------
// Exact p-values against slow references.

TEST(PValueTest, KgwEqualsTheBinomialTailSummedOverThePmf) {
  for (double gamma : {0.1, 0.25, 0.5, 0.9}) {
    SchemeParams params = ParamsFor(Scheme::kKgw);
    params.gamma = gamma;
    const long double q = GreenProbability(gamma);
    for (int64_t n : {1, 2, 5, 17, 64, 200}) {
      for (int64_t k = 0; k <= n; ++k) {
        const double p = PValue(Scheme::kKgw, params, n, static_cast<double>(k));
        const long double ref = RefLogBinomialUpperTail(n, k, q);
        ASSERT_GT(p, 0) << "gamma " << gamma << " n " << n << " k " << k;
        EXPECT_NEAR(std::log(p), static_cast<double>(ref), 1e-10)
            << "gamma " << gamma << " n " << n << " k " << k;
      }
    }
  }
}

TEST(PValueTest, TournamentEqualsTheBinomialTailOfAllGValues) {
  for (uint32_t layers : {1u, 3u, 30u}) {
    SchemeParams params = ParamsFor(Scheme::kTournament);
    params.layers = layers;
    for (int64_t n : {1, 2, 6}) {
      const int64_t trials = n * layers;
      for (int64_t k = 0; k <= trials; ++k) {
        const double p = PValue(Scheme::kTournament, params, n, static_cast<double>(k));
        const long double ref = RefLogBinomialUpperTail(trials, k, 0.5L);
        ASSERT_GT(p, 0) << "layers " << layers << " n " << n << " k " << k;
        EXPECT_NEAR(std::log(p), static_cast<double>(ref), 1e-10)
            << "layers " << layers << " n " << n << " k " << k;
      }
    }
  }
}

TEST(PValueTest, GumbelEqualsTheClosedFormGammaTail) {
  const SchemeParams params = ParamsFor(Scheme::kGumbel);
  for (int n = 1; n <= 12; ++n) {
    for (double x : {0.01, 0.5, 1.0, 0.5 * n, 1.0 * n, 2.0 * n, 5.0 * n, 60.0}) {
      const double p = PValue(Scheme::kGumbel, params, n, x);
      ASSERT_GT(p, 0) << "n " << n << " x " << x;
      EXPECT_NEAR(std::log(p), static_cast<double>(RefLogGammaQ(n, x)), 1e-10)
          << "n " << n << " x " << x;
    }
  }
}

TEST(PValueTest, NoScoredTokensOrNoScoreGivesOne) {
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    EXPECT_EQ(PValue(s, ParamsFor(s), 0, 0), 1) << SchemeName(s);
    EXPECT_EQ(PValue(s, ParamsFor(s), 0, 5), 1) << SchemeName(s);
    EXPECT_EQ(PValue(s, ParamsFor(s), 10, 0), 1) << SchemeName(s);
    EXPECT_EQ(MinPossiblePValue(s, ParamsFor(s), 0), 1) << SchemeName(s);
  }
}

TEST(PValueTest, DiscreteScoresAboveTheMaximumGiveZeroAndFractionsRoundUp) {
  const SchemeParams kgw = ParamsFor(Scheme::kKgw);
  EXPECT_EQ(PValue(Scheme::kKgw, kgw, 10, 11), 0);
  EXPECT_EQ(PValue(Scheme::kKgw, kgw, 10, 3.5), PValue(Scheme::kKgw, kgw, 10, 4));
  const SchemeParams tournament = ParamsFor(Scheme::kTournament);
  EXPECT_EQ(PValue(Scheme::kTournament, tournament, 2, 2.0 * tournament.layers + 1), 0);
}

TEST(PValueTest, TinyTailsArePositiveUntilTheyTrulyUnderflow) {
  SchemeParams half = ParamsFor(Scheme::kKgw);
  half.gamma = 0.5;
  // 1000 of 1000 green at gamma 1/2: 2^-1000 ~ 9.3e-302, a normal double.
  const double p_half = PValue(Scheme::kKgw, half, 1000, 1000);
  EXPECT_GT(p_half, 0);
  EXPECT_NEAR(std::log(p_half), -1000 * std::log(2.0), 1e-9);
  // At gamma 1/4 the same text has p = 4^-1000 ~ 1e-602, below the smallest double.
  const SchemeParams quarter = ParamsFor(Scheme::kKgw);
  EXPECT_EQ(PValue(Scheme::kKgw, quarter, 1000, 1000), 0);
  // Near the bottom of the normal range: 500 of 500 green at 1/4, 4^-500 ~ 9.3e-302.
  const double p_quarter = PValue(Scheme::kKgw, quarter, 500, 500);
  EXPECT_GT(p_quarter, 0);
  EXPECT_NEAR(std::log(p_quarter), 500 * std::log(GreenProbability(0.25)), 1e-9);
  // 199 green of 200, far in the tail, against the pmf sum.
  EXPECT_NEAR(std::log(PValue(Scheme::kKgw, quarter, 200, 199)),
              static_cast<double>(RefLogBinomialUpperTail(200, 199, GreenProbability(0.25))), 1e-9);
  // Gumbel against the closed form: Q(200, 600) ~ e^-185 and Q(100, 1000) ~ e^-675 (1e-293);
  // Q(100, 1200) ~ e^-857 underflows.
  const SchemeParams gumbel = ParamsFor(Scheme::kGumbel);
  for (const auto& [n, x] : {std::pair{200, 600.0}, std::pair{100, 1000.0}}) {
    const double q = PValue(Scheme::kGumbel, gumbel, n, x);
    EXPECT_GT(q, 0);
    EXPECT_NEAR(std::log(q), static_cast<double>(RefLogGammaQ(n, x)), 1e-9);
  }
  EXPECT_EQ(PValue(Scheme::kGumbel, gumbel, 100, 1200), 0);
}

TEST(PValueTest, MinPossiblePValueIsThePValueOfAMaximalScore) {
  const SchemeParams kgw = ParamsFor(Scheme::kKgw);
  for (uint64_t n : {1, 7, 40, 300}) {
    EXPECT_NEAR(std::log(MinPossiblePValue(Scheme::kKgw, kgw, n)),
                n * std::log(GreenProbability(kgw.gamma)), 1e-9);
    EXPECT_DOUBLE_EQ(MinPossiblePValue(Scheme::kKgw, kgw, n),
                     PValue(Scheme::kKgw, kgw, n, static_cast<double>(n)));
  }
  const SchemeParams tournament = ParamsFor(Scheme::kTournament);  // 30 layers
  EXPECT_EQ(MinPossiblePValue(Scheme::kTournament, tournament, 2), std::ldexp(1.0, -60));
  EXPECT_EQ(MinPossiblePValue(Scheme::kTournament, tournament, 100), 0);  // 2^-3000
  EXPECT_EQ(MinPossiblePValue(Scheme::kGumbel, ParamsFor(Scheme::kGumbel), 3), 0);
}

// ---------------------------------------------------------------------------------------
// Per-token scores follow the PRF definitions of prf.h.

TEST(TokenScoreTest, FollowsThePrfDefinitionOfEachScheme) {
  const WatermarkKey key = KeyFromSeed(11);
  std::mt19937_64 rng(12);
  SchemeParams kgw = ParamsFor(Scheme::kKgw);
  kgw.context = 2;
  kgw.gamma = 0.3;
  SchemeParams tournament = ParamsFor(Scheme::kTournament);
  tournament.layers = 7;
  const Detector kgw_det = MakeDetector(key, Scheme::kKgw, kgw);
  const Detector tournament_det = MakeDetector(key, Scheme::kTournament, tournament);
  const Detector gumbel_det = MakeDetector(key, Scheme::kGumbel, ParamsFor(Scheme::kGumbel));
  const Prf kgw_prf(key.secret, "kgw");
  const Prf tournament_prf(key.secret, "tournament");
  const Prf gumbel_prf(key.secret, "gumbel");
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(0.3 * 0x1.0p53));
  int greens = 0;
  for (int i = 0; i < 400; ++i) {
    const std::vector<Token> ctx = UniformText(rng, 4);
    const Token t = UniformToken(rng);
    const std::span<const Token> ctx2 = std::span(ctx).first(2);
    const bool green = (kgw_prf(ctx2, t) >> 11) < threshold;
    greens += green;
    EXPECT_EQ(kgw_det.TokenScore(ctx2, t), green ? 1 : 0);
    const uint64_t v = tournament_prf(ctx, t);
    int ones = 0;
    for (int l = 0; l < 7; ++l) ones += (v >> l) & 1;
    EXPECT_EQ(tournament_det.TokenScore(ctx, t), ones);
    const long double r = (static_cast<long double>(gumbel_prf(ctx, t) >> 11) + 0.5L) / 0x1.0p53L;
    EXPECT_NEAR(gumbel_det.TokenScore(ctx, t), static_cast<double>(-std::log1p(-r)), 1e-12);
  }
  EXPECT_GT(greens, 0);
  EXPECT_LT(greens, 400);
}

// ---------------------------------------------------------------------------------------
// Calibration: on text written without the key, p-values follow their exact null law.
//
// Discrete p-values are checked through their randomized form (Randomized above), which is
// exactly Uniform(0, 1) for a correct tail whatever the number of scored tokens; gumbel's
// continuous p-value is Uniform(0, 1) itself. Each KS assertion fails a correct implementation
// with probability 0.001; each FPR assertion (alpha + 3 standard errors) with about 0.0013.

class CalibrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    random_texts_ = new std::vector<std::vector<Token>>(RandomNullTexts(101, 2000, 20, 120));
    human_texts_ = new std::vector<std::vector<Token>>(LoadHumanTexts());
  }
  static void TearDownTestSuite() {
    delete random_texts_;
    delete human_texts_;
    random_texts_ = human_texts_ = nullptr;
  }

  static std::vector<std::vector<Token>> LoadHumanTexts() {
    std::vector<std::string> lines;
    std::ifstream in(kHumanTextPath);
    EXPECT_TRUE(in.good()) << kHumanTextPath;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    std::vector<std::vector<Token>> texts;
    auto file = ReadOnlyFile::Open(kModelPath);
    EXPECT_TRUE(file.has_value()) << file.error().ToString();
    if (!file.has_value()) return texts;
    auto map = file->MapAll();
    EXPECT_TRUE(map.has_value()) << map.error().ToString();
    if (!map.has_value()) return texts;
    auto gguf = formats::ParseGguf(map->bytes(), kModelPath);
    EXPECT_TRUE(gguf.has_value()) << gguf.error().ToString();
    if (!gguf.has_value()) return texts;
    auto tok = engine::Tokenizer::FromGguf(*gguf, kModelPath);
    EXPECT_TRUE(tok.has_value()) << tok.error().ToString();
    if (!tok.has_value()) return texts;
    for (const std::string& line : lines) {
      auto ids = tok->Encode(line, {.add_special = false});
      EXPECT_TRUE(ids.has_value()) << ids.error().ToString();
      if (ids.has_value()) texts.push_back(*std::move(ids));
    }
    return texts;
  }

  // About 2000 draws from the human lines: each line under enough independent keys.
  static std::vector<NullDraw> HumanDraws(Scheme scheme, uint64_t seed) {
    const int keys = static_cast<int>(2000 / std::max<size_t>(1, human_texts_->size())) + 1;
    return NullDraws(scheme, ParamsFor(scheme), *human_texts_, keys, seed);
  }
  static std::vector<NullDraw> RandomDraws(Scheme scheme, uint64_t seed) {
    return NullDraws(scheme, ParamsFor(scheme), *random_texts_, 1, seed);
  }

  static void ExpectRandomizedUniform(Scheme scheme, const std::vector<NullDraw>& draws) {
    ASSERT_GE(draws.size(), 1500u);
    const SchemeParams params = ParamsFor(scheme);
    std::vector<double> u;
    for (const NullDraw& d : draws) {
      u.push_back(scheme == Scheme::kGumbel ? d.p : Randomized(d, [&](uint64_t n, double x) {
        return PValue(scheme, params, n, x);
      }));
    }
    EXPECT_LT(KsDistanceFromUniform(u), KsCritical999(u.size())) << "draws " << u.size();
  }

  static void ExpectFprAtMostAlpha(const std::vector<NullDraw>& draws) {
    const double n = static_cast<double>(draws.size());
    for (double alpha : {0.01, 0.05, 0.1}) {
      const double hits = std::count_if(draws.begin(), draws.end(),
                                        [&](const NullDraw& d) { return d.p <= alpha; });
      EXPECT_LE(hits / n, alpha + 3 * std::sqrt(alpha * (1 - alpha) / n)) << "alpha " << alpha;
    }
  }

  static std::vector<std::vector<Token>>* random_texts_;
  static std::vector<std::vector<Token>>* human_texts_;
};
std::vector<std::vector<Token>>* CalibrationTest::random_texts_ = nullptr;
std::vector<std::vector<Token>>* CalibrationTest::human_texts_ = nullptr;

TEST_F(CalibrationTest, HumanTextTokenizes) {
  ASSERT_GE(human_texts_->size(), 20u);
  for (const auto& t : *human_texts_) EXPECT_GE(t.size(), 5u);
}

TEST_F(CalibrationTest, KgwPValuesFollowTheNullOnRandomText) {
  const auto draws = RandomDraws(Scheme::kKgw, 1);
  ExpectRandomizedUniform(Scheme::kKgw, draws);
  ExpectFprAtMostAlpha(draws);
}

TEST_F(CalibrationTest, KgwPValuesFollowTheNullOnHumanText) {
  const auto draws = HumanDraws(Scheme::kKgw, 2);
  ExpectRandomizedUniform(Scheme::kKgw, draws);
  ExpectFprAtMostAlpha(draws);
}

TEST_F(CalibrationTest, TournamentPValuesFollowTheNullOnRandomText) {
  const auto draws = RandomDraws(Scheme::kTournament, 3);
  ExpectRandomizedUniform(Scheme::kTournament, draws);
  ExpectFprAtMostAlpha(draws);
}

TEST_F(CalibrationTest, TournamentPValuesFollowTheNullOnHumanText) {
  const auto draws = HumanDraws(Scheme::kTournament, 4);
  ExpectRandomizedUniform(Scheme::kTournament, draws);
  ExpectFprAtMostAlpha(draws);
}

TEST_F(CalibrationTest, GumbelPValuesAreUniformOnRandomText) {
  const auto draws = RandomDraws(Scheme::kGumbel, 5);
  ExpectRandomizedUniform(Scheme::kGumbel, draws);
  ExpectFprAtMostAlpha(draws);
}

TEST_F(CalibrationTest, GumbelPValuesAreUniformOnHumanText) {
  const auto draws = HumanDraws(Scheme::kGumbel, 6);
  ExpectRandomizedUniform(Scheme::kGumbel, draws);
  ExpectFprAtMostAlpha(draws);
}

// The same check rejects plausible wrong tails, so the calibration tests can fail.
TEST_F(CalibrationTest, BrokenKgwTailsFailTheSameKsCheck) {
  const auto draws = RandomDraws(Scheme::kKgw, 1);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  SchemeParams wrong_gamma = params;
  wrong_gamma.gamma = 0.28;  // a green fraction 3 points off
  std::vector<double> strict, off_gamma;
  for (const NullDraw& d : draws) {
    // P(X > x) reported as if it were P(X >= x): an off-by-one in the tail.
    strict.push_back(Randomized(
        d, [&](uint64_t n, double x) { return PValue(Scheme::kKgw, params, n, x + 1); }));
    off_gamma.push_back(Randomized(
        d, [&](uint64_t n, double x) { return PValue(Scheme::kKgw, wrong_gamma, n, x); }));
  }
  EXPECT_GT(KsDistanceFromUniform(strict), KsCritical999(strict.size()));
  EXPECT_GT(KsDistanceFromUniform(off_gamma), KsCritical999(off_gamma.size()));
}

// The normal approximation (a z-test, the usual shortcut) on short texts is not the null law.
TEST_F(CalibrationTest, NormalApproximationOnShortTextsFailsTheSameKsCheck) {
  const auto texts = RandomNullTexts(202, 2000, 8, 14);
  const auto draws = NullDraws(Scheme::kKgw, ParamsFor(Scheme::kKgw), texts, 1, 7);
  const double g = GreenProbability(0.25);
  auto z_tail = [&](uint64_t n, double x) {
    const double z = (x - n * g) / std::sqrt(n * g * (1 - g));
    return 0.5 * std::erfc(z / std::sqrt(2.0));
  };
  std::vector<double> u;
  for (const NullDraw& d : draws) u.push_back(Randomized(d, z_tail));
  EXPECT_GT(KsDistanceFromUniform(u), KsCritical999(u.size()));
}

// ---------------------------------------------------------------------------------------
// Dedup.

// The scored positions, counts and score of `text`, recomputed with an ordinary set of
// n-grams: the slow reference for the detector's fingerprint table.
struct RefDedup {
  uint64_t scored = 0;
  uint64_t repeated = 0;
  double score = 0;
  std::vector<std::pair<uint64_t, double>> scored_positions;  // (index, token score)
};

RefDedup ReferenceDedup(const Detector& det, Scheme scheme, size_t h,
                        const std::vector<Token>& text) {
  RefDedup r;
  std::set<std::vector<Token>> seen;
  for (size_t i = h; i < text.size(); ++i) {
    std::vector<Token> gram(text.begin() + (i - h), text.begin() + i);
    if (scheme == Scheme::kKgw) gram.push_back(text[i]);
    if (!seen.insert(gram).second) {
      ++r.repeated;
      continue;
    }
    const double s = det.TokenScore(std::span(text).subspan(i - h, h), text[i]);
    ++r.scored;
    r.score += s;
    r.scored_positions.emplace_back(i, s);
  }
  return r;
}

TEST(DedupTest, KgwDedupsPairsWhileTournamentAndGumbelDedupContexts) {
  // Context (1, 2) comes back before 4 and before 5: new (context, token) pairs, old contexts.
  const std::vector<Token> text = {1, 2, 3, 1, 2, 4, 1, 2, 5};
  const WatermarkKey key = KeyFromSeed(21);
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    SchemeParams params = ParamsFor(s);
    params.context = 2;
    const Detection d = Detect(key, s, params, text);
    EXPECT_EQ(d.tokens, 9u);
    EXPECT_EQ(d.tokens_scored, s == Scheme::kKgw ? 7u : 5u) << SchemeName(s);
    EXPECT_EQ(d.tokens_repeated, s == Scheme::kKgw ? 0u : 2u) << SchemeName(s);
  }
  // A repeated (context, token) pair is skipped by kgw too.
  const std::vector<Token> abab = {7, 8, 7, 8, 7, 8, 7, 8};
  const Detection d = Detect(key, Scheme::kKgw, ParamsFor(Scheme::kKgw), abab);
  EXPECT_EQ(d.tokens_scored, 2u);
  EXPECT_EQ(d.tokens_repeated, 5u);
}

TEST(DedupTest, MatchesASetOfNGramsOnRepetitiveText) {
  std::mt19937_64 rng(31);
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    for (uint32_t h : {1u, 2u, 4u}) {
      SchemeParams params = ParamsFor(s);
      params.context = h;
      const std::vector<Token> text = UniformText(rng, 3000, 5);  // five tokens: many repeats
      const Detector det = MakeDetector(KeyFromSeed(32), s, params);
      const RefDedup ref = ReferenceDedup(det, s, h, text);
      const Detection d = Detect(KeyFromSeed(32), s, params, text);
      EXPECT_EQ(d.tokens_scored, ref.scored) << SchemeName(s) << " h " << h;
      EXPECT_EQ(d.tokens_repeated, ref.repeated) << SchemeName(s) << " h " << h;
      EXPECT_EQ(d.tokens_scored + d.tokens_repeated, text.size() - h);
      EXPECT_DOUBLE_EQ(d.score, ref.score) << SchemeName(s) << " h " << h;
    }
  }
}

TEST(DedupTest, WhichPositionsAreScoredDoesNotDependOnTheKey) {
  std::mt19937_64 rng(41);
  const Unigram unigram(42);
  const std::vector<Token> text = UnigramText(unigram, rng, 2000);
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    const Detection a = Detect(KeyFromSeed(43), s, ParamsFor(s), text);
    const Detection b = Detect(KeyFromSeed(44), s, ParamsFor(s), text);
    EXPECT_GT(a.tokens_repeated, 0u) << SchemeName(s);
    EXPECT_EQ(a.tokens_scored, b.tokens_scored) << SchemeName(s);
    EXPECT_EQ(a.tokens_repeated, b.tokens_repeated) << SchemeName(s);
    EXPECT_NE(a.score, b.score) << SchemeName(s);
  }
}

// ---------------------------------------------------------------------------------------
// Streaming.

void ExpectSameDetection(const Detection& a, const Detection& b) {
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.tokens_scored, b.tokens_scored);
  EXPECT_EQ(a.tokens_repeated, b.tokens_repeated);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.p_value, b.p_value);
  EXPECT_EQ(a.verdict, b.verdict);
  EXPECT_EQ(a.windows_tested, b.windows_tested);
  ASSERT_EQ(a.best_window.has_value(), b.best_window.has_value());
  if (a.best_window) {
    EXPECT_EQ(a.best_window->begin, b.best_window->begin);
    EXPECT_EQ(a.best_window->end, b.best_window->end);
    EXPECT_EQ(a.best_window->byte_begin, b.best_window->byte_begin);
    EXPECT_EQ(a.best_window->byte_end, b.best_window->byte_end);
    EXPECT_EQ(a.best_window->score, b.best_window->score);
    EXPECT_EQ(a.best_window->p_value, b.best_window->p_value);
    EXPECT_EQ(a.best_window->p_adjusted, b.best_window->p_adjusted);
  }
}

TEST(StreamingTest, PiecesOfAnySizeGiveTheSameResultAsOneCall) {
  std::mt19937_64 rng(51);
  const Unigram unigram(52);
  const std::vector<Token> text = UnigramText(unigram, rng, 1500);
  const DetectOptions options{.window = 200, .stride = 30};
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    for (uint32_t h : {1u, 3u, 16u}) {
      SchemeParams params = ParamsFor(s);
      params.context = h;
      const Detection whole = Detect(KeyFromSeed(53), s, params, text, options);
      ASSERT_TRUE(whole.best_window.has_value());
      Detector pieces = MakeDetector(KeyFromSeed(53), s, params, options);
      for (size_t at = 0; at < text.size();) {
        const size_t n = std::min<size_t>(rng() % 8, text.size() - at);  // 0 to 7 tokens
        pieces.Push(std::span(text).subspan(at, n));
        at += n;
        if (rng() % 16 == 0) pieces.Current();  // looking must not change anything
      }
      SCOPED_TRACE(std::string(SchemeName(s)) + " h " + std::to_string(h));
      ExpectSameDetection(whole, pieces.Current());
    }
  }
}

TEST(StreamingTest, ResetForgetsTheSequence) {
  std::mt19937_64 rng(61);
  const std::vector<Token> first = UniformText(rng, 300);
  const std::vector<Token> second = UniformText(rng, 300);
  const DetectOptions options{.window = 50};
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  Detector det = MakeDetector(KeyFromSeed(62), Scheme::kKgw, params, options);
  det.Push(first);
  det.Reset();
  det.Push(second);
  ExpectSameDetection(det.Current(),
                      Detect(KeyFromSeed(62), Scheme::kKgw, params, second, options));
}

// ---------------------------------------------------------------------------------------
// Keys and verdicts.

TEST(VerdictTest, AllGreenTextIsWatermarkedForItsKeyAndNotForAnother) {
  const WatermarkKey key_a = KeyFromSeed(71);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const Detector a = MakeDetector(key_a, Scheme::kKgw, params);
  std::mt19937_64 rng(72);
  std::vector<Token> text = {UniformToken(rng)};
  AppendGreen(a, rng, 199, text);
  const Detection with_a = Detect(key_a, Scheme::kKgw, params, text);
  EXPECT_EQ(with_a.tokens_scored, 199u);
  EXPECT_EQ(with_a.score, 199);
  EXPECT_EQ(with_a.verdict, Verdict::kWatermarked);
  EXPECT_NEAR(std::log(with_a.p_value), 199 * std::log(GreenProbability(0.25)), 1e-9);
  // Under another key the text is ordinary: a p-value this small happens with probability
  // 0.001 for a correct detector.
  const Detection with_b = Detect(KeyFromSeed(73), Scheme::kKgw, params, text);
  EXPECT_EQ(with_b.verdict, Verdict::kNotDetected);
  EXPECT_GT(with_b.p_value, 1e-3);
}

TEST(VerdictTest, TooFewScoredTokensIsInconclusive) {
  const WatermarkKey key = KeyFromSeed(81);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const Detector det = MakeDetector(key, Scheme::kKgw, params);
  std::mt19937_64 rng(82);
  std::vector<Token> text = {UniformToken(rng)};
  AppendGreen(det, rng, 15, text);  // 15 scored, one short of min_scored
  const DetectOptions options{.fpr = 0.01, .min_scored = 16};
  const Detection short_text = Detect(key, Scheme::kKgw, params, text, options);
  EXPECT_EQ(short_text.tokens_scored, 15u);
  EXPECT_LT(short_text.p_value, options.fpr);
  EXPECT_EQ(short_text.verdict, Verdict::kInconclusive);
  AppendGreen(det, rng, 1, text);
  EXPECT_EQ(Detect(key, Scheme::kKgw, params, text, options).verdict, Verdict::kWatermarked);
}

TEST(VerdictTest, TextTooShortToReachTheFprIsInconclusive) {
  const WatermarkKey key = KeyFromSeed(91);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const Detector det = MakeDetector(key, Scheme::kKgw, params);
  std::mt19937_64 rng(92);
  const DetectOptions options{.fpr = 1e-20};
  // 29 green tokens: p = 4^-29 ~ 3.5e-18 is the best 29 tokens can do, above 1e-20.
  std::vector<Token> text = {UniformToken(rng)};
  AppendGreen(det, rng, 29, text);
  EXPECT_EQ(Detect(key, Scheme::kKgw, params, text, options).verdict, Verdict::kInconclusive);
  // The same 29 tokens followed by red ones: still inconclusive, never "not detected".
  std::vector<Token> mixed = text;
  while (mixed.size() < 30) {
    const Token t = UniformToken(rng);
    if (det.TokenScore(std::span(&mixed.back(), 1), t) == 0) mixed.push_back(t);
  }
  EXPECT_EQ(Detect(key, Scheme::kKgw, params, mixed, options).verdict, Verdict::kInconclusive);
  // 39 green tokens reach 4^-39 ~ 3.3e-24.
  AppendGreen(det, rng, 10, text);
  EXPECT_EQ(Detect(key, Scheme::kKgw, params, text, options).verdict, Verdict::kWatermarked);
}

TEST(VerdictTest, UnwatermarkedTextIsNotDetected) {
  std::mt19937_64 rng(101);
  const Unigram unigram(102);
  const std::vector<Token> text = UnigramText(unigram, rng, 500);
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    // Fails a correct detector with probability 1e-6 per scheme (the default fpr).
    EXPECT_EQ(Detect(KeyFromSeed(103), s, ParamsFor(s), text).verdict, Verdict::kNotDetected)
        << SchemeName(s);
  }
}

TEST(VerdictTest, NamesAreStable) {
  EXPECT_EQ(VerdictName(Verdict::kWatermarked), "watermarked");
  EXPECT_EQ(VerdictName(Verdict::kNotDetected), "not_detected");
  EXPECT_EQ(VerdictName(Verdict::kInconclusive), "inconclusive");
}

// ---------------------------------------------------------------------------------------
// Memory bound.

TEST(MaxSeenTest, OnlyTheFirstMaxSeenNewPositionsAreScored) {
  std::mt19937_64 rng(111);
  const std::vector<Token> text = UniformText(rng, 1000);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const WatermarkKey key = KeyFromSeed(112);
  const Detection bounded = Detect(key, Scheme::kKgw, params, text, {.max_seen = 50});
  EXPECT_EQ(bounded.tokens_scored, 50u);
  EXPECT_EQ(bounded.tokens_repeated, 999u - 50u);
  // The scored ones are the first 50 an unbounded detector scores.
  Detector unbounded = MakeDetector(key, Scheme::kKgw, params);
  size_t i = 0;
  while (unbounded.Current().tokens_scored < 50) unbounded.Push(std::span(&text[i++], 1));
  EXPECT_EQ(bounded.score, unbounded.Current().score);
}

TEST(MaxSeenTest, ZeroScoresNothingAndIsInconclusive) {
  std::mt19937_64 rng(121);
  const Detection d = Detect(KeyFromSeed(122), Scheme::kGumbel, ParamsFor(Scheme::kGumbel),
                             UniformText(rng, 200), {.max_seen = 0});
  EXPECT_EQ(d.tokens_scored, 0u);
  EXPECT_EQ(d.tokens_repeated, 196u);
  EXPECT_EQ(d.p_value, 1);
  EXPECT_EQ(d.verdict, Verdict::kInconclusive);
}

TEST(MaxSeenTest, ALongTextOfDistinctPositionsIsScoredInFull) {
  // Exercises the fingerprint table through many doublings.
  std::mt19937_64 rng(131);
  SchemeParams params = ParamsFor(Scheme::kTournament);
  params.context = 3;
  const std::vector<Token> text = UniformText(rng, 200000);
  const Detection d = Detect(KeyFromSeed(132), Scheme::kTournament, params, text);
  // 512^3 contexts: the expected number of repeats among 2e5 is about 150.
  EXPECT_EQ(d.tokens_scored + d.tokens_repeated, text.size() - 3);
  EXPECT_GT(d.tokens_scored, text.size() - 400);
  EXPECT_EQ(d.verdict, Verdict::kNotDetected);
}

// ---------------------------------------------------------------------------------------
// Sliding window.

TEST(WindowTest, FindsAPlantedPassageInsideUnwatermarkedText) {
  const WatermarkKey key = KeyFromSeed(141);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const Detector det = MakeDetector(key, Scheme::kKgw, params);
  std::mt19937_64 rng(142);
  std::vector<Token> text = UniformText(rng, 300);
  AppendGreen(det, rng, 150, text);  // tokens [300, 450)
  for (const Token t : UniformText(rng, 300)) text.push_back(t);
  const Detection d = Detect(key, Scheme::kKgw, params, text, {.window = 100});
  ASSERT_TRUE(d.best_window.has_value());
  const WindowResult& w = *d.best_window;
  // Windows of 100 scored tokens every 25: about 27 of them over ~750 scored tokens.
  EXPECT_GE(d.windows_tested, 25u);
  const uint64_t overlap = std::min<uint64_t>(w.end, 450) - std::max<uint64_t>(w.begin, 300);
  EXPECT_GE(overlap, 90u) << "window [" << w.begin << ", " << w.end << ")";
  EXPECT_LE(w.p_adjusted, 1e-6);
  EXPECT_EQ(w.p_adjusted, std::min(1.0, w.p_value * d.windows_tested));
  EXPECT_EQ(w.byte_begin, 0u);  // no spans given
  EXPECT_EQ(w.byte_end, 0u);
  EXPECT_EQ(d.verdict, Verdict::kWatermarked);
}

TEST(WindowTest, ReportsTheBytesOfTheBestWindowWhenGivenSpans) {
  const WatermarkKey key = KeyFromSeed(145);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const Detector det = MakeDetector(key, Scheme::kKgw, params);
  std::mt19937_64 rng(146);
  std::vector<Token> text = UniformText(rng, 200);
  AppendGreen(det, rng, 120, text);
  for (const Token t : UniformText(rng, 200)) text.push_back(t);
  // Token i covers bytes [10 i + 3, 10 i + 9): a gap between tokens, like a dropped space.
  std::vector<TokenSpan> spans(text.size());
  for (size_t i = 0; i < spans.size(); ++i) spans[i] = {10 * i + 3, 10 * i + 9};
  const DetectOptions options{.window = 80, .stride = 10};
  const Detection whole = [&] {
    Detector d = MakeDetector(key, Scheme::kKgw, params, options);
    d.Push(text, spans);
    return d.Current();
  }();
  ASSERT_TRUE(whole.best_window.has_value());
  const WindowResult& w = *whole.best_window;
  EXPECT_EQ(w.byte_begin, 10 * w.begin + 3);
  EXPECT_EQ(w.byte_end, 10 * (w.end - 1) + 9);
  EXPECT_GE(w.begin, 195u);
  EXPECT_LE(w.end, 325u);
  // In pieces, the spans travel with their tokens.
  Detector pieces = MakeDetector(key, Scheme::kKgw, params, options);
  for (size_t at = 0; at < text.size();) {
    const size_t n = std::min<size_t>(1 + rng() % 9, text.size() - at);
    pieces.Push(std::span(text).subspan(at, n), std::span(spans).subspan(at, n));
    at += n;
  }
  ExpectSameDetection(whole, pieces.Current());
}

TEST(WindowTest, WindowsAreTestedEveryStrideAndTheBestOneIsReported) {
  std::mt19937_64 rng(151);
  const Unigram unigram(152);
  const std::vector<Token> text = UnigramText(unigram, rng, 1200);
  const WatermarkKey key = KeyFromSeed(153);
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    const SchemeParams params = ParamsFor(s);
    const DetectOptions options{.window = 100, .stride = 30};
    const Detection d = Detect(key, s, params, text, options);
    const RefDedup ref = ReferenceDedup(MakeDetector(key, s, params), s, params.context, text);
    const auto& pos = ref.scored_positions;
    ASSERT_GE(pos.size(), 100u);
    // Windows end at scored tokens 100, 130, 160, ...: the earliest smallest p wins.
    uint64_t windows = 0;
    WindowResult best;
    for (size_t end = 100; end <= pos.size(); end += 30) {
      ++windows;
      double score = 0;
      for (size_t i = end - 100; i < end; ++i) score += pos[i].second;
      const double p = PValue(s, params, 100, score);
      if (windows == 1 || p < best.p_value) {
        best = {.begin = pos[end - 100].first,
                .end = pos[end - 1].first + 1,
                .scored = 100,
                .score = score,
                .p_value = p};
      }
    }
    SCOPED_TRACE(std::string(SchemeName(s)));
    EXPECT_EQ(d.windows_tested, windows);
    ASSERT_TRUE(d.best_window.has_value());
    EXPECT_EQ(d.best_window->begin, best.begin);
    EXPECT_EQ(d.best_window->end, best.end);
    EXPECT_EQ(d.best_window->scored, 100u);
    EXPECT_NEAR(d.best_window->score, best.score, 1e-9);
    EXPECT_NEAR(d.best_window->p_value, best.p_value, 1e-12 + 1e-9 * best.p_value);
  }
}

TEST(WindowTest, DefaultStrideIsAQuarterWindowAndNoWindowMeansNone) {
  std::mt19937_64 rng(161);
  const std::vector<Token> text = UniformText(rng, 501);  // ~500 scored
  const WatermarkKey key = KeyFromSeed(162);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  const Detection d = Detect(key, Scheme::kKgw, params, text, {.window = 100});
  EXPECT_EQ(d.windows_tested, 1 + (d.tokens_scored - 100) / 25);
  const Detection none = Detect(key, Scheme::kKgw, params, text);
  EXPECT_EQ(none.windows_tested, 0u);
  EXPECT_FALSE(none.best_window.has_value());
  const Detection too_long = Detect(key, Scheme::kKgw, params, text, {.window = 1000});
  EXPECT_EQ(too_long.windows_tested, 0u);
  EXPECT_FALSE(too_long.best_window.has_value());
}

// ---------------------------------------------------------------------------------------
// Options.

TEST(OptionsTest, RefusesBadFprAndStrideAndBadParams) {
  const WatermarkKey key = KeyFromSeed(171);
  const SchemeParams params = ParamsFor(Scheme::kKgw);
  for (double fpr : {0.0, 1.0, -1.0, std::nan("")}) {
    auto d = Detector::Create(key, Scheme::kKgw, params, {.fpr = fpr});
    ASSERT_FALSE(d.has_value()) << fpr;
    EXPECT_EQ(d.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.error().message().find("fpr"), std::string::npos);
  }
  auto stride = Detector::Create(key, Scheme::kKgw, params, {.window = 10, .stride = 11});
  ASSERT_FALSE(stride.has_value());
  EXPECT_NE(stride.error().message().find("stride"), std::string::npos);
  SchemeParams bad = params;
  bad.gamma = 1.5;
  auto gamma = Detector::Create(key, Scheme::kKgw, bad);
  ASSERT_FALSE(gamma.has_value());
  EXPECT_EQ(gamma.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateDetectOptions({.window = 10, .stride = 10}).ok());
}

TEST(OptionsTest, ContextZeroMeansTheSchemesDefault) {
  std::mt19937_64 rng(181);
  const std::vector<Token> text = UniformText(rng, 300);
  const WatermarkKey key = KeyFromSeed(182);
  for (Scheme s : {Scheme::kKgw, Scheme::kGumbel}) {
    SchemeParams zero = ParamsFor(s);
    zero.context = 0;
    ExpectSameDetection(Detect(key, s, zero, text), Detect(key, s, ParamsFor(s), text));
  }
}

}  // namespace
}  // namespace warden::watermark
