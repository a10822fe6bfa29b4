// Watermark evaluation (watermark/eval.h) on the bundled stories260K model: the report's shape,
// that detection power falls with edits and stays near the nominal rate on unwatermarked text,
// determinism, config validation, and the text / JSON / SVG renderings.
//
// The statistical checks are about one fixed test key. Their false-failure probabilities are
// over the choice of that key (the run is deterministic once the key is fixed): a correct
// implementation passes for all but a tiny fraction of keys.
#include "watermark/eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"
#include "engine/tokenizer.h"
#include "watermark/stories_generator.h"

namespace warden::watermark {
namespace {

WatermarkKey TestKey() {
  WatermarkKey key;
  for (size_t i = 0; i < key.secret.size(); ++i) key.secret[i] = static_cast<uint8_t>(3 * i + 7);
  key.key_id = KeyIdOf(key.secret);
  key.scheme = Scheme::kKgw;
  key.params = DefaultParams(Scheme::kKgw);
  return key;
}

// kgw with a large bias (default 2.0), so that 4 prompts are enough for the power checks below
// to hold with a wide margin.
SchemeParams StrongKgw() {
  SchemeParams params = DefaultParams(Scheme::kKgw);
  params.delta = 6.0;
  return params;
}

// The small configuration of the brief: 4 prompts, 64 tokens, lengths {32, 64}, rates {0, 0.2}.
EvalConfig SmallConfig() {
  EvalConfig config;
  config.prompts = {"Once upon a time", "The little dog", "Lily and Tom went to the park",
                    "One day, a bird"};
  config.human_texts = {
      "The cat sat on the warm mat and looked out of the window at the rain.",
      "Ben had a red ball. He threw it high and his sister caught it with both hands.",
      "In the morning the baker opened the shop and the smell of bread filled the street.",
      "A small boat floated on the lake while two ducks swam slowly around it."};
  config.max_tokens = 64;
  config.lengths = {32, 64};
  config.edit_rates = {0.0, 0.2};
  config.fprs = {1e-2, 1e-4, 1e-6};
  config.sampling.temperature = 1.0f;
  config.sampling.top_k = 0;
  config.sampling.top_p = 1.0f;
  config.sampling.min_p = 0.0f;
  config.seed = 42;
  config.scheme = Scheme::kKgw;
  config.params = StrongKgw();
  return config;
}

const EvalCell* FindCell(const EvalReport& report, uint32_t length, double rate) {
  for (const EvalCell& cell : report.cells) {
    if (cell.length == length && cell.edit_rate == rate) return &cell;
  }
  return nullptr;
}

// Checks that every start tag has its end tag, properly nested: enough to catch a renderer
// that forgets to close an element or emits stray '<'. Returns an empty string when balanced,
// otherwise what went wrong.
std::string TagBalanceError(std::string_view xml) {
  std::vector<std::string> open;
  size_t i = 0;
  while ((i = xml.find('<', i)) != std::string_view::npos) {
    const size_t end = xml.find('>', i);
    if (end == std::string_view::npos) return "unterminated tag at " + std::to_string(i);
    std::string_view tag = xml.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return "empty tag";
    if (tag.front() == '/') {
      const std::string name(tag.substr(1));
      if (open.empty() || open.back() != name) return "unexpected </" + name + ">";
      open.pop_back();
      continue;
    }
    if (tag.back() == '/') continue;  // self-closing
    const size_t name_end = tag.find_first_of(" \t\n");
    open.emplace_back(tag.substr(0, name_end));
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return "";
}

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t i = haystack.find(needle); i != std::string_view::npos;
       i = haystack.find(needle, i + 1)) {
    ++n;
  }
  return n;
}

class EvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    generator_ = testing::StoriesGenerator().release();
    ASSERT_NE(generator_, nullptr);

    auto report = RunEval(*generator_, TestKey(), SmallConfig());
    ASSERT_TRUE(report.ok()) << report.status().message();
    small_report_ = new EvalReport(std::move(*report));
  }
  static void TearDownTestSuite() {
    delete small_report_;
    small_report_ = nullptr;
    delete generator_;
    generator_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(generator_, nullptr);
    ASSERT_NE(small_report_, nullptr);
  }

  static engine::Generator* generator_;
  static EvalReport* small_report_;  // RunEval(TestKey(), SmallConfig())
};

engine::Generator* EvalTest::generator_ = nullptr;
EvalReport* EvalTest::small_report_ = nullptr;

