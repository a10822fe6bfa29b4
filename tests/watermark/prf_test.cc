#include "watermark/prf.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace warden::watermark {
namespace {

constexpr SipKey kPaperKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

std::vector<uint8_t> Counting(size_t n) {
  std::vector<uint8_t> m(n);
  for (size_t i = 0; i < n; ++i) m[i] = static_cast<uint8_t>(i);
  return m;
}

// The SipHash paper's worked example (appendix A: key 00..0f, message 00..0e) and the first
// entries of its reference test vectors (same key, messages 00..len-1).
TEST(SipHashTest, MatchesThePaper) {
  EXPECT_EQ(SipHash24(kPaperKey, Counting(15)), 0xa129ca6149be45e5ull);
  EXPECT_EQ(SipHash24(kPaperKey, Counting(0)), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(SipHash24(kPaperKey, Counting(1)), 0x74f839c593dc67fdull);
}

TEST(SipHashTest, IncrementalEqualsOneShotForEverySplit) {
  const std::vector<uint8_t> m = Counting(40);
  for (size_t len = 0; len <= m.size(); ++len) {
    const std::span<const uint8_t> msg(m.data(), len);
    const uint64_t want = SipHash24(kPaperKey, msg);
    for (size_t cut = 0; cut <= len; ++cut) {
      SipHasher h(kPaperKey);
      h.Update(msg.first(cut));
      h.Update(msg.subspan(cut));
      ASSERT_EQ(h.Finish(), want) << "len " << len << " cut " << cut;
    }
  }
}

TEST(SipHashTest, Le32WordsEqualTheirBytesAtEveryAlignment) {
  for (size_t lead = 0; lead < 8; ++lead) {
    SipHasher words(kPaperKey);
    words.Update(std::span<const uint8_t>(Counting(lead)));
    std::vector<uint8_t> bytes = Counting(lead);
    for (uint32_t w : {0x03020100u, 0xdeadbeefu, 0xffffffffu, 0u}) {
      words.UpdateLe32(w);
      for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(w >> (8 * i)));
      ASSERT_EQ(words.Finish(), SipHash24(kPaperKey, bytes)) << "lead " << lead;
    }
  }
}

TEST(SipHashTest, FinishDoesNotChangeTheHasher) {
  SipHasher h(kPaperKey);
  h.UpdateLe32(7);
  const uint64_t first = h.Finish();
  EXPECT_EQ(h.Finish(), first);
  h.UpdateLe32(8);
  EXPECT_NE(h.Finish(), first);
}

TEST(PrfTest, AbsorbedContextGivesTheSameValueAsOneShot) {
  std::array<uint8_t, 32> secret{};
  for (int i = 0; i < 32; ++i) secret[i] = static_cast<uint8_t>(i * 7);
  const Prf prf(secret, "kgw");
  const std::vector<engine::Token> ctx = {1, 2, 3};
  const SipHasher base = prf.Absorb(ctx);
  for (engine::Token t : {0, 1, 511, 31999, -1}) {
    SipHasher h = base;
    h.UpdateLe32(static_cast<uint32_t>(t));
    EXPECT_EQ(h.Finish(), prf(ctx, t));
  }
}

TEST(PrfTest, SchemesAndSecretsAreSeparated) {
  std::array<uint8_t, 32> a{}, b{};
  b[31] = 1;
  const std::vector<engine::Token> ctx = {42};
  std::set<uint64_t> values = {Prf(a, "kgw")(ctx, 5), Prf(a, "gumbel")(ctx, 5),
                               Prf(a, "tournament")(ctx, 5), Prf(b, "kgw")(ctx, 5)};
  EXPECT_EQ(values.size(), 4u);
}

TEST(PrfTest, ContextOrderMatters) {
  std::array<uint8_t, 32> s{};
  const Prf prf(s, "kgw");
  EXPECT_NE(prf(std::vector<engine::Token>{1, 2}, 3), prf(std::vector<engine::Token>{2, 1}, 3));
}

TEST(GreenThresholdTest, IsTheCeilingOfGammaTimesTwoTo53) {
  EXPECT_EQ(GreenThreshold53(0.5), 1ull << 52);
  EXPECT_EQ(GreenThreshold53(0.25), 1ull << 51);
  EXPECT_EQ(GreenThreshold53(1.0), 1ull << 53);
  EXPECT_EQ(GreenThreshold53(0.0), 0u);
  EXPECT_EQ(GreenThreshold53(1e-300), 1u);
  EXPECT_TRUE(KgwGreen(0, GreenThreshold53(1e-300)));
  EXPECT_FALSE(KgwGreen(1ull << 11, GreenThreshold53(1e-300)));
}

TEST(GumbelUniformTest, StaysInsideTheOpenInterval) {
  EXPECT_GT(GumbelUniform(0), 0.0);
  EXPECT_LT(GumbelUniform(~0ull), 1.0);
  EXPECT_EQ(GumbelUniform(1ull << 63), 0.5 + 0x1.0p-53);
  EXPECT_EQ(GumbelUniform(~0ull), 1.0 - 0x1.0p-53);
  EXPECT_EQ(GumbelUniform(0), 0x1.0p-53);
}

TEST(RepeatFingerprintTest, IsUnkeyedAndSeparatesPairsFromContexts) {
  const std::vector<engine::Token> ctx = {9, 8};
  EXPECT_EQ(RepeatFingerprint(ctx, 1, true), RepeatFingerprint(ctx, 1, true));
  EXPECT_NE(RepeatFingerprint(ctx, 1, true), RepeatFingerprint(ctx, 2, true));
  EXPECT_EQ(RepeatFingerprint(ctx, 1, false), RepeatFingerprint(ctx, 2, false));
}

// The PRF's bits are what the detector's null distribution rests on: over many inputs each
// output bit is 1 about half the time (a 6-sigma band; a broken mixer fails it at once).
TEST(PrfTest, OutputBitsAreBalanced) {
  std::array<uint8_t, 32> s{};
  s[0] = 3;
  const Prf prf(s, "tournament");
  constexpr int kN = 20000;
  std::array<int, 64> ones{};
  for (int i = 0; i < kN; ++i) {
    const uint64_t v = prf(std::vector<engine::Token>{i / 512}, i % 512);
    for (int b = 0; b < 64; ++b) ones[b] += (v >> b) & 1;
  }
  const double sigma = std::sqrt(kN * 0.25);
  for (int b = 0; b < 64; ++b) EXPECT_NEAR(ones[b], kN / 2.0, 6 * sigma) << "bit " << b;
}

}  // namespace
}  // namespace warden::watermark
