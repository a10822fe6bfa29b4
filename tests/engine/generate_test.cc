// Generator (engine/generate.h) on the bundled stories260K model: streaming, stopping,
// cancellation, context limits, prefix reuse; and the UTF-8 stream splitter.
#include "engine/generate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

namespace warden::engine {
namespace {

const std::string kModelPath = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = Model::Load(kModelPath);
    ASSERT_TRUE(model.ok()) << model.status().message();
    model_ = *model;
    auto tok = Tokenizer::FromGguf(model_->gguf(), kModelPath);
    ASSERT_TRUE(tok.ok()) << tok.status().message();
    tokenizer_ = std::make_shared<const Tokenizer>(std::move(*tok));
    RegisterBuiltinSamplers(registry_);
  }

  std::unique_ptr<Generator> MakeGenerator(uint32_t n_ctx = 0) {
    ContextOptions options;
    options.n_ctx = n_ctx;
    options.threads = 1;
    auto g = Generator::Create(model_, tokenizer_, options);
    EXPECT_TRUE(g.ok()) << g.status().message();
    return g.ok() ? std::move(*g) : nullptr;
  }

  GenerateRequest Request(std::string_view prompt, uint32_t n, float temperature = 0.0f,
                          uint64_t seed = 0) {
    GenerateRequest r;
    auto ids = tokenizer_->Encode(prompt);
    EXPECT_TRUE(ids.ok());
    r.prompt = *ids;
    r.max_tokens = n;
    SamplingParams p;
    p.temperature = temperature;
    p.seed = seed;
    auto chain = BuildSamplerChain(p, registry_);
    EXPECT_TRUE(chain.ok());
    r.sampler = std::move(*chain);
    return r;
  }

  std::shared_ptr<const Model> model_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  SamplerRegistry registry_;
};

std::vector<Token> Ids(const GenerateResult& r) {
  std::vector<Token> ids;
  for (const auto& t : r.tokens) ids.push_back(t.id);
  return ids;
}

TEST_F(GenerateTest, GreedyMatchesLlamaCppAndStreamsEveryToken) {
  auto g = MakeGenerator();
  GenerateRequest req = Request("Once upon a time", 8);
  std::string streamed;
  size_t calls = 0;
  req.on_token = [&](const GeneratedToken& t) {
    streamed += t.text;
    ++calls;
    return true;
  };
  auto r = g->Generate(req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // llama.cpp's greedy tokens for this prompt (tests/testdata/llama-cpp-reference).
  EXPECT_EQ(Ids(*r), (std::vector<Token>{432, 383, 286, 261, 376, 298, 315, 421}));
  EXPECT_EQ(calls, 8u);
  EXPECT_EQ(streamed, r->text);
  EXPECT_EQ(r->text, ", there was a little girl");
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->prompt_tokens_evaluated, 5u);
  for (const auto& t : r->tokens) EXPECT_LT(t.logprob, 0.0f);
}

TEST_F(GenerateTest, CallbackReturningFalseStops) {
  auto g = MakeGenerator();
  GenerateRequest req = Request("Once upon a time", 20);
  req.on_token = [n = 0](const GeneratedToken&) mutable { return ++n < 3; };
  auto r = g->Generate(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens.size(), 3u);
  EXPECT_EQ(r->finish, FinishReason::kStopped);
}

TEST_F(GenerateTest, CancelFlagRaisedFromTheCallbackStopsBeforeTheNextEvaluation) {
  auto g = MakeGenerator();
  std::atomic<bool> cancel{false};
  GenerateRequest req = Request("Once upon a time", 20);
  req.cancel = &cancel;
  req.on_token = [&](const GeneratedToken&) {
    cancel.store(true);  // as another thread would
    return true;
  };
  auto r = g->Generate(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tokens.size(), 1u);
  EXPECT_EQ(r->finish, FinishReason::kCancelled);
}

TEST_F(GenerateTest, CancelledBeforeStartGeneratesNothing) {
  auto g = MakeGenerator();
  std::atomic<bool> cancel{true};
  GenerateRequest req = Request("Once upon a time", 20);
  req.cancel = &cancel;
  auto r = g->Generate(req);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->tokens.empty());
  EXPECT_EQ(r->finish, FinishReason::kCancelled);
}

TEST_F(GenerateTest, StopsWhenTheContextIsFull) {
  auto g = MakeGenerator(/*n_ctx=*/8);
  GenerateRequest req = Request("Once upon a time", 100);  // 5 prompt tokens
  auto r = g->Generate(req);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->finish, FinishReason::kContextFull);
  // Positions 0..7 hold 5 prompt tokens and 3 generated ones; the 4th is sampled from the
  // logits at the last position.
  EXPECT_EQ(r->tokens.size(), 4u);
}

TEST_F(GenerateTest, PromptLongerThanTheContextIsRefused) {
  auto g = MakeGenerator(/*n_ctx=*/4);
  GenerateRequest req = Request("Once upon a time", 4);
  auto r = g->Generate(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "prompt of 5 tokens does not fit the context of 4");
}