TEST_F(EvalTest, ReportHasOneCellPerLengthAndRateInConfigOrder) {
  const EvalReport& r = *small_report_;
  EXPECT_EQ(r.scheme, "kgw");
  EXPECT_EQ(r.key_id, TestKey().key_id);
  EXPECT_EQ(r.params, ParamsToJson(Scheme::kKgw, StrongKgw()));
  EXPECT_EQ(r.fprs, (std::vector<double>{1e-2, 1e-4, 1e-6}));
  EXPECT_EQ(r.prompts, 4u);
  EXPECT_EQ(r.max_tokens, 64u);
  ASSERT_EQ(r.cells.size(), 4u);
  const uint32_t lengths[] = {32, 32, 64, 64};
  const double rates[] = {0.0, 0.2, 0.0, 0.2};
  for (size_t i = 0; i < r.cells.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r.cells[i].length, lengths[i]);
    EXPECT_EQ(r.cells[i].edit_rate, rates[i]);
    EXPECT_EQ(r.cells[i].samples, 4u);  // one per prompt
    ASSERT_EQ(r.cells[i].tpr.size(), 3u);
    for (double tpr : r.cells[i].tpr) {
      EXPECT_GE(tpr, 0.0);
      EXPECT_LE(tpr, 1.0);
    }
    // A smaller fpr can only be harder to reach.
    EXPECT_GE(r.cells[i].tpr[0], r.cells[i].tpr[1]);
    EXPECT_GE(r.cells[i].tpr[1], r.cells[i].tpr[2]);
    EXPECT_GE(r.cells[i].median_p, 0.0);
    EXPECT_LE(r.cells[i].median_p, 1.0);
  }
}

TEST_F(EvalTest, FalsePositiveRowsCoverEveryUnwatermarkedLengthAndEveryHumanText) {
  const EvalReport& r = *small_report_;
  ASSERT_EQ(r.false_positives.size(), 2u);
  EXPECT_EQ(r.false_positives[0].source, "unwatermarked");
  EXPECT_EQ(r.false_positives[0].samples, 8u);  // 4 prompts x 2 lengths
  EXPECT_EQ(r.false_positives[1].source, "human");
  EXPECT_EQ(r.false_positives[1].samples, 4u);
  for (const FalsePositiveRow& row : r.false_positives) {
    ASSERT_EQ(row.fpr.size(), 3u);
    EXPECT_GT(row.min_p, 0.0);
    EXPECT_LE(row.min_p, 1.0);
  }
}

TEST_F(EvalTest, NoHumanRowWithoutHumanTexts) {
  EvalConfig config = SmallConfig();
  config.prompts.resize(1);
  config.human_texts.clear();
  auto report = RunEval(*generator_, TestKey(), config);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(report->false_positives.size(), 1u);
  EXPECT_EQ(report->false_positives[0].source, "unwatermarked");
}

TEST_F(EvalTest, PerplexitiesArePlausibleForTheTinyModel) {
  // Perplexity is exp of a mean negative log-probability: at least 1, and for a 512-token
  // vocabulary sampled at temperature 1 far below the uniform model's 512.
  const EvalReport& r = *small_report_;
  EXPECT_GT(r.perplexity_unwatermarked, 1.0);
  EXPECT_LT(r.perplexity_unwatermarked, 100.0);
  EXPECT_GT(r.perplexity_watermarked, 1.0);
  EXPECT_LT(r.perplexity_watermarked, 100.0);
}

TEST_F(EvalTest, KgwUneditedTextIsDetectedAtLeastAsOftenAsEditedText) {
  // Measured with this key (delta 6): every unedited sample is found even at 1e-6; median p
  // 5e-13 (32 tokens) and 5e-24 (64) unedited against 6e-8 and 5e-11 at edit rate 0.2. Over
  // 3000 other keys and seeds none of the checks below failed (false failures: about 1e-3 at
  // most); TPR is compared at 1e-2 only because at 1e-6 with 32 tokens one of those 3000
  // reversed (0.75 against 1). Edits that are not applied make the medians equal; scoring the
  // wrong tokens makes TPR fall.
  const EvalReport& r = *small_report_;
  for (uint32_t length : {32u, 64u}) {
    SCOPED_TRACE(length);
    const EvalCell* clean = FindCell(r, length, 0.0);
    const EvalCell* edited = FindCell(r, length, 0.2);
    ASSERT_NE(clean, nullptr);
    ASSERT_NE(edited, nullptr);
    EXPECT_GE(clean->tpr[0], edited->tpr[0]);
    EXPECT_LT(clean->median_p, edited->median_p);
  }
  const EvalCell* clean64 = FindCell(r, 64, 0.0);
  EXPECT_EQ(clean64->tpr[0], 1.0);
  // A longer text carries more evidence.
  EXPECT_LT(clean64->median_p, FindCell(r, 32, 0.0)->median_p);
}

