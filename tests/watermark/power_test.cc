// The power claim, on the bundled model: at temperature 1 (the model's own distribution),
// watermarked continuations of 200 tokens are detected at false-positive rate 1e-4 in at least
// 90% of cases with kgw's default parameters. Uses the 20 shipped prompts
// (data/watermark/prompts.txt) and a fixed key, so the outcome is deterministic; the other
// schemes' rates are recorded as test properties (and printed) for the closing note.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "watermark/eval.h"
#include "watermark/key.h"
#include "watermark/stories_generator.h"

namespace warden::watermark {
namespace {

constexpr char kPromptsPath[] = WARDEN_SOURCE_DIR "/data/watermark/prompts.txt";

WatermarkKey FixedKey(Scheme scheme) {
  WatermarkKey key;
  for (size_t i = 0; i < key.secret.size(); ++i) key.secret[i] = static_cast<uint8_t>(i);
  key.key_id = KeyIdOf(key.secret);
  key.scheme = scheme;
  key.params = DefaultParams(scheme);
  return key;
}

std::vector<std::string> Prompts() {
  std::vector<std::string> prompts;
  std::ifstream in(kPromptsPath);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) prompts.push_back(line);
  }
  return prompts;
}

class PowerTest : public ::testing::TestWithParam<Scheme> {};

TEST_P(PowerTest, TwoHundredTokensAtTemperatureOne) {
  const Scheme scheme = GetParam();
  std::unique_ptr<engine::Generator> generator = testing::StoriesGenerator();
  ASSERT_NE(generator, nullptr);

  EvalConfig config;
  config.prompts = Prompts();
  ASSERT_EQ(config.prompts.size(), 20u);
  config.max_tokens = 200;
  config.lengths = {200};
  config.edit_rates = {0.0};
  config.fprs = {1e-4};
  config.sampling.temperature = 1.0f;
  config.sampling.top_k = 0;
  config.sampling.top_p = 1.0f;
  config.sampling.min_p = 0.0f;
  config.seed = 1;
  config.scheme = scheme;
  config.params = DefaultParams(scheme);
  auto report = RunEval(*generator, FixedKey(scheme), config);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->cells.size(), 1u);
  const double tpr = report->cells[0].tpr[0];
  const double fpr = report->false_positives[0].fpr[0];
  RecordProperty("tpr_at_1e-4", std::to_string(tpr));
  std::printf("[ power    ] %s: TPR at FPR 1e-4, 200 tokens: %.2f (unwatermarked FPR %.2f)\n",
              std::string(SchemeName(scheme)).c_str(), tpr, fpr);
  if (scheme == Scheme::kKgw) {
    EXPECT_GE(tpr, 0.9);  // the target
  }
  // Twenty unwatermarked continuations at 1e-4: one false positive would already be a
  // 1-in-500 event.
  EXPECT_EQ(fpr, 0.0);
}

INSTANTIATE_TEST_SUITE_P(Schemes, PowerTest,
                         ::testing::Values(Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel),
                         [](const auto& info) { return std::string(SchemeName(info.param)); });

}  // namespace
}  // namespace warden::watermark
