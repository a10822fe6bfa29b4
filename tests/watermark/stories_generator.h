// The bundled stories260K model as a one-thread Generator, for the watermark tests that
// generate (samplers, eval, power).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/generate.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

namespace warden::watermark::testing {

inline const std::string& StoriesModelPath() {
  static const std::string path = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";
  return path;
}

// Null (with a test failure) when the model does not load.
inline std::unique_ptr<engine::Generator> StoriesGenerator() {
  auto model = engine::Model::Load(StoriesModelPath());
  EXPECT_TRUE(model.ok()) << model.status().message();
  if (!model.ok()) return nullptr;
  auto tokenizer = engine::Tokenizer::FromGguf((*model)->gguf(), StoriesModelPath());
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  if (!tokenizer.ok()) return nullptr;
  engine::ContextOptions options;
  options.threads = 1;
  auto generator = engine::Generator::Create(
      *model, std::make_shared<const engine::Tokenizer>(std::move(*tokenizer)), options);
  EXPECT_TRUE(generator.ok()) << generator.status().message();
  return generator.ok() ? std::move(*generator) : nullptr;
}

}  // namespace warden::watermark::testing
