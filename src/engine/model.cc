#include "engine/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "formats/ggml_types.h"

namespace warden::engine {
namespace {

using formats::GgufFile;
using formats::GgufTensorInfo;
using formats::GgufValue;

constexpr std::string_view kArchitecture = "llama";
// What llama.cpp assumes when the file does not say.
constexpr double kDefaultRopeFreqBase = 10000.0;
constexpr double kDefaultRmsEps = 1e-5;
// Every tensor we read must start at a multiple of this (F32 arrays are read in place, and
// the kernels load F16 scales as uint16); GGUF's default alignment of 32 always satisfies it.
constexpr uint64_t kTensorDataAlignment = 4;

std::string DimsString(std::span<const uint64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

// Reads and checks one file; every error carries "<path>: " in front.
class Loader {
 public:
  Loader(const std::string& path, const GgufFile& gguf, std::span<const uint8_t> bytes)
      : path_(path), gguf_(gguf), bytes_(bytes) {
    for (const GgufTensorInfo& t : gguf_.tensors) tensors_.emplace(t.name, &t);
  }

  Status ReadConfig(ModelConfig& c);
  Status ReadTensors(const ModelConfig& c, WeightView& token_embd, const float*& output_norm,
                     WeightView& output, bool& tied, const float*& rope_freqs,
                     std::vector<LayerWeights>& layers, uint64_t& weight_bytes,
                     uint32_t& weight_type);

 private:
  Status DataLoss(const std::string& what) const { return DataLossError(path_ + ": " + what); }
  Status Invalid(const std::string& what) const {
    return InvalidArgumentError(path_ + ": " + what);
  }

  // Unsigned integer metadata (any integer width; a negative signed value is refused).
  Result<std::optional<uint64_t>> GetUint(std::string_view key) const;
  Result<std::optional<double>> GetFloat(std::string_view key) const;
  Result<std::optional<std::string>> GetString(std::string_view key) const;
  // A required unsigned value in [1, max].
  Result<uint32_t> RequireCount(std::string_view key, uint64_t max) const;

  // The tensor `name` with exactly `want` dims (trailing dimensions of 1 beyond `want` are
  // tolerated, as ggml stores every tensor with 4). DataLoss when absent or misshapen.
  Result<const GgufTensorInfo*> Tensor(const std::string& name, std::vector<uint64_t> want) const;
  Result<WeightView> Matrix(const std::string& name, uint64_t rows, uint64_t cols);
  Result<const float*> Vector(const std::string& name, uint64_t n);
  Result<const uint8_t*> Data(const GgufTensorInfo& t) const;

  const std::string& path_;
  const GgufFile& gguf_;
  std::span<const uint8_t> bytes_;
  std::unordered_map<std::string_view, const GgufTensorInfo*> tensors_;
  // Parameters per matrix type, to name the dominant one.
  std::map<uint32_t, uint64_t> params_by_type_;
  uint64_t weight_bytes_ = 0;
};

Result<std::optional<uint64_t>> Loader::GetUint(std::string_view key) const {
  const GgufValue* v = gguf_.Find(key);
  if (v == nullptr) return std::optional<uint64_t>();
  if (auto u = v->AsUint(); u.has_value()) return std::optional<uint64_t>(*u);
  if (auto i = v->AsInt(); i.has_value()) {
    if (*i < 0) return DataLoss("metadata " + std::string(key) + " is negative");
    return std::optional<uint64_t>(static_cast<uint64_t>(*i));
  }
  if (v->AsArray() != nullptr) {
    return Invalid("metadata " + std::string(key) +
                   " is an array (per-layer values are not supported)");
  }
  return DataLoss("metadata " + std::string(key) + " is a " +
                  std::string(formats::GgufValueTypeName(v->type)) + ", want an integer");
}

Result<std::optional<double>> Loader::GetFloat(std::string_view key) const {
  const GgufValue* v = gguf_.Find(key);
  if (v == nullptr) return std::optional<double>();
  std::optional<double> x = v->AsFloat();
  if (!x.has_value()) {
    if (auto u = v->AsUint(); u.has_value()) x = static_cast<double>(*u);
    if (auto i = v->AsInt(); i.has_value()) x = static_cast<double>(*i);
  }
  if (!x.has_value()) {
    return DataLoss("metadata " + std::string(key) + " is a " +
                    std::string(formats::GgufValueTypeName(v->type)) + ", want a number");
  }
  if (!std::isfinite(*x)) return DataLoss("metadata " + std::string(key) + " is not finite");
  return x;
}

Result<std::optional<std::string>> Loader::GetString(std::string_view key) const {
  const GgufValue* v = gguf_.Find(key);
  if (v == nullptr) return std::optional<std::string>();
  const std::string* s = v->AsString();
  if (s == nullptr) {
    return DataLoss("metadata " + std::string(key) + " is a " +
                    std::string(formats::GgufValueTypeName(v->type)) + ", want a string");
  }
  return std::optional<std::string>(*s);
}

Result<uint32_t> Loader::RequireCount(std::string_view key, uint64_t max) const {
  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> v, GetUint(key));
  if (!v.has_value()) return DataLoss("metadata " + std::string(key) + " is missing");
  if (*v == 0 || *v > max) {
    return DataLoss("metadata " + std::string(key) + " = " + std::to_string(*v) +
                    " is outside [1, " + std::to_string(max) + "]");
  }
  return static_cast<uint32_t>(*v);
}

Status Loader::ReadConfig(ModelConfig& c) {
  WARDEN_ASSIGN_OR_RETURN(std::optional<std::string> arch, GetString("general.architecture"));
  if (!arch.has_value()) return DataLoss("metadata general.architecture is missing");
  if (*arch != kArchitecture) {
    return Invalid("architecture \"" + *arch +
                   "\" is not supported (supported: " + std::string(kArchitecture) + ")");
  }
  c.architecture = *arch;
  WARDEN_ASSIGN_OR_RETURN(std::optional<std::string> name, GetString("general.name"));
  c.name = name.value_or("");

  WARDEN_ASSIGN_OR_RETURN(c.n_ctx_train, RequireCount("llama.context_length", kMaxContext));
  WARDEN_ASSIGN_OR_RETURN(c.n_embd, RequireCount("llama.embedding_length", kMaxEmbedding));
  WARDEN_ASSIGN_OR_RETURN(c.n_layer, RequireCount("llama.block_count", kMaxLayers));
  WARDEN_ASSIGN_OR_RETURN(c.n_ff, RequireCount("llama.feed_forward_length", kMaxFeedForward));
  WARDEN_ASSIGN_OR_RETURN(c.n_head, RequireCount("llama.attention.head_count", kMaxHeads));

  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> n_head_kv,
                          GetUint("llama.attention.head_count_kv"));
  c.n_head_kv = static_cast<uint32_t>(n_head_kv.value_or(c.n_head));
  if (c.n_head_kv == 0 || c.n_head_kv > c.n_head || c.n_head % c.n_head_kv != 0) {
    return DataLoss(
        "metadata llama.attention.head_count_kv = " + std::to_string(n_head_kv.value_or(0)) +
        " does not divide head_count " + std::to_string(c.n_head));
  }

