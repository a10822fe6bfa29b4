// The forward pass (engine/context.h) against a slow, obviously correct reference written
// here: plain loops in double precision over weights dequantized by the plain decoders below
// (not by the kernels), one token at a time. Checked on synthetic models of several shapes
// (multi-head, grouped-query, multi-query; odd sizes; partial rotary) for every weight type,
// plus the Context's own promises: batch == step by step, thread-count independence, Rewind.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/reference_forward.h"
#include "engine/synthetic_model.h"
#include "formats/ggml_types.h"
#include "formats/gguf.h"

namespace warden::engine {
namespace {

using testing_reference::ReferenceModel;

using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ8_0;

// ---------------------------------------------------------------------------------------
// The shapes and types under test.

struct Shape {
  const char* name;
  uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_rot;
  bool tied;
};

// n_ff and n_embd are multiples of 32 so that the 32-block types apply; the K types (blocks
// of 256) run on "wide" only. n_vocab is deliberately not a multiple of the row split
// alignment.
constexpr Shape kShapes[] = {
    {"mha", 300, 64, 2, 4, 4, 96, 0, false},      // head 16, every head its own KV
    {"gqa", 333, 96, 2, 6, 2, 128, 8, true},      // head 16, 3 queries per KV, n_rot < head
    {"mqa", 259, 64, 3, 4, 1, 160, 0, false},     // one KV head for all
    {"wide", 259, 256, 2, 4, 2, 256, 32, false},  // head 64, n_rot < head
};

// Tolerances are relative to the largest |logit| of the reference (3.2-4.7 here).
// Float weights (F32, F16; F16 is decoded exactly): only float32 rounding separates the fast
// path from the reference: ~6e-8 per operation, observed <= 1.1e-6 relative over every shape
// and both kernel paths: 10x margin.
constexpr double kFloatTolerance = 1e-5;

struct TypeCase {
  uint32_t type;
  const char* name;
  // Largest |fast - reference| / largest |logit| against the exact reference (weights
  // exactly as stored, activations never rounded), for single tokens and short batches.
  // There the kernels round each product's input to 8 bits per block of 32 for quantized
  // weights (kernels.h; as ggml does), a relative error up to 2^-8 per element, which
  // through a few layers and the classifier moves logits by 1.4-2.9% of the largest
  // (observed on these random models, whose activations are larger than a trained model's).
  // 0.1 leaves over 3x margin. The sharp check for these types is LongPrefillMatchesExactReference,
  // where the kernels use float activations and kFloatTolerance applies to every type.
  double tolerance;
};

// clang-format off
constexpr TypeCase kTypes[] = {
    {kGgmlTypeF32, "f32", kFloatTolerance},
    {kGgmlTypeF16, "f16", kFloatTolerance},
    {kGgmlTypeQ8_0, "q8_0", 0.1},
    {kGgmlTypeQ4_0, "q4_0", 0.1},
    {formats::kGgmlTypeQ4_K, "q4_K", 0.1},
    {kGgmlTypeQ6_K, "q6_K", 0.1},
};
// clang-format on

// Weights have standard deviation kInitScale / sqrt(n_embd), so that every shape's
// activations have the same scale: larger than a fresh transformer's (0.02 at n_embd 64) so
// that attention is far from uniform and RoPE visibly matters on these tiny widths.
constexpr float kInitScale = 1.0f;

SyntheticModelSpec SpecFor(const Shape& s, uint32_t type) {
  SyntheticModelSpec spec;
  spec.n_vocab = s.n_vocab;
  spec.n_embd = s.n_embd;
  spec.n_layer = s.n_layer;
  spec.n_head = s.n_head;
  spec.n_head_kv = s.n_head_kv;
  spec.n_ff = s.n_ff;
  spec.n_rot = s.n_rot;
  spec.tied_output = s.tied;
  spec.weight_type = type;
  spec.n_ctx = 64;
  spec.seed = 1000 + s.n_embd + type;
  spec.init_std = kInitScale / std::sqrt(static_cast<float>(s.n_embd));
  return spec;
}

// A prompt shorter than kFloatActivationMinTokens: its products take the same kernel path as
// single tokens (activations quantized for Q8_0/Q4_0 weights).
const std::vector<Token> kPrompt = {1, 17, 41, 42, 258, 5, 99};
const std::vector<Token> kContinuation = {7, 123, 3, 200, 64};

// A prompt long enough for the prefill path of the kernels (float activations throughout).
std::vector<Token> LongPrompt() {
  static_assert(kFloatActivationMinTokens <= 24);
  std::vector<Token> out;
  for (Token i = 0; i < 24; ++i) out.push_back((i * 37 + 11) % 259);
  return out;
}

struct Param {
  Shape shape;
  TypeCase type;
};

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  return std::string(info.param.shape.name) + "_" + info.param.type.name;
}

std::vector<Param> AllParams() {
  std::vector<Param> out;
  for (const Shape& s : kShapes) {
    for (const TypeCase& t : kTypes) {
      // Row lengths must be whole blocks of the type.
      const size_t block = WeightBlockSize(t.type);
      if (s.n_embd % block == 0 && s.n_ff % block == 0) out.push_back({s, t});
    }
  }
  return out;
}

class ForwardTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    spec_ = SpecFor(GetParam().shape, GetParam().type.type);
    auto bytes = SyntheticModelBytes(spec_);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
    bytes_ = *bytes;
    path_ = dir_.Write("model.gguf", bytes_);
    auto model = Model::Load(path_);
    ASSERT_TRUE(model.has_value()) << model.error().ToString();
    model_ = *model;
  }

  // The default F16 KV cache rounds keys, values and the attention accumulator to f16 (as
  // llama.cpp does); the tests against exact arithmetic use the F32 cache.
  std::unique_ptr<Context> NewContext(uint32_t threads, uint32_t n_batch = 0,
                                      KvCacheType kv = KvCacheType::kF16) {
    ContextOptions options;
    options.threads = threads;
    options.n_batch = n_batch;
    options.kv_type = kv;
    auto ctx = Context::Create(model_, options);
    EXPECT_TRUE(ctx.has_value()) << ctx.error().ToString();
    if (!ctx.has_value()) return nullptr;
    // These models are far too small to be split by default: split them anyway, so that
    // the thread-count checks below exercise the parallel paths.
    (*ctx)->SetWorkPerThreadForTesting(1);
    return std::move(*ctx);
  }

  // Every logit of prompt prefill (all_logits) and of each continuation step.
  std::vector<float> Run(Context& ctx, const std::vector<Token>& prompt = kPrompt) {
    std::vector<float> out;
    auto prefill = ctx.Decode(prompt, /*all_logits=*/true);
    EXPECT_TRUE(prefill.has_value()) << prefill.error().ToString();
    if (!prefill.has_value()) return out;
    out.assign(prefill->begin(), prefill->end());
    for (Token t : kContinuation) {
      auto step = ctx.Decode(std::span(&t, 1));
      EXPECT_TRUE(step.has_value());
      if (!step.has_value()) return out;
      out.insert(out.end(), step->begin(), step->end());
    }
    return out;
  }

  // Largest |fast - reference| over every logit of the sequence `all`, divided by the
  // largest |reference logit|.
  double RelativeError(const std::vector<float>& fast, const std::vector<Token>& all) {
    ReferenceModel ref(spec_, bytes_);
    const auto expected = ref.Feed(all);
    EXPECT_EQ(fast.size(), all.size() * spec_.n_vocab);
    if (fast.size() != all.size() * spec_.n_vocab) return INFINITY;
    double max_err = 0, max_abs = 0;
    for (size_t t = 0; t < all.size(); ++t) {
      for (size_t v = 0; v < spec_.n_vocab; ++v) {
        max_err = std::max(max_err, std::abs(fast[t * spec_.n_vocab + v] - expected[t][v]));
        max_abs = std::max(max_abs, std::abs(expected[t][v]));
      }
    }
    // Meaningful only if the logits are not all tiny.
    EXPECT_GT(max_abs, 1.0);
    return max_err / max_abs;
  }

  testing::TempDir dir_;
  SyntheticModelSpec spec_;
  std::string bytes_;
  std::string path_;
  std::shared_ptr<const Model> model_;
};

