// warden guard train: trains the guard's linear text classifiers (src/guard/classifier.h) from
// labelled example files and measures them on held-out examples.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "crypto/sha256.h"
#include "guard/classifier.h"
#include "text_files.h"

namespace warden::cli {

namespace {

// Per example file; the bundled sets are well under 1 MB each.
constexpr uint64_t kMaxExampleFileBytes = 64ull << 20;

// One labelled example as read from a file; `source` is the JSON Lines "source" field (empty
// for plain-text files), used only to break held-out results down by origin.
// ---- held-out measurement ----

struct Scored {
  double score;
  bool positive;
  const std::string* source;
};

// Area under the ROC curve: the probability that a random positive scores above a random
// negative, ties counting one half (Mann-Whitney U with average ranks).
double Auc(std::vector<Scored> s) {
  std::sort(s.begin(), s.end(), [](const Scored& a, const Scored& b) { return a.score < b.score; });
  double rank_sum = 0, n_pos = 0;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && s[j].score == s[i].score) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k) {
      if (s[k].positive) {
        rank_sum += avg_rank;
        ++n_pos;
      }
    }
    i = j;
  }
  const double n_neg = static_cast<double>(s.size()) - n_pos;
  return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

// The lowest threshold, on a grid of 1e-6, at which "score >= threshold" flags at most
// max_fpr of the negatives.
double ThresholdAtFpr(const std::vector<Scored>& s, double max_fpr) {
  std::vector<double> neg;
  for (const Scored& x : s) {
    if (!x.positive) neg.push_back(x.score);
  }
  std::sort(neg.begin(), neg.end(), std::greater<>());
  const auto allowed =
      static_cast<size_t>(std::floor(max_fpr * static_cast<double>(neg.size()) + 1e-9));
  if (allowed >= neg.size()) return 0.0;
  // Strictly above the (allowed+1)-th highest negative score.
  const double v = neg[allowed];
  double t = std::ceil(v * 1e6) / 1e6;
  if (t <= v) t += 1e-6;
  return t;
}

struct AtThreshold {
  double threshold = 0;
  size_t tp = 0, fp = 0, n_pos = 0, n_neg = 0;
  std::map<std::string, std::pair<size_t, size_t>> by_source;  // (flagged, count)
  double tpr() const { return n_pos ? static_cast<double>(tp) / n_pos : 0; }
  double fpr() const { return n_neg ? static_cast<double>(fp) / n_neg : 0; }
};

AtThreshold Measure(const std::vector<Scored>& s, double threshold) {
  AtThreshold m;
  m.threshold = threshold;
  for (const Scored& x : s) {
    const bool flagged = x.score >= threshold;
    (x.positive ? m.n_pos : m.n_neg)++;
    if (flagged) (x.positive ? m.tp : m.fp)++;
    if (!x.source->empty()) {
      auto& [f, n] = m.by_source[(x.positive ? "+" : "-") + *x.source];
      f += flagged;
      ++n;
    }
  }
  return m;
}

// XSTest's safe prompts (source "xstest-safe" in the bundled sets) must pass the harmful
// classifier; their pass rate is reported on its own when they are among the negatives.
constexpr std::string_view kXstestSafe = "-xstest-safe";

json::object ToJson(const AtThreshold& m) {
  json::object o{{"threshold", m.threshold},
                 {"tpr", m.tpr()},
                 {"fpr", m.fpr()},
                 {"true_positives", m.tp},
                 {"false_positives", m.fp}};
  json::object sources;
  for (const auto& [key, fn] : m.by_source) {
    sources[key.substr(1)] = json::object{{"label", key[0] == '+' ? "positive" : "negative"},
                                          {"count", fn.second},
                                          {"flagged", fn.first}};
  }
  if (!sources.empty()) o["sources"] = std::move(sources);
  if (auto it = m.by_source.find(std::string(kXstestSafe)); it != m.by_source.end()) {
    o["xstest_safe_pass_rate"] =
        1.0 - static_cast<double>(it->second.first) / static_cast<double>(it->second.second);
  }
  return o;
}

std::string Percent(size_t k, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%5.1f%% (%zu/%zu)", n ? 100.0 * k / n : 0.0, k, n);
  return buf;
}

void PrintText(const AtThreshold& m, const char* title) {
  std::printf("  %s: flag when score >= %.6f\n", title, m.threshold);
  std::printf("    TPR  %s\n", Percent(m.tp, m.n_pos).c_str());
  std::printf("    FPR  %s\n", Percent(m.fp, m.n_neg).c_str());
  if (auto it = m.by_source.find(std::string(kXstestSafe)); it != m.by_source.end()) {
    const auto [f, n] = it->second;
    std::printf("    XSTest safe prompts passed  %s\n", Percent(n - f, n).c_str());
  }
  if (m.by_source.empty()) return;
  std::printf("    flagged by source:\n");
  for (const auto& [key, fn] : m.by_source) {
    std::printf("      %s %-44s %s\n", key[0] == '+' ? "pos" : "neg", key.substr(1).c_str(),
                Percent(fn.first, fn.second).c_str());
  }
}