  // Llama models leave the head size implicit (n_embd / n_head); a file may state it.
  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> key_length,
                          GetUint("llama.attention.key_length"));
  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> value_length,
                          GetUint("llama.attention.value_length"));
  if (key_length.has_value() || value_length.has_value()) {
    const uint64_t k = key_length.value_or(value_length.value_or(0));
    const uint64_t v = value_length.value_or(k);
    if (k != v) {
      return Invalid("llama.attention.key_length " + std::to_string(k) +
                     " differs from value_length " + std::to_string(v) + " (not supported)");
    }
    if (k == 0 || k > kMaxHeadDim) {
      return DataLoss("metadata llama.attention.key_length = " + std::to_string(k) +
                      " is outside [1, " + std::to_string(kMaxHeadDim) + "]");
    }
    c.head_dim = static_cast<uint32_t>(k);
  } else {
    if (c.n_embd % c.n_head != 0) {
      return DataLoss("llama.attention.head_count " + std::to_string(c.n_head) +
                      " does not divide llama.embedding_length " + std::to_string(c.n_embd));
    }
    c.head_dim = c.n_embd / c.n_head;
    if (c.head_dim > kMaxHeadDim) {
      return DataLoss("head size " + std::to_string(c.head_dim) + " exceeds " +
                      std::to_string(kMaxHeadDim));
    }
  }
  if (c.head_dim % 2 != 0) {
    return DataLoss("head size " + std::to_string(c.head_dim) + " is odd (RoPE needs pairs)");
  }

  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> n_rot, GetUint("llama.rope.dimension_count"));
  if (n_rot.has_value() && (*n_rot == 0 || *n_rot > c.head_dim || *n_rot % 2 != 0)) {
    return DataLoss("metadata llama.rope.dimension_count = " + std::to_string(*n_rot) +
                    " must be even and in [2, head size " + std::to_string(c.head_dim) + "]");
  }
  c.n_rot = static_cast<uint32_t>(n_rot.value_or(c.head_dim));

  WARDEN_ASSIGN_OR_RETURN(std::optional<double> base, GetFloat("llama.rope.freq_base"));
  if (base.has_value() && !(*base > 1.0)) {
    return DataLoss("metadata llama.rope.freq_base = " + std::to_string(*base) +
                    " must be above 1");
  }
  c.rope_freq_base = static_cast<float>(base.value_or(kDefaultRopeFreqBase));

  // Rope scaling: the old single key, or the newer type + factor pair. Only linear scaling
  // (positions divided by the factor) is implemented; the others change the frequencies
  // in ways a silent fallback would get wrong.
  double factor = 1.0;
  WARDEN_ASSIGN_OR_RETURN(std::optional<double> scale_linear, GetFloat("llama.rope.scale_linear"));
  if (scale_linear.has_value() && *scale_linear != 0.0) factor = *scale_linear;
  WARDEN_ASSIGN_OR_RETURN(std::optional<std::string> scaling_type,
                          GetString("llama.rope.scaling.type"));
  if (scaling_type.has_value() && *scaling_type != "none") {
    if (*scaling_type != "linear") {
      return Invalid("rope scaling \"" + *scaling_type +
                     "\" (llama.rope.scaling.type) is not supported (supported: none, linear)");
    }
    WARDEN_ASSIGN_OR_RETURN(std::optional<double> f, GetFloat("llama.rope.scaling.factor"));
    // llama.cpp reads a factor of 0 as "no scaling".
    if (f.has_value() && *f != 0.0) factor = *f;
  }
  if (!(factor > 0.0) || factor > 1e6) {
    return DataLoss("rope scaling factor " + std::to_string(factor) + " is not in (0, 1e6]");
  }
  c.rope_freq_scale = static_cast<float>(1.0 / factor);

  WARDEN_ASSIGN_OR_RETURN(std::optional<double> eps,
                          GetFloat("llama.attention.layer_norm_rms_epsilon"));
  if (eps.has_value() && !(*eps > 0.0 && *eps < 1.0)) {
    return DataLoss("metadata llama.attention.layer_norm_rms_epsilon = " + std::to_string(*eps) +
                    " is not in (0, 1)");
  }
  c.rms_eps = static_cast<float>(eps.value_or(kDefaultRmsEps));

  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> experts, GetUint("llama.expert_count"));
  if (experts.value_or(0) > 0) {
    return Invalid("mixture-of-experts models (llama.expert_count = " + std::to_string(*experts) +
                   ") are not supported");
  }

  // Vocabulary size: llama.vocab_size, else the tokenizer's list, else the embedding rows.
  WARDEN_ASSIGN_OR_RETURN(std::optional<uint64_t> n_vocab, GetUint("llama.vocab_size"));
  std::optional<uint64_t> n_tokens;
  if (const GgufValue* tokens = gguf_.Find("tokenizer.ggml.tokens"); tokens != nullptr) {
    if (tokens->AsArray() == nullptr) return DataLoss("tokenizer.ggml.tokens is not an array");
    n_tokens = tokens->AsArray()->items.size();
  }
  if (!n_vocab.has_value()) n_vocab = n_tokens;
  if (!n_vocab.has_value()) {
    const GgufTensorInfo* embd = gguf_.FindTensor("token_embd.weight");
    if (embd != nullptr && embd->dims.size() >= 2) n_vocab = embd->dims[1];
  }
  if (!n_vocab.has_value()) {
    return DataLoss(
        "vocabulary size unknown: no llama.vocab_size, tokenizer.ggml.tokens "
        "or token_embd.weight");
  }
  if (*n_vocab == 0 || *n_vocab > kMaxVocab) {
    return DataLoss("vocabulary size " + std::to_string(*n_vocab) + " is outside [1, " +
                    std::to_string(kMaxVocab) + "]");
  }
  if (n_tokens.has_value() && *n_tokens != *n_vocab) {
    return DataLoss("tokenizer.ggml.tokens has " + std::to_string(*n_tokens) +
                    " tokens, the model " + std::to_string(*n_vocab));
  }
  c.n_vocab = static_cast<uint32_t>(*n_vocab);
  return Status::Ok();
}