TEST_P(ForwardTest, PrefillAndDecodeMatchExactReference) {
  auto ctx = NewContext(2, 0, KvCacheType::kF32);
  ASSERT_NE(ctx, nullptr);
  std::vector<Token> all = kPrompt;
  all.insert(all.end(), kContinuation.begin(), kContinuation.end());
  EXPECT_LE(RelativeError(Run(*ctx), all), GetParam().type.tolerance);
}

// A long prompt takes the kernels' prefill path: float activations, no 8-bit rounding, so
// every type is exact up to float rounding there; except where the kernels quantize prefill
// activations too (AVX-512 Q8_0 and Q4_0), which get the type's decode tolerance.
TEST_P(ForwardTest, LongPrefillMatchesExactReference) {
  auto ctx = NewContext(2, 0, KvCacheType::kF32);
  ASSERT_NE(ctx, nullptr);
  auto logits = ctx->Decode(LongPrompt(), /*all_logits=*/true);
  ASSERT_TRUE(logits.has_value());
  const std::vector<float> fast(logits->begin(), logits->end());
  const double tolerance = UsesQuantizedActivations(GetParam().type.type, LongPrompt().size())
                               ? GetParam().type.tolerance
                               : kFloatTolerance;
  EXPECT_LE(RelativeError(fast, LongPrompt()), tolerance);
}

