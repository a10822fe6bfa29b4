// warden generate: run the embedded engine on a prompt and stream the continuation.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "base/json.h"
#include "cli.h"
#include "engine/chat.h"
#include "engine/generate.h"
#include "engine_options.h"
#include "watermark/samplers.h"

namespace warden::cli {

namespace {

constexpr uint64_t kMaxPromptBytes = 16ull << 20;
constexpr uint32_t kMaxThreads = 256;

std::atomic<bool> g_interrupted{false};

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

struct GenerateArgs {
  std::string model;
  std::string prompt;
  std::string system;
  std::string chat_format;
  bool chat = false;
  uint32_t max_tokens = 128;
  uint32_t threads = 0;
  uint32_t n_ctx = 0;
  std::string kv_cache = "f16";
  bool json = false;
  bool verbose = false;
  bool seed_given = false;
  engine::SamplingParams sampling;
  std::string watermark_key;
  std::string watermark_scheme;
};

double Millis(double seconds) { return seconds * 1000.0; }
double PerSecond(size_t n, double seconds) { return seconds > 0 ? n / seconds : 0.0; }

// The prompt as the model should see it: the raw text, or with --chat the text as a user turn
// in the model's chat format (from its tokenizer.chat_template, or --chat-format).
Result<std::vector<engine::Token>> BuildPrompt(const GenerateArgs& a, const LoadedModel& m,
                                               std::string* format_used) {
  WARDEN_ASSIGN_OR_RETURN(std::string text, ReadTextArgument(a.prompt, kMaxPromptBytes));
  const engine::Tokenizer& tok = *m.tokenizer;
  engine::EncodeOptions options;
  if (a.chat) {
    engine::ChatFormat format = engine::ChatFormat::kPlain;
    if (!a.chat_format.empty()) {
      WARDEN_ASSIGN_OR_RETURN(format, engine::ParseChatFormatName(a.chat_format));
    } else if (const auto* v = m.model->gguf().Find("tokenizer.chat_template");
               v != nullptr && v->AsString() != nullptr) {
      format = engine::DetectChatFormat(*v->AsString()).value_or(engine::ChatFormat::kPlain);
    }
    *format_used = std::string(engine::ChatFormatName(format));
    std::vector<engine::ChatMessage> messages;
    if (!a.system.empty()) messages.push_back({"system", a.system});
    messages.push_back({"user", text});
    const std::string bos(tok.bos() != engine::kNoToken ? tok.TokenText(tok.bos()) : "");
    const std::string eos(tok.eos() != engine::kNoToken ? tok.TokenText(tok.eos()) : "");
    WARDEN_ASSIGN_OR_RETURN(text, engine::FormatChat(format, messages, true, bos, eos));
    // The template's markers are special tokens; a template that writes BOS itself must not
    // get a second one.
    options.parse_special = true;
    if (!bos.empty() && text.starts_with(bos)) options.add_special = false;
  }
  auto ids = tok.Encode(text, options);
  if (!ids) return DataLossError("prompt: " + ids.error().message());
  if (ids->empty()) {
    return InvalidArgumentError(
        "the prompt gives no tokens and this model adds no BOS; give a --prompt");
  }
  return ids;
}

boost::json::object TimingsJson(double load_s, const engine::GenerateResult& r) {
  boost::json::object t;
  t["load_ms"] = Millis(load_s);
  t["prompt_ms"] = Millis(r.prompt_seconds);
  t["generate_ms"] = Millis(r.generate_seconds);
  t["prompt_tokens_per_s"] = PerSecond(r.prompt_tokens_evaluated, r.prompt_seconds);
  t["tokens_per_s"] = PerSecond(r.tokens.size(), r.generate_seconds);
  return t;
}

int RunGenerate(GenerateArgs a) {
  constexpr std::string_view kCmd = "generate";
  if (a.max_tokens == 0) {
    return Fail(kCmd, InvalidArgumentError("-n must be at least 1 (tokens to generate)"));
  }
  if (a.threads > kMaxThreads) {
    return Fail(kCmd, InvalidArgumentError("--threads " + std::to_string(a.threads) +
                                           " is more than " + std::to_string(kMaxThreads)));
  }
  if (!a.seed_given) a.sampling.seed = RandomSeed();

  const auto load_start = std::chrono::steady_clock::now();
  auto loaded = LoadModel(a.model);
  if (!loaded) return Fail(kCmd, loaded.error());
  std::string chat_format;
  auto prompt = BuildPrompt(a, *loaded, &chat_format);
  if (!prompt) return Fail(kCmd, prompt.error());
  engine::SamplerRegistry registry;
  engine::RegisterBuiltinSamplers(registry);
  engine::ChainExtensions extensions;
  std::optional<watermark::WatermarkKey> wm_key;
  watermark::Scheme wm_scheme = watermark::Scheme::kKgw;
  watermark::SchemeParams wm_params;
  if (!a.watermark_key.empty()) {
    auto key = watermark::LoadKeyFile(a.watermark_key);
    if (!key) return Fail(kCmd, key.error());
    wm_key = std::move(*key);
    wm_scheme = wm_key->scheme;
    wm_params = wm_key->params;
    if (!a.watermark_scheme.empty()) {
      auto scheme = watermark::ParseScheme(a.watermark_scheme);
      if (!scheme) return Fail(kCmd, scheme.error());
      if (*scheme != wm_scheme) wm_params = watermark::DefaultParams(*scheme);
      wm_scheme = *scheme;
    }
    auto ext = watermark::MakeWatermarkExtensions(*wm_key, wm_scheme, wm_params, a.sampling.seed);
    if (!ext) return Fail(kCmd, ext.error());
    extensions = std::move(*ext);
  } else if (!a.watermark_scheme.empty()) {
    return Fail(kCmd, InvalidArgumentError("--scheme needs --watermark KEY"));
  }
  auto chain = engine::BuildSamplerChain(a.sampling, registry, std::move(extensions));
  if (!chain) return Fail(kCmd, chain.error());
  engine::ContextOptions context_options;
  context_options.n_ctx = a.n_ctx;
  context_options.threads = a.threads;
  context_options.kv_type =
      a.kv_cache == "f32" ? engine::KvCacheType::kF32 : engine::KvCacheType::kF16;
  auto generator = engine::Generator::Create(loaded->model, loaded->tokenizer, context_options);
  if (!generator) return Fail(kCmd, generator.error());
  const double load_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();

  engine::GenerateRequest request;
  request.prompt = *prompt;
  request.max_tokens = a.max_tokens;
  request.sampler = std::move(*chain);
  request.cancel = &g_interrupted;
  size_t streamed = 0;
  if (!a.json) {
    request.on_token = [&streamed](const engine::GeneratedToken& t) {
      std::fwrite(t.text.data(), 1, t.text.size(), stdout);
      std::fflush(stdout);
      streamed += t.text.size();
      return true;
    };
  }
  // Ctrl-C stops generating; what was produced so far is still printed.
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  auto result = (*generator)->Generate(request);
  signal(SIGINT, SIG_DFL);
  if (!result) return Fail(kCmd, result.error());

  const engine::Tokenizer& tok = *loaded->tokenizer;
  if (a.json) {
    boost::json::object out;
    out["model"] = a.model;
    out["seed"] = a.sampling.seed;
    if (a.chat) out["chat_format"] = chat_format;
    if (wm_key) {
      out["watermark"] = {{"key_id", wm_key->key_id},
                          {"scheme", watermark::SchemeName(wm_scheme)},
                          {"params", watermark::ParamsToJson(wm_scheme, wm_params)}};
    }
    boost::json::array prompt_ids;
    for (engine::Token id : *prompt) prompt_ids.emplace_back(id);
    out["prompt_tokens"] = std::move(prompt_ids);
    boost::json::array tokens;
    for (const auto& t : result->tokens) {
      boost::json::object o;
      o["id"] = t.id;
      o["text"] = t.text;
      o["piece"] = tok.TokenText(t.id);
      o["logprob"] = t.logprob;
      tokens.emplace_back(std::move(o));
    }
    out["tokens"] = std::move(tokens);
    out["text"] = result->text;
    out["finish_reason"] = engine::FinishReasonName(result->finish);
    out["timings"] = TimingsJson(load_s, *result);
    std::printf("%s\n", json::Pretty(out).c_str());
  } else {
    // The tail of an incomplete UTF-8 sequence is only known at the end.
    const std::string rest = result->text.substr(std::min(streamed, result->text.size()));
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    if (isatty(STDOUT_FILENO) && !result->text.empty() && result->text.back() != '\n') {
      std::fputc('\n', stdout);
    }
    std::fflush(stdout);
  }
  if (a.verbose) {
    std::fprintf(stderr,
                 "warden generate: seed %llu; prompt %zu tokens in %.1f ms (%.0f tok/s); "
                 "%zu tokens in %.1f ms (%.1f tok/s); stop: %s\n",
                 static_cast<unsigned long long>(a.sampling.seed),
                 result->prompt_tokens_evaluated, Millis(result->prompt_seconds),
                 PerSecond(result->prompt_tokens_evaluated, result->prompt_seconds),
                 result->tokens.size(), Millis(result->generate_seconds),
                 PerSecond(result->tokens.size(), result->generate_seconds),
                 std::string(engine::FinishReasonName(result->finish)).c_str());
  }
  return result->finish == engine::FinishReason::kCancelled ? 130 : kExitOk;
}

}  // namespace

void RegisterGenerate(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "generate", "Generate text with the embedded engine");
  LongHelp(cmd,
           "Run a GGUF Llama-family model on the CPU and stream the continuation of --prompt to\n"
           "standard output as it is produced. Generation stops at the end-of-sequence token,\n"
           "after -n tokens, or when the context is full; Ctrl-C stops it early (exit 130).\n"
           "With --temperature 0 the most likely token is always taken (greedy); otherwise the\n"
           "sampler chain is repeat-penalty -> top-k -> top-p -> min-p -> temperature -> a\n"
           "seeded draw, and the same --seed gives the same tokens. --chat wraps the prompt in\n"
           "the model's chat format (recognised from its tokenizer.chat_template; models\n"
           "without one get the plain format, see docs/engine.md).\n"
           "--watermark KEY marks the text with a keyed watermark (see warden watermark).\n"
           "--json prints one object instead: model, seed, prompt_tokens, tokens ({id, text,\n"
           "piece, logprob}), text, finish_reason, timings (and watermark: key_id, scheme).\n"
           "Exit codes: 0 ok, 2 usage (bad option, prompt longer than the context), 3 malformed\n"
           "model or prompt, 4 I/O, 130 interrupted.");
  AddFooter(cmd,
            "Examples:\n"
            "  warden generate --prompt 'Once upon a time' -n 64 --seed 7\n"
            "  warden generate --prompt '' --temperature 0 -n 256     # the bundled model's "
            "greedy story\n"
            "  warden generate -m llama.gguf --chat --system 'Be brief.' --prompt 'Hi' --json\n"
            "  warden generate --watermark wm.key --prompt 'Once upon a time' -n 200");
  auto a = std::make_shared<GenerateArgs>();
  AddModelOption(cmd, a->model);
  cmd->add_option("--prompt,-p", a->prompt,
                  "Text to continue, or - for standard input (default: empty, i.e. start from "
                  "BOS)");
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Tokens to generate at most")
      ->capture_default_str();
  AddSamplingOptions(cmd, a->sampling, a->seed_given);
  cmd->add_option("--threads", a->threads, "Worker threads (0: one per core)")
      ->capture_default_str();
  cmd->add_option("--ctx", a->n_ctx, "Context length in tokens (0: the model's own)")
      ->capture_default_str();
  cmd->add_option("--kv-cache", a->kv_cache,
                  "Key/value cache precision: f16 (half the memory; attention computed as "
                  "llama.cpp does) or f32 (exact-as-float attention)")
      ->check(CLI::IsMember({"f16", "f32"}))
      ->capture_default_str();
  cmd->add_flag("--chat", a->chat, "Format the prompt as a user turn in the model's chat format");
  cmd->add_option("--system", a->system, "With --chat: a system message");
  cmd->add_option("--chat-format", a->chat_format,
                  "With --chat: force a format (plain, llama2, llama3, chatml, mistral, gemma, "
                  "phi3)");
  cmd->add_option("--watermark", a->watermark_key,
                  "Watermark the output with this key file (warden watermark keygen)");
  cmd->add_option("--scheme", a->watermark_scheme,
                  "With --watermark: use this scheme instead of the key's (kgw, tournament, "
                  "gumbel)")
      ->check(CLI::IsMember({"kgw", "tournament", "gumbel"}));
  cmd->add_flag("--json", a->json, "Print one JSON object at the end instead of streaming");
  cmd->add_flag("--verbose,-v", a->verbose, "Print the seed and speed to standard error");
  cmd->callback([=] { *exit_code = RunGenerate(*a); });
}

}  // namespace warden::cli