Result<const GgufTensorInfo*> Loader::Tensor(const std::string& name,
                                             std::vector<uint64_t> want) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return DataLoss("tensor " + name + " is missing");
  const GgufTensorInfo& t = *it->second;
  bool ok = t.dims.size() >= want.size();
  for (size_t i = 0; ok && i < t.dims.size(); ++i) {
    ok = t.dims[i] == (i < want.size() ? want[i] : 1);
  }
  if (!ok) {
    return DataLoss("tensor " + name + ": shape " + DimsString(t.dims) + ", want " +
                    DimsString(want));
  }
  return &t;
}

Result<const uint8_t*> Loader::Data(const GgufTensorInfo& t) const {
  const uint64_t offset = t.AbsoluteOffset(gguf_.data_offset);
  // ParseGguf checked that the data lies inside the file; checked again because the
  // pointer arithmetic below relies on it.
  if (offset > bytes_.size() || t.size_bytes > bytes_.size() - offset) {
    return DataLoss("tensor " + t.name + ": data past the end of the file");
  }
  if (offset % kTensorDataAlignment != 0) {
    return DataLoss("tensor " + t.name + ": data at offset " + std::to_string(offset) + " is not " +
                    std::to_string(kTensorDataAlignment) + "-byte aligned");
  }
  return bytes_.data() + offset;
}