// The single-token steps after it read the keys and values the long batch wrote.
TEST_P(ForwardTest, LongPrefillThenDecodeMatchesExactReference) {
  auto ctx = NewContext(2, 0, KvCacheType::kF32);
  ASSERT_NE(ctx, nullptr);
  std::vector<Token> all = LongPrompt();
  all.insert(all.end(), kContinuation.begin(), kContinuation.end());
  EXPECT_LE(RelativeError(Run(*ctx, LongPrompt()), all), GetParam().type.tolerance);
}

// The F16 cache adds f16 rounding of keys, values and the attention accumulator (relative
// 2^-11 per rounding, a few roundings deep): the logits stay within 2% of exact arithmetic
// on top of the weight type's own error.
TEST_P(ForwardTest, F16CacheStaysCloseToExactReference) {
  auto ctx = NewContext(2);
  ASSERT_NE(ctx, nullptr);
  std::vector<Token> all = kPrompt;
  all.insert(all.end(), kContinuation.begin(), kContinuation.end());
  const double err = RelativeError(Run(*ctx), all);
  EXPECT_LE(err, GetParam().type.tolerance + 2e-2);
  // ...and the rounding is really there: the F16 cache is not silently an F32 one.
  auto exact = NewContext(2, 0, KvCacheType::kF32);
  ASSERT_NE(exact, nullptr);
  auto f16_ctx = NewContext(2);
  EXPECT_NE(Run(*exact), Run(*f16_ctx));
}

// Below kFloatActivationMinTokens the kernels compute each (row, token) with the same
// operations as for a single token, so such a batch gives the very bits that the same tokens
// give one at a time (context.h).
TEST_P(ForwardTest, ShortBatchEqualsStepByStep) {
  auto batched = NewContext(2);
  auto stepped = NewContext(2);
  ASSERT_NE(batched, nullptr);
  ASSERT_NE(stepped, nullptr);
  auto all = batched->Decode(kPrompt, /*all_logits=*/true);
  ASSERT_TRUE(all.has_value());
  const std::vector<float> batch(all->begin(), all->end());
  std::vector<float> steps;
  for (const Token& t : kPrompt) {
    auto one = stepped->Decode(std::span(&t, 1));
    ASSERT_TRUE(one.has_value());
    steps.insert(steps.end(), one->begin(), one->end());
  }
  EXPECT_EQ(batch, steps);
}

