// guard_tool: the measuring half of bench/compare/guard.sh (a plain program, not a Google
// Benchmark: it reports medians and tails of many single calls, the way a request sees them).
//
//   guard_tool text --corpus data/sets/human-text.jsonl --bytes N --out FILE
//       writes the benign benchmark text of N bytes (see BuildText; bench/data/guard/README.md)
//       so that grep scans exactly the bytes the guard scans;
//   guard_tool run --policy data/policies/default.yaml --data-dir data
//                  --corpus data/sets/human-text.jsonl --patterns bench/data/guard/patterns.txt
//                  [--sizes 1024,4096,65536] [--iters 2000,2000,200]
//                  [--big 16777216] [--big-iters 10]
//       Guard::CheckInput, one user message, tier "default", one thread, for: the policy's
//       whole input chain as written; the same with `block` turned into `flag` (every scanner
//       runs whatever the verdicts); that without llm_judge entries (only when there are
//       some); the chain with no scanners (the guard's own work); each input scanner alone;
//       and a `patterns` scanner compiled from the pattern file. Then the patterns scanner
//       alone on the --big text in one call.
//
// Output: one line per measurement,
//   <size> <what> <median us> <p99 us> <MB/s> bytes=<n> cpu_us=<median> cpu_p99_us=<p99>
//   iters=<n> allowed=<0|1> verdicts=<n> [blocked_by=<scanner>]
// where size is the size asked for and bytes the text's (a little less after the cut at a
// character boundary), the times are wall-clock, MB = 10^6 bytes, MB/s from bytes and the
// median; cpu_us and cpu_p99_us are the same statistics of the thread's CPU time per call (on
// a busy machine the wall time of a long call includes waits for the core; the CPU time does
// not). Lines starting "note " are remarks the script passes on. Only the CheckInput call is
// timed: the copy of the conversation that each call rewrites is made before the clock starts.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/json.h"
#include "base/status.h"
#include "guard/builtin_scanners.h"
#include "guard/guard.h"
#include "guard/policy.h"
#include "guard/scanner.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace guard = warden::guard;

const char* Arg(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

std::vector<long> ArgList(int argc, char** argv, const char* name, const char* fallback) {
  std::vector<long> out;
  std::stringstream in(Arg(argc, argv, name, fallback));
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::strtol(item.c_str(), nullptr, 10));
  return out;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "guard_tool: %s\n", what.c_str());
  return 1;
}

// splitmix64: a tiny generator whose output is fixed by its definition, so the text is the
// same with every standard library (std::shuffle's use of the engine is not specified).
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The benign text of `bytes` bytes: the e-mail records of the corpus (source "bipia-email";
// the corpus's other records are jailbreak prompts from Reddit, which the chain would block
// after a few scanners, so they would not measure the whole chain), one per line, in a
// different order in each round (round r shuffled by splitmix64 seeded with r), rounds
// appended until the size is reached, then cut to at most `bytes` at a UTF-8 character
// boundary.
warden::Result<std::string> BuildText(const std::string& corpus_path, size_t bytes) {
  WARDEN_ASSIGN_OR_RETURN(std::string corpus,
                          warden::ReadFileToString(corpus_path, uint64_t{64} << 20));
  std::vector<std::string> records;
  std::stringstream lines(corpus);
  std::string line;
  size_t number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty()) continue;
    const std::string where = corpus_path + ":" + std::to_string(number);
    WARDEN_ASSIGN_OR_RETURN(warden::json::value v, warden::json::Parse(line, where));
    WARDEN_ASSIGN_OR_RETURN(const warden::json::object* obj, warden::json::AsObject(v, where));
    WARDEN_ASSIGN_OR_RETURN(std::string_view source,
                            warden::json::GetString(*obj, "source", where));
    if (source != "bipia-email") continue;
    WARDEN_ASSIGN_OR_RETURN(std::string_view text, warden::json::GetString(*obj, "text", where));
    records.emplace_back(text);
  }
  if (records.empty()) return warden::DataLossError(corpus_path + ": no bipia-email records");
  std::string out;
  out.reserve(bytes + 4096);
  for (uint64_t round = 0; out.size() < bytes; ++round) {
    std::vector<size_t> order(records.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    uint64_t state = round;
    for (size_t i = order.size() - 1; i > 0; --i) {  // Fisher-Yates
      std::swap(order[i], order[SplitMix(state) % (i + 1)]);
    }
    for (size_t i : order) {
      out += records[i];
      out += '\n';
      if (out.size() >= bytes) break;
    }
  }
  size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out;
}