Result<WeightView> Loader::Matrix(const std::string& name, uint64_t rows, uint64_t cols) {
  WARDEN_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Tensor(name, {cols, rows}));
  if (!IsSupportedWeightType(t->type)) {
    return Invalid("tensor " + name + ": type " + formats::GgmlTypeName(t->type) +
                   " is not supported (supported: " + SupportedWeightTypeNames() + ")");
  }
  WARDEN_ASSIGN_OR_RETURN(const uint8_t* data, Data(*t));
  WeightView w;
  w.type = t->type;
  w.data = data;
  w.rows = static_cast<size_t>(rows);
  w.cols = static_cast<size_t>(cols);
  w.row_bytes = WeightRowBytes(t->type, w.cols);
  if (w.row_bytes * w.rows != t->size_bytes) {
    return DataLoss("tensor " + name + ": " + std::to_string(t->size_bytes) + " bytes, want " +
                    std::to_string(w.row_bytes * w.rows));
  }
  params_by_type_[t->type] += rows * cols;
  weight_bytes_ += t->size_bytes;
  return w;
}

Result<const float*> Loader::Vector(const std::string& name, uint64_t n) {
  WARDEN_ASSIGN_OR_RETURN(const GgufTensorInfo* t, Tensor(name, {n}));
  if (t->type != formats::kGgmlTypeF32) {
    return Invalid("tensor " + name + ": type " + formats::GgmlTypeName(t->type) +
                   " is not supported for a norm or scale vector (supported: f32)");
  }
  WARDEN_ASSIGN_OR_RETURN(const uint8_t* data, Data(*t));
  const float* values = reinterpret_cast<const float*>(data);
  for (uint64_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      return DataLoss("tensor " + name + ": element " + std::to_string(i) + " is not finite");
    }
  }
  weight_bytes_ += t->size_bytes;
  return values;
}

