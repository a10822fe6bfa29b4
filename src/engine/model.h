// Model: a Llama-family GGUF model mapped read-only into memory, validated, ready to run.
//
// Load maps the file (no copy: the weights stay in the page cache and are shared by every
// process that maps the same file), parses the GGUF header, reads every hyper-parameter
// from the `llama.*` metadata and checks every tensor the forward pass will touch (present,
// exact shape, a type the kernels support, norms F32, inside the file) before returning.
// Nothing large is allocated here; a Context (engine/context.h) allocates the KV cache.
// docs/formats/gguf-llama.md lists the keys and tensors read and every check made.
//
// Errors name the file and what is wrong:
//   InvalidArgument  the file is well-formed but not something we run ("architecture
//                    \"gpt2\" is not supported (supported: llama)", unsupported weight type,
//                    rope scaling other than linear, biases, experts, ...);
//   DataLoss         a malformed file: bad GGUF header, a missing tensor or key, a shape
//                    that disagrees with the hyper-parameters ("tensor blk.3.attn_q.weight:
//                    shape [64, 32], want [64, 64]"), a hyper-parameter out of range;
//   NotFound / PermissionDenied from opening the file.
//
// Ownership and thread-safety: a loaded Model is immutable; share it (shared_ptr<const
// Model>) between any number of Contexts on any threads. The weight pointers it hands out
// point into its mapping and live as long as the Model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/files.h"
#include "base/status.h"
#include "engine/kernels.h"
#include "formats/gguf.h"

namespace warden::engine {

// Hyper-parameters, all read from the GGUF metadata (docs/formats/gguf-llama.md).
struct ModelConfig {
  std::string architecture;  // "llama"
  std::string name;          // general.name, or "" when absent
  uint32_t n_vocab = 0;
  uint32_t n_embd = 0;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;  // n_embd / n_head unless llama.attention.key_length says otherwise
  uint32_t n_rot = 0;     // leading dimensions of each head that RoPE rotates (even)
  uint32_t n_ff = 0;
  uint32_t n_ctx_train = 0;
  float rms_eps = 0;
  float rope_freq_base = 0;
  float rope_freq_scale = 0;  // 1 / linear scaling factor; 1 when unscaled
  uint32_t weight_type = 0;   // the matrix type holding most parameters (for display)
};

struct LoadOptions {
  // Pre-fault the whole mapping at load (MAP_POPULATE) instead of on first use: slower to
  // load, no page-fault stalls in the first tokens.
  bool populate = false;
};

// The weights of one transformer block. Matrices are WeightViews over the mapping (rows =
// outputs, cols = inputs); norm vectors are F32 arrays of n_embd.
struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightView wq, wk, wv, wo;
  const float* ffn_norm = nullptr;
  WeightView w_gate, w_up, w_down;
};

// Limits on hyper-parameters: well above every published Llama-family model, low enough
// that products of them (scratch sizes) cannot overflow or ask for absurd memory.
inline constexpr uint32_t kMaxLayers = 1024;
inline constexpr uint32_t kMaxEmbedding = 65536;
inline constexpr uint32_t kMaxVocab = uint32_t{1} << 22;
inline constexpr uint32_t kMaxContext = uint32_t{1} << 20;
inline constexpr uint32_t kMaxFeedForward = uint32_t{1} << 20;
inline constexpr uint32_t kMaxHeads = 1024;
inline constexpr uint32_t kMaxHeadDim = 1024;

class Model {
 public:
  // Maps and validates `path`. See the file comment for the errors.
  static Result<std::shared_ptr<const Model>> Load(const std::string& path,
                                                   const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  // The parsed header: the tokenizer and chat templates read their metadata from it.
  const formats::GgufFile& gguf() const { return gguf_; }
  const std::string& path() const { return path_; }
  // Bytes of all the tensors the forward pass reads (output counted once when tied).
  uint64_t weight_bytes() const { return weight_bytes_; }

  // token_embd.weight: n_vocab rows of n_embd (any supported type; rows are dequantized on
  // lookup).
  const WeightView& token_embedding() const { return token_embd_; }
  const float* output_norm() const { return output_norm_; }
  // output.weight, or token_embd.weight when the file ties them.
  const WeightView& output() const { return output_; }
  bool tied_output() const { return tied_output_; }
  const LayerWeights& layer(size_t i) const { return layers_[i]; }
  // rope_freqs.weight (n_rot / 2 F32 divisors of the rotation frequencies, Llama 3.1 style
  // scaling), or nullptr when the file has none.
  const float* rope_freq_factors() const { return rope_freq_factors_; }

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

 private:
  Model() = default;

  std::string path_;
  MappedRegion mapping_;
  formats::GgufFile gguf_;
  ModelConfig config_;
  uint64_t weight_bytes_ = 0;
  WeightView token_embd_{};
  const float* output_norm_ = nullptr;
  WeightView output_{};
  bool tied_output_ = false;
  const float* rope_freq_factors_ = nullptr;
  std::vector<LayerWeights> layers_;
};

}  // namespace warden::engine
