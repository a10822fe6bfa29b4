// warden guard check | eval | hash-key: run a policy's scanners offline, measure a policy on
// labelled data, and make the salted hash of an API key for a policy file.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "guard_print.h"
#include "crypto/keys.h"
#include "guard/builtin_scanners.h"
#include "guard/guard.h"
#include "guard/policy.h"
#include "text_files.h"

namespace warden::cli {

namespace {

constexpr uint64_t kMaxInputBytes = 64ull << 20;

// ---- shared: loading a policy into a guard ----

struct LoadedGuard {
  guard::ScannerRegistry registry;
  std::optional<guard::Guard> guard;
};

// The policy and every scanner in it, or DataLoss listing every problem.
Result<std::unique_ptr<LoadedGuard>> LoadGuard(const std::string& policy_path,
                                               const std::vector<std::string>& only) {
  WARDEN_ASSIGN_OR_RETURN(guard::Policy policy, guard::LoadPolicy(policy_path));
  if (!only.empty()) {
    for (const std::string& name : only) {
      bool found = false;
      for (const auto* chain : {&policy.input, &policy.output}) {
        for (const auto& e : chain->scanners) {
          found = found || (e.name.empty() ? e.type : e.name) == name;
        }
      }
      if (!found) {
        return InvalidArgumentError("--scanners: the policy has no scanner named \"" + name +
                                    "\"");
      }
    }
    for (auto* chain : {&policy.input, &policy.output}) {
      std::erase_if(chain->scanners, [&](const guard::ScannerEntry& e) {
        const std::string& n = e.name.empty() ? e.type : e.name;
        return std::find(only.begin(), only.end(), n) == only.end();
      });
    }
  }
  auto loaded = std::make_unique<LoadedGuard>();
  guard::RegisterBuiltinScanners(loaded->registry);
  WARDEN_ASSIGN_OR_RETURN(guard::Guard g,
                          guard::Guard::Create(policy, loaded->registry, DataDir()));
  loaded->guard.emplace(std::move(g));
  return loaded;
}

std::string TierOrDefault(const guard::Guard& g, const std::string& tier) {
  return tier.empty() ? g.policy().default_tier : tier;
}

json::object VerdictJson(const guard::Verdict& v) {
  json::object o;
  o["scanner"] = v.scanner;
  o["action"] = std::string(guard::ActionName(v.action));
  o["flagged"] = v.flagged;
  o["score"] = v.score;
  o["reason"] = v.reason;
  if (!v.category.empty()) o["category"] = v.category;
  if (v.message >= 0) o["message"] = v.message;
  o["span"] = json::array{v.span.begin, v.span.end};
  if (!v.via.empty()) o["via"] = v.via;
  if (!v.tool.empty()) o["tool"] = v.tool;
  return o;
}

// ---- guard check ----

struct CheckArgs {
  std::string policy;
  std::string text;
  std::string messages;
  std::string tier;
  std::string canary;
  bool output = false;
  bool json = false;
};

int RunCheck(const CheckArgs& a) {
  constexpr std::string_view kCmd = "guard check";
  if (!a.messages.empty() && !a.text.empty()) {
    return Fail(kCmd, InvalidArgumentError("give TEXT (or -) or --messages, not both"));
  }
  auto loaded = LoadGuard(a.policy, {});
  if (!loaded) return Fail(kCmd, loaded.error());
  const guard::Guard& g = *loaded.value()->guard;
  const std::string tier = TierOrDefault(g, a.tier);

  guard::Conversation conv;
  std::string answer;
  std::vector<guard::ToolCall> answer_calls;
  if (!a.messages.empty()) {
    auto text = ReadFileToString(a.messages, kMaxInputBytes);
    if (!text) return Fail(kCmd, text.error());
    auto body = json::Parse(*text, a.messages, 256);
    if (!body) return Fail(kCmd, body.error());
    auto parsed = guard::ParseConversation(*body, a.messages);
    if (!parsed) return Fail(kCmd, parsed.error());
    conv = std::move(parsed.value());
    if (a.output) {
      if (conv.messages.empty() || conv.messages.back().role != "assistant") {
        return Fail(kCmd, DataLossError(a.messages +
                                        ": with --output the last message must be the "
                                        "assistant's answer"));
      }
      answer = conv.messages.back().content;
      answer_calls = conv.messages.back().tool_calls;
      conv.messages.pop_back();
    }
  } else {
    std::string text = a.text;
    if (text.empty() || text == "-") {
      auto in = ReadStandardInput(kMaxInputBytes);
      if (!in) return Fail(kCmd, in.error());
      text = std::move(in.value());
    }
    if (a.output) {
      answer = std::move(text);
    } else {
      conv.messages.push_back(guard::Message{"user", std::move(text), "", "", {}});
    }
  }

  guard::RequestState state;
  guard::Decision d;
  if (a.output) {
    state.canary = a.canary;
    for (const auto& m : conv.messages) state.transcript.emplace_back(m.role, m.content);
    d = g.CheckOutput(answer, answer_calls, tier, state);
  } else {
    d = g.CheckInput(conv, tier, state);
  }

  if (a.json) {
    json::object o;
    o["allowed"] = d.allowed;
    if (!d.allowed) o["blocked_by"] = d.blocked_by;
    o["phase"] = a.output ? "output" : "input";
    o["tier"] = tier;
    o["elapsed_us"] = static_cast<double>(d.elapsed.count()) / 1000.0;
    json::array verdicts;
    for (const auto& v : d.verdicts) verdicts.push_back(VerdictJson(v));
    o["verdicts"] = std::move(verdicts);
    if (d.allowed) {
      if (a.output) {
        o["output"] = answer;
      } else {
        json::array msgs;
        for (const auto& m : conv.messages) {
          msgs.push_back(json::object{{"role", m.role}, {"content", m.content}});
        }
        o["messages"] = std::move(msgs);
        json::array tools;
        for (const auto& t : conv.tools) tools.push_back(json::value(t));
        o["tools"] = std::move(tools);
      }
    }
    std::printf("%s", json::Pretty(o).c_str());
  } else {
    std::printf("%s", d.allowed ? "allowed" : ("blocked by " + d.blocked_by).c_str());
    std::printf("  (%s, tier %s, %zu verdicts, %.0f us)\n", a.output ? "output" : "input",
                tier.c_str(), d.verdicts.size(), static_cast<double>(d.elapsed.count()) / 1000.0);
    for (const auto& v : d.verdicts) std::printf("%s\n", VerdictLine(v).c_str());
    const bool rewritten = std::any_of(d.verdicts.begin(), d.verdicts.end(), [](const auto& v) {
      return v.action == guard::Action::kRedact;
    });
    if (d.allowed && rewritten) {
      if (a.output) {
        std::printf("answer after the guard:\n  %s\n", answer.c_str());
      } else {
        std::printf("messages after the guard:\n");
        for (const auto& m : conv.messages) {
          std::printf("  %s: %s\n", m.role.c_str(), m.content.c_str());
        }
      }
    }
  }
  return d.allowed ? kExitOk : kExitCheckFailed;
}

// ---- guard eval ----

struct EvalArgs {
  std::string policy;
  std::vector<std::string> data;
  std::string positive;
  std::string negative;
  std::string tier;
  std::vector<std::string> scanners;
  bool output = false;
  bool count_flags = false;
  bool json = false;
};

struct LabelledExample {
  std::string text;
  std::optional<guard::Conversation> conversation;  // a JSONL "messages" record
  bool positive = false;
  std::string source;
};

// "1"/"true"/"attack"/"positive"/"unsafe"/"malicious"/"harmful"/"injection"/"jailbreak" and
// "0"/"false"/"benign"/"negative"/"safe".
Result<bool> ParseLabel(const json::value& v, const std::string& where) {
  if (v.is_bool()) return v.as_bool();
  if (v.is_int64() && (v.as_int64() == 0 || v.as_int64() == 1)) return v.as_int64() == 1;
  if (v.is_string()) {
    std::string s(v.as_string());
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* p : {"1", "true", "attack", "positive", "unsafe", "malicious", "harmful",
                          "injection", "jailbreak", "yes"}) {
      if (s == p) return true;
    }
    for (const char* n : {"0", "false", "benign", "negative", "safe", "no"}) {
      if (s == n) return false;
    }
  }
  return DataLossError(where + ": label must be true/false, 1/0, attack/benign, unsafe/safe or "
                               "positive/negative, got " +
                       (v.is_string() ? "\"" + std::string(v.as_string()) + "\""
                                      : std::string(json::KindName(v))));
}

// RFC 4180 CSV: quoted fields may hold commas, newlines and doubled quotes.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text,
                                                       const std::string& name) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
      ++line;
    } else if (c == '"') {
      return DataLossError(name + ": line " + std::to_string(line) +
                           ": a quote inside an unquoted field");
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) return DataLossError(name + ": unterminated quoted field at the end");
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<LabelledExample>> ReadLabelled(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, kMaxInputBytes));
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string::npos) {
    return DataLossError(path + ": not UTF-8 at byte " + std::to_string(bad));
  }
  std::vector<LabelledExample> out;
  const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
  const bool csv = path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
  if (jsonl) {
    size_t line_no = 0, at = 0;
    while (at <= text.size()) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      ++line_no;
      std::string_view line(text.data() + at, end - at);
      at = end + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        if (end == text.size()) break;
        continue;
      }
      const std::string where = path + ": line " + std::to_string(line_no);
      WARDEN_ASSIGN_OR_RETURN(json::value v, json::Parse(line, where, 256));
      WARDEN_ASSIGN_OR_RETURN(const json::object* o, json::AsObject(v, ""));
      LabelledExample ex;
      const json::value* label = o->if_contains("label");
      if (label == nullptr) return DataLossError(where + ": missing field label");
      WARDEN_ASSIGN_OR_RETURN(ex.positive, ParseLabel(*label, where));
      if (const json::value* s = o->if_contains("source"); s != nullptr && s->is_string()) {
        ex.source = std::string(s->as_string());
      }
      if (const json::value* m = o->if_contains("messages"); m != nullptr) {
        WARDEN_ASSIGN_OR_RETURN(guard::Conversation c, guard::ParseConversation(*m, where));
        ex.conversation = std::move(c);
      } else {
        Result<std::string_view> t = json::GetString(*o, "text", "");
        if (!t) return DataLossError(where + ": " + t.error().message() + " (or messages)");
        ex.text = std::string(*t);
      }
      out.push_back(std::move(ex));
      if (end == text.size()) break;
    }
  } else if (csv) {
    WARDEN_ASSIGN_OR_RETURN(auto rows, ParseCsv(text, path));
    if (rows.empty()) return DataLossError(path + ": empty CSV file");
    const auto& header = rows[0];
    auto column = [&](std::string_view name) -> std::optional<size_t> {
      for (size_t i = 0; i < header.size(); ++i) {
        if (header[i] == name) return i;
      }
      return std::nullopt;
    };
    auto text_col = column("text");
    if (!text_col) text_col = column("prompt");
    auto label_col = column("label");
    auto source_col = column("source");
    if (!text_col || !label_col) {
      return DataLossError(path + ": the CSV header needs columns text (or prompt) and label");
    }
    for (size_t r = 1; r < rows.size(); ++r) {
      const std::string where = path + ": record " + std::to_string(r + 1);
      if (rows[r].size() != header.size()) {
        return DataLossError(where + ": " + std::to_string(rows[r].size()) + " fields, header has " +
                             std::to_string(header.size()));
      }
      LabelledExample ex;
      ex.text = rows[r][*text_col];
      WARDEN_ASSIGN_OR_RETURN(ex.positive, ParseLabel(json::value(rows[r][*label_col]), where));
      if (source_col) ex.source = rows[r][*source_col];
      out.push_back(std::move(ex));
    }
  } else {
    return InvalidArgumentError(path + ": --data takes a .jsonl or .csv file (for unlabelled "
                                "lists use --positive / --negative)");
  }
  if (out.empty()) return DataLossError(path + ": no examples");
  return out;
}