// ---- train ----

struct TrainArgs {
  std::string positive, negative, out;
  std::string holdout_positive, holdout_negative;
  guard::ClassifierOptions options;
  double max_fpr = 0.05;
  std::optional<double> threshold;
  bool json = false;
};

int RunTrain(const TrainArgs& a) {
  constexpr std::string_view kCmd = "guard train";
  if (a.holdout_positive.empty() != a.holdout_negative.empty()) {
    return Fail(kCmd, InvalidArgumentError("--holdout-positive and --holdout-negative go "
                                           "together: the measurement needs both classes"));
  }
  if (!(a.max_fpr > 0 && a.max_fpr < 1)) {
    return Fail(kCmd, InvalidArgumentError("--max-fpr must be in (0, 1)"));
  }
  if (a.threshold && !(*a.threshold >= 0 && *a.threshold <= 1)) {
    return Fail(kCmd, InvalidArgumentError("--threshold must be in [0, 1]"));
  }
  auto pos = ReadTextRecords(kMaxExampleFileBytes, a.positive);
  if (!pos) return Fail(kCmd, pos.error());
  auto neg = ReadTextRecords(kMaxExampleFileBytes, a.negative);
  if (!neg) return Fail(kCmd, neg.error());
  std::vector<TextRecord> hpos, hneg;
  if (!a.holdout_positive.empty()) {
    auto hp = ReadTextRecords(kMaxExampleFileBytes, a.holdout_positive);
    if (!hp) return Fail(kCmd, hp.error());
    auto hn = ReadTextRecords(kMaxExampleFileBytes, a.holdout_negative);
    if (!hn) return Fail(kCmd, hn.error());
    hpos = std::move(*hp);
    hneg = std::move(*hn);
  }

  // Positives first, then negatives, each in file order: with the seed, this fixes the model.
  std::vector<guard::Example> examples;
  examples.reserve(pos->size() + neg->size());
  for (auto& t : *pos) examples.push_back({std::move(t.text), true});
  for (auto& t : *neg) examples.push_back({std::move(t.text), false});
  const auto start = std::chrono::steady_clock::now();
  auto model = guard::Classifier::Train(examples, a.options);
  if (!model) return Fail(kCmd, model.error());
  const double train_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string bytes = model->Serialize();
  if (Status s = WriteFileAtomic(a.out, bytes); !s.ok()) return Fail(kCmd, s);
  const std::string digest = HexEncode(crypto::Sha256(bytes));

  std::vector<Scored> scored;
  for (const auto* set : {&hpos, &hneg}) {
    for (const TextRecord& t : *set) {
      scored.push_back({model->Score(t.text), set == &hpos, &t.source});
    }
  }
  const bool measured = !scored.empty();
  std::optional<AtThreshold> at_fpr, at_given;
  double auc = 0;
  if (measured) {
    auc = Auc(scored);
    at_fpr = Measure(scored, ThresholdAtFpr(scored, a.max_fpr));
    if (a.threshold) at_given = Measure(scored, *a.threshold);
  }

  const guard::ClassifierOptions& o = model->options();
  if (a.json) {
    json::object r{{"path", a.out},
                   {"sha256", digest},
                   {"bytes", bytes.size()},
                   {"positive", pos->size()},
                   {"negative", neg->size()},
                   {"train_seconds", train_s},
                   {"options", json::object{{"hash_bits", o.hash_bits},
                                            {"char_min", o.char_min},
                                            {"char_max", o.char_max},
                                            {"word_bigrams", o.word_bigrams},
                                            {"epochs", o.epochs},
                                            {"learning_rate", o.learning_rate},
                                            {"l2", o.l2},
                                            {"seed", o.seed}}}};
    if (measured) {
      json::object h{{"positive", hpos.size()},
                     {"negative", hneg.size()},
                     {"auc", auc},
                     {"max_fpr", a.max_fpr},
                     {"at_max_fpr", ToJson(*at_fpr)}};
      if (at_given) h["at_threshold"] = ToJson(*at_given);
      r["holdout"] = std::move(h);
    }
    std::printf("%s\n", json::Pretty(r).c_str());
    return kExitOk;
  }
  std::printf(
      "trained on %zu positive and %zu negative examples in %.2f s (2^%u buckets, "
      "%u epochs, seed %llu)\n",
      pos->size(), neg->size(), train_s, o.hash_bits, o.epochs,
      static_cast<unsigned long long>(o.seed));
  std::printf("wrote %s (%zu bytes, sha256 %s)\n", a.out.c_str(), bytes.size(), digest.c_str());
  if (!measured) return kExitOk;
  std::printf("held out: %zu positive, %zu negative; AUC %.4f\n", hpos.size(), hneg.size(), auc);
  char title[96];
  std::snprintf(title, sizeof title, "at the lowest threshold with FPR <= %.1f%%", 100 * a.max_fpr);
  PrintText(*at_fpr, title);
  if (at_given) PrintText(*at_given, "at --threshold");
  return kExitOk;
}

}  // namespace

