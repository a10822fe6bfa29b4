#include "formats/llama2c.h"

#include <array>
#include <cstring>
#include <utility>

#include "base/encoding.h"
#include "formats/ggml_types.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace warden::formats {

namespace {

constexpr std::array<const char*, 7> kFieldNames = {
    "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

Status Corrupt(std::string_view source, uint64_t offset, const std::string& what) {
  return DataLossError(std::string(source) + ": offset " + std::to_string(offset) + ": " + what);
}

uint32_t LoadU32(std::span<const uint8_t> b, uint64_t at) {
  return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
         static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

float LoadF32(std::span<const uint8_t> b, uint64_t at) {
  const uint32_t bits = LoadU32(b, at);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// a * b * c * 4 bytes (float32), or false on overflow.
bool F32Bytes(uint64_t a, uint64_t b, uint64_t c, uint64_t* out) {
  uint64_t n;
  return !__builtin_mul_overflow(a, b, &n) && !__builtin_mul_overflow(n, c, &n) &&
         !__builtin_mul_overflow(n, uint64_t{4}, out);
}

bool IsByteToken(std::string_view piece) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
  };
  return piece.size() == 6 && piece.substr(0, 3) == "<0x" && hex(piece[3]) && hex(piece[4]) &&
         piece[5] == '>';
}

}  // namespace

Result<Llama2cModel> ParseLlama2cModel(std::span<const uint8_t> file, std::string_view source,
                                       const Llama2cLimits& limits) {
  if (file.size() >= 4 && LoadU32(file, 0) == kLlama2cVersionedMagic) {
    return Corrupt(source, 0,
                   "magic \"ak42\": a versioned llama2.c export (version 1 or 2); only the legacy "
                   "version-0 checkpoint (7 int32 header, float32 weights) is supported");
  }
  if (file.size() < kLlama2cHeaderBytes) {
    const uint64_t field = file.size() / 4;
    return Corrupt(source, field * 4,
                   "truncated header: the file is " + std::to_string(file.size()) +
                       " bytes, the llama2.c header needs 28 (field " + kFieldNames[field] +
                       " is missing)");
  }
  std::array<int64_t, 7> h{};
  for (size_t i = 0; i < h.size(); ++i) {
    h[i] = static_cast<int32_t>(LoadU32(file, 4 * i));
  }
  const std::array<int64_t, 7> caps = {limits.max_dim,    limits.max_hidden_dim, limits.max_layers,
                                       limits.max_heads,  limits.max_heads,      limits.max_vocab,
                                       limits.max_seq_len};
  for (size_t i = 0; i < h.size(); ++i) {
    const int64_t v = i == 5 && h[i] < 0 ? -h[i] : h[i];
    if (v <= 0 || v > caps[i]) {
      return Corrupt(source, 4 * i,
                     std::string(kFieldNames[i]) + " " + std::to_string(h[i]) +
                         (v <= 0 ? " is not positive" : " is above the limit of ") +
                         (v <= 0 ? std::string() : std::to_string(caps[i])));
    }
  }
  Llama2cModel m;
  Llama2cConfig& c = m.config;
  c.dim = static_cast<uint32_t>(h[0]);
  c.hidden_dim = static_cast<uint32_t>(h[1]);
  c.n_layers = static_cast<uint32_t>(h[2]);
  c.n_heads = static_cast<uint32_t>(h[3]);
  c.n_kv_heads = static_cast<uint32_t>(h[4]);
  c.shared_classifier = h[5] > 0;
  c.vocab_size = static_cast<uint32_t>(h[5] < 0 ? -h[5] : h[5]);
  c.seq_len = static_cast<uint32_t>(h[6]);
  if (c.dim % c.n_heads != 0) {
    return Corrupt(
        source, 12,
        "n_heads " + std::to_string(c.n_heads) + " does not divide dim " + std::to_string(c.dim));
  }
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0) {
    return Corrupt(source, 16,
                   "n_kv_heads " + std::to_string(c.n_kv_heads) + " does not divide n_heads " +
                       std::to_string(c.n_heads));
  }
  if (c.head_size() % 2 != 0) {
    return Corrupt(source, 12,
                   "head size dim/n_heads = " + std::to_string(c.head_size()) +
                       " is odd (RoPE rotates pairs)");
  }
  if (c.vocab_size < 3) {
    return Corrupt(source, 20,
                   "vocab_size " + std::to_string(c.vocab_size) +
                       " is below 3 (ids 0, 1, 2 are <unk>, <s>, </s>)");
  }

