// llama2.c checkpoints and tokenizers: a bounds-checked reader and a converter to GGUF.
//
// Karpathy's llama2.c writes a model as a 28-byte header of seven int32 values followed by
// raw float32 weights (the legacy "version 0" export), and its tokenizer as
// `uint32 max_token_length` then, per token, `float32 score, uint32 len, bytes`.
// docs/formats/llama2c.md describes both byte by byte and every check made here.
//
// ParseLlama2cModel and ParseLlama2cTokenizer trust nothing in the files: every header field
// is range-checked, sizes are computed with overflow checks, and the file size must equal
// exactly what the header implies before anything is allocated. Errors are DataLoss with the
// message "<source>: offset <N>: <what is wrong>".
//
// ConvertLlama2cToGguf writes a GGUF v3 file with the standard llama metadata and a
// SentencePiece ("llama") vocabulary, laid out as llama.cpp's convert-llama2c-to-ggml lays
// it out: the same keys in the same order and the same tensors (names, dims, F32 data) in
// the same order, so that with context_length 2048 the shipped stories260K converts to the
// reference stories260K.gguf byte for byte.
//
// Thread-safety: all functions are reentrant; results own their data except that tensor
// records hold offsets into the caller's model span.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "formats/gguf.h"

namespace warden::formats {

inline constexpr size_t kLlama2cHeaderBytes = 7 * 4;
// The magic of llama2.c's newer exports ("ak42" little-endian); those are refused.
inline constexpr uint32_t kLlama2cVersionedMagic = 0x616b3432;

// Caps on header values (each file must also be exactly as large as they imply).
struct Llama2cLimits {
  int64_t max_dim = int64_t{1} << 16;
  int64_t max_hidden_dim = int64_t{1} << 18;
  int64_t max_layers = 1024;
  int64_t max_heads = 1024;
  int64_t max_vocab = int64_t{1} << 22;
  int64_t max_seq_len = int64_t{1} << 22;
  uint32_t max_token_bytes = 1024;  // one token's bytes (and max_token_length)
};

struct Llama2cConfig {
  uint32_t dim = 0;
  uint32_t hidden_dim = 0;
  uint32_t n_layers = 0;
  uint32_t n_heads = 0;
  uint32_t n_kv_heads = 0;
  uint32_t vocab_size = 0;        // the absolute value of the header's field
  bool shared_classifier = true;  // header vocab_size > 0: the output layer is token_embd
  uint32_t seq_len = 0;

  uint32_t head_size() const { return dim / n_heads; }
  uint32_t kv_dim() const { return head_size() * n_kv_heads; }
};

// One weight of the checkpoint, named and shaped as in GGUF (dims in ggml order, innermost
// first), with its byte range in the model file. All are float32.
struct Llama2cTensor {
  std::string name;
  std::vector<uint64_t> dims;
  uint64_t offset = 0;  // absolute offset in the model file
  uint64_t size = 0;    // bytes
};

struct Llama2cModel {
  Llama2cConfig config;
  // In GGUF order: token_embd, output_norm, output, then per block attn_q, attn_k, attn_v,
  // attn_output, attn_norm, ffn_gate, ffn_down, ffn_up, ffn_norm. `output` points at the
  // embedding when the classifier is shared.
  std::vector<Llama2cTensor> tensors;
};

// Parses a legacy llama2.c checkpoint (the whole file). DataLoss when: the header is
// truncated; the file is a versioned ("ak42") export; a field is zero, negative or above
// its limit; n_heads does not divide dim; n_kv_heads does not divide n_heads; the head size
// is odd; the vocabulary has fewer than 3 tokens (ids 0, 1, 2 are unk, bos, eos); the file
// is shorter or longer than the weights the header implies.
Result<Llama2cModel> ParseLlama2cModel(std::span<const uint8_t> file, std::string_view source,
                                       const Llama2cLimits& limits = {});

struct Llama2cVocab {
  uint32_t max_token_length = 0;
  std::vector<std::string> pieces;  // as stored (spaces, "\n<s>\n", ...)
  std::vector<float> scores;
};

// Parses a llama2.c tokenizer holding exactly `vocab_size` tokens (the model's). DataLoss
// when: the file is truncated (in max_token_length, a score, a length or a token's bytes);
// max_token_length is zero or above the limit; a token is longer than max_token_length or
// not UTF-8; bytes are left after the last token (a vocabulary size mismatch).
Result<Llama2cVocab> ParseLlama2cTokenizer(std::span<const uint8_t> file, std::string_view source,
                                           uint32_t vocab_size, const Llama2cLimits& limits = {});

// The SentencePiece form of llama2.c token `id`: id 0 "<unk>", 1 "<s>", 2 "</s>", every
// other token with each space replaced by U+2581 ("▁"); and its type.
std::string Llama2cPieceToSpm(uint32_t id, std::string_view piece);
GgufTokenType Llama2cTokenType(uint32_t id, std::string_view piece);

struct ConvertOptions {
  std::string name = "llama";  // general.name
  // llama.context_length; 0 takes the checkpoint's seq_len. llama.cpp's converter writes 2048.
  uint32_t context_length = 0;
  float rms_norm_eps = 1e-5f;  // llama2.c's fixed epsilon
  Llama2cLimits limits;
};

// Converts a checkpoint and its tokenizer into a GGUF file (returned whole). Errors are
// those of the two parsers (DataLoss naming the file at fault), or InvalidArgument for bad
// options (an empty name).
Result<std::string> ConvertLlama2cToGguf(std::span<const uint8_t> model,
                                         std::string_view model_source,
                                         std::span<const uint8_t> tokenizer,
                                         std::string_view tokenizer_source,
                                         const ConvertOptions& options = {});

}  // namespace warden::formats
