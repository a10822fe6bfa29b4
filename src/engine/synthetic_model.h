// Synthetic Llama models: valid llama GGUF files with random weights, for tests, fuzz seeds
// and the engine benchmark.
//
// The weights come from a fixed-seed portable generator (splitmix64), so a spec always gives
// the same bytes on every machine and compiler. Matrices are uniform with standard deviation
// `init_std` (like the N(0, 0.02) initialisation of a fresh transformer: activations stay in
// a sane range through many layers), norm weights are uniform in [0.75, 1.25]. The file
// carries a minimal SentencePiece ("llama") vocabulary so that a tokenizer loads it too:
// "<unk>", "<s>", "</s>", the 256 byte tokens <0x00>..<0xFF>, then filler pieces ("▁",
// "▁a", "a", "▁b", ...) up to n_vocab, with scores and token types.
//
// The file is built in memory by formats::GgufWriter before it is written, so peak memory is
// about twice the file size: fine up to a few hundred MB (a ~100M-parameter F32 model).
//
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "formats/ggml_types.h"

namespace warden::engine {

// The smallest vocabulary the SPM layout above fits: 3 specials and 256 bytes.
inline constexpr uint32_t kSyntheticMinVocab = 259;

struct SyntheticModelSpec {
  uint32_t n_vocab = 320;
  uint32_t n_embd = 64;
  uint32_t n_layer = 2;
  uint32_t n_head = 4;
  uint32_t n_head_kv = 2;
  uint32_t n_ff = 96;
  uint32_t n_ctx = 256;  // llama.context_length
  uint32_t n_rot = 0;    // llama.rope.dimension_count; 0: the head size (key left out)
  // Type of every matrix (token_embd and output included): F32, F16, Q8_0 or Q4_0. Quantized
  // types need n_embd and n_ff (and n_head * head size) to be multiples of 32.
  uint32_t weight_type = formats::kGgmlTypeF32;
  uint64_t seed = 1;
  bool tied_output = false;  // leave output.weight out (tied to token_embd)
  float init_std = 0.02f;
  float rope_freq_base = 10000.0f;
  float rms_eps = 1e-5f;
  std::string name = "synthetic";
};

// Writes the model to `path` (crash-safely). InvalidArgument for a spec that would not load:
// n_vocab below kSyntheticMinVocab, a zero count, n_head_kv not dividing n_head, n_embd not a
// multiple of n_head, an odd head size, n_rot odd or above the head size, a weight type the
// kernels do not support or whose block size does not divide the row lengths.
Status WriteSyntheticModel(const SyntheticModelSpec& spec, const std::string& path);

// The same file as bytes (fuzz seeds, tests that mutate the image).
Result<std::string> SyntheticModelBytes(const SyntheticModelSpec& spec);

}  // namespace warden::engine