  // Lay the weights out in file order, checking sizes as we go.
  std::vector<Llama2cTensor> file_order;
  uint64_t pos = kLlama2cHeaderBytes;
  auto place = [&](std::string name, std::vector<uint64_t> dims) -> Status {
    uint64_t size = 0;
    const uint64_t d1 = dims.size() > 1 ? dims[1] : 1;
    if (!F32Bytes(dims[0], d1, 1, &size) || pos + size < pos) {
      return Corrupt(source, 0, "weight sizes overflow 64 bits");
    }
    file_order.push_back(Llama2cTensor{std::move(name), std::move(dims), pos, size});
    pos += size;
    return Status::Ok();
  };
  const uint64_t dim = c.dim, hidden = c.hidden_dim, kv = c.kv_dim(), vocab = c.vocab_size;
  auto per_layer = [&](const char* suffix, std::vector<uint64_t> dims) -> Status {
    for (uint32_t l = 0; l < c.n_layers; ++l) {
      WARDEN_RETURN_IF_ERROR(place("blk." + std::to_string(l) + "." + suffix, dims));
    }
    return Status::Ok();
  };
  WARDEN_RETURN_IF_ERROR(place("token_embd.weight", {dim, vocab}));
  WARDEN_RETURN_IF_ERROR(per_layer("attn_norm.weight", {dim}));
  WARDEN_RETURN_IF_ERROR(per_layer("attn_q.weight", {dim, dim}));
  WARDEN_RETURN_IF_ERROR(per_layer("attn_k.weight", {dim, kv}));
  WARDEN_RETURN_IF_ERROR(per_layer("attn_v.weight", {dim, kv}));
  WARDEN_RETURN_IF_ERROR(per_layer("attn_output.weight", {dim, dim}));
  WARDEN_RETURN_IF_ERROR(per_layer("ffn_norm.weight", {dim}));
  WARDEN_RETURN_IF_ERROR(per_layer("ffn_gate.weight", {dim, hidden}));
  WARDEN_RETURN_IF_ERROR(per_layer("ffn_down.weight", {hidden, dim}));
  WARDEN_RETURN_IF_ERROR(per_layer("ffn_up.weight", {dim, hidden}));
  WARDEN_RETURN_IF_ERROR(place("output_norm.weight", {dim}));
  // The RoPE tables llama2.c stored (and no longer reads): seq_len x head_size/2, twice.
  WARDEN_RETURN_IF_ERROR(place("(freq_cis_real)", {c.head_size() / 2, c.seq_len}));
  WARDEN_RETURN_IF_ERROR(place("(freq_cis_imag)", {c.head_size() / 2, c.seq_len}));
  if (!c.shared_classifier) WARDEN_RETURN_IF_ERROR(place("output.weight", {dim, vocab}));

  for (const auto& t : file_order) {
    if (t.offset + t.size > file.size()) {
      return Corrupt(source, file.size(),
                     "the file ends inside " + t.name + " (bytes " + std::to_string(t.offset) +
                         ".." + std::to_string(t.offset + t.size) + "): the header implies " +
                         std::to_string(pos) + " bytes, the file has " +
                         std::to_string(file.size()));
    }
  }
  if (file.size() > pos) {
    return Corrupt(source, pos,
                   std::to_string(file.size() - pos) +
                       " unexpected bytes after the last weight: the header implies " +
                       std::to_string(pos) + " bytes, the file has " + std::to_string(file.size()) +
                       " (wrong header, or a versioned export?)");
  }