Status Loader::ReadTensors(const ModelConfig& c, WeightView& token_embd, const float*& output_norm,
                           WeightView& output, bool& tied, const float*& rope_freqs,
                           std::vector<LayerWeights>& layers, uint64_t& weight_bytes,
                           uint32_t& weight_type) {
  const uint64_t q_dim = uint64_t{c.n_head} * c.head_dim;
  const uint64_t kv_dim = uint64_t{c.n_head_kv} * c.head_dim;

  // Biases are legal in some llama-architecture files (e.g. converted Qwen-like models);
  // ignoring them would silently compute something else, so refuse.
  for (const GgufTensorInfo& t : gguf_.tensors) {
    const std::string_view name = t.name;
    if (name.starts_with("blk.") && name.ends_with(".bias")) {
      return Invalid("tensor " + t.name + ": bias tensors are not supported");
    }
  }

  WARDEN_ASSIGN_OR_RETURN(token_embd, Matrix("token_embd.weight", c.n_vocab, c.n_embd));
  WARDEN_ASSIGN_OR_RETURN(output_norm, Vector("output_norm.weight", c.n_embd));
  tied = tensors_.find("output.weight") == tensors_.end();
  if (tied) {
    output = token_embd;
  } else {
    WARDEN_ASSIGN_OR_RETURN(output, Matrix("output.weight", c.n_vocab, c.n_embd));
  }
  rope_freqs = nullptr;
  if (tensors_.count("rope_freqs.weight") != 0) {
    WARDEN_ASSIGN_OR_RETURN(rope_freqs, Vector("rope_freqs.weight", c.n_rot / 2));
    for (uint32_t i = 0; i < c.n_rot / 2; ++i) {
      if (!(rope_freqs[i] > 0.0f)) {
        return DataLoss("tensor rope_freqs.weight: element " + std::to_string(i) +
                        " is not positive");
      }
    }
  }

  layers.resize(c.n_layer);
  for (uint32_t i = 0; i < c.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = layers[i];
    WARDEN_ASSIGN_OR_RETURN(l.attn_norm, Vector(p + "attn_norm.weight", c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.wq, Matrix(p + "attn_q.weight", q_dim, c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.wk, Matrix(p + "attn_k.weight", kv_dim, c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.wv, Matrix(p + "attn_v.weight", kv_dim, c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.wo, Matrix(p + "attn_output.weight", c.n_embd, q_dim));
    WARDEN_ASSIGN_OR_RETURN(l.ffn_norm, Vector(p + "ffn_norm.weight", c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.w_gate, Matrix(p + "ffn_gate.weight", c.n_ff, c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.w_up, Matrix(p + "ffn_up.weight", c.n_ff, c.n_embd));
    WARDEN_ASSIGN_OR_RETURN(l.w_down, Matrix(p + "ffn_down.weight", c.n_embd, c.n_ff));
  }
  // The tensor type holding most parameters; ties go to the lower id (deterministic).
  weight_type = formats::kGgmlTypeF32;
  uint64_t best = 0;
  for (const auto& [type, params] : params_by_type_) {
    if (params > best) {
      best = params;
      weight_type = type;
    }
  }
  weight_bytes = weight_bytes_;
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::Load(const std::string& path,
                                                 const LoadOptions& options) {
  WARDEN_ASSIGN_OR_RETURN(ReadOnlyFile file, ReadOnlyFile::Open(path));
  std::shared_ptr<Model> model(new Model());
  model->path_ = path;
  {
    auto mapped = MappedRegion::Map(file.fd(), 0, file.size(), options.populate);
    if (!mapped.has_value()) return mapped.error().WithContext(path);
    model->mapping_ = std::move(mapped).value();
  }
  WARDEN_ASSIGN_OR_RETURN(model->gguf_, formats::ParseGguf(model->mapping_.bytes(), path));
  Loader loader(path, model->gguf_, model->mapping_.bytes());
  WARDEN_RETURN_IF_ERROR(loader.ReadConfig(model->config_));
  WARDEN_RETURN_IF_ERROR(loader.ReadTensors(
      model->config_, model->token_embd_, model->output_norm_, model->output_, model->tied_output_,
      model->rope_freq_factors_, model->layers_, model->weight_bytes_, model->config_.weight_type));
  return std::shared_ptr<const Model>(std::move(model));
}

}  // namespace warden::engine