TEST_F(EvalTest, UnwatermarkedAndHumanTextsRarelyReachOnePercent) {
  // Under the null each p-value satisfies P(p <= 1e-2) <= 1e-2 (exact binomial tail). The 8
  // unwatermarked samples are 4 independent continuations cut at 2 lengths; 3 or more hits
  // need 2 continuations with a hit: P <= C(4,2) * (2e-2)^2 = 2.4e-3. Humans: 2 of 4 texts,
  // P <= C(4,2) * (1e-2)^2 = 6e-4.
  const EvalReport& r = *small_report_;
  EXPECT_LE(r.false_positives[0].fpr[0], 2.0 / 8.0);
  EXPECT_LE(r.false_positives[1].fpr[0], 1.0 / 4.0);
}

TEST_F(EvalTest, SameSeedGivesIdenticalJson) {
  auto again = RunEval(*generator_, TestKey(), SmallConfig());
  ASSERT_TRUE(again.ok()) << again.status().message();
  boost::json::object a = small_report_->ToJson();
  boost::json::object b = again->ToJson();
  a.erase("seconds");  // wall time, the one field that may differ
  b.erase("seconds");
  EXPECT_EQ(boost::json::serialize(a), boost::json::serialize(b));
}

TEST_F(EvalTest, DifferentSeedGivesDifferentContinuations) {
  EvalConfig config = SmallConfig();
  config.seed = 43;
  auto other = RunEval(*generator_, TestKey(), config);
  ASSERT_TRUE(other.ok()) << other.status().message();
  // Perplexity averages 64-token sampled continuations: equal to the last bit only if the
  // seeds were ignored.
  EXPECT_NE(other->perplexity_unwatermarked, small_report_->perplexity_unwatermarked);
  EXPECT_NE(other->perplexity_watermarked, small_report_->perplexity_watermarked);
}

TEST_F(EvalTest, ProgressIsReportedAfterEachPrompt) {
  EvalConfig config = SmallConfig();
  config.prompts.resize(2);
  config.max_tokens = 32;
  config.lengths = {32};
  std::vector<std::string> lines;
  config.progress = [&lines](std::string_view line) { lines.emplace_back(line); };
  auto report = RunEval(*generator_, TestKey(), config);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(lines, (std::vector<std::string>{"prompt 1/2", "prompt 2/2"}));
}

TEST_F(EvalTest, DefaultContextZeroMeansTheSchemesDefault) {
  EvalConfig config = SmallConfig();
  config.prompts.resize(1);
  config.max_tokens = 32;
  config.lengths = {32};
  config.scheme = Scheme::kGumbel;
  config.params = SchemeParams{};  // context 0
  auto report = RunEval(*generator_, TestKey(), config);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->scheme, "gumbel");
  EXPECT_EQ(report->params, ParamsToJson(Scheme::kGumbel, DefaultParams(Scheme::kGumbel)));
}

struct InvalidCase {
  const char* name;
  void (*mutate)(EvalConfig&);
};

TEST_F(EvalTest, InvalidConfigsAreInvalidArgument) {
  const InvalidCase cases[] = {
      {"empty prompts", [](EvalConfig& c) { c.prompts.clear(); }},
      {"length 0", [](EvalConfig& c) { c.lengths = {0}; }},
      {"length above max_tokens",
       [](EvalConfig& c) {
         c.lengths = {32, 65};
       }},
      {"no lengths", [](EvalConfig& c) { c.lengths.clear(); }},
      {"max_tokens 0", [](EvalConfig& c) { c.max_tokens = 0; }},
      {"edit rate 1",
       [](EvalConfig& c) {
         c.edit_rates = {0.0, 1.0};
       }},
      {"negative edit rate", [](EvalConfig& c) { c.edit_rates = {-0.1}; }},
      {"NaN edit rate", [](EvalConfig& c) { c.edit_rates = {std::nan("")}; }},
      {"fpr 0",
       [](EvalConfig& c) {
         c.fprs = {1e-2, 0.0};
       }},
      {"fpr 1", [](EvalConfig& c) { c.fprs = {1.0}; }},
      {"no fprs", [](EvalConfig& c) { c.fprs.clear(); }},
      {"gamma 1.5", [](EvalConfig& c) { c.params.gamma = 1.5; }},
      {"prompt + max_tokens beyond the context",
       [](EvalConfig& c) {
         c.max_tokens = 100000;
         c.lengths = {32};
       }},
  };
  for (const InvalidCase& test : cases) {
    SCOPED_TRACE(test.name);
    EvalConfig config = SmallConfig();
    test.mutate(config);
    auto report = RunEval(*generator_, TestKey(), config);
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.status().code(), StatusCode::kInvalidArgument) << report.status().message();
  }
}

