#include "engine/sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace warden::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

const SamplerRegistry& Builtins() {
  static const SamplerRegistry* registry = [] {
    auto* r = new SamplerRegistry();
    RegisterBuiltinSamplers(*r);
    return r;
  }();
  return *registry;
}

std::unique_ptr<Sampler> Make(std::string_view name, const SamplerConfig& config = {}) {
  auto s = Builtins().Create(name, config);
  EXPECT_TRUE(s.has_value()) << s.error().ToString();
  return s.has_value() ? std::move(*s) : nullptr;
}

Candidates FromLogits(const std::vector<float>& logits) {
  Candidates c;
  Candidates::FromLogits(logits, &c);
  return c;
}

std::vector<Token> Ids(const Candidates& c) {
  std::vector<Token> ids;
  for (const TokenData& d : c.data) ids.push_back(d.id);
  return ids;
}

// Logits whose softmax is exactly `probs` up to float rounding.
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

// A test selector shaped like the watermark's keyed selectors: it picks from probabilities with
// its own rule (here: the least likely candidate) and counts the history it was shown.
class LeastLikelySelector final : public Sampler {
 public:
  std::string_view name() const override { return "least_likely"; }
  void Apply(Candidates& c) override {
    if (c.data.empty()) return;
    c.Softmax();
    size_t pick = 0;
    for (size_t i = 1; i < c.data.size(); ++i) {
      if (c.data[i].p < c.data[pick].p) pick = i;
    }
    c.selected = static_cast<int64_t>(pick);
  }
  void Accept(Token) override { ++accepted; }
  void Reset() override { accepted = 0; }
  std::unique_ptr<Sampler> Clone() const override {
    return std::make_unique<LeastLikelySelector>(*this);
  }
  int accepted = 0;
};

// Sets every logit to -infinity (a guard that forbids everything).
class MaskAll final : public Sampler {
 public:
  std::string_view name() const override { return "mask_all"; }
  void Apply(Candidates& c) override {
    for (TokenData& d : c.data) d.logit = -kInf;
    c.sorted = false;
  }
  std::unique_ptr<Sampler> Clone() const override { return std::make_unique<MaskAll>(); }
};

// ---------------------------------------------------------------------------------------------
// Candidates

TEST(SamplerCandidates, FromLogitsNumbersTokensAndMapsNanToMinusInfinity) {
  Candidates c = FromLogits({1.0f, kNaN, -2.0f});
  EXPECT_THAT(Ids(c), ElementsAre(0, 1, 2));
  EXPECT_EQ(c.data[0].logit, 1.0f);
  EXPECT_EQ(c.data[1].logit, -kInf);
  EXPECT_EQ(c.selected, -1);
  EXPECT_FALSE(c.sorted);
}

TEST(SamplerCandidates, FromLogitsReusesTheBufferAndClearsState) {
  Candidates c = FromLogits({1.0f, 2.0f, 3.0f, 4.0f});
  c.selected = 2;
  c.sorted = true;
  const TokenData* before = c.data.data();
  Candidates::FromLogits(std::vector<float>{5.0f, 6.0f}, &c);
  EXPECT_EQ(c.data.data(), before);
  EXPECT_THAT(Ids(c), ElementsAre(0, 1));
  EXPECT_EQ(c.selected, -1);
  EXPECT_FALSE(c.sorted);
}

TEST(SamplerCandidates, SortOrdersByLogitThenLowerId) {
  Candidates c = FromLogits({1.0f, 3.0f, 1.0f, 3.0f, -kInf, 2.0f});
  c.SortByLogit();
  EXPECT_TRUE(c.sorted);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3, 5, 0, 2, 4));
}

TEST(SamplerCandidates, SortToleratesNanFromAPlugin) {
  Candidates c = FromLogits({1.0f, 2.0f, 3.0f});
  c.data[1].logit = kNaN;  // FromLogits removes NaN; a buggy plugin could put one back
  c.SortByLogit();
  EXPECT_THAT(Ids(c), ElementsAre(2, 0, 1));
}

TEST(SamplerCandidates, SoftmaxKnownAnswer) {
  Candidates c = FromLogits({0.0f, std::log(2.0f), std::log(3.0f), -kInf});
  c.Softmax();
  EXPECT_NEAR(c.data[0].p, 1.0 / 6, 1e-7);
  EXPECT_NEAR(c.data[1].p, 2.0 / 6, 1e-7);
  EXPECT_NEAR(c.data[2].p, 3.0 / 6, 1e-7);
  EXPECT_EQ(c.data[3].p, 0.0f);
  EXPECT_FALSE(c.sorted);  // Softmax does not reorder
}

TEST(SamplerCandidates, SoftmaxOfHugeLogitsDoesNotOverflow) {
  Candidates c = FromLogits({1e30f, 1e30f, 0.0f});
  c.Softmax();
  EXPECT_FLOAT_EQ(c.data[0].p, 0.5f);
  EXPECT_FLOAT_EQ(c.data[1].p, 0.5f);
  EXPECT_EQ(c.data[2].p, 0.0f);
}

