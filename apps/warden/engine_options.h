// Options shared by the commands that run or tokenize with a model (tokenize, generate, and
// later watermark and serve): which GGUF to load, and the sampling flags.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "base/status.h"
#include "engine/model.h"
#include "engine/sampler.h"
#include "engine/tokenizer.h"

namespace warden::cli {

// The bundled tiny model (data/models/stories260K.gguf), the default for --model.
std::string DefaultModelPath();

struct LoadedModel {
  std::shared_ptr<const engine::Model> model;
  std::shared_ptr<const engine::Tokenizer> tokenizer;
};

// Loads the model and builds its tokenizer; errors name the file.
Result<LoadedModel> LoadModel(const std::string& path);

// Builds the tokenizer of any GGUF file with a vocabulary (a full model of any architecture,
// or a vocabulary-only file): only the header is read, no tensor is checked.
Result<engine::Tokenizer> LoadTokenizer(const std::string& path);

// Adds --model (default: the bundled model).
void AddModelOption(CLI::App* cmd, std::string& path);

// Adds --temperature, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n and --seed.
// `seed_given` tells whether --seed was passed (otherwise the caller draws one).
void AddSamplingOptions(CLI::App* cmd, engine::SamplingParams& params, bool& seed_given);

// A seed from the operating system's random source, for runs without --seed.
uint64_t RandomSeed();

// Reads TEXT, or standard input when TEXT is "-", refusing more than `max_bytes`.
Result<std::string> ReadTextArgument(const std::string& text, uint64_t max_bytes);

}  // namespace warden::cli