struct Counts {
  size_t pos = 0, neg = 0;
};

int RunEval(const EvalArgs& a) {
  constexpr std::string_view kCmd = "guard eval";
  if (a.data.empty() && a.positive.empty() && a.negative.empty()) {
    return Fail(kCmd, InvalidArgumentError("give --data FILE, or --positive / --negative"));
  }
  auto loaded = LoadGuard(a.policy, a.scanners);
  if (!loaded) return Fail(kCmd, loaded.error());
  const guard::Guard& g = *loaded.value()->guard;
  const std::string tier = TierOrDefault(g, a.tier);

  std::vector<LabelledExample> examples;
  for (const std::string& path : a.data) {
    auto ex = ReadLabelled(path);
    if (!ex) return Fail(kCmd, ex.error());
    for (auto& e : *ex) examples.push_back(std::move(e));
  }
  for (const auto& [path, positive] :
       {std::pair{a.positive, true}, std::pair{a.negative, false}}) {
    if (path.empty()) continue;
    auto recs = ReadTextRecords(kMaxInputBytes, path);
    if (!recs) return Fail(kCmd, recs.error());
    for (auto& r : *recs) {
      examples.push_back({std::move(r.text), std::nullopt, positive, std::move(r.source)});
    }
  }

  Counts n, detected;
  std::map<std::string, std::map<std::string, Counts>> per_scanner;  // scanner -> action -> counts
  std::map<std::string, std::pair<size_t, size_t>> per_source;       // source -> (n, detected)
  std::vector<double> latencies_us;
  for (const LabelledExample& ex : examples) {
    guard::RequestState state;
    guard::Decision d;
    if (a.output) {
      std::string answer = ex.text;
      d = g.CheckOutput(answer, {}, tier, state);
    } else {
      guard::Conversation conv;
      if (ex.conversation) {
        conv = *ex.conversation;
      } else {
        conv.messages.push_back(guard::Message{"user", ex.text, "", "", {}});
      }
      d = g.CheckInput(conv, tier, state);
    }
    latencies_us.push_back(static_cast<double>(d.elapsed.count()) / 1000.0);
    bool hit = !d.allowed;
    std::map<std::string, std::string> seen;  // one count per scanner and action per example
    for (const auto& v : d.verdicts) {
      const std::string action = v.action == guard::Action::kBlock    ? "block"
                                 : v.action == guard::Action::kRedact ? "redact"
                                 : v.flagged                          ? "flag"
                                                                      : "pass";
      if (a.count_flags && v.flagged) hit = true;
      seen[v.scanner + "\x1f" + action] = action;
    }
    for (const auto& [key, action] : seen) {
      Counts& c = per_scanner[key.substr(0, key.find('\x1f'))][action];
      (ex.positive ? c.pos : c.neg)++;
    }
    (ex.positive ? n.pos : n.neg)++;
    if (hit) (ex.positive ? detected.pos : detected.neg)++;
    auto& s = per_source[ex.source.empty() ? (ex.positive ? "(positive)" : "(negative)") : ex.source];
    s.first++;
    if (hit) s.second++;
  }
  std::sort(latencies_us.begin(), latencies_us.end());
  auto quantile = [&](double q) {
    if (latencies_us.empty()) return 0.0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<size_t>(q * static_cast<double>(latencies_us.size())))];
  };
  const double tpr = n.pos ? static_cast<double>(detected.pos) / static_cast<double>(n.pos) : 0;
  const double fpr = n.neg ? static_cast<double>(detected.neg) / static_cast<double>(n.neg) : 0;

  if (a.json) {
    json::object o;
    o["policy"] = a.policy;
    o["tier"] = tier;
    o["phase"] = a.output ? "output" : "input";
    o["detected_means"] = a.count_flags ? "blocked or flagged" : "blocked";
    o["examples"] = json::object{{"positive", n.pos}, {"negative", n.neg}};
    o["detected"] = json::object{{"positive", detected.pos}, {"negative", detected.neg}};
    if (n.pos) o["tpr"] = tpr;
    if (n.neg) o["fpr"] = fpr;
    json::object scanners;
    for (const auto& [name, actions] : per_scanner) {
      json::object s;
      for (const auto& [action, c] : actions) {
        s[action] = json::object{{"positive", c.pos}, {"negative", c.neg}};
      }
      scanners[name] = std::move(s);
    }
    o["scanners"] = std::move(scanners);
    json::object sources;
    for (const auto& [name, c] : per_source) {
      sources[name] = json::object{{"examples", c.first}, {"detected", c.second}};
    }
    o["sources"] = std::move(sources);
    o["latency_us"] = json::object{{"median", quantile(0.5)}, {"p99", quantile(0.99)}};
    std::printf("%s", json::Pretty(o).c_str());
    return kExitOk;
  }
  std::printf("policy %s, tier %s, %s chain; %zu examples (%zu positive, %zu negative)\n",
              a.policy.c_str(), tier.c_str(), a.output ? "output" : "input", examples.size(),
              n.pos, n.neg);
  std::printf("detected = %s\n\n", a.count_flags ? "blocked or flagged" : "blocked");
  if (n.pos) std::printf("TPR  %.3f  (%zu / %zu positives detected)\n", tpr, detected.pos, n.pos);
  if (n.neg) std::printf("FPR  %.3f  (%zu / %zu negatives detected)\n", fpr, detected.neg, n.neg);
  std::printf("\n%-20s %-7s %10s %10s\n", "scanner", "action", "positives", "negatives");
  for (const auto& [name, actions] : per_scanner) {
    for (const auto& [action, c] : actions) {
      std::printf("%-20s %-7s %10zu %10zu\n", name.c_str(), action.c_str(), c.pos, c.neg);
    }
  }
  std::printf("\n%-28s %9s %9s %8s\n", "source", "examples", "detected", "share");
  for (const auto& [name, c] : per_source) {
    std::printf("%-28s %9zu %9zu %7.1f%%\n", name.c_str(), c.first, c.second,
                c.first ? 100.0 * static_cast<double>(c.second) / static_cast<double>(c.first)
                        : 0.0);
  }
  std::printf("\nlatency per example: median %.1f us, p99 %.1f us\n", quantile(0.5),
              quantile(0.99));
  return kExitOk;
}

