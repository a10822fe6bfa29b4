// The real tiny model (data/models/stories260K.gguf) against outside known answers:
//   - llama.cpp's greedy continuations and top-5 log-probabilities for four prompts
//     (tests/testdata/llama-cpp-reference/SOURCE.md): identical ids with either KV cache;
//     with the default F16 cache (llama.cpp's numerics) log-probabilities close to
//     llama.cpp's (see kLlamaCppTarget for how close, and why not all within 1e-3); with the
//     F32 cache within 1e-4 of exact arithmetic (a double-precision reference) and never
//     further from llama.cpp's than exact arithmetic is;
//   - llama2.c's documented greedy story from BOS (tests/testdata/llama2c-reference/
//     SOURCE.md): byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "engine/context.h"
#include "engine/model.h"
#include "engine/reference_forward.h"
#include "engine/synthetic_model.h"
#include "engine/tokenizer.h"

namespace warden::engine {
namespace {

constexpr char kModelPath[] = WARDEN_SOURCE_DIR "/data/models/stories260K.gguf";
constexpr char kLlamaCppReference[] =
    WARDEN_TESTDATA_DIR "/llama-cpp-reference/stories260K.greedy.jsonl";
constexpr char kLlama2cStory[] =
    WARDEN_TESTDATA_DIR "/llama2c-reference/stories260K_greedy_t0.expected.txt";
// As llama.cpp's reference was made: 48 tokens per prompt, top 5.
constexpr size_t kGeneratedPerPrompt = 48;
constexpr size_t kTopN = 5;
// With an F32 KV cache our attention is exact-as-float: log-probabilities within this of exact
// (double-precision) arithmetic (observed <= 7e-6): a 15x margin.
constexpr double kExactTolerance = 1e-4;
// With the default F16 KV cache our attention follows llama.cpp's CPU flash attention (f16
// queries, keys and values, an f16 accumulator rounded at every step; engine/context.h).
// llama.cpp itself is up to ~1.4e-2 away from exact arithmetic on this model, and we land
// within ~3.5e-3 of it, 94% of entries within 1e-3. Not all within 1e-3: f16 rounding makes
// the last bits chaotic (a 1-ulp difference in an f32 matrix product, whose summation order
// differs between any two implementations, can flip an f16 rounding of the accumulator), so
// bit-for-bit agreement would need ggml's exact summation order in every product. The checks
// are: identical greedy ids, at least kWithinShare of the entries within 1e-3, none beyond
// kLlamaCppWorst.
constexpr double kLlamaCppTarget = 1e-3;
constexpr double kWithinShare = 0.90;
constexpr double kLlamaCppWorst = 5e-3;
// llama2.c's run.c default: 256 positions, BOS included.
constexpr size_t kLlama2cSteps = 256;
constexpr Token kBos = 1;

// log-softmax in double precision.
std::vector<double> LogSoftmax(std::span<const float> logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(l - max);
  const double log_sum = std::log(sum) + max;
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_sum;
  return out;
}

// The first index of the largest logit (run.c's and llama.cpp's greedy tie rule).
Token Argmax(std::span<const float> logits) {
  return static_cast<Token>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// stories260K's hyper-parameters (data/models/SOURCE.md), for the double-precision reference.
SyntheticModelSpec Stories260KSpec() {
  SyntheticModelSpec s;
  s.n_vocab = 512;
  s.n_embd = 64;
  s.n_layer = 5;
  s.n_head = 8;
  s.n_head_kv = 4;
  s.n_ff = 172;
  s.n_rot = 8;
  s.rms_eps = 1e-5f;
  s.rope_freq_base = 10000.0f;
  return s;
}

std::vector<double> LogSoftmax(const std::vector<double>& logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (double l : logits) sum += std::exp(l - max);
  const double log_sum = std::log(sum) + max;
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_sum;
  return out;
}

std::vector<Token> Ids(const json::value& v) {
  std::vector<Token> out;
  for (const json::value& x : v.as_array()) out.push_back(static_cast<Token>(x.as_int64()));
  return out;
}

double Number(const json::value& v) {
  return v.is_double() ? v.as_double() : static_cast<double>(v.as_int64());
}

class ReferenceLogprobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = Model::Load(kModelPath);
    ASSERT_TRUE(model.has_value()) << model.error().ToString();
    model_ = *model;
  }
  std::string ModelBytes() const {
    std::ifstream in(kModelPath, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  std::unique_ptr<Context> NewContext(uint32_t n_ctx, KvCacheType kv = KvCacheType::kF16) {
    auto ctx = Context::Create(model_, {.n_ctx = n_ctx, .threads = 2, .kv_type = kv});
    EXPECT_TRUE(ctx.has_value()) << ctx.error().ToString();
    return ctx.has_value() ? std::move(*ctx) : nullptr;
  }
  std::shared_ptr<const Model> model_;
};

class ReferenceLogprobsKvTest : public ReferenceLogprobsTest,
                                public ::testing::WithParamInterface<KvCacheType> {};

TEST_P(ReferenceLogprobsKvTest, GreedyContinuationsAndLogprobsMatchLlamaCpp) {
  const KvCacheType kv = GetParam();
  const std::string file = ModelBytes();
  std::ifstream in(kLlamaCppReference);
  ASSERT_TRUE(in) << kLlamaCppReference;
  std::string line;
  size_t prompts = 0;
  double worst_vs_exact = 0, worst_vs_cpp = 0, cpp_vs_exact = 0;
  size_t within_1e3 = 0, entries = 0;
  while (std::getline(in, line)) {
    auto parsed = json::Parse(line, "reference line");
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    const json::object& obj = parsed->as_object();
    const std::string prompt(obj.at("prompt").as_string());
    SCOPED_TRACE(prompt);
    const std::vector<Token> prompt_tokens = Ids(obj.at("prompt_tokens"));
    const std::vector<Token> expected = Ids(obj.at("tokens"));
    const json::array& top5 = obj.at("top5_logprobs").as_array();
    ASSERT_EQ(expected.size(), kGeneratedPerPrompt);
    ASSERT_EQ(top5.size(), kGeneratedPerPrompt);

    // Exact logits at every position, from the double-precision reference.
    std::vector<Token> all = prompt_tokens;
    all.insert(all.end(), expected.begin(), expected.end());
    testing_reference::ReferenceModel ref(Stories260KSpec(), file);
    const auto exact_logits = ref.Feed(all);

    // Ours: the prompt as one batch, then one token at a time (as a generator runs).
    auto ctx = NewContext(128, kv);
    ASSERT_NE(ctx, nullptr);
    auto logits = ctx->Decode(prompt_tokens);
    ASSERT_TRUE(logits.has_value()) << logits.error().ToString();
    for (size_t step = 0; step < kGeneratedPerPrompt; ++step) {
      EXPECT_EQ(Argmax(*logits), expected[step]) << "step " << step;
      const std::vector<double> ours = LogSoftmax(*logits);
      const std::vector<double> exact = LogSoftmax(exact_logits[prompt_tokens.size() - 1 + step]);
      const json::array& top = top5[step].as_array();
      ASSERT_EQ(top.size(), kTopN);
      for (const json::value& e : top) {
        const Token id = static_cast<Token>(e.at("id").as_int64());
        ASSERT_GE(id, 0);
        ASSERT_LT(static_cast<size_t>(id), ours.size());
        const double cpp = Number(e.at("logprob"));
        const double vs_exact = std::abs(ours[id] - exact[id]);
        const double vs_cpp = std::abs(ours[id] - cpp);
        const double cpp_error = std::abs(cpp - exact[id]);
        if (kv == KvCacheType::kF32) {
          EXPECT_LE(vs_exact, kExactTolerance) << "step " << step << " token " << id;
          EXPECT_LE(vs_cpp, cpp_error + kExactTolerance) << "step " << step << " token " << id;
        } else {
          EXPECT_LE(vs_cpp, kLlamaCppWorst) << "step " << step << " token " << id;
        }
        worst_vs_exact = std::max(worst_vs_exact, vs_exact);
        worst_vs_cpp = std::max(worst_vs_cpp, vs_cpp);
        cpp_vs_exact = std::max(cpp_vs_exact, cpp_error);
        within_1e3 += vs_cpp <= kLlamaCppTarget;
        ++entries;
      }
      // Continue with llama.cpp's token so that one disagreement does not hide the rest.
      logits = ctx->Decode(std::span(&expected[step], 1));
      ASSERT_TRUE(logits.has_value()) << logits.error().ToString();
    }
    ++prompts;
  }
  EXPECT_EQ(prompts, 4u);
  if (kv == KvCacheType::kF16) {
    EXPECT_GE(static_cast<double>(within_1e3), kWithinShare * static_cast<double>(entries))
        << within_1e3 << " of " << entries << " log-probabilities within 1e-3 of llama.cpp";
  }
  RecordProperty("worst_logprob_vs_exact", std::to_string(worst_vs_exact));
  RecordProperty("worst_logprob_vs_llama_cpp", std::to_string(worst_vs_cpp));
  RecordProperty("llama_cpp_vs_exact", std::to_string(cpp_vs_exact));
  RecordProperty("within_1e-3_of_llama_cpp",
                 std::to_string(within_1e3) + " of " + std::to_string(entries));
}

INSTANTIATE_TEST_SUITE_P(KvCache, ReferenceLogprobsKvTest,
                         ::testing::Values(KvCacheType::kF16, KvCacheType::kF32),
                         [](const auto& info) {
                           return std::string(KvCacheTypeName(info.param));
                         });

TEST_F(ReferenceLogprobsTest, GreedyStoryFromBosMatchesLlama2c) {
  std::ifstream in(kLlama2cStory, std::ios::binary);
  ASSERT_TRUE(in) << kLlama2cStory;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string expected = buffer.str();

  auto tokenizer = Tokenizer::FromGguf(model_->gguf(), kModelPath);
  ASSERT_TRUE(tokenizer.has_value()) << tokenizer.error().ToString();
  auto ctx = NewContext(kLlama2cSteps);
  ASSERT_NE(ctx, nullptr);
  // run.c: feed the token at positions 0..255 (BOS first), each time printing the argmax;
  // it stops early only if the argmax is BOS. Then it prints a newline. So "256 steps"
  // means 256 generated tokens after BOS: the 566 expected bytes end with the 256th token's
  // "." and that newline (255 tokens would stop at " you").
  std::vector<Token> generated;
  Token token = kBos;
  for (size_t pos = 0; pos < kLlama2cSteps; ++pos) {
    auto logits = ctx->Decode(std::span(&token, 1));
    ASSERT_TRUE(logits.has_value()) << logits.error().ToString();
    token = Argmax(*logits);
    if (token == kBos) break;
    generated.push_back(token);
  }
  EXPECT_EQ(generated.size(), kLlama2cSteps);
  // run.c drops the leading space of the first piece after BOS, as Decode does.
  EXPECT_EQ(tokenizer->Decode(generated) + "\n", expected);
}

}  // namespace
}  // namespace warden::engine