TEST_P(ForwardTest, LastLogitsOfBatchEqualAllLogitsTail) {
  auto a = NewContext(2);
  auto b = NewContext(2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto last = a->Decode(kPrompt);
  auto all = b->Decode(kPrompt, /*all_logits=*/true);
  ASSERT_TRUE(last.has_value());
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(last->size(), spec_.n_vocab);
  const std::vector<float> tail(all->end() - spec_.n_vocab, all->end());
  EXPECT_EQ(std::vector<float>(last->begin(), last->end()), tail);
}

TEST_P(ForwardTest, ThreadCountsGiveBitIdenticalLogits) {
  for (const std::vector<Token>& prompt : {kPrompt, LongPrompt()}) {
    auto one = NewContext(1);
    ASSERT_NE(one, nullptr);
    const std::vector<float> expected = Run(*one, prompt);
    for (uint32_t threads : {2u, 3u}) {
      auto ctx = NewContext(threads);
      ASSERT_NE(ctx, nullptr);
      EXPECT_EQ(Run(*ctx, prompt), expected)
          << threads << " threads, " << prompt.size() << "-token prompt";
    }
  }
}

TEST_P(ForwardTest, SmallBatchesGiveBitIdenticalLogits) {
  auto whole = NewContext(2);
  auto chunked = NewContext(2, /*n_batch=*/3);  // the prompt as 3 + 3 + 1 tokens
  ASSERT_NE(whole, nullptr);
  ASSERT_NE(chunked, nullptr);
  EXPECT_EQ(Run(*chunked), Run(*whole));
  EXPECT_EQ(chunked->n_past(), kPrompt.size() + kContinuation.size());
}

TEST_P(ForwardTest, RewindThenRedecodeIsBitIdentical) {
  auto ctx = NewContext(2);
  ASSERT_NE(ctx, nullptr);
  const std::vector<float> first = Run(*ctx);
  // Stale keys and values beyond n_past must not leak into the second run.
  ASSERT_TRUE(ctx->Rewind(0).ok());
  EXPECT_EQ(ctx->n_past(), 0u);
  EXPECT_EQ(Run(*ctx), first);
  ctx->Reset();
  EXPECT_EQ(ctx->n_past(), 0u);
  EXPECT_EQ(Run(*ctx), first);
}

TEST_P(ForwardTest, RewindKeepsThePrefix) {
  auto ctx = NewContext(2);
  auto fresh = NewContext(2);
  ASSERT_NE(ctx, nullptr);
  ASSERT_NE(fresh, nullptr);
  const std::vector<Token> prefix(kPrompt.begin(), kPrompt.begin() + 4);
  const std::vector<Token> rest(kPrompt.begin() + 4, kPrompt.end());
  ASSERT_TRUE(ctx->Decode(prefix).has_value());
  ASSERT_TRUE(ctx->Decode(kContinuation).has_value());  // to be forgotten
  ASSERT_TRUE(ctx->Rewind(prefix.size()).ok());
  auto again = ctx->Decode(rest);
  ASSERT_TRUE(fresh->Decode(prefix).has_value());
  auto expected = fresh->Decode(rest);
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(std::vector<float>(again->begin(), again->end()),
            std::vector<float>(expected->begin(), expected->end()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ForwardTest, ::testing::ValuesIn(AllParams()), ParamName);

// ---------------------------------------------------------------------------------------
// Context's refusals.

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SyntheticModelSpec spec;
    spec.n_ctx = 16;
    path_ = dir_.Write("m.gguf", *SyntheticModelBytes(spec));
    auto model = Model::Load(path_);
    ASSERT_TRUE(model.has_value()) << model.error().ToString();
    model_ = *model;
  }
  testing::TempDir dir_;
  std::string path_;
  std::shared_ptr<const Model> model_;
};

TEST_F(ContextTest, DefaultContextIsTheModelsTrainingLength) {
  auto ctx = Context::Create(model_);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ((*ctx)->n_ctx(), 16u);
  EXPECT_GE((*ctx)->threads(), 1u);
  const ModelConfig& c = model_->config();
  // F16 by default: two bytes per value.
  EXPECT_EQ((*ctx)->kv_cache_bytes(), 16u * c.n_layer * 2 * c.n_head_kv * c.head_dim * 2);
  auto f32 = Context::Create(model_, {.kv_type = KvCacheType::kF32});
  ASSERT_TRUE(f32.has_value());
  EXPECT_EQ((*f32)->kv_cache_bytes(), 16u * c.n_layer * 2 * c.n_head_kv * c.head_dim * 4);
}

TEST_F(ContextTest, ContextLongerThanTrainedIsAllowed) {
  auto ctx = Context::Create(model_, {.n_ctx = 64, .threads = 1});
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ((*ctx)->n_ctx(), 64u);
}

TEST_F(ContextTest, PromptLongerThanContextIsRefused) {
  auto ctx = Context::Create(model_, {.n_ctx = 8, .threads = 1});
  ASSERT_TRUE(ctx.has_value());
  const std::vector<Token> tokens(9, 5);
  auto r = (*ctx)->Decode(tokens);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "prompt of 9 tokens does not fit the context of 8");
  EXPECT_EQ((*ctx)->n_past(), 0u);
}