// ---- guard hash-key ----

int RunHashKey(const std::string& key_arg, bool generate, bool json) {
  constexpr std::string_view kCmd = "guard hash-key";
  std::string key = key_arg;
  if (generate) {
    if (!key.empty()) return Fail(kCmd, InvalidArgumentError("give KEY or --generate, not both"));
    key = "wdn_" + HexEncode(crypto::RandomBytes(24));
  } else {
    if (key.empty() || key == "-") {
      auto in = ReadStandardInput(4096);
      if (!in) return Fail(kCmd, in.error());
      key = std::move(in.value());
      while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    }
    if (key.size() < 16) {
      return Fail(kCmd, InvalidArgumentError(
                            "an API key needs at least 16 characters (the hash is fast and "
                            "salted, which is safe only for random keys); try --generate"));
    }
  }
  const std::string hash = guard::HashApiKey(key);
  if (json) {
    json::object o;
    if (generate) o["key"] = key;
    o["hash"] = hash;
    std::printf("%s", json::Pretty(o).c_str());
  } else {
    if (generate) std::printf("key   %s\n", key.c_str());
    std::printf("hash  %s\n", hash.c_str());
  }
  return kExitOk;
}

}  // namespace

std::string VerdictLine(const guard::Verdict& v) {
  std::string label = v.action == guard::Action::kBlock    ? "block"
                      : v.action == guard::Action::kRedact ? "redact"
                      : v.flagged                          ? "flag"
                                                           : "pass";
  char score[32];
  std::snprintf(score, sizeof score, "%.3f", v.score);
  std::string line = "  [" + label + "] " + v.scanner + " (score " + score + "): " + v.reason;
  std::string where;
  if (v.message >= 0) where += "message " + std::to_string(v.message) + ", ";
  if (v.span.end > v.span.begin) {
    where += "bytes " + std::to_string(v.span.begin) + "-" + std::to_string(v.span.end) + ", ";
  }
  if (!v.via.empty()) where += "inside " + v.via + ", ";
  if (!v.tool.empty()) where += "tool " + v.tool + ", ";
  if (!where.empty()) line += "  (" + where.substr(0, where.size() - 2) + ")";
  return line;
}

