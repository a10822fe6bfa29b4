// Shared vocabulary of the engine: token ids.
//
// A token id is an index into the model's vocabulary (GGUF `tokenizer.ggml.tokens`). Ids are
// signed so that kNoToken (-1) can mark "this vocabulary has no such token" (no BOS, no EOS).
#pragma once

#include <cstdint>

namespace warden::engine {

using Token = int32_t;
inline constexpr Token kNoToken = -1;

}  // namespace warden::engine
