// warden watermark keygen | detect | eval: keyed watermarks in generated text.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "cli.h"
#include "engine/generate.h"
#include "engine_options.h"
#include "ledger/ledger.h"
#include "text_files.h"
#include "watermark/detector.h"
#include "watermark/eval.h"
#include "watermark/key.h"
#include "watermark/samplers.h"

namespace warden::cli {

namespace {

using watermark::Scheme;
using watermark::SchemeParams;

// Text is tokenized and scored in pieces of about this size, so memory stays bounded however
// long the input is.
constexpr size_t kChunkBytes = 1 << 20;
constexpr uint64_t kMaxPromptFileBytes = 16ull << 20;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Scheme parameters given on the command line; unset ones keep the key's (or the defaults).
struct ParamFlags {
  std::optional<uint32_t> context;
  std::optional<double> gamma;
  std::optional<double> delta;
  std::optional<uint32_t> layers;

  void Add(CLI::App* cmd) {
    cmd->add_option("--context", context, "Tokens the PRF is keyed on (h), 1-16");
    cmd->add_option("--gamma", gamma, "kgw: green share of the vocabulary, (0, 1)");
    cmd->add_option("--delta", delta, "kgw: logit bias of green tokens, (0, 20]");
    cmd->add_option("--layers", layers, "tournament: tournament layers, 1-64");
  }
  SchemeParams Apply(SchemeParams p) const {
    if (context) p.context = *context;
    if (gamma) p.gamma = *gamma;
    if (delta) p.delta = *delta;
    if (layers) p.layers = *layers;
    return p;
  }
};

// The scheme and parameters to use with `key`: the key's own, unless --scheme names another
// (then that scheme's defaults), with flags on top.
Result<std::pair<Scheme, SchemeParams>> ResolveScheme(const watermark::WatermarkKey& key,
                                                      const std::string& scheme_flag,
                                                      const ParamFlags& flags) {
  Scheme scheme = key.scheme;
  SchemeParams params = key.params;
  if (!scheme_flag.empty()) {
    WARDEN_ASSIGN_OR_RETURN(scheme, watermark::ParseScheme(scheme_flag));
    if (scheme != key.scheme) params = watermark::DefaultParams(scheme);
  }
  params = flags.Apply(params);
  WARDEN_RETURN_IF_ERROR(watermark::ValidateParams(scheme, params));
  return std::make_pair(scheme, params);
}

std::string DescribeParams(Scheme scheme, const SchemeParams& p) {
  std::ostringstream s;
  s << watermark::SchemeName(scheme) << " (context " << p.context;
  if (scheme == Scheme::kKgw) s << ", gamma " << p.gamma << ", delta " << p.delta;
  if (scheme == Scheme::kTournament) s << ", layers " << p.layers;
  s << ")";
  return s.str();
}

// ---- keygen ----

struct KeygenArgs {
  std::string out;
  std::string scheme = "kgw";
  ParamFlags params;
  bool force = false;
  bool json = false;
  std::string rotate_from;
  std::string ledger;
  std::string reason;
};

// Records "old key replaced by new key, purpose watermark" in a ledger.
Result<uint64_t> RecordRotation(const KeygenArgs& a, const watermark::WatermarkKey& old_key,
                                const watermark::WatermarkKey& new_key) {
  WARDEN_ASSIGN_OR_RETURN(ledger::Ledger led, ledger::Ledger::Open(a.ledger));
  boost::json::object entry{{"old_key", old_key.key_id},
                            {"new_key", new_key.key_id},
                            {"purpose", "watermark"}};
  if (!a.reason.empty()) entry["reason"] = a.reason;
  WARDEN_ASSIGN_OR_RETURN(auto appended,
                          led.Append("key-rotation", boost::json::serialize(entry), "keygen"));
  return appended.index;
}

int RunKeygen(const KeygenArgs& a) {
  constexpr std::string_view kCmd = "watermark keygen";
  auto scheme = watermark::ParseScheme(a.scheme);
  if (!scheme) return Fail(kCmd, scheme.error());
  if (a.rotate_from.empty() != a.ledger.empty()) {
    return Fail(kCmd, InvalidArgumentError("--rotate-from and --ledger go together: the ledger "
                                           "records which key the new one replaces"));
  }
  std::optional<watermark::WatermarkKey> old_key;
  if (!a.rotate_from.empty()) {
    auto loaded = watermark::LoadKeyFile(a.rotate_from);
    if (!loaded) return Fail(kCmd, loaded.error());
    old_key = std::move(*loaded);
  }
  auto key = watermark::GenerateKey(*scheme, a.params.Apply(watermark::DefaultParams(*scheme)));
  if (!key) return Fail(kCmd, key.error());
  Status s = watermark::WriteKeyFile(*key, a.out, a.force);
  if (!s.ok()) return Fail(kCmd, s);
  std::optional<uint64_t> entry;
  if (old_key) {
    auto index = RecordRotation(a, *old_key, *key);
    if (!index) {
      return Fail(kCmd, index.error().WithContext(
                            "wrote " + a.out + " but could not record the rotation in " +
                            a.ledger + " (retry with warden ledger append key-rotation)"));
    }
    entry = *index;
  }
  if (a.json) {
    boost::json::object o;
    o["path"] = a.out;
    o["key_id"] = key->key_id;
    o["scheme"] = watermark::SchemeName(key->scheme);
    o["params"] = watermark::ParamsToJson(key->scheme, key->params);
    if (entry) o["ledger_entry"] = *entry;
    std::printf("%s\n", json::Pretty(o).c_str());
  } else {
    std::printf("wrote %s (mode 0600)\nkey id  %s\nscheme  %s\n", a.out.c_str(),
                key->key_id.c_str(), DescribeParams(key->scheme, key->params).c_str());
    if (entry) {
      std::printf("ledger  key-rotation entry %llu in %s (replaces %s)\n",
                  static_cast<unsigned long long>(*entry), a.ledger.c_str(),
                  old_key->key_id.c_str());
    }
  }
  return kExitOk;
}

// ---- detect ----

struct DetectArgs {
  std::string key;
  std::string tokenizer;
  std::string scheme;
  ParamFlags params;
  std::string input = "-";
  watermark::DetectOptions options;
  bool json = false;
};

// Reads `in` in chunks cut at a line break (or a space, or at least a UTF-8 character
// boundary) and hands each to `sink(text, byte_offset)`.
Status ForEachChunk(std::FILE* in, const std::string& name,
                    const std::function<Status(std::string_view, uint64_t)>& sink) {
  std::string buf;
  std::vector<char> block(kChunkBytes);
  uint64_t offset = 0;
  bool eof = false;
  while (!eof) {
    const size_t n = std::fread(block.data(), 1, block.size(), in);
    if (n < block.size()) {
      if (std::ferror(in)) return ErrnoStatus(errno, "cannot read", name);
      eof = true;
    }
    buf.append(block.data(), n);
    if (buf.size() < kChunkBytes && !eof) continue;
    size_t cut = buf.size();
    if (!eof) {
      size_t at = buf.rfind('\n');
      if (at == std::string::npos) at = buf.rfind(' ');
      if (at != std::string::npos && at > 0) {
        cut = at + 1;
      } else {
        // No break at all: cut before a UTF-8 continuation byte run.
        while (cut > 0 && (static_cast<unsigned char>(buf[cut - 1]) & 0xC0) == 0x80) --cut;
        if (cut > 0 && static_cast<unsigned char>(buf[cut - 1]) >= 0xC0) --cut;
        if (cut == 0) cut = buf.size();
      }
    }
    const std::string_view chunk(buf.data(), cut);
    if (const size_t bad = FirstInvalidUtf8(chunk); bad != std::string_view::npos) {
      return DataLossError(name + ": not UTF-8 text: invalid byte 0x" +
                           HexEncode(std::string_view(chunk.substr(bad, 1))) + " at offset " +
                           std::to_string(offset + bad));
    }
    WARDEN_RETURN_IF_ERROR(sink(chunk, offset));
    offset += cut;
    buf.erase(0, cut);
  }
  return Status::Ok();
}

int RunDetect(const DetectArgs& a) {
  constexpr std::string_view kCmd = "watermark detect";
  if (Status s = watermark::ValidateDetectOptions(a.options); !s.ok()) return Fail(kCmd, s);
  auto key = watermark::LoadKeyFile(a.key);
  if (!key) return Fail(kCmd, key.error());
  auto resolved = ResolveScheme(*key, a.scheme, a.params);
  if (!resolved) return Fail(kCmd, resolved.error());
  const auto [scheme, params] = *resolved;
  auto tok = LoadTokenizer(a.tokenizer);
  if (!tok) return Fail(kCmd, tok.error());
  auto detector = watermark::Detector::Create(*key, scheme, params, a.options);
  if (!detector) return Fail(kCmd, detector.error());

  std::FILE* in = stdin;
  const std::string name = a.input == "-" ? "standard input" : a.input;
  if (a.input != "-") {
    in = std::fopen(a.input.c_str(), "rb");
    if (in == nullptr) return Fail(kCmd, ErrnoStatus(errno, "cannot open", a.input));
  }
  double tokenize_s = 0, score_s = 0;
  uint64_t bytes = 0;
  std::vector<watermark::TokenSpan> spans;
  engine::EncodeOptions encode;
  encode.add_special = false;
  Status s = ForEachChunk(in, name, [&](std::string_view chunk, uint64_t offset) -> Status {
    auto t0 = std::chrono::steady_clock::now();
    auto ids = tok->Encode(chunk, encode);
    if (!ids) return DataLossError(name + ": " + ids.error().message());
    // Byte spans from the pieces; the SentencePiece dummy prefix adds one space that is not
    // in the text.
    spans.resize(ids->size());
    uint64_t at = offset;
    for (size_t i = 0; i < ids->size(); ++i) {
      size_t len = tok->TokenToPiece((*ids)[i]).size();
      if (i == 0 && tok->add_space_prefix() && len > 0 && !chunk.starts_with(' ')) --len;
      spans[i] = {at, std::min<uint64_t>(at + len, offset + chunk.size())};
      at = spans[i].end;
    }
    tokenize_s += Seconds(t0);
    auto t1 = std::chrono::steady_clock::now();
    detector->Push(*ids, spans);
    score_s += Seconds(t1);
    bytes += chunk.size();
    return Status::Ok();
  });
  if (in != stdin) std::fclose(in);
  if (!s.ok()) return Fail(kCmd, s);

  const watermark::Detection d = detector->Current();
  const char* verdict = watermark::VerdictName(d.verdict).data();
  if (a.json) {
    boost::json::object o;
    o["scheme"] = watermark::SchemeName(scheme);
    o["params"] = watermark::ParamsToJson(scheme, params);
    o["key_id"] = key->key_id;
    o["bytes"] = bytes;
    o["tokens"] = d.tokens;
    o["tokens_scored"] = d.tokens_scored;
    o["tokens_repeated"] = d.tokens_repeated;
    o["score"] = d.score;
    o["p_value"] = d.p_value;
    o["fpr"] = a.options.fpr;
    o["verdict"] = verdict;
    if (a.options.window > 0) {
      o["windows_tested"] = d.windows_tested;
      if (d.best_window) {
        const watermark::WindowResult& w = *d.best_window;
        o["best_window"] = {{"token_begin", w.begin}, {"token_end", w.end},
                            {"byte_begin", w.byte_begin}, {"byte_end", w.byte_end},
                            {"tokens_scored", w.scored}, {"score", w.score},
                            {"p_value", w.p_value}, {"p_adjusted", w.p_adjusted}};
      } else {
        o["best_window"] = nullptr;
      }
    }
    o["timings"] = {{"tokenize_ms", tokenize_s * 1e3},
                    {"score_ms", score_s * 1e3},
                    {"score_tokens_per_s", score_s > 0 ? d.tokens / score_s : 0.0}};
    std::printf("%s\n", json::Pretty(o).c_str());
  } else {
    std::printf("scheme    %s\n", DescribeParams(scheme, params).c_str());
    std::printf("key id    %s\n", key->key_id.c_str());
    std::printf("tokens    %llu (scored %llu, repeats skipped %llu)\n",
                static_cast<unsigned long long>(d.tokens),
                static_cast<unsigned long long>(d.tokens_scored),
                static_cast<unsigned long long>(d.tokens_repeated));
    if (scheme == Scheme::kKgw) {
      std::printf("score     %.0f green of %llu (%.1f expected without this key)\n", d.score,
                  static_cast<unsigned long long>(d.tokens_scored),
                  static_cast<double>(d.tokens_scored) * params.gamma);
    } else if (scheme == Scheme::kTournament) {
      std::printf("score     %.0f of %llu g-values are 1 (%.1f expected without this key)\n",
                  d.score, static_cast<unsigned long long>(d.tokens_scored * params.layers),
                  d.tokens_scored * params.layers / 2.0);
    } else {
      std::printf("score     %.2f (%.1f expected without this key)\n", d.score,
                  static_cast<double>(d.tokens_scored));
    }
    std::printf("p-value   %.3g\n", d.p_value);
    if (d.best_window) {
      const watermark::WindowResult& w = *d.best_window;
      std::printf("window    tokens %llu-%llu, bytes %llu-%llu: p %.3g, %.3g after %llu windows\n",
                  static_cast<unsigned long long>(w.begin), static_cast<unsigned long long>(w.end),
                  static_cast<unsigned long long>(w.byte_begin),
                  static_cast<unsigned long long>(w.byte_end), w.p_value, w.p_adjusted,
                  static_cast<unsigned long long>(d.windows_tested));
    }
    std::printf("verdict   %s (false-positive rate %g)\n", verdict, a.options.fpr);
  }
  return d.verdict == watermark::Verdict::kWatermarked ? kExitOk : kExitCheckFailed;
}

// ---- eval ----

struct EvalArgs {
  std::string model;
  std::string key;
  std::string scheme;
  ParamFlags params;
  std::string prompts;
  std::string human;
  std::string out = "watermark-eval";
  uint32_t max_tokens = 200;
  std::vector<uint32_t> lengths = {50, 100, 200};
  std::vector<double> edit_rates = {0.0, 0.05, 0.1, 0.2, 0.3};
  bool seed_given = false;
  engine::SamplingParams sampling;
  bool quiet = false;
};

// The texts of a prompt or human-text file (text_files.h: lines, or .jsonl with "text").
Result<std::vector<std::string>> ReadTexts(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::vector<TextRecord> records,
                          ReadTextRecords(kMaxPromptFileBytes, path));
  std::vector<std::string> texts;
  texts.reserve(records.size());
  for (TextRecord& r : records) texts.push_back(std::move(r.text));
  return texts;
}

int RunEval(EvalArgs a) {
  constexpr std::string_view kCmd = "watermark eval";
  auto key = watermark::LoadKeyFile(a.key);
  if (!key) return Fail(kCmd, key.error());
  auto resolved = ResolveScheme(*key, a.scheme, a.params);
  if (!resolved) return Fail(kCmd, resolved.error());
  watermark::EvalConfig config;
  std::tie(config.scheme, config.params) = *resolved;
  auto prompts = ReadTexts(a.prompts);
  if (!prompts) return Fail(kCmd, prompts.error());
  config.prompts = std::move(*prompts);
  if (!a.human.empty()) {
    auto human = ReadTexts(a.human);
    if (!human) return Fail(kCmd, human.error());
    config.human_texts = std::move(*human);
  }
  config.max_tokens = a.max_tokens;
  config.lengths = a.lengths;
  config.edit_rates = a.edit_rates;
  config.sampling = a.sampling;
  config.seed = a.seed_given ? a.sampling.seed : 1;
  if (!a.quiet) {
    config.progress = [](std::string_view line) {
      std::fprintf(stderr, "\r%.*s   ", static_cast<int>(line.size()), line.data());
      std::fflush(stderr);
    };
  }
  auto loaded = LoadModel(a.model);
  if (!loaded) return Fail(kCmd, loaded.error());
  auto generator = engine::Generator::Create(loaded->model, loaded->tokenizer);
  if (!generator) return Fail(kCmd, generator.error());
  auto report = watermark::RunEval(**generator, *key, config);
  if (!a.quiet) std::fputc('\n', stderr);
  if (!report) return Fail(kCmd, report.error());
  std::printf("%s", report->ToText().c_str());
  if (!a.out.empty()) {
    const std::string json_path = a.out + ".json", svg_path = a.out + ".svg";
    Status s = WriteFileAtomic(json_path, json::Pretty(report->ToJson()));
    if (s.ok()) s = WriteFileAtomic(svg_path, report->ToSvg());
    if (!s.ok()) return Fail(kCmd, s);
    std::printf("wrote %s and %s\n", json_path.c_str(), svg_path.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterWatermark(CLI::App& app, int* exit_code) {
  auto* wm = AddCommand(&app, "watermark", "Keyed watermarks: make keys, detect, evaluate");
  LongHelp(wm,
           "A watermark key marks the text `warden generate --watermark KEY` writes, invisibly\n"
           "to readers; `watermark detect` finds the mark again from the text alone and says how\n"
           "unlikely the finding is by chance (an exact p-value). Schemes: kgw (green-list bias,\n"
           "strongest signal, changes the output distribution slightly), tournament (SynthID-\n"
           "style, distortion-free per token), gumbel (Aaronson's, distortion-free,\n"
           "deterministic given the context). Paraphrasing removes any token-level watermark.\n"
           "See docs/watermark.md.");
  wm->require_subcommand(1);

  {
    auto* cmd = AddCommand(wm, "keygen", "Create a watermark key file (mode 0600)");
    LongHelp(cmd,
             "Writes 32 random bytes, the key id and the default scheme with its parameters as\n"
             "one JSON file readable only by you. The key id (64 hex digits) names the key in\n"
             "logs and in the ledger (a key-rotation entry with purpose watermark) and does not\n"
             "reveal it. --rotate-from OLD --ledger DB records 'OLD replaced by the new key,\n"
             "purpose watermark' as a key-rotation entry, so that detections can be tied to the\n"
             "key that was live. Exit codes: 0 ok, 2 usage, 3 malformed old key, 4 I/O (also\n"
             "when the file exists and --force is not given).");
    AddFooter(cmd,
              "Examples:\n"
              "  warden watermark keygen --out wm.key\n"
              "  warden watermark keygen --out wm-t.key --scheme tournament --layers 20\n"
              "  warden watermark keygen --out wm2.key --rotate-from wm.key --ledger models.ledger");
    auto a = std::make_shared<KeygenArgs>();
    cmd->add_option("--out,-o", a->out, "Key file to write")->required();
    cmd->add_option("--scheme", a->scheme, "kgw, tournament or gumbel")
        ->check(CLI::IsMember({"kgw", "tournament", "gumbel"}))
        ->capture_default_str();
    a->params.Add(cmd);
    cmd->add_flag("--force", a->force, "Replace an existing file");
    cmd->add_flag("--json", a->json, "Print {path, key_id, scheme, params[, ledger_entry]}");
    cmd->add_option("--rotate-from", a->rotate_from,
                    "The key this one replaces; with --ledger, recorded as a key-rotation entry");
    cmd->add_option("--ledger", a->ledger, "Ledger (warden ledger init) to record the rotation in");
    cmd->add_option("--reason", a->reason, "With --ledger: why the key was rotated");
    cmd->callback([=] { *exit_code = RunKeygen(*a); });
  }
  {
    auto* cmd = AddCommand(wm, "detect", "Is this text watermarked with this key?");
    LongHelp(cmd,
             "Tokenizes FILE (or standard input) with the model's tokenizer, scores each token\n"
             "whose context was not seen before in the text, and reports the number of scored\n"
             "tokens, the score, its exact p-value under 'this text was written without the\n"
             "key', and a verdict at --fpr: watermarked, not_detected, or inconclusive (too\n"
             "few tokens to reach --fpr: never a claim). --window N also searches windows of\n"
             "N scored tokens for a watermarked passage inside longer text (the window's\n"
             "p-value is multiplied by the number of windows tried). The text is read in 1 MiB\n"
             "pieces: memory stays bounded for any input size.\n"
             "Exit codes: 0 watermarked, 1 not detected or inconclusive, 2 usage, 3 malformed\n"
             "key file or text that is not UTF-8, 4 I/O.");
    AddFooter(cmd,
              "Examples:\n"
              "  warden generate --watermark wm.key -p 'Once upon a time' -n 200 > story.txt\n"
              "  warden watermark detect --key wm.key story.txt\n"
              "  cat essay.txt | warden watermark detect --key wm.key --window 100 --json -");
    auto a = std::make_shared<DetectArgs>();
    cmd->add_option("--key,-k", a->key, "Watermark key file")->required();
    cmd->add_option("--tokenizer,-m", a->tokenizer,
                    "GGUF whose tokenizer the text was generated with")
        ->default_val(DefaultModelPath());
    cmd->add_option("--scheme", a->scheme, "Override the key's scheme (kgw, tournament, gumbel)")
        ->check(CLI::IsMember({"kgw", "tournament", "gumbel"}));
    a->params.Add(cmd);
    cmd->add_option("FILE", a->input, "Text to test, or - for standard input")
        ->capture_default_str();
    cmd->add_option("--fpr", a->options.fpr, "False-positive rate of the verdict")
        ->capture_default_str();
    cmd->add_option("--min-tokens", a->options.min_scored,
                    "Fewer scored tokens than this is inconclusive")
        ->capture_default_str();
    cmd->add_option("--window", a->options.window,
                    "Also search windows of this many scored tokens (0: off)")
        ->capture_default_str();
    cmd->add_option("--stride", a->options.stride, "Window step in scored tokens (0: window/4)");
    cmd->add_flag("--json", a->json,
                  "Print one JSON object: scheme, tokens_scored, score, p_value, verdict, ...");
    cmd->callback([=] { *exit_code = RunDetect(*a); });
  }
  {
    auto* cmd = AddCommand(wm, "eval", "Measure detection rates, false positives and cost");
    LongHelp(cmd,
             "For each prompt, generates a watermarked and an unwatermarked continuation, cuts\n"
             "the watermarked ones to each --lengths entry and edits them at each --edit-rates\n"
             "entry (random token substitutions, insertions and deletions), and reports the\n"
             "true-positive rate at false-positive rates 1e-2, 1e-4 and 1e-6, the false-positive\n"
             "rate measured on the unwatermarked continuations and on human text, and the\n"
             "perplexity of both sets under the model. Writes OUT.json and OUT.svg (a chart).\n"
             "Sampling defaults to temperature 1 with no truncation (the model's own\n"
             "distribution). Exit codes: 0 ok, 2 usage, 3 malformed input, 4 I/O.");
    AddFooter(cmd,
              "Example:\n"
              "  warden watermark keygen --out wm.key\n"
              "  warden watermark eval --key wm.key --prompts data/watermark/prompts.txt -n 200");
    auto a = std::make_shared<EvalArgs>();
    a->sampling.temperature = 1.0f;
    a->sampling.top_k = 0;
    a->sampling.top_p = 1.0f;
    a->sampling.min_p = 0.0f;
    AddModelOption(cmd, a->model);
    cmd->add_option("--key,-k", a->key, "Watermark key file")->required();
    cmd->add_option("--scheme", a->scheme, "Override the key's scheme")
        ->check(CLI::IsMember({"kgw", "tournament", "gumbel"}));
    a->params.Add(cmd);
    cmd->add_option("--prompts", a->prompts, "Prompts, one per line (or .jsonl with \"text\")")
        ->default_val(DataDir() + "/watermark/prompts.txt");
    cmd->add_option("--human", a->human,
                    "Human-written texts for the false-positive rate (lines or .jsonl; '' "
                    "for none)")
        ->default_val(DataDir() + "/sets/human-text.jsonl");
    cmd->add_option("-n,--max-tokens", a->max_tokens, "Tokens per continuation")
        ->capture_default_str();
    cmd->add_option("--lengths", a->lengths, "Text lengths in tokens to test")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--edit-rates", a->edit_rates, "Per-token edit probabilities to test")
        ->delimiter(',')
        ->capture_default_str();
    AddSamplingOptions(cmd, a->sampling, a->seed_given);
    cmd->add_option("--out,-o", a->out, "Write OUT.json and OUT.svg ('' for neither)")
        ->capture_default_str();
    cmd->add_flag("--quiet,-q", a->quiet, "No progress on standard error");
    cmd->callback([=] { *exit_code = RunEval(*a); });
  }
}

}  // namespace warden::cli