  auto find = [&](std::string_view name) -> const Llama2cTensor& {
    for (const auto& t : file_order) {
      if (t.name == name) return t;
    }
    return file_order.front();  // unreachable: every name below was placed above
  };
  m.tensors.push_back(find("token_embd.weight"));
  m.tensors.push_back(find("output_norm.weight"));
  Llama2cTensor output = find(c.shared_classifier ? "token_embd.weight" : "output.weight");
  output.name = "output.weight";
  m.tensors.push_back(std::move(output));
  static constexpr std::array<const char*, 9> kBlock = {
      "attn_q.weight",      "attn_k.weight",    "attn_v.weight",
      "attn_output.weight", "attn_norm.weight", "ffn_gate.weight",
      "ffn_down.weight",    "ffn_up.weight",    "ffn_norm.weight"};
  for (uint32_t l = 0; l < c.n_layers; ++l) {
    for (const char* suffix : kBlock) {
      m.tensors.push_back(find("blk." + std::to_string(l) + "." + suffix));
    }
  }
  return m;
}

Result<Llama2cVocab> ParseLlama2cTokenizer(std::span<const uint8_t> file, std::string_view source,
                                           uint32_t vocab_size, const Llama2cLimits& limits) {
  if (file.size() < 4) {
    return Corrupt(source, 0,
                   "truncated: the file is " + std::to_string(file.size()) +
                       " bytes, too short for max_token_length (uint32)");
  }
  Llama2cVocab v;
  v.max_token_length = LoadU32(file, 0);
  if (v.max_token_length == 0 || v.max_token_length > limits.max_token_bytes) {
    return Corrupt(source, 0,
                   "max_token_length " + std::to_string(v.max_token_length) + " is outside 1.." +
                       std::to_string(limits.max_token_bytes));
  }
  // Each token takes at least 8 bytes: refuse a count the file cannot hold before reserving.
  if (vocab_size > (file.size() - 4) / 8) {
    return Corrupt(source, file.size(),
                   "truncated: " + std::to_string(file.size()) + " bytes cannot hold the model's " +
                       std::to_string(vocab_size) + " tokens (at least 8 bytes each)");
  }
  v.pieces.reserve(vocab_size);
  v.scores.reserve(vocab_size);
  uint64_t pos = 4;
  for (uint32_t id = 0; id < vocab_size; ++id) {
    const std::string tok = "token " + std::to_string(id);
    if (file.size() - pos < 8) {
      return Corrupt(source, pos,
                     "truncated: the file ends in the score/length of " + tok + " of " +
                         std::to_string(vocab_size));
    }
    const float score = LoadF32(file, pos);
    const uint32_t len = LoadU32(file, pos + 4);
    if (len > v.max_token_length) {
      return Corrupt(source, pos + 4,
                     tok + " length " + std::to_string(len) + " exceeds max_token_length " +
                         std::to_string(v.max_token_length));
    }
    if (len > file.size() - pos - 8) {
      return Corrupt(source, pos + 8,
                     tok + " length " + std::to_string(len) + " runs past the end of the file (" +
                         std::to_string(file.size() - pos - 8) + " bytes left)");
    }
    std::string piece(reinterpret_cast<const char*>(file.data() + pos + 8), len);
    if (!IsValidUtf8(piece)) return Corrupt(source, pos + 8, tok + " is not valid UTF-8");
    v.scores.push_back(score);
    v.pieces.push_back(std::move(piece));
    pos += 8 + len;
  }
  if (pos != file.size()) {
    return Corrupt(source, pos,
                   std::to_string(file.size() - pos) + " bytes left after the model's " +
                       std::to_string(vocab_size) +
                       " tokens: the tokenizer's vocabulary size does not match the model's");
  }
  return v;
}

std::string Llama2cPieceToSpm(uint32_t id, std::string_view piece) {
  if (id == 0) return "<unk>";
  if (id == 1) return "<s>";
  if (id == 2) return "</s>";
  std::string out;
  out.reserve(piece.size());
  for (char ch : piece) {
    if (ch == ' ') {
      out += "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK
    } else {
      out += ch;
    }
  }
  return out;
}