TEST(SamplerCandidates, SoftmaxGivesInfiniteLogitsAllTheMass) {
  Candidates c = FromLogits({kInf, 5.0f, kInf});
  c.Softmax();
  EXPECT_FLOAT_EQ(c.data[0].p, 0.5f);
  EXPECT_EQ(c.data[1].p, 0.0f);
  EXPECT_FLOAT_EQ(c.data[2].p, 0.5f);
}

TEST(SamplerCandidates, SoftmaxOfAllMinusInfinityIsUniformNotNan) {
  Candidates c = FromLogits({-kInf, -kInf, -kInf, -kInf});
  c.Softmax();
  for (const TokenData& d : c.data) EXPECT_FLOAT_EQ(d.p, 0.25f);
}

TEST(SamplerCandidates, KeepTopSortsAndTruncates) {
  Candidates c = FromLogits({0.5f, 4.0f, 2.0f, 3.0f, 1.0f});
  c.selected = 1;
  c.KeepTop(3);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3, 2));
  EXPECT_TRUE(c.sorted);
  EXPECT_EQ(c.selected, -1);
}

TEST(SamplerCandidates, SelectedTokenRejectsOutOfRangeIndex) {
  Candidates c = FromLogits({1.0f, 2.0f});
  EXPECT_EQ(c.SelectedToken(), std::nullopt);
  c.selected = 1;
  EXPECT_EQ(c.SelectedToken(), 1);
  c.selected = 2;
  EXPECT_EQ(c.SelectedToken(), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Built-in samplers on hand-made candidate sets

TEST(SamplerGreedy, PicksTheHighestLogit) {
  Candidates c = FromLogits({0.1f, 2.5f, -1.0f, 2.4f});
  Make("greedy")->Apply(c);
  EXPECT_EQ(c.SelectedToken(), 1);
}

TEST(SamplerGreedy, BreaksTiesTowardsTheLowerId) {
  Candidates c = FromLogits({0.0f, 7.0f, 1.0f, 7.0f, 7.0f});
  Make("greedy")->Apply(c);
  EXPECT_EQ(c.SelectedToken(), 1);
}

TEST(SamplerGreedy, UsesTheFirstEntryOfASortedSet) {
  Candidates c = FromLogits({0.0f, 3.0f, 2.0f});
  c.SortByLogit();
  Make("greedy")->Apply(c);
  EXPECT_EQ(c.selected, 0);
  EXPECT_EQ(c.SelectedToken(), 1);
}

TEST(SamplerGreedy, LeavesAnEmptySetUnselected) {
  Candidates c;
  Make("greedy")->Apply(c);
  EXPECT_EQ(c.selected, -1);
}

TEST(SamplerTemperature, DividesLogits) {
  Candidates c = FromLogits({2.0f, -4.0f, 1.0f});
  Make("temperature", {{"temperature", 2.0}})->Apply(c);
  EXPECT_EQ(c.data[0].logit, 1.0f);
  EXPECT_EQ(c.data[1].logit, -2.0f);
  EXPECT_EQ(c.data[2].logit, 0.5f);
}

TEST(SamplerTemperature, ZeroKeepsOnlyTheArgmax) {
  Candidates c = FromLogits({2.0f, 5.0f, 5.0f, 1.0f});
  Make("temperature", {{"temperature", 0}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1));
}

TEST(SamplerTemperature, OneLeavesLogitsUntouched) {
  Candidates c = FromLogits({2.0f, 5.0f});
  c.SortByLogit();
  Make("temperature", {{"temperature", 1}})->Apply(c);
  EXPECT_EQ(c.data[0].logit, 5.0f);
  EXPECT_TRUE(c.sorted);
}

TEST(SamplerTopK, KeepsTheKHighestInOrder) {
  Candidates c = FromLogits({0.0f, 5.0f, 3.0f, 4.0f, 1.0f});
  Make("top_k", {{"k", 3}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3, 2));
}

TEST(SamplerTopK, BreaksATieAtTheCutTowardsTheLowerId) {
  Candidates c = FromLogits({1.0f, 9.0f, 1.0f, 1.0f});
  Make("top_k", {{"k", 2}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1, 0));
}

TEST(SamplerTopK, ZeroAndLargeKAreNoOps) {
  Candidates c = FromLogits({0.0f, 5.0f, 3.0f});
  Make("top_k", {{"k", 0}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(0, 1, 2));
  Make("top_k", {{"k", 3}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(0, 1, 2));
}

TEST(SamplerTopP, KeepsTheSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 given in scrambled id order.
  const std::vector<float> logits = LogitsOf({0.15, 0.5, 0.05, 0.3});
  Candidates c = FromLogits(logits);
  Make("top_p", {{"p", 0.7}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3));
  c = FromLogits(logits);
  Make("top_p", {{"p", 0.85}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3, 0));
  c = FromLogits(logits);
  Make("top_p", {{"p", 0.1}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1));
}

TEST(SamplerTopP, KeepsAtLeastMinKeep) {
  Candidates c = FromLogits(LogitsOf({0.15, 0.5, 0.05, 0.3}));
  Make("top_p", {{"p", 0.1}, {"min_keep", 3}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3, 0));
}

TEST(SamplerTopP, OneIsANoOp) {
  Candidates c = FromLogits(LogitsOf({0.15, 0.5, 0.05, 0.3}));
  Make("top_p", {{"p", 1.0}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(0, 1, 2, 3));
}

TEST(SamplerMinP, KeepsTokensAboveAFractionOfTheTopProbability) {
  // Threshold 0.25 * 0.5 = 0.125: 0.15 stays, 0.05 goes; the order is kept.
  Candidates c = FromLogits(LogitsOf({0.15, 0.5, 0.05, 0.3}));
  Make("min_p", {{"p", 0.25}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(0, 1, 3));
}

TEST(SamplerMinP, KeepsAtLeastMinKeepByLogit) {
  Candidates c = FromLogits(LogitsOf({0.15, 0.5, 0.05, 0.3}));
  Make("min_p", {{"p", 0.9}, {"min_keep", 2}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(1, 3));
}

TEST(SamplerMinP, ZeroIsANoOp) {
  Candidates c = FromLogits(LogitsOf({0.15, 0.5, 0.05, 0.3}));
  Make("min_p", {{"p", 0}})->Apply(c);
  EXPECT_THAT(Ids(c), ElementsAre(0, 1, 2, 3));
}

TEST(SamplerRepeatPenalty, DividesPositiveAndMultipliesNegativeLogits) {
  auto s = Make("repeat_penalty", {{"penalty", 2.0}});
  s->Accept(0);
  s->Accept(1);
  Candidates c = FromLogits({4.0f, -3.0f, 5.0f});
  s->Apply(c);
  EXPECT_EQ(c.data[0].logit, 2.0f);
  EXPECT_EQ(c.data[1].logit, -6.0f);
  EXPECT_EQ(c.data[2].logit, 5.0f);
}

TEST(SamplerRepeatPenalty, FrequencyAndPresenceSubtractPerOccurrence) {
  auto s = Make("repeat_penalty", {{"frequency", 0.5}, {"presence", 0.25}});
  for (Token t : {2, 2, 2, 0}) s->Accept(t);
  Candidates c = FromLogits({1.0f, 1.0f, 1.0f});
  s->Apply(c);
  EXPECT_EQ(c.data[0].logit, 1.0f - 0.5f - 0.25f);
  EXPECT_EQ(c.data[1].logit, 1.0f);
  EXPECT_EQ(c.data[2].logit, 1.0f - 1.5f - 0.25f);
}

TEST(SamplerRepeatPenalty, OnlyTheLastNTokensCount) {
  auto s = Make("repeat_penalty", {{"last_n", 2}, {"penalty", 2.0}});
  for (Token t : {0, 1, 2}) s->Accept(t);  // 0 has left the window
  Candidates c = FromLogits({4.0f, 4.0f, 4.0f});
  s->Apply(c);
  EXPECT_EQ(c.data[0].logit, 4.0f);
  EXPECT_EQ(c.data[1].logit, 2.0f);
  EXPECT_EQ(c.data[2].logit, 2.0f);
}

TEST(SamplerRepeatPenalty, FindsTokensInReorderedCandidates) {
  auto s = Make("repeat_penalty", {{"penalty", 2.0}});
  s->Accept(3);
  s->Accept(0);
  Candidates c = FromLogits({4.0f, 1.0f, 2.0f, 8.0f});
  c.KeepTop(3);  // order 3, 0, 2: data[id] is no longer token id
  s->Apply(c);
  ASSERT_THAT(Ids(c), ElementsAre(3, 0, 2));
  EXPECT_EQ(c.data[0].logit, 4.0f);
  EXPECT_EQ(c.data[1].logit, 2.0f);
  EXPECT_EQ(c.data[2].logit, 2.0f);
  EXPECT_FALSE(c.sorted);
}

TEST(SamplerRepeatPenalty, IgnoresIdsOutsideTheVocabulary) {
  auto s = Make("repeat_penalty", {{"penalty", 2.0}});
  s->Accept(kNoToken);
  s->Accept(1000);
  Candidates c = FromLogits({4.0f, 4.0f});
  s->Apply(c);
  EXPECT_EQ(c.data[0].logit, 4.0f);
  EXPECT_EQ(c.data[1].logit, 4.0f);
}

TEST(SamplerRepeatPenalty, ResetForgetsHistory) {
  auto s = Make("repeat_penalty", {{"penalty", 2.0}});
  s->Accept(0);
  s->Reset();
  Candidates c = FromLogits({4.0f});
  s->Apply(c);
  EXPECT_EQ(c.data[0].logit, 4.0f);
}

TEST(SamplerRepeatPenalty, CloneCopiesHistoryIndependently) {
  auto s = Make("repeat_penalty", {{"penalty", 2.0}, {"last_n", 1}});
  s->Accept(0);
  auto clone = s->Clone();
  s->Accept(1);  // pushes 0 out of the original's window only
  Candidates a = FromLogits({4.0f, 4.0f});
  Candidates b = FromLogits({4.0f, 4.0f});
  s->Apply(a);
  clone->Apply(b);
  EXPECT_EQ(a.data[0].logit, 4.0f);
  EXPECT_EQ(a.data[1].logit, 2.0f);
  EXPECT_EQ(b.data[0].logit, 2.0f);
  EXPECT_EQ(b.data[1].logit, 4.0f);
}

// ---------------------------------------------------------------------------------------------
// RNG and dist

TEST(SamplerRng, KnownAnswers) {
  // splitmix64 seeding + xoshiro256**, from an independent Python implementation of the
  // published algorithms. A change here changes every seeded generation.
  SamplerRng zero(0);
  EXPECT_EQ(zero.Next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(zero.Next(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(zero.Next(), 0x1a5f849d4933e6e0ULL);
  EXPECT_EQ(zero.Next(), 0x6aa594f1262d2d2cULL);
  SamplerRng r42(42);
  EXPECT_EQ(r42.Next(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(r42.Next(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(r42.Next(), 0xae17533239e499a1ULL);
  EXPECT_EQ(r42.Next(), 0xecb8ad4703b360a1ULL);
}

TEST(SamplerRng, NextDoubleIsTheTop53BitsScaled) {
  SamplerRng a(42);
  SamplerRng b(42);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    const double d = b.NextDouble();
    EXPECT_EQ(d, static_cast<double>(x >> 11) / 9007199254740992.0);
    EXPECT_GE(d, 0.0);
    EXPECT_LT(d, 1.0);
  }
}

TEST(SamplerDist, PinnedDrawsForSeed42) {
  // Probabilities 0.1, 0.2, 0.3, 0.4 (cumulative 0.1, 0.3, 0.6, 1.0 in id order); the uniform
  // draws for seed 42 are 0.0839, 0.379, 0.680, 0.925, 0.992, 0.770, 0.719, 0.850, 0.761, 0.583.
  auto dist = Make("dist", {{"seed", 42}});
  const std::vector<float> logits = LogitsOf({0.1, 0.2, 0.3, 0.4});
  std::vector<Token> drawn;
  for (int i = 0; i < 10; ++i) {
    Candidates c = FromLogits(logits);
    dist->Apply(c);
    ASSERT_TRUE(c.SelectedToken().has_value());
    drawn.push_back(*c.SelectedToken());
  }
  EXPECT_THAT(drawn, ElementsAre(0, 2, 3, 3, 3, 3, 3, 3, 3, 2));
}

TEST(SamplerDist, SameSeedSameSequenceOtherSeedOtherSequence) {
  const std::vector<float> logits(50, 0.0f);
  auto draw = [&](uint64_t seed) {
    auto dist = Make("dist", {{"seed", seed}});
    std::vector<Token> out;
    for (int i = 0; i < 20; ++i) {
      Candidates c = FromLogits(logits);
      dist->Apply(c);
      out.push_back(*c.SelectedToken());
    }
    return out;
  };
  EXPECT_EQ(draw(7), draw(7));
  EXPECT_NE(draw(7), draw(8));
}

TEST(SamplerDist, FrequenciesMatchTheDistribution) {
  // Pearson chi-square with 5 degrees of freedom over 100,000 draws with a fixed seed. The
  // threshold 35.89 is the 1 - 1e-6 quantile: a correct sampler fails with probability 1e-6
  // for a random seed, and with the seed fixed the outcome is fixed.
  const std::vector<double> probs = {0.05, 0.1, 0.15, 0.2, 0.2, 0.3};
  const std::vector<float> logits = LogitsOf(probs);
  constexpr int kDraws = 100000;
  constexpr double kChiSquare5DfAt1e6 = 35.888;
  auto dist = Make("dist", {{"seed", 12345}});
  std::vector<int> counts(probs.size(), 0);
  Candidates c;
  for (int i = 0; i < kDraws; ++i) {
    Candidates::FromLogits(logits, &c);
    dist->Apply(c);
    ++counts[static_cast<size_t>(*c.SelectedToken())];
  }
  double chi2 = 0.0;
  for (size_t i = 0; i < probs.size(); ++i) {
    const double expected = probs[i] * kDraws;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  EXPECT_LT(chi2, kChiSquare5DfAt1e6);
}

TEST(SamplerDist, NeverPicksAZeroProbabilityCandidate) {
  auto dist = Make("dist", {{"seed", 3}});
  for (int i = 0; i < 1000; ++i) {
    Candidates c = FromLogits({-kInf, 0.0f, -kInf, 0.0f, -kInf});
    dist->Apply(c);
    const Token t = *c.SelectedToken();
    EXPECT_TRUE(t == 1 || t == 3) << t;
  }
}

TEST(SamplerDist, CloneContinuesTheSameStreamIndependently) {
  const std::vector<float> logits(100, 0.0f);
  auto original = Make("dist", {{"seed", 99}});
  auto next = [&](Sampler& s) {
    Candidates c = FromLogits(logits);
    s.Apply(c);
    return *c.SelectedToken();
  };
  for (int i = 0; i < 5; ++i) next(*original);
  auto clone = original->Clone();
  std::vector<Token> a, b;
  for (int i = 0; i < 10; ++i) a.push_back(next(*original));
  for (int i = 0; i < 10; ++i) b.push_back(next(*clone));
  EXPECT_EQ(a, b);  // draining the original did not move the clone
}

TEST(SamplerDist, ResetRestartsTheStream) {
  const std::vector<float> logits(100, 0.0f);
  auto dist = Make("dist", {{"seed", 5}});
  auto draw10 = [&] {
    std::vector<Token> out;
    for (int i = 0; i < 10; ++i) {
      Candidates c = FromLogits(logits);
      dist->Apply(c);
      out.push_back(*c.SelectedToken());
    }
    return out;
  };
  const std::vector<Token> first = draw10();
  dist->Reset();
  EXPECT_EQ(draw10(), first);
}

// ---------------------------------------------------------------------------------------------
// Chains

TEST(SamplerChain, AppliesSamplersInOrder) {
  // A selector that prefers the least likely candidate shows the order: after top_k(2) it can
  // only pick the second best; a filter after it undoes its selection.
  const std::vector<float> logits = {3.0f, 1.0f, 2.0f, 0.0f};
  SamplerChain with_top_k;
  with_top_k.Add(Make("top_k", {{"k", 2}}));
  with_top_k.Add(std::make_unique<LeastLikelySelector>());
  EXPECT_EQ(*with_top_k.Sample(logits), 2);

  SamplerChain selector_first;
  selector_first.Add(std::make_unique<LeastLikelySelector>());
  selector_first.Add(Make("top_k", {{"k", 2}}));  // resets the selection
  auto r = selector_first.Sample(logits);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
}

TEST(SamplerChain, SampleAcceptsTheChosenToken) {
  SamplerChain chain;
  chain.Add(Make("repeat_penalty", {{"penalty", 100.0}}));
  chain.Add(Make("greedy"));
  const std::vector<float> logits = {1.0f, 2.0f, 1.5f};
  EXPECT_EQ(*chain.Sample(logits), 1);
  EXPECT_EQ(*chain.Sample(logits), 2);  // 1 is now penalized
  EXPECT_EQ(*chain.Sample(logits), 0);
}

TEST(SamplerChain, AcceptReachesEverySampler) {
  SamplerChain chain;
  auto selector = std::make_unique<LeastLikelySelector>();
  LeastLikelySelector* raw = selector.get();
  chain.Add(Make("top_k", {{"k", 5}}));
  chain.Add(std::move(selector));
  chain.Accept(4);
  chain.Accept(2);
  EXPECT_EQ(raw->accepted, 2);
  chain.Reset();
  EXPECT_EQ(raw->accepted, 0);
}

TEST(SamplerChain, WithoutASelectorIsAnError) {
  SamplerChain chain;
  chain.Add(Make("top_k", {{"k", 2}}));
  auto r = chain.Sample(std::vector<float>{1.0f, 2.0f, 3.0f});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.error().message(), HasSubstr("selected no token"));
}

TEST(SamplerChain, RefusesEmptyLogits) {
  SamplerChain chain;
  chain.Add(Make("greedy"));
  auto r = chain.Sample(std::span<const float>());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("empty"));
}

TEST(SamplerChain, RefusesLogitsThatAreAllNanOrMinusInfinity) {
  SamplerChain chain;
  chain.Add(Make("dist"));
  auto r = chain.Sample(std::vector<float>{kNaN, -kInf, kNaN});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.error().message(), HasSubstr("NaN or -infinity"));
}

TEST(SamplerChain, ReportsAChainThatMasksEveryCandidate) {
  SamplerChain chain;
  chain.Add(std::make_unique<MaskAll>());
  chain.Add(Make("dist"));
  auto r = chain.Sample(std::vector<float>{1.0f, 2.0f});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.error().message(), HasSubstr("masked every candidate"));
}

TEST(SamplerChain, NanLogitsAreNeverChosen) {
  SamplerChain chain;
  chain.Add(Make("dist", {{"seed", 1}}));
  const std::vector<float> logits = {kNaN, 0.0f, kNaN};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(*chain.Sample(logits), 1);
}

TEST(SamplerChain, CloneIsIndependentAndContinuesTheStream) {
  SamplingParams p;
  p.repeat_penalty = 1.3f;
  p.seed = 2024;
  auto chain = BuildSamplerChain(p, Builtins());
  ASSERT_TRUE(chain.has_value()) << chain.error().ToString();
  std::vector<float> logits(64);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 7) * 0.3f;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*chain)->Sample(logits).has_value());
  std::unique_ptr<Sampler> clone_base = (*chain)->Clone();
  auto* clone = dynamic_cast<SamplerChain*>(clone_base.get());
  ASSERT_NE(clone, nullptr);
  std::vector<Token> a, b;
  for (int i = 0; i < 20; ++i) a.push_back(*(*chain)->Sample(logits));
  for (int i = 0; i < 20; ++i) b.push_back(*clone->Sample(logits));
  EXPECT_EQ(a, b);
}

TEST(SamplerChain, ResetReproducesAFreshChain) {
  SamplingParams p;
  p.repeat_penalty = 1.5f;
  p.seed = 11;
  auto chain = BuildSamplerChain(p, Builtins());
  ASSERT_TRUE(chain.has_value());
  std::vector<float> logits(32);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 5);
  auto run = [&] {
    std::vector<Token> out;
    for (int i = 0; i < 15; ++i) out.push_back(*(*chain)->Sample(logits));
    return out;
  };
  const std::vector<Token> first = run();
  (*chain)->Reset();
  EXPECT_EQ(run(), first);
}

TEST(SamplerChain, DescribeListsStagesWithParameters) {
  SamplerChain chain;
  chain.Add(Make("top_k", {{"k", 5}}));
  chain.Add(Make("dist", {{"seed", 9}}));
  EXPECT_EQ(chain.Describe(), "top_k(k=5) -> dist(seed=9)");
}

TEST(SamplerChain, LastCandidatesExposeTheFinalSet) {
  SamplerChain chain;
  chain.Add(Make("top_k", {{"k", 2}}));
  chain.Add(Make("dist", {{"seed", 0}}));
  ASSERT_TRUE(chain.Sample(LogitsOf({0.1, 0.6, 0.3})).has_value());
  const Candidates& c = chain.last_candidates();
  EXPECT_THAT(Ids(c), ElementsAre(1, 2));
  EXPECT_NEAR(c.data[0].p, 2.0 / 3, 1e-6);
}

TEST(SamplerLogSoftmax, KnownAnswerAndOutOfRange) {
  const std::vector<float> logits = {0.0f, std::log(3.0f), kNaN};
  EXPECT_NEAR(LogSoftmaxAt(logits, 0), std::log(0.25), 1e-7);
  EXPECT_NEAR(LogSoftmaxAt(logits, 1), std::log(0.75), 1e-7);
  EXPECT_EQ(LogSoftmaxAt(logits, 2), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(LogSoftmaxAt(logits, 3), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(LogSoftmaxAt(logits, -1), -std::numeric_limits<double>::infinity());
}

// ---------------------------------------------------------------------------------------------
// Registry

class NamedFactory final : public SamplerFactory {
 public:
  explicit NamedFactory(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  SamplerMetadata metadata() const override { return {"alpha", "test"}; }
  Result<std::unique_ptr<Sampler>> Create(const SamplerConfig&) const override {
    return std::unique_ptr<Sampler>(std::make_unique<LeastLikelySelector>());
  }

 private:
  std::string name_;
};

TEST(SamplerRegistry, BuiltinsAreRegisteredAndStable) {
  EXPECT_THAT(Builtins().Names(), ElementsAre("dist", "greedy", "min_p", "repeat_penalty",
                                              "temperature", "top_k", "top_p"));
  for (std::string_view name : Builtins().Names()) {
    const SamplerFactory* f = Builtins().Find(name);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->metadata().maturity, "stable") << name;
    EXPECT_FALSE(f->metadata().summary.empty()) << name;
  }
}

TEST(SamplerRegistry, AcceptsAPluginNextToTheBuiltins) {
  SamplerRegistry r;
  RegisterBuiltinSamplers(r);
  ASSERT_TRUE(r.Register(std::make_unique<NamedFactory>("kgw_test")).ok());
  auto s = r.Create("kgw_test", {});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)->name(), "least_likely");
}

TEST(SamplerRegistry, RefusesADuplicateName) {
  SamplerRegistry r;
  RegisterBuiltinSamplers(r);
  Status s = r.Register(std::make_unique<NamedFactory>("top_k"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"top_k\" is already registered"));
}

TEST(SamplerRegistry, RefusesNullAndNamelessFactories) {
  SamplerRegistry r;
  EXPECT_EQ(r.Register(nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Register(std::make_unique<NamedFactory>("")).code(), StatusCode::kInvalidArgument);
}

TEST(SamplerRegistry, UnknownNameListsTheRegisteredOnes) {
  auto s = Builtins().Create("top_z", {});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(s.error().message(), HasSubstr("unknown sampler \"top_z\""));
  EXPECT_THAT(s.error().message(), HasSubstr("top_k"));
  EXPECT_EQ(Builtins().Find("top_z"), nullptr);
}

struct BadConfigCase {
  const char* test_name;
  const char* sampler;
  const char* config_json;
  const char* message;
};

class SamplerBadConfig : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(SamplerBadConfig, IsRefusedWithAClearMessage) {
  const BadConfigCase& c = GetParam();
  SamplerConfig config = boost::json::parse(c.config_json).as_object();
  auto s = Builtins().Create(c.sampler, config);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.error().message(), c.message);
}

INSTANTIATE_TEST_SUITE_P(
    SamplerTable, SamplerBadConfig,
    ::testing::Values(
        BadConfigCase{"unknown_key", "top_p", R"({"q": 0.5})",
                      "sampler \"top_p\": unknown key \"q\" (known keys: p, min_keep)"},
        BadConfigCase{"key_on_keyless_sampler", "greedy", R"({"k": 1})",
                      "sampler \"greedy\": unknown key \"k\" (it takes no keys)"},
        BadConfigCase{"string_for_number", "temperature", R"({"temperature": "hot"})",
                      "sampler \"temperature\": key \"temperature\": expected a number, got "
                      "string"},
        BadConfigCase{"fraction_for_integer", "top_k", R"({"k": 2.5})",
                      "sampler \"top_k\": key \"k\": expected an integer, got 2.5"},
        BadConfigCase{"bool_for_integer", "top_k", R"({"k": true})",
                      "sampler \"top_k\": key \"k\": expected an integer, got boolean"},
        BadConfigCase{"negative_k", "top_k", R"({"k": -1})",
                      "sampler \"top_k\": key \"k\": must be in [0, 2147483647], got -1"},
        BadConfigCase{"huge_k", "top_k", R"({"k": 18446744073709551615})",
                      "sampler \"top_k\": key \"k\": must be in [0, 2147483647], got "
                      "18446744073709551615"},
        BadConfigCase{"negative_temperature", "temperature", R"({"temperature": -0.5})",
                      "sampler \"temperature\": key \"temperature\": must be >= 0, got -0.5"},
        BadConfigCase{"top_p_zero", "top_p", R"({"p": 0})",
                      "sampler \"top_p\": key \"p\": must be in (0, 1], got 0"},
        BadConfigCase{"top_p_above_one", "top_p", R"({"p": 1.5})",
                      "sampler \"top_p\": key \"p\": must be in (0, 1], got 1.5"},
        BadConfigCase{"top_p_min_keep_zero", "top_p", R"({"min_keep": 0})",
                      "sampler \"top_p\": key \"min_keep\": must be in [1, 2147483647], got 0"},
        BadConfigCase{"min_p_negative", "min_p", R"({"p": -0.1})",
                      "sampler \"min_p\": key \"p\": must be in [0, 1], got -0.1"},
        BadConfigCase{"penalty_zero", "repeat_penalty", R"({"penalty": 0})",
                      "sampler \"repeat_penalty\": key \"penalty\": must be > 0, got 0"},
        BadConfigCase{"last_n_too_large", "repeat_penalty", R"({"last_n": 1048577})",
                      "sampler \"repeat_penalty\": key \"last_n\": must be in [0, 1048576], got "
                      "1048577"},
        BadConfigCase{"frequency_overflows_float", "repeat_penalty", R"({"frequency": 1e300})",
                      "sampler \"repeat_penalty\": key \"frequency\": must fit a float, got "
                      "1e+300"},
        BadConfigCase{"negative_seed", "dist", R"({"seed": -1})",
                      "sampler \"dist\": key \"seed\": must be in [0, 2^64 - 1], got -1"},
        BadConfigCase{"fraction_seed", "dist", R"({"seed": 1.5})",
                      "sampler \"dist\": key \"seed\": expected an unsigned integer, got "
                      "number"}),
    [](const ::testing::TestParamInfo<BadConfigCase>& info) { return info.param.test_name; });

TEST(SamplerConfig, RefusesANonFiniteNumber) {
  SamplerConfig config;
  config["temperature"] = std::numeric_limits<double>::infinity();
  auto s = Builtins().Create("temperature", config);
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().message(), HasSubstr("must be finite"));
}

TEST(SamplerConfig, AcceptsAnIntegralNumberForAnInteger) {
  auto s = Builtins().Create("top_k", {{"k", 3.0}});
  ASSERT_TRUE(s.has_value()) << s.error().ToString();
  EXPECT_EQ((*s)->Describe(), "top_k(k=3)");
}

TEST(SamplerConfig, DefaultsMatchSamplingParams) {
  const SamplingParams p;
  EXPECT_EQ(Make("top_k")->Describe(), "top_k(k=" + std::to_string(p.top_k) + ")");
  EXPECT_EQ(Make("temperature")->Describe(), "temperature(t=0.8)");
  EXPECT_EQ(Make("top_p")->Describe(), "top_p(p=0.95, min_keep=1)");
  EXPECT_EQ(Make("min_p")->Describe(), "min_p(p=0.05, min_keep=1)");
  EXPECT_EQ(Make("dist")->Describe(), "dist(seed=0)");
  EXPECT_EQ(Make("repeat_penalty")->Describe(),
            "repeat_penalty(last_n=64, penalty=1, frequency=0, presence=0)");
}

// ---------------------------------------------------------------------------------------------
// BuildSamplerChain

TEST(SamplerBuildChain, DefaultParams) {
  auto chain = BuildSamplerChain(SamplingParams{}, Builtins());
  ASSERT_TRUE(chain.has_value()) << chain.error().ToString();
  EXPECT_EQ((*chain)->Describe(),
            "top_k(k=40) -> top_p(p=0.95, min_keep=1) -> min_p(p=0.05, min_keep=1) -> "
            "temperature(t=0.8) -> dist(seed=0)");
}

TEST(SamplerBuildChain, EveryStage) {
  SamplingParams p;
  p.repeat_penalty = 1.1f;
  p.repeat_last_n = 32;
  p.presence_penalty = 0.5f;
  p.seed = 7;
  auto chain = BuildSamplerChain(p, Builtins());
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ((*chain)->Describe(),
            "repeat_penalty(last_n=32, penalty=1.1, frequency=0, presence=0.5) -> top_k(k=40) "
            "-> top_p(p=0.95, min_keep=1) -> min_p(p=0.05, min_keep=1) -> temperature(t=0.8) -> "
            "dist(seed=7)");
}

TEST(SamplerBuildChain, NeutralStagesAreLeftOut) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  auto chain = BuildSamplerChain(p, Builtins());
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ((*chain)->Describe(), "dist(seed=0)");
}

TEST(SamplerBuildChain, TemperatureZeroIsGreedy) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 1.2f;
  auto chain = BuildSamplerChain(p, Builtins());
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ((*chain)->Describe(),
            "repeat_penalty(last_n=64, penalty=1.2, frequency=0, presence=0) -> greedy");
  EXPECT_EQ(*(*chain)->Sample(std::vector<float>{0.0f, 3.0f, 3.0f, 1.0f}), 1);
}

TEST(SamplerBuildChain, ExtensionsTakeTheirPlaces) {
  SamplingParams p;
  p.repeat_penalty = 1.2f;
  ChainExtensions ext;
  ext.bias = Make("temperature", {{"temperature", 1.5}});  // stands in for a logit bias
  ext.selector = std::make_unique<LeastLikelySelector>();
  auto chain = BuildSamplerChain(p, Builtins(), std::move(ext));
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ((*chain)->Describe(),
            "repeat_penalty(last_n=64, penalty=1.2, frequency=0, presence=0) -> "
            "temperature(t=1.5) -> top_k(k=40) -> top_p(p=0.95, min_keep=1) -> min_p(p=0.05, "
            "min_keep=1) -> temperature(t=0.8) -> least_likely");
}

TEST(SamplerBuildChain, SelectorAtTemperatureZeroSeesOnlyTheArgmax) {
  SamplingParams p;
  p.temperature = 0.0f;
  ChainExtensions ext;
  ext.selector = std::make_unique<LeastLikelySelector>();
  auto chain = BuildSamplerChain(p, Builtins(), std::move(ext));
  ASSERT_TRUE(chain.has_value());
  EXPECT_EQ((*chain)->Describe(), "temperature(t=0) -> least_likely");
  EXPECT_EQ(*(*chain)->Sample(std::vector<float>{0.0f, 3.0f, 1.0f}), 1);
}

TEST(SamplerBuildChain, NeedsTheBuiltinsInTheRegistry) {
  SamplerRegistry empty;
  auto chain = BuildSamplerChain(SamplingParams{}, empty);
  ASSERT_FALSE(chain.has_value());
  EXPECT_EQ(chain.error().code(), StatusCode::kNotFound);
}

struct ParamCase {
  const char* test_name;
  void (*mutate)(SamplingParams&);
  const char* message;
};

class SamplerBuildChainInvalid : public ::testing::TestWithParam<ParamCase> {};

TEST_P(SamplerBuildChainInvalid, NamesTheField) {
  SamplingParams p;
  GetParam().mutate(p);
  auto chain = BuildSamplerChain(p, Builtins());
  ASSERT_FALSE(chain.has_value());
  EXPECT_EQ(chain.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(chain.error().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    SamplerTable, SamplerBuildChainInvalid,
    ::testing::Values(
        ParamCase{"negative_temperature", [](SamplingParams& p) { p.temperature = -1.0f; },
                  "sampling parameter temperature: must be >= 0 and finite, got -1"},
        ParamCase{"nan_temperature", [](SamplingParams& p) { p.temperature = kNaN; },
                  "sampling parameter temperature: must be >= 0 and finite, got nan"},
        ParamCase{"infinite_temperature", [](SamplingParams& p) { p.temperature = kInf; },
                  "sampling parameter temperature: must be >= 0 and finite, got inf"},
        ParamCase{"negative_top_k", [](SamplingParams& p) { p.top_k = -5; },
                  "sampling parameter top_k: must be >= 0 (0 disables), got -5"},
        ParamCase{"zero_top_p", [](SamplingParams& p) { p.top_p = 0.0f; },
                  "sampling parameter top_p: must be in (0, 1] (1 disables), got 0"},
        ParamCase{"top_p_above_one", [](SamplingParams& p) { p.top_p = 1.5f; },
                  "sampling parameter top_p: must be in (0, 1] (1 disables), got 1.5"},
        ParamCase{"nan_top_p", [](SamplingParams& p) { p.top_p = kNaN; },
                  "sampling parameter top_p: must be in (0, 1] (1 disables), got nan"},
        ParamCase{"negative_min_p", [](SamplingParams& p) { p.min_p = -0.5f; },
                  "sampling parameter min_p: must be in [0, 1] (0 disables), got -0.5"},
        ParamCase{"min_p_above_one", [](SamplingParams& p) { p.min_p = 2.0f; },
                  "sampling parameter min_p: must be in [0, 1] (0 disables), got 2"},
        ParamCase{"zero_repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = 0.0f; },
                  "sampling parameter repeat_penalty: must be > 0 and finite (1 disables), got 0"},
        ParamCase{"negative_repeat_last_n", [](SamplingParams& p) { p.repeat_last_n = -1; },
                  "sampling parameter repeat_last_n: must be in [0, 1048576], got -1"},
        ParamCase{"nan_frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = kNaN; },
                  "sampling parameter frequency_penalty: must be finite, got nan"},
        ParamCase{"infinite_presence_penalty",
                  [](SamplingParams& p) { p.presence_penalty = -kInf; },
                  "sampling parameter presence_penalty: must be finite, got -inf"}),
    [](const ::testing::TestParamInfo<ParamCase>& info) { return info.param.test_name; });

TEST(SamplerBuildChain, SameParamsSameTokens) {
  SamplingParams p;
  p.seed = 31337;
  p.temperature = 1.2f;
  std::vector<float> logits(200);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 4.0f;
  auto run = [&] {
    auto chain = BuildSamplerChain(p, Builtins());
    std::vector<Token> out;
    for (int i = 0; i < 30; ++i) out.push_back(*(*chain)->Sample(logits));
    return out;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace warden::engine