void RegisterGuard(CLI::App& app, int* exit_code) {
  auto* guard = AddCommand(&app, "guard", "Input and output guard: check, measure, train");
  LongHelp(guard,
           "The guard decides what may reach a model and what may leave it: a policy file\n"
           "(docs/policy.md) names the scanners of the input and output chains, the tiers with\n"
           "their tool allowlists, and the API keys. `guard check` runs a policy offline on a\n"
           "text or a whole conversation, `guard eval` measures one on labelled data, `guard\n"
           "train` builds the classifiers behind the injection, jailbreak and harmful scanners.\n"
           "Shipped policies: data/policies/default.yaml and strict.yaml. See docs/guard.md.");
  guard->require_subcommand(1);
  AddGuardPolicyCommands(guard, exit_code);

  auto* cmd = AddCommand(guard, "train", "Train a text classifier from labelled examples");
  LongHelp(cmd,
           "Trains a logistic-regression classifier over hashed word and character n-grams on\n"
           "the examples in --positive and --negative and writes the model file to --out. The\n"
           "same files and options give the same model, byte for byte.\n"
           "FILE format: one example per line. A file whose name ends in .jsonl holds one JSON\n"
           "object per line with a string \"text\" (and optionally a string \"source\", used\n"
           "to break held-out results down); any other file is plain text, each non-blank line\n"
           "one example. Files must be UTF-8, at most 64 MiB.\n"
           "With --holdout-positive and --holdout-negative it scores those examples and prints\n"
           "the AUC, the lowest threshold at which at most --max-fpr of the held-out negatives\n"
           "are flagged (score >= threshold), the TPR and FPR there, and, when the held-out\n"
           "negatives include XSTest safe prompts (source \"xstest-safe\"), the share of them\n"
           "that pass. --threshold T also reports TPR and FPR at T.\n"
           "Exit codes: 0 ok, 2 usage (options out of range, only one class), 3 malformed\n"
           "example file, 4 I/O.");
  AddFooter(cmd,
            "Example (the shipped jailbreak model, see data/guard/SOURCE.md):\n"
            "  S=data/sets/guard\n"
            "  warden guard train --positive $S/jailbreak.train.positive.jsonl \\\n"
            "      --negative $S/jailbreak.train.negative.jsonl --out jailbreak.wgc \\\n"
            "      --holdout-positive $S/jailbreak.holdout.positive.jsonl \\\n"
            "      --holdout-negative $S/jailbreak.holdout.negative.jsonl");
  auto a = std::make_shared<TrainArgs>();
  cmd->add_option("--positive", a->positive, "Positive examples (.jsonl or plain lines)")
      ->required();
  cmd->add_option("--negative", a->negative, "Negative examples (.jsonl or plain lines)")
      ->required();
  cmd->add_option("--out,-o", a->out, "Model file to write (replaced if it exists)")->required();
  cmd->add_option("--seed", a->options.seed, "Seed of the example order")->capture_default_str();
  cmd->add_option("--epochs", a->options.epochs, "Passes over the examples, 1-1000")
      ->capture_default_str();
  cmd->add_option("--hash-bits", a->options.hash_bits, "log2 of the number of weights, 10-24")
      ->capture_default_str();
  cmd->add_option("--learning-rate", a->options.learning_rate,
                  "Initial SGD step; epoch e uses it / (1 + e)")
      ->capture_default_str();
  cmd->add_option("--l2", a->options.l2, "L2 regularisation, [0, 1)")->capture_default_str();
  cmd->add_option("--char-min", a->options.char_min, "Shortest character n-gram, 1-8")
      ->capture_default_str();
  cmd->add_option("--char-max", a->options.char_max, "Longest character n-gram, 1-8")
      ->capture_default_str();
  cmd->add_option("--holdout-positive", a->holdout_positive, "Held-out positive examples");
  cmd->add_option("--holdout-negative", a->holdout_negative, "Held-out negative examples");
  cmd->add_option("--max-fpr", a->max_fpr, "False-positive rate the reported threshold allows")
      ->capture_default_str();
  cmd->add_option("--threshold", a->threshold, "Also report TPR and FPR at this threshold");
  cmd->add_flag("--json", a->json,
                "Print one JSON object: path, sha256, options, holdout {auc, at_max_fpr, ...}");
  cmd->callback([=] { *exit_code = RunTrain(*a); });
}

}  // namespace warden::cli