int WriteText(int argc, char** argv) {
  const char* corpus = Arg(argc, argv, "--corpus", nullptr);
  const char* out = Arg(argc, argv, "--out", nullptr);
  const long bytes = std::strtol(Arg(argc, argv, "--bytes", "0"), nullptr, 10);
  if (corpus == nullptr || out == nullptr || bytes <= 0) {
    return Fail("text needs --corpus, --bytes and --out");
  }
  auto text = BuildText(corpus, static_cast<size_t>(bytes));
  if (!text.has_value()) return Fail(text.error().message());
  warden::Status s = warden::WriteFileAtomic(out, text.value());
  if (!s.ok()) return Fail(s.message());
  return 0;
}

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Measurement {
  std::vector<double> us;      // wall time per call, sorted
  std::vector<double> cpu_us;  // this thread's CPU time per call, sorted
  bool allowed = true;
  std::string blocked_by;
  std::string why;  // the blocking verdict's reason, when blocked
  size_t verdicts = 0;
};

// `iters` timed calls after `warmup` untimed ones (caches, the scratch pools, page faults).
Measurement Measure(const guard::Guard& g, const std::string& text, long iters, long warmup) {
  guard::Conversation tmpl;
  guard::Message m;
  m.role = "user";
  m.content = text;
  tmpl.messages.push_back(std::move(m));
  Measurement out;
  out.us.reserve(static_cast<size_t>(iters));
  for (long i = 0; i < warmup + iters; ++i) {
    guard::Conversation conv = tmpl;
    guard::RequestState state;
    const double c0 = ThreadCpuUs();
    const auto t0 = Clock::now();
    guard::Decision d = g.CheckInput(conv, "default", state);
    const auto t1 = Clock::now();
    const double c1 = ThreadCpuUs();
    if (i < warmup) continue;
    out.us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    out.cpu_us.push_back(c1 - c0);
    out.allowed = d.allowed;
    out.blocked_by = d.blocked_by;
    for (const guard::Verdict& v : d.verdicts) {
      if (v.action == guard::Action::kBlock) {
        out.why = v.reason;
      }
    }
    out.verdicts = d.verdicts.size();
  }
  std::sort(out.us.begin(), out.us.end());
  std::sort(out.cpu_us.begin(), out.cpu_us.end());
  return out;
}

void Print(long nominal, size_t bytes, const std::string& what, const Measurement& m) {
  const size_t n = m.us.size();
  if (n == 0) return;
  const double median = m.us[n / 2];
  // Nearest-rank p99: the smallest sample with at least 99% of the samples at or below it.
  const size_t rank = (99 * n + 99) / 100;
  const size_t at = std::min(n, std::max<size_t>(rank, 1)) - 1;
  const double p99 = m.us[at];
  std::printf(
      "%ld %s %.2f %.2f %.2f bytes=%zu cpu_us=%.2f cpu_p99_us=%.2f iters=%zu allowed=%d "
      "verdicts=%zu%s%s\n",
      nominal, what.c_str(), median, p99, static_cast<double>(bytes) / median, bytes,
      m.cpu_us[n / 2], m.cpu_us[at], n, m.allowed ? 1 : 0, m.verdicts,
      m.blocked_by.empty() ? "" : " blocked_by=", m.blocked_by.c_str());
  // A benign text should pass; if it does not, say why (the chain stopped early, so the figure
  // is not that of the whole chain).
  if (!m.allowed) {
    std::printf("note %s on %ld bytes: blocked by %s: %s\n", what.c_str(), nominal,
                m.blocked_by.c_str(), m.why.c_str());
  }
  std::fflush(stdout);
}

// `what` names go in one column of the script's table: no spaces.
std::string Slug(std::string s) {
  for (char& c : s) {
    if (c == ' ') c = '_';
  }
  return s;
}

