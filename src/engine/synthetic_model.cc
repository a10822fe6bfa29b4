#include "engine/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "base/files.h"
#include "engine/kernels.h"
#include "formats/gguf_writer.h"

namespace warden::engine {
namespace {

using formats::GgufTokenType;
using formats::GgufValue;
using formats::GgufValueType;

// SentencePiece token types as llama.cpp numbers them (llama_token_type).
constexpr size_t kByteTokens = 256;
// Norm weights are drawn from [1 - kNormSpread, 1 + kNormSpread].
constexpr float kNormSpread = 0.25f;

// splitmix64 (Steele, Lea, Flood 2014): tiny, portable, good enough for weights.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1): 24 random bits, exactly representable as a float.
  float Symmetric() {
    return static_cast<float>(static_cast<int64_t>(Next() >> 40) - (int64_t{1} << 23)) *
           (1.0f / static_cast<float>(1 << 23));
  }

 private:
  uint64_t state_;
};

Status CheckSpec(const SyntheticModelSpec& s) {
  if (s.n_vocab < kSyntheticMinVocab) {
    return InvalidArgumentError("synthetic model: n_vocab " + std::to_string(s.n_vocab) +
                                " is below " + std::to_string(kSyntheticMinVocab) +
                                " (3 special and 256 byte tokens)");
  }
  if (s.n_embd == 0 || s.n_layer == 0 || s.n_head == 0 || s.n_head_kv == 0 || s.n_ff == 0 ||
      s.n_ctx == 0) {
    return InvalidArgumentError("synthetic model: every count must be at least 1");
  }
  if (s.n_head % s.n_head_kv != 0) {
    return InvalidArgumentError("synthetic model: n_head_kv must divide n_head");
  }
  if (s.n_embd % s.n_head != 0 || (s.n_embd / s.n_head) % 2 != 0) {
    return InvalidArgumentError("synthetic model: n_embd / n_head must be a whole even number");
  }
  if (s.n_rot % 2 != 0 || s.n_rot > s.n_embd / s.n_head) {
    return InvalidArgumentError("synthetic model: n_rot must be even and at most the head size");
  }
  if (!IsSupportedWeightType(s.weight_type)) {
    return InvalidArgumentError(
        "synthetic model: weight type " + formats::GgmlTypeName(s.weight_type) +
        " is not supported (supported: " + SupportedWeightTypeNames() + ")");
  }
  const size_t block = WeightBlockSize(s.weight_type);
  if (s.n_embd % block != 0 || s.n_ff % block != 0) {
    return InvalidArgumentError("synthetic model: n_embd and n_ff must be multiples of " +
                                std::to_string(block) + " for " +
                                formats::GgmlTypeName(s.weight_type));
  }
  if (!(s.init_std > 0.0f) || !std::isfinite(s.init_std)) {
    return InvalidArgumentError("synthetic model: init_std must be positive");
  }
  return Status::Ok();
}

// Filler piece k: first the bare SentencePiece word-start mark (real SPM vocabularies have
// it, so a space before a character without a piece of its own still decodes as a space),
// then bijective base-26 letters ("a".."z", "aa", ...), every other one with the mark, so
// pieces are distinct and look like a real vocabulary.
std::string FillerPiece(size_t k) {
  static constexpr char kWordStart[] = "\xE2\x96\x81";  // U+2581
  if (k == 0) return kWordStart;
  --k;
  std::string letters;
  for (size_t n = k / 2 + 1; n > 0; n = (n - 1) / 26) {
    letters.insert(letters.begin(), static_cast<char>('a' + (n - 1) % 26));
  }
  return (k % 2 == 0 ? kWordStart : "") + letters;
}

Status AddVocabulary(const SyntheticModelSpec& s, formats::GgufWriter& w) {
  std::vector<GgufValue> tokens, scores, types;
  tokens.reserve(s.n_vocab);
  scores.reserve(s.n_vocab);
  types.reserve(s.n_vocab);
  auto add = [&](std::string piece, float score, GgufTokenType type) {
    tokens.push_back(GgufValue::String(std::move(piece)));
    scores.push_back(GgufValue::F32(score));
    types.push_back(GgufValue::I32(static_cast<int32_t>(type)));
  };
  add("<unk>", 0.0f, GgufTokenType::kUnknown);
  add("<s>", 0.0f, GgufTokenType::kControl);
  add("</s>", 0.0f, GgufTokenType::kControl);
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t b = 0; b < kByteTokens; ++b) {
    add(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", 0.0f, GgufTokenType::kByte);
  }
  for (size_t k = 0; tokens.size() < s.n_vocab; ++k) {
    add(FillerPiece(k), -static_cast<float>(k + 1), GgufTokenType::kNormal);
  }
  WARDEN_RETURN_IF_ERROR(w.AddString("tokenizer.ggml.model", "llama"));
  WARDEN_RETURN_IF_ERROR(w.AddMetadata(
      "tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, std::move(tokens))));
  WARDEN_RETURN_IF_ERROR(w.AddMetadata(
      "tokenizer.ggml.scores", GgufValue::Array(GgufValueType::kFloat32, std::move(scores))));
  WARDEN_RETURN_IF_ERROR(w.AddMetadata("tokenizer.ggml.token_type",
                                       GgufValue::Array(GgufValueType::kInt32, std::move(types))));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.bos_token_id", 1));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.eos_token_id", 2));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.unknown_token_id", 0));
  WARDEN_RETURN_IF_ERROR(w.AddBool("tokenizer.ggml.add_bos_token", true));
  return w.AddBool("tokenizer.ggml.add_eos_token", false);
}

class TensorMaker {
 public:
  TensorMaker(const SyntheticModelSpec& s, formats::GgufWriter& w)
      : spec_(s), writer_(w), rng_(s.seed) {}

