// End-to-end tests of `warden tokenize` and `warden generate` on the bundled tiny model:
// real binary, real model file, real exit codes.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "base/files.h"
#include "common/json_output.h"
#include "common/run_binary.h"
#include "common/temp_dir.h"

namespace warden {
namespace {

using testing::Describe;
using testing::ParseObject;
using testing::TempDir;
using testing::RunBinary;
using testing::RunResult;

const std::string kModel = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";

RunResult Warden(std::vector<std::string> args) { return RunBinary(WARDEN_BINARY, args); }

TEST(EngineCliTest, TokenizePrintsLlamaCppIds) {
  // The ids llama.cpp's /tokenize gives (tests/testdata/llama-cpp-reference).
  RunResult r = Warden({"tokenize", "--model", kModel, "Once upon a time"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "1 403 407 261 378\n");
}

TEST(EngineCliTest, TokenizeJsonHasIdsAndPieces) {
  RunResult r = Warden({"tokenize", "--json", "Once upon"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  boost::json::object o = ParseObject(r.out);
  ASSERT_TRUE(o.contains("tokens"));
  EXPECT_EQ(boost::json::serialize(o["tokens"]), "[1,403,407]");
  EXPECT_EQ(o["count"].to_number<int64_t>(), 3);
  EXPECT_EQ(o["pieces"].as_array().size(), 3u);
}

TEST(EngineCliTest, TokenizeNoSpecialDropsBos) {
  RunResult r = Warden({"tokenize", "--no-special", "Once upon a time"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "403 407 261 378\n");
}

TEST(EngineCliTest, TokenizeReadsAnyGgufWithAVocabulary) {
  // A vocabulary-only GGUF of an architecture the engine does not run (GPT-2's BPE).
  RunResult r = Warden({"tokenize", "--model",
                        std::string(WARDEN_EXTRACTED_TESTDATA_DIR) + "/vocab/ggml-vocab-gpt-2.gguf",
                        "Hello world"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "15496 995\n");
}

TEST(EngineCliTest, GenerateRefusesAnArchitectureItDoesNotRun) {
  RunResult r = Warden({"generate", "--model",
                        std::string(WARDEN_EXTRACTED_TESTDATA_DIR) + "/vocab/ggml-vocab-gpt-2.gguf",
                        "-n", "2"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("architecture \"gpt2\" is not supported (supported: llama)"),
            std::string::npos)
      << r.err;
}

TEST(EngineCliTest, TokenizeInvalidUtf8IsMalformedInput) {
  RunResult r = Warden({"tokenize", std::string("ok \xC3\x28 bad")});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.err;
}

TEST(EngineCliTest, MissingModelIsAnEnvironmentError) {
  RunResult r = Warden({"tokenize", "--model", "/nonexistent/model.gguf", "hi"});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
}

TEST(EngineCliTest, TruncatedModelIsMalformedInput) {
  TempDir dir;
  auto bytes = ReadFileToString(kModel, 16 << 20);
  ASSERT_TRUE(bytes.ok());
  const std::string path = dir.path() + "/truncated.gguf";
  ASSERT_TRUE(WriteFileAtomic(path, std::string_view(*bytes).substr(0, bytes->size() / 2)).ok());
  RunResult r = Warden({"generate", "--model", path, "-n", "4", "--seed", "1"});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("truncated.gguf"), std::string::npos) << r.err;
}

TEST(EngineCliTest, GreedyStoryFromBosMatchesLlama2c) {
  // llama2.c's documented greedy output of stories260K (256 steps from BOS).
  auto expected = ReadFileToString(
      std::string(WARDEN_TESTDATA_DIR) + "/llama2c-reference/stories260K_greedy_t0.expected.txt",
      1 << 20);
  ASSERT_TRUE(expected.ok()) << expected.status().message();
  RunResult r = Warden({"generate", "--prompt", "", "--temperature", "0", "-n", "256"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  // The expected file ends with a newline that llama2.c prints after the story.
  std::string want = *expected;
  if (!want.empty() && want.back() == '\n' && (r.out.empty() || r.out.back() != '\n')) {
    want.pop_back();
  }
  EXPECT_EQ(r.out, want);
}

TEST(EngineCliTest, GenerateJsonMatchesLlamaCppGreedyContinuation) {
  RunResult r = Warden(
      {"generate", "--prompt", "Once upon a time", "--temperature", "0", "-n", "8", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  boost::json::object o = ParseObject(r.out);
  EXPECT_EQ(boost::json::serialize(o["prompt_tokens"]), "[1,403,407,261,378]");
  const auto& tokens = o["tokens"].as_array();
  ASSERT_EQ(tokens.size(), 8u);
  // llama.cpp's first greedy tokens for this prompt (stories260K.greedy.jsonl).
  const int64_t want[] = {432, 383, 286, 261, 376, 298, 315, 421};
  std::string text;
  for (size_t i = 0; i < 8; ++i) {
    const auto& t = tokens[i].as_object();
    EXPECT_EQ(t.at("id").to_number<int64_t>(), want[i]) << i;
    EXPECT_LE(t.at("logprob").to_number<double>(), 0.0);
    text += t.at("text").as_string().c_str();
  }
  EXPECT_EQ(text, std::string(o["text"].as_string().c_str()));
  EXPECT_EQ(text.rfind(", there was a little girl", 0), 0u) << text;
  EXPECT_EQ(o["finish_reason"].as_string(), "length");
  EXPECT_TRUE(o["timings"].as_object().contains("tokens_per_s"));
}

TEST(EngineCliTest, SameSeedSameTextOtherSeedOtherText) {
  auto run = [](const std::string& seed, const std::string& threads) {
    return Warden({"generate", "--prompt", "Once upon a time", "-n", "40", "--temperature", "1",
                   "--seed", seed, "--threads", threads});
  };
  RunResult a = run("7", "1"), b = run("7", "2"), c = run("8", "1");
  ASSERT_EQ(a.exit_code, 0) << Describe(a);
  ASSERT_EQ(b.exit_code, 0) << Describe(b);
  ASSERT_EQ(c.exit_code, 0) << Describe(c);
  EXPECT_FALSE(a.out.empty());
  EXPECT_EQ(a.out, b.out) << "the thread count must not change the tokens";
  EXPECT_NE(a.out, c.out);
}

TEST(EngineCliTest, ZeroTokensIsAUsageError) {
  RunResult r = Warden({"generate", "--prompt", "hi", "-n", "0"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("-n"), std::string::npos) << r.err;
}

TEST(EngineCliTest, AbsurdThreadCountIsAUsageError) {
  RunResult r = Warden({"generate", "--prompt", "hi", "--threads", "100000"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
}

TEST(EngineCliTest, PromptLongerThanTheContextIsAUsageError) {
  RunResult r = Warden({"generate", "--ctx", "8", "--prompt",
                        "Once upon a time there was a little girl named Lily who loved to play"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("does not fit the context of 8"), std::string::npos) << r.err;
}

TEST(EngineCliTest, BadSamplingValueIsAUsageError) {
  RunResult r = Warden({"generate", "--prompt", "hi", "--top-p", "1.5"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
}

TEST(EngineCliTest, ChatWithoutTemplateUsesThePlainFormat) {
  RunResult r = Warden({"generate", "--chat", "--prompt", "Tell me a story", "-n", "4",
                        "--seed", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  boost::json::object o = ParseObject(r.out);
  EXPECT_EQ(o["chat_format"].as_string(), "plain");
}

}  // namespace
}  // namespace warden