TEST_F(GenerateTest, BadRequestsAreRefused) {
  auto g = MakeGenerator();
  struct Case {
    const char* name;
    void (*mutate)(GenerateRequest&);
    const char* message;
  };
  const Case cases[] = {
      {"empty prompt", [](GenerateRequest& r) { r.prompt.clear(); }, "no tokens"},
      {"zero tokens", [](GenerateRequest& r) { r.max_tokens = 0; }, "max_tokens"},
      {"no sampler", [](GenerateRequest& r) { r.sampler.reset(); }, "no sampler"},
      {"token out of range", [](GenerateRequest& r) { r.prompt[1] = 512; },
       "prompt token 1 is 512, outside the vocabulary of 512"},
      {"negative token", [](GenerateRequest& r) { r.prompt[0] = -3; }, "prompt token 0 is -3"},
  };
  for (const Case& c : cases) {
    GenerateRequest req = Request("Once upon a time", 4);
    c.mutate(req);
    auto r = g->Generate(req);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.name << ": " << r.status().message();
  }
}

TEST_F(GenerateTest, ChainWithoutSelectorIsAFailedPrecondition) {
  auto g = MakeGenerator();
  GenerateRequest req = Request("Once upon a time", 4);
  auto top_k = registry_.Create("top_k", boost::json::object{{"k", 5}});
  ASSERT_TRUE(top_k.ok());
  req.sampler = std::move(*top_k);
  auto r = g->Generate(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(GenerateTest, ReusingThePrefixGivesTheSameTokensAsAFreshGenerator) {
  // Turn 1, then turn 2 whose prompt extends turn 1's prompt and output: the second request
  // evaluates only the new tokens, and must sample exactly what a fresh generator samples.
  auto g = MakeGenerator();
  GenerateRequest first = Request("Once upon a time", 10, 0.9f, 11);
  auto r1 = g->Generate(first);
  ASSERT_TRUE(r1.ok());
  std::vector<Token> prompt2 = first.prompt;
  for (const auto& t : r1->tokens) prompt2.push_back(t.id);
  auto more = tokenizer_->Encode(" The end.", {.add_special = false});
  ASSERT_TRUE(more.ok());
  prompt2.insert(prompt2.end(), more->begin(), more->end());

  GenerateRequest second = Request("", 12, 0.9f, 12);
  second.prompt = prompt2;
  auto reused = g->Generate(second);
  ASSERT_TRUE(reused.ok());
  // The last generated token of turn 1 was never evaluated, so it is new in turn 2.
  EXPECT_EQ(reused->prompt_tokens_evaluated, 1 + more->size());

  auto fresh_gen = MakeGenerator();
  GenerateRequest again = Request("", 12, 0.9f, 12);
  again.prompt = prompt2;
  auto fresh = fresh_gen->Generate(again);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->prompt_tokens_evaluated, prompt2.size());
  EXPECT_EQ(Ids(*reused), Ids(*fresh));
}

TEST_F(GenerateTest, ADifferentPromptAfterALongOneRewindsCorrectly) {
  auto g = MakeGenerator();
  GenerateRequest a = Request("Once upon a time there was a dog", 6);
  ASSERT_TRUE(g->Generate(a).ok());
  GenerateRequest b = Request("Once upon a time", 8);
  auto r = g->Generate(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->prompt_tokens_evaluated, 1u);  // BOS..'time' minus the last one were cached
  EXPECT_EQ(Ids(*r), (std::vector<Token>{432, 383, 286, 261, 376, 298, 315, 421}));
}

TEST_F(GenerateTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  auto run = [&](uint64_t seed) {
    auto g = MakeGenerator();
    GenerateRequest req = Request("Once upon a time", 30, 1.0f, seed);
    auto r = g->Generate(req);
    EXPECT_TRUE(r.ok());
    return Ids(*r);
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(Utf8StreamTest, HoldsBackAnIncompleteCharacterUntilItCompletes) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("a\xE2"), "a");
  EXPECT_EQ(s.Push("\x82"), "");
  EXPECT_EQ(s.Push("\xAC!"), "\xE2\x82\xAC!");  // U+20AC
  EXPECT_EQ(s.Flush(), "");
}

TEST(Utf8StreamTest, InvalidBytesBecomeReplacementCharacters) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("x\xFFy"), "x\xEF\xBF\xBDy");
  EXPECT_EQ(s.Push("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");      // overlong
  EXPECT_EQ(s.Push("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(Utf8StreamTest, FlushTurnsAnUnfinishedTailIntoOneReplacementCharacter) {
  Utf8Stream s;
  EXPECT_EQ(s.Push("ok\xF0\x9F"), "ok");
  EXPECT_EQ(s.Flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(s.Push("z"), "z");
}

TEST(Utf8StreamTest, FourByteCharacterSplitByteByByte) {
  Utf8Stream s;
  std::string out;
  for (char c : std::string("\xF0\x9F\x98\x80")) out += s.Push(std::string(1, c));  // U+1F600
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace warden::engine