TEST_F(ContextTest, DecodePastTheEndOfTheContextIsRefused) {
  auto ctx = Context::Create(model_, {.n_ctx = 8, .threads = 1});
  ASSERT_TRUE(ctx.has_value());
  const std::vector<Token> tokens(6, 5);
  ASSERT_TRUE((*ctx)->Decode(tokens).has_value());
  auto r = (*ctx)->Decode(std::vector<Token>(3, 5));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("6 positions in use"), std::string::npos)
      << r.error().message();
  EXPECT_EQ((*ctx)->n_past(), 6u);
  EXPECT_TRUE((*ctx)->Decode(std::vector<Token>(2, 5)).has_value());  // exactly full
  EXPECT_EQ((*ctx)->n_past(), 8u);
}

TEST_F(ContextTest, TokenOutOfRangeIsRefusedNamingItsIndex) {
  auto ctx = Context::Create(model_, {.n_ctx = 8, .threads = 1});
  ASSERT_TRUE(ctx.has_value());
  for (Token bad : {Token{-1}, Token{320}}) {
    const std::vector<Token> tokens = {1, 2, bad};
    auto r = (*ctx)->Decode(tokens);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find("at index 2"), std::string::npos) << r.error().message();
  }
  EXPECT_EQ((*ctx)->n_past(), 0u);
}

TEST_F(ContextTest, EmptyDecodeIsRefused) {
  auto ctx = Context::Create(model_, {.n_ctx = 8, .threads = 1});
  ASSERT_TRUE(ctx.has_value());
  auto r = (*ctx)->Decode({});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, TooManyThreadsAreRefused) {
  auto r = Context::Create(model_, {.threads = kMaxThreads + 1});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find("threads 257"), std::string::npos);
}

TEST_F(ContextTest, ContextAboveTheCapIsRefused) {
  auto r = Context::Create(model_, {.n_ctx = kMaxContext + 1});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, NullModelIsRefused) {
  auto r = Context::Create(nullptr);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(ContextTest, RewindPastTheEndIsRefused) {
  auto ctx = Context::Create(model_, {.n_ctx = 8, .threads = 1});
  ASSERT_TRUE(ctx.has_value());
  ASSERT_TRUE((*ctx)->Decode(std::vector<Token>{1, 2}).has_value());
  EXPECT_EQ((*ctx)->Rewind(3).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*ctx)->n_past(), 2u);
}

}  // namespace
}  // namespace warden::engine
