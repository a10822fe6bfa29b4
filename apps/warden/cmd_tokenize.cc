// warden tokenize: the token ids a model sees for a text.
#include <cstdio>

#include "base/json.h"
#include "cli.h"
#include "engine_options.h"

namespace warden::cli {

namespace {

constexpr uint64_t kMaxTextBytes = 64ull << 20;

struct TokenizeArgs {
  std::string model;
  std::string text = "-";
  bool json = false;
  bool pieces = false;
  bool no_special = false;
  bool parse_special = false;
};

int RunTokenize(const TokenizeArgs& a) {
  constexpr std::string_view kCmd = "tokenize";
  auto text = ReadTextArgument(a.text, kMaxTextBytes);
  if (!text) return Fail(kCmd, text.error());
  auto loaded = LoadTokenizer(a.model);
  if (!loaded) return Fail(kCmd, loaded.error());
  const engine::Tokenizer& tok = *loaded;
  engine::EncodeOptions options;
  options.add_special = !a.no_special;
  options.parse_special = a.parse_special;
  auto ids = tok.Encode(*text, options);
  // The text is the input here: text that is not UTF-8 is malformed input (exit 3).
  if (!ids) return Fail(kCmd, DataLossError(ids.error().message()));

  if (a.json) {
    boost::json::array tokens, pieces;
    for (engine::Token id : *ids) {
      tokens.emplace_back(id);
      pieces.emplace_back(tok.TokenText(id));
    }
    boost::json::object out;
    out["model"] = a.model;
    out["count"] = ids->size();
    out["tokens"] = std::move(tokens);
    out["pieces"] = std::move(pieces);
    std::printf("%s\n", json::Pretty(out).c_str());
    return kExitOk;
  }
  if (a.pieces) {
    for (engine::Token id : *ids) {
      std::printf("%d\t%s\n", id, boost::json::serialize(boost::json::string(tok.TokenText(id)))
                                      .c_str());
    }
    return kExitOk;
  }
  std::string line;
  for (engine::Token id : *ids) {
    if (!line.empty()) line += ' ';
    line += std::to_string(id);
  }
  std::printf("%s\n", line.c_str());
  return kExitOk;
}

}  // namespace

void RegisterTokenize(CLI::App& app, int* exit_code) {
  auto* cmd = AddCommand(&app, "tokenize", "Print the token ids a model sees for a text");
  LongHelp(cmd,
           "Tokenize TEXT (or standard input with -) with the vocabulary of a GGUF file, as\n"
           "the engine does before generating: SentencePiece (llama), byte-level BPE (gpt2,\n"
           "llama-bpe, falcon, qwen2, ...) or WordPiece (bert) from the file's own metadata.\n"
           "Any GGUF with a vocabulary works, also vocabulary-only files and architectures\n"
           "the engine does not run. By default the model's special\n"
           "tokens are added (BOS for llama models) and special-token texts in the input stay\n"
           "plain text. Prints the ids on one line; --pieces prints one token per line with\n"
           "its vocabulary string; --json prints one object {model, count, tokens, pieces}.\n"
           "Exit codes: 0 ok, 2 usage, 3 malformed model or text that is not UTF-8, 4 I/O.");
  AddFooter(cmd,
            "Examples:\n"
            "  warden tokenize \"Once upon a time\"\n"
            "  echo 'Hello world' | warden tokenize --model llama.gguf --pieces -\n"
            "  warden tokenize --json --parse-special '<s>[INST] hi [/INST]'");
  auto a = std::make_shared<TokenizeArgs>();
  AddModelOption(cmd, a->model);
  cmd->add_option("TEXT", a->text, "Text to tokenize, or - for standard input")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print one JSON object");
  cmd->add_flag("--pieces", a->pieces, "One token per line: id and vocabulary string");
  cmd->add_flag("--no-special", a->no_special, "Do not add BOS/EOS");
  cmd->add_flag("--parse-special", a->parse_special,
                "Turn special-token texts in the input (<s>, <|im_start|>, ...) into those "
                "tokens");
  cmd->callback([=] { *exit_code = RunTokenize(*a); });
}

}  // namespace warden::cli
