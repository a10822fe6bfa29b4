// Watermark evaluation (eval.h): generation, edits, detection, and the three report renderings.
#include "watermark/eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/tokenizer.h"
#include "watermark/detector.h"
#include "watermark/samplers.h"

namespace warden::watermark {
namespace {

using engine::Token;

// Seed derivation: splitmix64's finalizer over (seed, prompt index, stream). A per-prompt
// seed of the form seed + index * constant would make runs with seeds a constant apart share
// streams; mixing keeps every (seed, index, stream) triple on an unrelated stream while staying
// a pure function of its inputs (same config -> same report).
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// Independent streams derived from one prompt's seed.
enum class Stream : uint64_t {
  kWatermarkedDist = 1,      // `dist` of the watermarked chain (kgw)
  kWatermarkedSelector = 2,  // the selector's own SamplerRng (tournament, gumbel)
  kUnwatermarkedDist = 3,
  kEdits = 4,  // further mixed with the (length, rate) cell
};

uint64_t DeriveSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c = 0) {
  uint64_t z = Mix64(seed + kGolden);
  z = Mix64(z ^ (a + 1) * kGolden);
  z = Mix64(z ^ (b + 1) * kGolden);
  return Mix64(z ^ (c + 1) * kGolden);
}

// Uniform on [0, n) without modulo bias (rejection of the short top range). n >= 1.
uint64_t UniformBelow(engine::SamplerRng& rng, uint64_t n) {
  const uint64_t reject_below = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const uint64_t x = rng.Next();
    if (x >= reject_below) return x % n;
  }
}

