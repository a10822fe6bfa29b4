#include "engine_options.h"

#include <openssl/rand.h>

#include <cstring>

#include "base/files.h"
#include "formats/gguf.h"
#include "cli.h"

namespace warden::cli {

std::string DefaultModelPath() { return DataDir() + "/models/stories260K.gguf"; }

Result<LoadedModel> LoadModel(const std::string& path) {
  LoadedModel loaded;
  WARDEN_ASSIGN_OR_RETURN(loaded.model, engine::Model::Load(path));
  WARDEN_ASSIGN_OR_RETURN(engine::Tokenizer tokenizer,
                          engine::Tokenizer::FromGguf(loaded.model->gguf(), path));
  loaded.tokenizer = std::make_shared<const engine::Tokenizer>(std::move(tokenizer));
  return loaded;
}

Result<engine::Tokenizer> LoadTokenizer(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(path));
  WARDEN_ASSIGN_OR_RETURN(MappedRegion map, file.MapAll());
  WARDEN_ASSIGN_OR_RETURN(formats::GgufFile gguf, formats::ParseGguf(map.bytes(), path));
  return engine::Tokenizer::FromGguf(gguf, path);
}

void AddModelOption(CLI::App* cmd, std::string& path) {
  path = DefaultModelPath();
  cmd->add_option("--model,-m", path, "GGUF model file (default: the bundled stories260K)");
}

void AddSamplingOptions(CLI::App* cmd, engine::SamplingParams& p, bool& seed_given) {
  cmd->add_option("--temperature,-t", p.temperature,
                  "Softmax temperature; 0 picks the most likely token (greedy)")
      ->capture_default_str();
  cmd->add_option("--top-k", p.top_k, "Keep the K most likely tokens (0: all)")
      ->capture_default_str();
  cmd->add_option("--top-p", p.top_p, "Keep the smallest set with probability >= P (1: all)")
      ->capture_default_str();
  cmd->add_option("--min-p", p.min_p,
                  "Drop tokens less likely than P times the most likely one (0: off)")
      ->capture_default_str();
  cmd->add_option("--repeat-penalty", p.repeat_penalty,
                  "Divide the logits of recently seen tokens by this (1: off)")
      ->capture_default_str();
  cmd->add_option("--repeat-last-n", p.repeat_last_n, "How many recent tokens the penalty sees")
      ->capture_default_str();
  cmd->add_option_function<uint64_t>(
      "--seed,-s",
      [&p, &seed_given](const uint64_t& seed) {
        p.seed = seed;
        seed_given = true;
      },
      "Random seed; the same seed, model, prompt and options give the same tokens "
      "(default: a fresh random seed, printed with --json)");
}

uint64_t RandomSeed() {
  uint64_t seed = 0;
  unsigned char bytes[sizeof(seed)];
  if (RAND_bytes(bytes, sizeof(bytes)) == 1) std::memcpy(&seed, bytes, sizeof(seed));
  return seed;
}

Result<std::string> ReadTextArgument(const std::string& text, uint64_t max_bytes) {
  if (text == "-") return ReadStandardInput(max_bytes);
  if (text.size() > max_bytes) {
    return InvalidArgumentError("the text is longer than " +
                                FormatBytes(static_cast<double>(max_bytes)));
  }
  return text;
}

}  // namespace warden::cli