TEST_F(EvalTest, JsonHoldsEveryFieldWithCellsAlignedToFprs) {
  const boost::json::object json = small_report_->ToJson();
  for (const char* key : {"scheme", "params", "key_id", "fprs", "prompts", "max_tokens", "cells",
                          "false_positives", "perplexity", "seconds"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json.at("scheme").as_string(), "kgw");
  const auto& cells = json.at("cells").as_array();
  ASSERT_EQ(cells.size(), small_report_->cells.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& c = cells[i].as_object();
    EXPECT_EQ(c.at("length").to_number<uint32_t>(), small_report_->cells[i].length);
    EXPECT_EQ(c.at("edit_rate").to_number<double>(), small_report_->cells[i].edit_rate);
    EXPECT_EQ(c.at("tpr").as_array().size(), 3u);
  }
  EXPECT_EQ(json.at("false_positives").as_array().size(), 2u);
  EXPECT_EQ(json.at("perplexity").at("watermarked").to_number<double>(),
            small_report_->perplexity_watermarked);
  // The text must parse back (no non-finite numbers).
  boost::system::error_code ec;
  boost::json::parse(boost::json::serialize(json), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST_F(EvalTest, TextHasAHeaderARowPerCellAndAPerplexityLine) {
  const std::string text = small_report_->ToText();
  EXPECT_NE(text.find("length"), std::string::npos) << text;
  EXPECT_NE(text.find("TPR@1e-2"), std::string::npos) << text;
  EXPECT_NE(text.find("TPR@1e-4"), std::string::npos) << text;
  EXPECT_NE(text.find("TPR@1e-6"), std::string::npos) << text;
  EXPECT_NE(text.find("median p"), std::string::npos) << text;
  EXPECT_NE(text.find("FPR@1e-2"), std::string::npos) << text;
  EXPECT_NE(text.find("unwatermarked"), std::string::npos) << text;
  EXPECT_NE(text.find("human"), std::string::npos) << text;
  EXPECT_NE(text.find("perplexity"), std::string::npos) << text;
  // Rows of the table are aligned: every cell row is as long as the header.
  std::vector<std::string> lines;
  for (size_t start = 0, end; start < text.size(); start = end + 1) {
    end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
  }
  size_t header = 0;
  while (header < lines.size() && lines[header].find("TPR@") == std::string::npos) ++header;
  ASSERT_LT(header + small_report_->cells.size(), lines.size()) << text;
  for (size_t i = 1; i <= small_report_->cells.size(); ++i) {
    EXPECT_EQ(lines[header + i].size(), lines[header].size()) << text;
  }
}

TEST_F(EvalTest, SvgIsOneBalancedDocumentWithALinePerLength) {
  const std::string svg = small_report_->ToSvg();
  ASSERT_EQ(svg.rfind("<svg", 0), 0u) << svg;
  EXPECT_EQ(TagBalanceError(svg), "") << svg;
  EXPECT_EQ(Count(svg, "<svg"), 1u);
  // One polyline per length plus the axes.
  EXPECT_EQ(Count(svg, "<polyline"), 2u + 1u) << svg;
  EXPECT_NE(svg.find("length 32"), std::string::npos);
  EXPECT_NE(svg.find("length 64"), std::string::npos);
  EXPECT_NE(svg.find("edit rate"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);  // nothing external
}

TEST(EvalReportTest, SvgOfAnEmptyReportIsStillBalanced) {
  const std::string svg = EvalReport{}.ToSvg();
  ASSERT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(TagBalanceError(svg), "") << svg;
}

}  // namespace
}  // namespace warden::watermark
