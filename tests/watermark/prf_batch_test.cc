#include "watermark/internal/prf_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "engine/kernels.h"
#include "engine/sampler.h"
#include "watermark/key.h"
#include "watermark/prf.h"
#include "watermark/samplers.h"

namespace warden::watermark::internal {
namespace {

using engine::Candidates;
using engine::KernelIsa;
using engine::Token;
using engine::TokenData;

// Every path this CPU runs (the others would silently be a lower one).
std::vector<KernelIsa> SupportedIsas() {
  std::vector<KernelIsa> isas = {KernelIsa::kScalar};
  if (engine::CpuHasAvx2()) isas.push_back(KernelIsa::kAvx2);
  if (engine::CpuHasAvx512()) isas.push_back(KernelIsa::kAvx512);
  return isas;
}

std::string Name(KernelIsa isa) { return std::string(engine::IsaName(isa)); }

// A hasher keyed at random that absorbed a random prefix: `context_tokens` words as the PRF
// absorbs them, then `extra_bytes` loose bytes (so every pending-tail length 0-7 occurs, not
// only the 0 and 4 that Prf::Absorb produces).
SipHasher RandomHasher(std::mt19937_64& rng, int context_tokens, int extra_bytes) {
  SipHasher h(SipKey{rng(), rng()});
  for (int i = 0; i < context_tokens; ++i) h.UpdateLe32(static_cast<uint32_t>(rng()));
  std::vector<uint8_t> bytes(static_cast<size_t>(extra_bytes));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  h.Update(bytes);
  return h;
}

// Ids over the whole int32 range, negative ones included, and small ones as in a vocabulary.
Token RandomId(std::mt19937_64& rng) {
  return rng() % 2 == 0 ? static_cast<Token>(static_cast<uint32_t>(rng()))
                        : static_cast<Token>(rng() % 70000);
}

uint64_t Expected(const SipHasher& absorbed, Token id) {
  SipHasher h = absorbed;
  h.UpdateLe32(static_cast<uint32_t>(id));
  return h.Finish();
}

// ---------------------------------------------------------------------------------------------
// The PRF of many candidates.

TEST(PrfBatchTest, EveryPathMatchesSipHasherForEveryTailLengthAndLength) {
  std::mt19937_64 rng(11);
  constexpr uint64_t kCanary = 0x5a5a5a5a5a5a5a5aull;
  for (KernelIsa isa : SupportedIsas()) {
    const Kernels& k = KernelsFor(isa);
    for (int h = 0; h <= 16; ++h) {
      for (int extra = 0; extra < 8; ++extra) {
        const SipHasher absorbed = RandomHasher(rng, h, extra);
        const SipBatch batch = PrepareBatch(absorbed);
        for (size_t n = 0; n <= 67; n += (n < 20 ? 1 : 7)) {
          std::vector<Token> ids(n);
          std::vector<TokenData> data(n);
          for (size_t i = 0; i < n; ++i) {
            ids[i] = RandomId(rng);
            data[i] = {ids[i], 0.5f, 0.25f};
          }
          // One slot past the end must stay untouched.
          std::vector<uint64_t> from_ids(n + 1, kCanary), from_data(n + 1, kCanary);
          k.prf_ids(batch, ids.data(), n, from_ids.data());
          k.prf_candidates(batch, data.data(), n, from_data.data());
          for (size_t i = 0; i < n; ++i) {
            const uint64_t want = Expected(absorbed, ids[i]);
            ASSERT_EQ(from_ids[i], want)
                << Name(isa) << " h " << h << " extra " << extra << " n " << n << " i " << i;
            ASSERT_EQ(from_data[i], want)
                << Name(isa) << " h " << h << " extra " << extra << " n " << n << " i " << i;
          }
          ASSERT_EQ(from_ids[n], kCanary) << Name(isa) << " n " << n;
          ASSERT_EQ(from_data[n], kCanary) << Name(isa) << " n " << n;
        }
      }
    }
  }
}

TEST(PrfBatchTest, FinishTokenMatchesPrfOfTheContext) {
  const Prf prf(SipKey{0x0123456789abcdefull, 0xfedcba9876543210ull});
  const std::vector<Token> context = {5, -1, 70000, 3};
  for (size_t h = 0; h <= context.size(); ++h) {
    const std::span<const Token> ctx(context.data(), h);
    const SipBatch batch = PrepareBatch(prf.Absorb(ctx));
    for (Token t : {0, 1, 511, -7, 0x7fffffff}) {
      EXPECT_EQ(FinishToken(batch, static_cast<uint32_t>(t)), prf(ctx, t)) << h << " " << t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// kgw's bias.

TEST(KgwBiasKernelTest, EveryPathAddsDeltaToExactlyTheFiniteGreenLogits) {
  std::mt19937_64 rng(12);
  std::normal_distribution<float> normal(0.0f, 4.0f);
  const float specials[] = {-std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            -0.0f,
                            0.0f,
                            std::numeric_limits<float>::denorm_min()};
  const uint64_t threshold = GreenThreshold53(0.25);
  const float delta = 2.0f;
  for (KernelIsa isa : SupportedIsas()) {
    const Kernels& k = KernelsFor(isa);
    for (int trial = 0; trial < 40; ++trial) {
      const SipHasher absorbed = RandomHasher(rng, 1 + trial % 8, trial % 3 == 0 ? 1 : 0);
      const SipBatch batch = PrepareBatch(absorbed);
      const size_t n = static_cast<size_t>(trial * 7 % 83);
      std::vector<TokenData> data(n);
      for (size_t i = 0; i < n; ++i) {
        const float logit = rng() % 5 == 0 ? specials[rng() % 6] : normal(rng);
        data[i] = {RandomId(rng), logit, static_cast<float>(i)};
      }
      std::vector<TokenData> want = data;
      for (TokenData& d : want) {
        if (std::isfinite(d.logit) && KgwGreen(Expected(absorbed, d.id), threshold)) {
          d.logit += delta;
        }
      }
      data.push_back({123, 9.0f, 9.0f});  // past the end: must stay untouched
      k.kgw_bias(batch, data.data(), n, threshold, delta);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(data[i].id, want[i].id);
        ASSERT_EQ(std::bit_cast<uint32_t>(data[i].logit), std::bit_cast<uint32_t>(want[i].logit))
            << Name(isa) << " trial " << trial << " i " << i << " logit " << want[i].logit;
        ASSERT_EQ(data[i].p, want[i].p);
      }
      ASSERT_EQ(data[n].logit, 9.0f);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The tournament's layers.

// The definition of the kernels (prf_batch.h), written out plainly: per layer, the factor by
// bit l, the flush below 1e-300, and the next layer's g = 1 mass in 16 interleaved partial
// sums.
void ReferenceTournament(std::vector<double>& w, const std::vector<uint64_t>& values,
                         uint32_t layers) {
  auto mass = [&](uint32_t bit) {
    double acc[16] = {};
    for (size_t i = 0; i < w.size(); ++i) {
      if (bit < 64 && ((values[i] >> bit) & 1) != 0) acc[i % 16] += w[i];
    }
    double s8[8], s4[4], s2[2];
    for (int j = 0; j < 8; ++j) s8[j] = acc[j] + acc[j + 8];
    for (int j = 0; j < 4; ++j) s4[j] = s8[j] + s8[j + 4];
    for (int j = 0; j < 2; ++j) s2[j] = s4[j] + s4[j + 2];
    return s2[0] + s2[1];
  };
  double g = mass(0);
  for (uint32_t l = 0; l < layers; ++l) {
    for (size_t i = 0; i < w.size(); ++i) {
      const double x = w[i] * (((values[i] >> l) & 1) != 0 ? 2.0 - g : 1.0 - g);
      w[i] = x < 1e-300 ? 0.0 : x;
    }
    g = mass(l + 1);
  }
}

TEST(TournamentKernelTest, EveryPathComputesTheDefinitionBitForBit) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int trial = 0; trial < 24; ++trial) {
    const size_t n16 = kBlock * static_cast<size_t>(1 + trial % 9);
    const uint32_t layers = trial == 0 ? 64 : static_cast<uint32_t>(1 + rng() % 40);
    std::vector<double> w(n16);
    std::vector<uint64_t> values(n16);
    double total = 0;
    for (size_t i = 0; i < n16; ++i) {
      // Odd trials: masses spanning every magnitude down to subnormal ones (about one in seven
      // below the flush threshold of 1e-300). Even trials: masses of one magnitude, whose sums
      // round differently in any other order. Some are already 0 (as padding is).
      const double u = unit(rng);
      w[i] = rng() % 7 == 0 ? 0.0 : trial % 2 == 1 ? std::exp(-800.0 * u) : 0.5 + u;
      total += w[i];
      values[i] = rng();
    }
    for (double& x : w) x /= total;
    std::vector<double> want = w;
    ReferenceTournament(want, values, layers);
    for (KernelIsa isa : SupportedIsas()) {
      std::vector<double> got = w;
      KernelsFor(isa).tournament(got.data(), values.data(), n16, layers);
      for (size_t i = 0; i < n16; ++i) {
        ASSERT_EQ(std::bit_cast<uint64_t>(got[i]), std::bit_cast<uint64_t>(want[i]))
            << Name(isa) << " trial " << trial << " i " << i;
      }
    }
  }
}

TEST(TournamentKernelTest, WeightsBelowTheThresholdBecomeZero) {
  // One g = 1 token with mass 0.95 and fifteen g = 0 tokens of 1e-299: the first layer
  // multiplies those by 1 - G = 0.05, giving 5e-301 < 1e-300, which must read 0.
  std::vector<double> w(kBlock, 1e-299);
  w[0] = 0.95;
  std::vector<uint64_t> values(kBlock, 0);
  values[0] = ~0ull;
  for (KernelIsa isa : SupportedIsas()) {
    std::vector<double> got = w;
    KernelsFor(isa).tournament(got.data(), values.data(), kBlock, 1);
    EXPECT_EQ(got[0], 0.95 * (2.0 - 0.95)) << Name(isa);
    for (size_t i = 1; i < kBlock; ++i) EXPECT_EQ(got[i], 0.0) << Name(isa) << " " << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Gumbel's search.

TEST(GumbelKernelTest, EveryPathKeepsTheExactArgminAndFewOthers) {
  std::mt19937_64 rng(14);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  size_t kept = 0, total = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const size_t n = trial < 20 ? static_cast<size_t>(trial) : 1000 + static_cast<size_t>(trial);
    std::vector<TokenData> data(n);
    std::vector<uint64_t> values(n);
    Candidates c;
    std::vector<float> logits(n);
    for (float& l : logits)
      l = rng() % 9 == 0 ? -std::numeric_limits<float>::infinity() : normal(rng);
    Candidates::FromLogits(logits, &c);
    c.Softmax();
    for (size_t i = 0; i < n; ++i) {
      data[i] = c.data[i];
      values[i] = rng();
    }
    // The exact argmin over every candidate with p > 0, ties to the lower id.
    size_t best = n;
    double best_score = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!(data[i].p > 0.0f)) continue;
      const double s = -std::log(GumbelUniform(values[i])) / static_cast<double>(data[i].p);
      if (best == n || s < best_score) {
        best = i;
        best_score = s;
      }
    }
    std::vector<uint32_t> first;
    for (KernelIsa isa : SupportedIsas()) {
      const Kernels& k = KernelsFor(isa);
      const double bound = k.gumbel_bound(values.data(), data.data(), n);
      std::vector<uint32_t> out(n + 1, 0xffffffffu);
      const size_t count = k.gumbel_filter(values.data(), data.data(), n, bound, out.data());
      out.resize(count);
      if (best == n) {
        EXPECT_EQ(count, 0u) << Name(isa);
      } else {
        EXPECT_TRUE(std::find(out.begin(), out.end(), static_cast<uint32_t>(best)) != out.end())
            << Name(isa) << " trial " << trial;
      }
      EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
      if (isa == KernelIsa::kScalar) {
        first = out;
        kept += count;
        total += n;
      } else {
        EXPECT_EQ(out, first) << Name(isa) << " trial " << trial;
      }
    }
  }
  // The point of the search: the exact score is computed for a small fraction.
  EXPECT_LT(static_cast<double>(kept), 0.02 * static_cast<double>(total));
}

// ---------------------------------------------------------------------------------------------
// The samplers on every path.

class IsaGuard {
 public:
  IsaGuard() : saved_(engine::ActiveIsa()) {}
  ~IsaGuard() { engine::SetIsaForTesting(saved_); }

 private:
  KernelIsa saved_;
};

TEST(PrfBatchDispatchTest, ActiveKernelsFollowTheEngineIsa) {
  IsaGuard guard;
  for (KernelIsa isa : SupportedIsas()) {
    engine::SetIsaForTesting(isa);
    EXPECT_EQ(&ActiveKernels(), &KernelsFor(isa)) << Name(isa);
  }
}

// The logits kgw leaves and the tokens the selectors pick over a sequence of steps.
std::vector<uint32_t> RunScheme(Scheme scheme, size_t vocab, uint64_t seed) {
  WatermarkKey key;
  for (size_t i = 0; i < key.secret.size(); ++i) key.secret[i] = static_cast<uint8_t>(i * 7 + 1);
  const Prf prf(key.secret, SchemeName(scheme));
  const SchemeParams params = DefaultParams(scheme);
  std::unique_ptr<engine::Sampler> s = scheme == Scheme::kKgw ? MakeKgwSampler(prf, params)
                                       : scheme == Scheme::kTournament
                                           ? MakeTournamentSampler(prf, params, seed)
                                           : MakeGumbelSampler(prf, params, seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> logits(vocab);
  std::vector<uint32_t> out;
  Candidates c;
  for (int step = 0; step < 40; ++step) {
    for (float& l : logits) l = normal(rng);
    Candidates::FromLogits(logits, &c);
    s->Apply(c);
    Token next;
    if (scheme == Scheme::kKgw) {
      for (const TokenData& d : c.data) out.push_back(std::bit_cast<uint32_t>(d.logit));
      next = static_cast<Token>(rng() % vocab);
    } else {
      next = c.data[static_cast<size_t>(c.selected)].id;
      out.push_back(static_cast<uint32_t>(next));
    }
    s->Accept(next);
  }
  return out;
}

TEST(PrfBatchSamplersTest, EverySchemeGivesTheSameOutputOnEveryPath) {
  IsaGuard guard;
  for (Scheme scheme : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    for (size_t vocab : {5u, 512u, 1003u}) {
      engine::SetIsaForTesting(KernelIsa::kScalar);
      const std::vector<uint32_t> want = RunScheme(scheme, vocab, vocab);
      for (KernelIsa isa : SupportedIsas()) {
        engine::SetIsaForTesting(isa);
        EXPECT_EQ(RunScheme(scheme, vocab, vocab), want)
            << SchemeName(scheme) << " vocab " << vocab << " " << Name(isa);
      }
    }
  }
}

}  // namespace
}  // namespace warden::watermark::internal