  Status Matrix(const std::string& name, size_t rows, size_t cols) {
    const float a = spec_.init_std * std::sqrt(3.0f);  // uniform [-a, a] has std a/sqrt(3)
    values_.resize(rows * cols);
    for (float& v : values_) v = a * rng_.Symmetric();
    WARDEN_ASSIGN_OR_RETURN(std::string bytes,
                            QuantizeRows(spec_.weight_type, values_, rows, cols));
    return writer_.AddTensor(name, spec_.weight_type, {cols, rows}, std::move(bytes));
  }

  Status Norm(const std::string& name, size_t n) {
    std::string bytes(n * sizeof(float), '\0');
    for (size_t i = 0; i < n; ++i) {
      const float v = 1.0f + kNormSpread * rng_.Symmetric();
      std::memcpy(bytes.data() + i * sizeof(float), &v, sizeof(float));
    }
    return writer_.AddTensor(name, formats::kGgmlTypeF32, {n}, std::move(bytes));
  }

 private:
  const SyntheticModelSpec& spec_;
  formats::GgufWriter& writer_;
  SplitMix64 rng_;
  std::vector<float> values_;
};

}  // namespace

Result<std::string> SyntheticModelBytes(const SyntheticModelSpec& s) {
  WARDEN_RETURN_IF_ERROR(CheckSpec(s));
  formats::GgufWriter w;
  WARDEN_RETURN_IF_ERROR(w.AddString("general.architecture", "llama"));
  WARDEN_RETURN_IF_ERROR(w.AddString("general.name", s.name));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.context_length", s.n_ctx));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.embedding_length", s.n_embd));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.block_count", s.n_layer));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.feed_forward_length", s.n_ff));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.attention.head_count", s.n_head));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.attention.head_count_kv", s.n_head_kv));
  if (s.n_rot != 0) WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.rope.dimension_count", s.n_rot));
  WARDEN_RETURN_IF_ERROR(w.AddFloat32("llama.rope.freq_base", s.rope_freq_base));
  WARDEN_RETURN_IF_ERROR(w.AddFloat32("llama.attention.layer_norm_rms_epsilon", s.rms_eps));
  WARDEN_RETURN_IF_ERROR(AddVocabulary(s, w));

  const size_t head_dim = s.n_embd / s.n_head;
  const size_t q_dim = size_t{s.n_head} * head_dim;
  const size_t kv_dim = size_t{s.n_head_kv} * head_dim;
  TensorMaker make(s, w);
  WARDEN_RETURN_IF_ERROR(make.Matrix("token_embd.weight", s.n_vocab, s.n_embd));
  WARDEN_RETURN_IF_ERROR(make.Norm("output_norm.weight", s.n_embd));
  if (!s.tied_output) {
    WARDEN_RETURN_IF_ERROR(make.Matrix("output.weight", s.n_vocab, s.n_embd));
  }
  for (uint32_t i = 0; i < s.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    WARDEN_RETURN_IF_ERROR(make.Norm(p + "attn_norm.weight", s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "attn_q.weight", q_dim, s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "attn_k.weight", kv_dim, s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "attn_v.weight", kv_dim, s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "attn_output.weight", s.n_embd, q_dim));
    WARDEN_RETURN_IF_ERROR(make.Norm(p + "ffn_norm.weight", s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "ffn_gate.weight", s.n_ff, s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "ffn_up.weight", s.n_ff, s.n_embd));
    WARDEN_RETURN_IF_ERROR(make.Matrix(p + "ffn_down.weight", s.n_embd, s.n_ff));
  }
  return w.WriteToString();
}

Status WriteSyntheticModel(const SyntheticModelSpec& spec, const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::string bytes, SyntheticModelBytes(spec));
  return WriteFileAtomic(path, bytes);
}

}  // namespace warden::engine