void AddGuardPolicyCommands(CLI::App* guard, int* exit_code) {
  {
    auto* cmd = AddCommand(guard, "check", "Run a policy's scanners on a text or a conversation");
    LongHelp(cmd,
             "Runs the input chain of --policy on TEXT (a user message; - or nothing reads\n"
             "standard input) or on a chat request (--messages FILE.json: an OpenAI\n"
             "chat-completions body, or an array of messages; every turn and tool result is\n"
             "scanned, the tools offered and the tool calls in it are checked against the\n"
             "tier). With --output it runs the output chain on TEXT as the model's answer (with\n"
             "--messages, the last message is the answer and its tool_calls are checked;\n"
             "--canary TOKEN is the canary the input chain planted). Prints the decision and\n"
             "every verdict: scanner, action, score, reason, where (message, byte span,\n"
             "decoding path); then the text as the model would receive it when something was\n"
             "redacted. --json prints one object with the same, and the rewritten messages.\n"
             "Exit codes: 0 allowed, 1 blocked, 2 usage, 3 malformed policy or messages\n"
             "(every problem listed with file:line:column), 4 I/O.");
    AddFooter(cmd,
              "Examples:\n"
              "  warden guard check --policy data/policies/default.yaml \"What is the capital of "
              "France?\"\n"
              "  warden guard check --policy data/policies/default.yaml --messages chat.json --json\n"
              "  echo \"$ANSWER\" | warden guard check --policy P --output -");
    auto a = std::make_shared<CheckArgs>();
    cmd->add_option("--policy,-p", a->policy, "Policy file (YAML; docs/policy.md)")->required();
    cmd->add_option("text", a->text, "The text to check; - or absent reads standard input");
    cmd->add_option("--messages,-m", a->messages, "A chat request JSON file instead of TEXT");
    cmd->add_option("--tier", a->tier, "Tier whose tool rules apply (default: the policy's)");
    cmd->add_flag("--output", a->output, "Check a model's answer with the output chain");
    cmd->add_option("--canary", a->canary, "With --output: the canary planted in the prompt");
    cmd->add_flag("--json", a->json, "Print one JSON object");
    cmd->callback([=] { *exit_code = RunCheck(*a); });
  }
  {
    auto* cmd = AddCommand(guard, "eval", "Measure a policy on labelled examples (TPR, FPR)");
    LongHelp(cmd,
             "Runs the policy's input chain (or --output chain) on every example and counts an\n"
             "example as detected when the policy blocks it (--count-flags: or flags it).\n"
             "--data FILE: labelled examples, JSON Lines ({\"text\": ..., \"label\": ...,\n"
             "\"source\": ...} or {\"messages\": [...], \"label\": ...} for whole\n"
             "conversations) or CSV with a header naming text (or prompt), label and\n"
             "optionally source. Labels: true/false, 1/0, attack/benign, unsafe/safe,\n"
             "positive/negative. --positive / --negative FILE: unlabelled lists in the format\n"
             "of `guard train` (plain lines, or .jsonl with text and source). Repeatable.\n"
             "--scanners a,b keeps only those scanners of the policy (to measure one alone).\n"
             "Prints TPR, FPR, per-scanner counts by action and label, per-source detection\n"
             "shares and the latency per example. Exit codes: 0, 2 usage, 3 malformed data or\n"
             "policy, 4 I/O.");
    AddFooter(cmd,
              "Example (the held-out injection split, injection scanner alone):\n"
              "  S=data/sets/guard\n"
              "  warden guard eval --policy data/policies/default.yaml --scanners injection \\\n"
              "      --positive $S/injection.holdout.positive.jsonl \\\n"
              "      --negative $S/injection.holdout.negative.jsonl");
    auto a = std::make_shared<EvalArgs>();
    cmd->add_option("--policy,-p", a->policy, "Policy file (YAML)")->required();
    cmd->add_option("--data", a->data, "Labelled examples (.jsonl or .csv); repeatable");
    cmd->add_option("--positive", a->positive, "Unlabelled positives (plain lines or .jsonl)");
    cmd->add_option("--negative", a->negative, "Unlabelled negatives (plain lines or .jsonl)");
    cmd->add_option("--tier", a->tier, "Tier (default: the policy's)");
    cmd->add_option("--scanners", a->scanners, "Only these scanners (by name)")->delimiter(',');
    cmd->add_flag("--output", a->output, "Evaluate the output chain");
    cmd->add_flag("--count-flags", a->count_flags, "Count flagged examples as detected");
    cmd->add_flag("--json", a->json, "Print one JSON object");
    cmd->callback([=] { *exit_code = RunEval(*a); });
  }
  {
    auto* cmd = AddCommand(guard, "hash-key", "Make the salted hash of an API key for a policy");
    LongHelp(cmd,
             "Prints \"sha256:<salt>:<digest>\" for KEY (or standard input), the form a policy's\n"
             "keys[].hash takes; the key itself never goes into the policy. --generate makes a\n"
             "new random key (192 bits) and prints both. Exit codes: 0, 2 usage.");
    auto key = std::make_shared<std::string>();
    auto generate = std::make_shared<bool>(false);
    auto json = std::make_shared<bool>(false);
    cmd->add_option("key", *key, "The API key; - or absent reads standard input");
    cmd->add_flag("--generate", *generate, "Generate a new random key");
    cmd->add_flag("--json", *json, "Print one JSON object");
    cmd->callback([=] { *exit_code = RunHashKey(*key, *generate, *json); });
  }
}

}  // namespace warden::cli