// Each token independently with probability `rate` is substituted, deleted, or followed by an
// inserted token (equal odds); new tokens are uniform over [0, vocab).
std::vector<Token> Edit(std::span<const Token> tokens, double rate, uint64_t vocab,
                        engine::SamplerRng& rng) {
  std::vector<Token> out;
  out.reserve(tokens.size() + tokens.size() / 4 + 1);
  for (Token t : tokens) {
    if (rate <= 0 || rng.NextDouble() >= rate) {
      out.push_back(t);
      continue;
    }
    switch (UniformBelow(rng, 3)) {
      case 0:  // substitution
        out.push_back(static_cast<Token>(UniformBelow(rng, vocab)));
        break;
      case 1:  // deletion
        break;
      default:  // insertion after
        out.push_back(t);
        out.push_back(static_cast<Token>(UniformBelow(rng, vocab)));
        break;
    }
  }
  return out;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 1;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Shares of `p_values` at or below each entry of `fprs`.
std::vector<double> Rates(const std::vector<double>& p_values, const std::vector<double>& fprs) {
  std::vector<double> out;
  out.reserve(fprs.size());
  for (double fpr : fprs) {
    size_t hits = 0;
    for (double p : p_values) hits += p <= fpr ? 1 : 0;
    out.push_back(
        p_values.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(p_values.size()));
  }
  return out;
}

double MinOf(const std::vector<double>& values) {
  double m = 1;
  for (double v : values) m = std::min(m, v);
  return m;
}

// Perplexity of one continuation: exp(-mean logprob). 0 tokens -> no contribution (nullopt).
std::optional<double> Perplexity(const std::vector<engine::GeneratedToken>& tokens) {
  if (tokens.empty()) return std::nullopt;
  double sum = 0;
  for (const auto& t : tokens) sum += t.logprob;
  return std::exp(-sum / static_cast<double>(tokens.size()));
}

double Mean(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

__attribute__((format(printf, 1, 2))) std::string Printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  char buf[256];
  const int n = std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  std::string out;
  if (n >= 0 && static_cast<size_t>(n) < sizeof buf) {
    out.assign(buf, static_cast<size_t>(n));
  } else if (n >= 0) {
    out.resize(static_cast<size_t>(n) + 1);
    std::vsnprintf(out.data(), out.size(), format, copy);
    out.resize(static_cast<size_t>(n));
  }
  va_end(copy);
  return out;
}

// "1e-2" for exact powers of ten times a small integer ("5e-3"), %g otherwise: the compact
// form people write false-positive rates in.
std::string FormatRate(double x) {
  if (!(x > 0) || !std::isfinite(x)) return Printf("%g", x);
  const int e = static_cast<int>(std::floor(std::log10(x)));
  const double m = x / std::pow(10.0, e);
  const double rm = std::round(m);
  if (std::abs(m - rm) < 1e-9 * m && rm >= 1 && rm <= 9) {
    if (e == 0) return Printf("%d", static_cast<int>(rm));
    return Printf("%de%d", static_cast<int>(rm), e);
  }
  return Printf("%g", x);
}

// boost::json writes non-finite doubles as numbers that are not JSON; those become null.
boost::json::value JsonNumber(double x) {
  if (std::isfinite(x)) return x;
  return nullptr;
}

boost::json::array JsonArray(const std::vector<double>& values) {
  boost::json::array out;
  for (double v : values) out.push_back(JsonNumber(v));
  return out;
}

std::string PadLeft(std::string s, size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}
std::string PadRight(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Status ValidateConfig(const EvalConfig& config, Scheme scheme, const SchemeParams& params) {
  if (config.prompts.empty()) return InvalidArgumentError("watermark eval: no prompts");
  if (config.max_tokens == 0) {
    return InvalidArgumentError("watermark eval: max_tokens must be at least 1");
  }
  if (config.lengths.empty()) return InvalidArgumentError("watermark eval: no lengths");
  for (uint32_t length : config.lengths) {
    if (length == 0 || length > config.max_tokens) {
      return InvalidArgumentError(
          Printf("watermark eval: length %u must be in [1, %u]", length, config.max_tokens));
    }
  }
  if (config.edit_rates.empty()) return InvalidArgumentError("watermark eval: no edit rates");
  for (double rate : config.edit_rates) {
    if (!(rate >= 0 && rate < 1)) {
      return InvalidArgumentError(
          Printf("watermark eval: edit rate must be in [0, 1), got %g", rate));
    }
  }
  if (config.fprs.empty()) return InvalidArgumentError("watermark eval: no fprs");
  for (double fpr : config.fprs) {
    if (!(fpr > 0 && fpr < 1)) {
      return InvalidArgumentError(Printf("watermark eval: fpr must be in (0, 1), got %g", fpr));
    }
  }
  return ValidateParams(scheme, params);
}

// Generates one continuation of `prompt` with `chain`. It has max_tokens tokens: the caller
// checked that they fit the context, and end-of-generation does not stop it (cells still cut
// to the tokens there are, should a generator ever return fewer).
Result<std::vector<engine::GeneratedToken>> Continue(engine::Generator& generator,
                                                     const std::vector<Token>& prompt,
                                                     uint32_t max_tokens,
                                                     std::unique_ptr<engine::SamplerChain> chain) {
  engine::GenerateRequest request;
  request.prompt = prompt;
  request.max_tokens = max_tokens;
  request.sampler = std::move(chain);
  request.stop_at_end_of_generation = false;
  WARDEN_ASSIGN_OR_RETURN(engine::GenerateResult result, generator.Generate(request));
  return std::move(result.tokens);
}

}  // namespace

Result<EvalReport> RunEval(engine::Generator& generator, const WatermarkKey& key,
                           const EvalConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  const Scheme scheme = config.scheme;
  SchemeParams params = config.params;
  if (params.context == 0) params.context = DefaultParams(scheme).context;
  WARDEN_RETURN_IF_ERROR(ValidateConfig(config, scheme, params));

  // Tokenize every prompt first so that a prompt too long for the context is refused before
  // any generation time is spent.
  std::vector<std::vector<Token>> prompts;
  prompts.reserve(config.prompts.size());
  for (size_t i = 0; i < config.prompts.size(); ++i) {
    auto ids = generator.tokenizer().Encode(config.prompts[i]);
    if (!ids.ok()) return ids.status().WithContext(Printf("watermark eval: prompt %zu", i));
    if (ids->size() + config.max_tokens > generator.n_ctx()) {
      return InvalidArgumentError(Printf(
          "watermark eval: prompt %zu: %zu prompt tokens + max_tokens %u do not fit the context "
          "of %zu",
          i, ids->size(), config.max_tokens, generator.n_ctx()));
    }
    prompts.push_back(std::move(*ids));
  }
  // Human texts are scored whole, one sample each, without BOS (the detector sees text, and
  // text carries no BOS).
  std::vector<std::vector<Token>> human;
  for (size_t i = 0; i < config.human_texts.size(); ++i) {
    engine::EncodeOptions options;
    options.add_special = false;
    auto ids = generator.tokenizer().Encode(config.human_texts[i], options);
    if (!ids.ok()) return ids.status().WithContext(Printf("watermark eval: human text %zu", i));
    human.push_back(std::move(*ids));
  }

  engine::SamplerRegistry registry;
  engine::RegisterBuiltinSamplers(registry);

  DetectOptions detect_options;
  detect_options.fpr = config.fprs.front();  // unused: p-values are compared per fpr below
  WARDEN_ASSIGN_OR_RETURN(Detector detector, Detector::Create(key, scheme, params, detect_options));
  auto p_value_of = [&detector](std::span<const Token> tokens) {
    detector.Reset();
    detector.Push(tokens);
    return detector.Current().p_value;
  };

  const uint64_t vocab = generator.model().config().n_vocab;
  const size_t n_lengths = config.lengths.size();
  const size_t n_rates = config.edit_rates.size();
  // p-values per (length, rate) cell, and of the unwatermarked continuations.
  std::vector<std::vector<double>> cell_p(n_lengths * n_rates);
  std::vector<double> unwatermarked_p;
  std::vector<double> ppl_watermarked;
  std::vector<double> ppl_unwatermarked;

  for (size_t i = 0; i < prompts.size(); ++i) {
    const uint64_t index = i;
    auto context = [i](const Status& s) {
      return s.WithContext(Printf("watermark eval: prompt %zu", i));
    };

    engine::SamplingParams sampling = config.sampling;
    sampling.seed = DeriveSeed(config.seed, index, static_cast<uint64_t>(Stream::kWatermarkedDist));
    auto extensions = MakeWatermarkExtensions(
        key, scheme, params,
        DeriveSeed(config.seed, index, static_cast<uint64_t>(Stream::kWatermarkedSelector)));
    if (!extensions.ok()) return extensions.status();
    auto marked_chain = engine::BuildSamplerChain(sampling, registry, std::move(*extensions));
    if (!marked_chain.ok()) return marked_chain.status();
    auto marked = Continue(generator, prompts[i], config.max_tokens, std::move(*marked_chain));
    if (!marked.ok()) return context(marked.status());

    sampling.seed =
        DeriveSeed(config.seed, index, static_cast<uint64_t>(Stream::kUnwatermarkedDist));
    auto plain_chain = engine::BuildSamplerChain(sampling, registry);
    if (!plain_chain.ok()) return plain_chain.status();
    auto plain = Continue(generator, prompts[i], config.max_tokens, std::move(*plain_chain));
    if (!plain.ok()) return context(plain.status());

    if (auto ppl = Perplexity(*marked)) ppl_watermarked.push_back(*ppl);
    if (auto ppl = Perplexity(*plain)) ppl_unwatermarked.push_back(*ppl);

    std::vector<Token> marked_ids;
    for (const auto& t : *marked) marked_ids.push_back(t.id);
    std::vector<Token> plain_ids;
    for (const auto& t : *plain) plain_ids.push_back(t.id);

    for (size_t li = 0; li < n_lengths; ++li) {
      const size_t length = config.lengths[li];
      const std::span<const Token> cut(marked_ids.data(), std::min(length, marked_ids.size()));
      for (size_t ri = 0; ri < n_rates; ++ri) {
        // One edit stream per (prompt, length, rate): a cell's edits do not depend on which
        // other cells were asked for.
        engine::SamplerRng rng(DeriveSeed(config.seed, index, static_cast<uint64_t>(Stream::kEdits),
                                          li * n_rates + ri));
        const std::vector<Token> edited = Edit(cut, config.edit_rates[ri], vocab, rng);
        cell_p[li * n_rates + ri].push_back(p_value_of(edited));
      }
      unwatermarked_p.push_back(
          p_value_of(std::span<const Token>(plain_ids.data(), std::min(length, plain_ids.size()))));
    }
    if (config.progress) config.progress(Printf("prompt %zu/%zu", i + 1, prompts.size()));
  }

  EvalReport report;
  report.scheme = std::string(SchemeName(scheme));
  report.params = ParamsToJson(scheme, params);
  report.key_id = key.key_id;
  report.fprs = config.fprs;
  for (size_t li = 0; li < n_lengths; ++li) {
    for (size_t ri = 0; ri < n_rates; ++ri) {
      const std::vector<double>& ps = cell_p[li * n_rates + ri];
      EvalCell cell;
      cell.length = config.lengths[li];
      cell.edit_rate = config.edit_rates[ri];
      cell.samples = static_cast<uint32_t>(ps.size());
      cell.tpr = Rates(ps, config.fprs);
      cell.median_p = Median(ps);
      report.cells.push_back(std::move(cell));
    }
  }
  auto false_positive_row = [&config](std::string source, const std::vector<double>& ps) {
    FalsePositiveRow row;
    row.source = std::move(source);
    row.samples = static_cast<uint32_t>(ps.size());
    row.fpr = Rates(ps, config.fprs);
    row.min_p = MinOf(ps);
    return row;
  };
  report.false_positives.push_back(false_positive_row("unwatermarked", unwatermarked_p));
  if (!human.empty()) {
    std::vector<double> human_p;
    for (const auto& ids : human) human_p.push_back(p_value_of(ids));
    report.false_positives.push_back(false_positive_row("human", human_p));
  }
  report.perplexity_watermarked = Mean(ppl_watermarked);
  report.perplexity_unwatermarked = Mean(ppl_unwatermarked);
  report.prompts = static_cast<uint32_t>(prompts.size());
  report.max_tokens = config.max_tokens;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

boost::json::object EvalReport::ToJson() const {
  boost::json::object out;
  out["scheme"] = scheme;
  out["params"] = params;
  out["key_id"] = key_id;
  out["fprs"] = JsonArray(fprs);
  out["prompts"] = prompts;
  out["max_tokens"] = max_tokens;
  boost::json::array cells_json;
  for (const EvalCell& cell : cells) {
    boost::json::object c;
    c["length"] = cell.length;
    c["edit_rate"] = JsonNumber(cell.edit_rate);
    c["samples"] = cell.samples;
    c["tpr"] = JsonArray(cell.tpr);  // aligned with "fprs"
    c["median_p"] = JsonNumber(cell.median_p);
    cells_json.push_back(std::move(c));
  }
  out["cells"] = std::move(cells_json);
  boost::json::array fp_json;
  for (const FalsePositiveRow& row : false_positives) {
    boost::json::object r;
    r["source"] = row.source;
    r["samples"] = row.samples;
    r["fpr"] = JsonArray(row.fpr);  // aligned with "fprs"
    r["min_p"] = JsonNumber(row.min_p);
    fp_json.push_back(std::move(r));
  }
  out["false_positives"] = std::move(fp_json);
  out["perplexity"] = boost::json::object{{"watermarked", JsonNumber(perplexity_watermarked)},
                                          {"unwatermarked", JsonNumber(perplexity_unwatermarked)}};
  out["seconds"] = JsonNumber(seconds);
  return out;
}

std::string EvalReport::ToText() const {
  std::string out;
  // Parameters as "name=value" with %g: boost::json writes doubles as "2.5E-1".
  std::string params_text;
  for (const auto& [name, value] : params) {
    params_text += " " + std::string(name) + "=";
    if (value.is_number()) {
      params_text += Printf("%g", value.to_number<double>());
    } else {
      params_text += boost::json::serialize(value);
    }
  }
  out += "watermark eval: scheme " + scheme + params_text + ", key " + key_id.substr(0, 16) +
         (key_id.size() > 16 ? "..." : "") + "\n";
  out += Printf("%u prompts, %u tokens each, %.1f s\n\n", prompts, max_tokens, seconds);

  // Column widths: every rate column is as wide as its header, at least 8.
  std::vector<std::string> rate_headers;
  for (double fpr : fprs) rate_headers.push_back("@" + FormatRate(fpr));
  auto rate_cell = [](double v, size_t width) { return PadLeft(Printf("%.3f", v), width); };

  std::string header = PadLeft("length", 6) + "  " + PadLeft("edit", 5) + "  " + PadLeft("n", 5);
  for (const auto& h : rate_headers)
    header += "  " + PadLeft("TPR" + h, std::max<size_t>(8, h.size() + 3));
  header += "  " + PadLeft("median p", 9);
  out += header + "\n";
  for (const EvalCell& cell : cells) {
    std::string line = PadLeft(Printf("%u", cell.length), 6) + "  " +
                       PadLeft(Printf("%.2f", cell.edit_rate), 5) + "  " +
                       PadLeft(Printf("%u", cell.samples), 5);
    for (size_t k = 0; k < rate_headers.size(); ++k) {
      const size_t width = std::max<size_t>(8, rate_headers[k].size() + 3);
      line += "  " + (k < cell.tpr.size() ? rate_cell(cell.tpr[k], width) : PadLeft("-", width));
    }
    line += "  " + PadLeft(Printf("%.2e", cell.median_p), 9);
    out += line + "\n";
  }

  if (!false_positives.empty()) {
    out += "\n";
    std::string fp_header = PadRight("false positives", 15) + "  " + PadLeft("n", 5);
    for (const auto& h : rate_headers) {
      fp_header += "  " + PadLeft("FPR" + h, std::max<size_t>(8, h.size() + 3));
    }
    fp_header += "  " + PadLeft("min p", 9);
    out += fp_header + "\n";
    for (const FalsePositiveRow& row : false_positives) {
      std::string line = PadRight(row.source, 15) + "  " + PadLeft(Printf("%u", row.samples), 5);
      for (size_t k = 0; k < rate_headers.size(); ++k) {
        const size_t width = std::max<size_t>(8, rate_headers[k].size() + 3);
        line += "  " + (k < row.fpr.size() ? rate_cell(row.fpr[k], width) : PadLeft("-", width));
      }
      line += "  " + PadLeft(Printf("%.2e", row.min_p), 9);
      out += line + "\n";
    }
  }
  out += Printf("\nperplexity: watermarked %.3f, unwatermarked %.3f (mean over prompts)\n",
                perplexity_watermarked, perplexity_unwatermarked);
  return out;
}

std::string EvalReport::ToSvg() const {
  // Plot geometry (pixels): the plot area is [kLeft, kLeft + kPlotW] x [kTop, kTop + kPlotH],
  // with room on the right for the legend.
  constexpr double kWidth = 640, kHeight = 400;
  constexpr double kLeft = 64, kTop = 40, kPlotW = 420, kPlotH = 300;
  constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                     "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  constexpr size_t kNumColors = sizeof(kColors) / sizeof(kColors[0]);

  const size_t mid = fprs.size() / 2;
  const bool have_fpr = !fprs.empty();
  double x_max = 0;
  for (const EvalCell& cell : cells) x_max = std::max(x_max, cell.edit_rate);
  if (!(x_max > 0)) x_max = 1;  // a single rate of 0: still draw a sensible axis
  // A tick step of 1, 2 or 5 times a power of ten giving at most 5 intervals, and the axis
  // extended to a whole number of steps, so that tick labels are round numbers.
  const double raw_step = x_max / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  double x_step = 10 * magnitude;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * magnitude >= raw_step * (1 - 1e-9)) {
      x_step = m * magnitude;
      break;
    }
  }
  const int x_ticks = static_cast<int>(std::ceil(x_max / x_step - 1e-9));
  x_max = x_ticks * x_step;
  auto px = [&](double rate) { return kLeft + kPlotW * rate / x_max; };
  auto py = [&](double tpr) { return kTop + kPlotH * (1 - tpr); };

  std::string s;
  s += Printf(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
      kWidth, kHeight, kWidth, kHeight);
  s += "<rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  const std::string title = "watermark " + scheme + ": TPR at FPR " +
                            (have_fpr ? FormatRate(fprs[mid]) : "?") + " vs edit rate";
  s += Printf("<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">", kWidth / 2) +
       XmlEscape(title) + "</text>\n";

  // Grid and y ticks: TPR 0, 0.2, ..., 1.
  for (int k = 0; k <= 5; ++k) {
    const double v = k / 5.0;
    const double y = py(v);
    s += Printf("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n",
                kLeft, y, kLeft + kPlotW, y);
    s += Printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", kLeft - 6, y + 4,
                v);
  }
  for (int k = 0; k <= x_ticks; ++k) {
    const double v = x_step * k;
    const double x = px(v);
    s += Printf("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", x,
                kTop + kPlotH, x, kTop + kPlotH + 5);
    s += Printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", x,
                kTop + kPlotH + 18, v);
  }
  // Axes and their labels.
  s += Printf(
      "<polyline points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"black\"/>\n",
      kLeft, kTop, kLeft, kTop + kPlotH, kLeft + kPlotW, kTop + kPlotH);
  s += Printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">edit rate</text>\n",
              kLeft + kPlotW / 2, kTop + kPlotH + 36);
  s += Printf(
      "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">"
      "true-positive rate</text>\n",
      kTop + kPlotH / 2, kTop + kPlotH / 2);

  // One polyline per length, points in edit-rate order, with markers; legend on the right.
  std::vector<uint32_t> lengths;
  for (const EvalCell& cell : cells) {
    if (std::find(lengths.begin(), lengths.end(), cell.length) == lengths.end()) {
      lengths.push_back(cell.length);
    }
  }
  for (size_t li = 0; li < lengths.size() && have_fpr; ++li) {
    const char* color = kColors[li % kNumColors];
    std::vector<std::pair<double, double>> points;
    for (const EvalCell& cell : cells) {
      if (cell.length == lengths[li] && mid < cell.tpr.size()) {
        points.emplace_back(cell.edit_rate, cell.tpr[mid]);
      }
    }
    std::sort(points.begin(), points.end());
    std::string pts;
    for (const auto& [rate, tpr] : points) {
      if (!pts.empty()) pts += ' ';
      pts += Printf("%.1f,%.1f", px(rate), py(tpr));
    }
    s += Printf("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color) + pts +
         "\"/>\n";
    for (const auto& [rate, tpr] : points) {
      s += Printf("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(rate), py(tpr),
                  color);
    }
    const double ly = kTop + 10 + 20.0 * static_cast<double>(li);
    const double lx = kLeft + kPlotW + 20;
    s += Printf(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
        "stroke-width=\"2\"/>\n",
        lx, ly, lx + 24, ly, color);
    s += Printf("<text x=\"%.1f\" y=\"%.1f\">length %u</text>\n", lx + 30, ly + 4, lengths[li]);
  }
  s += "</svg>\n";
  return s;
}

}  // namespace warden::watermark