GgufTokenType Llama2cTokenType(uint32_t id, std::string_view piece) {
  if (id == 0) return GgufTokenType::kUnknown;
  if (id == 1 || id == 2) return GgufTokenType::kControl;
  if (IsByteToken(piece)) return GgufTokenType::kByte;
  return GgufTokenType::kNormal;
}

Result<std::string> ConvertLlama2cToGguf(std::span<const uint8_t> model,
                                         std::string_view model_source,
                                         std::span<const uint8_t> tokenizer,
                                         std::string_view tokenizer_source,
                                         const ConvertOptions& options) {
  if (options.name.empty()) return InvalidArgumentError("convert: general.name must not be empty");
  WARDEN_ASSIGN_OR_RETURN(Llama2cModel m, ParseLlama2cModel(model, model_source, options.limits));
  const Llama2cConfig& c = m.config;
  WARDEN_ASSIGN_OR_RETURN(Llama2cVocab vocab, ParseLlama2cTokenizer(tokenizer, tokenizer_source,
                                                                    c.vocab_size, options.limits));

  std::vector<GgufValue> tokens, scores, types;
  tokens.reserve(c.vocab_size);
  scores.reserve(c.vocab_size);
  types.reserve(c.vocab_size);
  for (uint32_t id = 0; id < c.vocab_size; ++id) {
    tokens.push_back(GgufValue::String(Llama2cPieceToSpm(id, vocab.pieces[id])));
    scores.push_back(GgufValue::F32(vocab.scores[id]));
    types.push_back(GgufValue::I32(static_cast<int32_t>(Llama2cTokenType(id, vocab.pieces[id]))));
  }

  // Keys in the order llama.cpp's convert-llama2c-to-ggml writes them.
  GgufWriter w;
  constexpr uint32_t kNone = 0xFFFFFFFFu;
  WARDEN_RETURN_IF_ERROR(w.AddMetadata(
      "tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, std::move(tokens))));
  WARDEN_RETURN_IF_ERROR(w.AddMetadata(
      "tokenizer.ggml.scores", GgufValue::Array(GgufValueType::kFloat32, std::move(scores))));
  WARDEN_RETURN_IF_ERROR(w.AddMetadata("tokenizer.ggml.token_type",
                                       GgufValue::Array(GgufValueType::kInt32, std::move(types))));
  WARDEN_RETURN_IF_ERROR(w.AddString("tokenizer.ggml.model", "llama"));
  WARDEN_RETURN_IF_ERROR(w.AddString("general.architecture", "llama"));
  WARDEN_RETURN_IF_ERROR(w.AddString("general.name", options.name));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.unknown_token_id", 0));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.bos_token_id", 1));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.eos_token_id", 2));
  // Written (as "none") by llama.cpp's converter, misspelling included; kept for identity.
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.seperator_token_id", kNone));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("tokenizer.ggml.padding_token_id", kNone));
  WARDEN_RETURN_IF_ERROR(w.AddUint32(
      "llama.context_length", options.context_length != 0 ? options.context_length : c.seq_len));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.embedding_length", c.dim));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.feed_forward_length", c.hidden_dim));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.attention.head_count", c.n_heads));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.attention.head_count_kv", c.n_kv_heads));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.block_count", c.n_layers));
  WARDEN_RETURN_IF_ERROR(w.AddUint32("llama.rope.dimension_count", c.head_size()));
  WARDEN_RETURN_IF_ERROR(
      w.AddFloat32("llama.attention.layer_norm_rms_epsilon", options.rms_norm_eps));
  // llama2.c and GGUF both store a weight as rows of dims[0] floats, in the same order, and
  // llama2.c's RoPE rotates adjacent pairs exactly as ggml's "normal" rope mode does, so the
  // bytes are copied unchanged (no q/k permutation, unlike the Hugging Face converter).
  for (const auto& t : m.tensors) {
    WARDEN_RETURN_IF_ERROR(
        w.AddTensor(t.name, kGgmlTypeF32, t.dims, model.subspan(t.offset, t.size)));
  }
  return w.WriteToString();
}

}  // namespace warden::formats