int Run(int argc, char** argv) {
  const char* policy_path = Arg(argc, argv, "--policy", nullptr);
  const char* data_dir = Arg(argc, argv, "--data-dir", nullptr);
  const char* corpus = Arg(argc, argv, "--corpus", nullptr);
  const char* patterns_path = Arg(argc, argv, "--patterns", nullptr);
  if (policy_path == nullptr || data_dir == nullptr || corpus == nullptr ||
      patterns_path == nullptr) {
    return Fail("run needs --policy, --data-dir, --corpus and --patterns");
  }
  const std::vector<long> sizes = ArgList(argc, argv, "--sizes", "1024,4096,65536");
  const std::vector<long> iters = ArgList(argc, argv, "--iters", "2000,2000,200");
  if (sizes.size() != iters.size()) return Fail("--sizes and --iters differ in length");
  const long big = std::strtol(Arg(argc, argv, "--big", "16777216"), nullptr, 10);
  const long big_iters = std::strtol(Arg(argc, argv, "--big-iters", "10"), nullptr, 10);

  auto loaded = guard::LoadPolicy(policy_path);
  if (!loaded.has_value()) return Fail(loaded.error().message());
  const guard::Policy policy = loaded.value();
  guard::ScannerRegistry registry;
  guard::RegisterBuiltinScanners(registry);

  std::vector<std::pair<std::string, guard::Guard>> guards;
  auto add = [&](const std::string& what, const guard::Policy& p) -> bool {
    auto g = guard::Guard::Create(p, registry, data_dir);
    if (!g.has_value()) {
      Fail(what + ": " + g.error().message());
      return false;
    }
    guards.emplace_back(what, std::move(g.value()));
    return true;
  };

  if (!add("full_chain", policy)) return 1;
  // A verdict that blocks ends the chain, and then the later scanners' cost is not measured.
  // The benchmark texts are benign, but a classifier may still block one; this variant flags
  // instead of blocking, so every scanner runs to the end whatever the verdicts (redactions
  // are kept: they change what later scanners see). It is the cost of a request that passes.
  guard::Policy to_end = policy;
  bool any_block = false;
  for (guard::ScannerEntry& e : to_end.input.scanners) {
    if (e.action == guard::ConfiguredAction::kBlock) {
      e.action = guard::ConfiguredAction::kFlag;
      any_block = true;
    }
  }
  if (any_block && !add("full_chain_to_end", to_end)) return 1;
  guard::Policy deterministic = to_end;
  std::erase_if(deterministic.input.scanners,
                [](const guard::ScannerEntry& e) { return e.type == "llm_judge"; });
  if (deterministic.input.scanners.size() == policy.input.scanners.size()) {
    std::printf(
        "note the input chain has no llm_judge: its deterministic part is the whole chain "
        "(same figures)\n");
  } else if (!add("deterministic_chain", deterministic)) {
    return 1;
  }
  guard::Policy empty = policy;
  empty.input.scanners.clear();
  if (!add("no_scanners", empty)) return 1;
  for (const guard::ScannerEntry& entry : policy.input.scanners) {
    guard::Policy one = policy;
    one.input.scanners = {entry};
    one.input.scanners[0].path = "input.scanners[0]";
    if (!add(Slug(entry.name.empty() ? entry.type : entry.name), one)) return 1;
  }

  // The operator's list: every line of the file one regex, case-sensitive as grep -E is, and
  // `flag` so that a match does not stop the scan (every byte is scanned, as grep scans).
  auto list = warden::ReadFileToString(patterns_path, 1 << 20);
  if (!list.has_value()) return Fail(list.error().message());
  warden::json::array regexes;
  std::stringstream lines(list.value());
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) regexes.emplace_back(line);
  }
  guard::ScannerEntry patterns;
  patterns.type = "patterns";
  patterns.name = "patterns";
  patterns.action = guard::ConfiguredAction::kFlag;
  patterns.options["regexes"] = regexes;
  patterns.options["caseless"] = false;
  patterns.path = "input.scanners[0]";
  guard::Policy with_patterns = policy;
  with_patterns.input.scanners = {patterns};
  // The one-call scan of the big text must pass the limits, which are checked first.
  with_patterns.limits.max_input_bytes =
      std::max<uint64_t>(with_patterns.limits.max_input_bytes, static_cast<uint64_t>(big) + 1);
  const std::string patterns_what = "patterns_" + std::to_string(regexes.size()) + "_regexes";
  if (!add(patterns_what, with_patterns)) return 1;

  for (size_t s = 0; s < sizes.size(); ++s) {
    auto text = BuildText(corpus, static_cast<size_t>(sizes[s]));
    if (!text.has_value()) return Fail(text.error().message());
    const long warmup = std::max(5L, iters[s] / 10);
    for (const auto& [what, g] : guards) {
      Print(sizes[s], text.value().size(), what, Measure(g, text.value(), iters[s], warmup));
    }
  }
  if (big > 0) {
    auto text = BuildText(corpus, static_cast<size_t>(big));
    if (!text.has_value()) return Fail(text.error().message());
    Print(big, text.value().size(), patterns_what,
          Measure(guards.back().second, text.value(), big_iters, 2));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "text") return WriteText(argc, argv);
  if (cmd == "run") return Run(argc, argv);
  std::fprintf(stderr, "usage: guard_tool text|run ... (see the source)\n");
  return 2;
}
