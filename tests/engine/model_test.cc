// Model loading (engine/model.h): what is read from a llama GGUF, and a table of corrupted
// or unsupported files, each named by its mutation, each refused with a message naming what
// is wrong.
#include "engine/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "common/temp_dir.h"
#include "engine/context.h"
#include "engine/synthetic_model.h"
#include "engine/tokenizer.h"
#include "formats/ggml_types.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace warden::engine {
namespace {

using formats::GgufValue;
using formats::GgufValueType;
using formats::kGgmlTypeBF16;
using formats::kGgmlTypeF16;
using formats::kGgmlTypeF32;
using formats::kGgmlTypeQ4_0;
using formats::kGgmlTypeQ8_0;
constexpr uint32_t kGgmlTypeQ5_1 = 7;

constexpr char kStoriesPath[] = WARDEN_SOURCE_DIR "/data/models/stories260K.gguf";

// A GGUF image as editable parts, re-encoded with GgufWriter after a mutation.
struct Parts {
  struct Tensor {
    std::string name;
    uint32_t type;
    std::vector<uint64_t> dims;
    std::string data;
  };
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::vector<Tensor> tensors;
  uint64_t alignment = formats::kGgufDefaultAlignment;

  static Parts From(const std::string& bytes) {
    auto f = formats::ParseGguf(
        std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "parts");
    EXPECT_TRUE(f.has_value()) << f.error().ToString();
    Parts p;
    for (const auto& [key, value] : f->metadata) {
      if (key != formats::kGgufAlignmentKey) p.metadata.emplace_back(key, value);
    }
    for (const auto& t : f->tensors) {
      p.tensors.push_back(
          {t.name, t.type, t.dims, bytes.substr(t.AbsoluteOffset(f->data_offset), t.size_bytes)});
    }
    return p;
  }

  void Set(const std::string& key, GgufValue value) {
    for (auto& [k, v] : metadata) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    metadata.emplace_back(key, std::move(value));
  }
  void Erase(const std::string& key) {
    std::erase_if(metadata, [&](const auto& kv) { return kv.first == key; });
  }
  void EraseTensor(const std::string& name) {
    std::erase_if(tensors, [&](const Tensor& t) { return t.name == name; });
  }
  Tensor* Find(const std::string& name) {
    for (Tensor& t : tensors) {
      if (t.name == name) return &t;
    }
    ADD_FAILURE() << "no tensor " << name;
    return nullptr;
  }
  // Gives a tensor a new type and shape, with zero bytes of the right size.
  void Reshape(const std::string& name, uint32_t type, std::vector<uint64_t> dims) {
    Tensor* t = Find(name);
    if (t == nullptr) return;
    auto bytes = formats::TensorBytes(type, dims);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
    t->type = type;
    t->dims = std::move(dims);
    t->data.assign(*bytes, '\0');
  }
  void AddTensor(const std::string& name, uint32_t type, std::vector<uint64_t> dims) {
    tensors.push_back({name, type, {}, {}});
    Reshape(name, type, std::move(dims));
  }

  std::string Write() const {
    formats::GgufWriter w;
    EXPECT_TRUE(w.SetAlignment(alignment).ok());
    for (const auto& [k, v] : metadata) EXPECT_TRUE(w.AddMetadata(k, v).ok()) << k;
    for (const Tensor& t : tensors) {
      EXPECT_TRUE(w.AddTensor(t.name, t.type, t.dims, t.data).ok()) << t.name;
    }
    return w.WriteToString();
  }
};

// The base model of the table: 64 wide, 4 heads of 16, 2 KV heads, 2 layers, 320 tokens.
SyntheticModelSpec BaseSpec() {
  SyntheticModelSpec spec;
  spec.n_vocab = 320;
  spec.n_embd = 64;
  spec.n_layer = 2;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 96;
  spec.n_ctx = 128;
  return spec;
}

class ModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bytes = SyntheticModelBytes(BaseSpec());
    ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
    base_ = *bytes;
  }
  Result<std::shared_ptr<const Model>> LoadBytes(const std::string& bytes) {
    return Model::Load(dir_.Write("model.gguf", bytes));
  }
  Result<std::shared_ptr<const Model>> LoadMutated(const std::function<void(Parts&)>& mutate) {
    Parts p = Parts::From(base_);
    mutate(p);
    return LoadBytes(p.Write());
  }

  testing::TempDir dir_;
  std::string base_;
};

TEST_F(ModelTest, LoadsEveryHyperParameterFromMetadata) {
  SyntheticModelSpec spec = BaseSpec();
  spec.n_rot = 8;
  spec.rope_freq_base = 500000.0f;
  spec.rms_eps = 1e-6f;
  spec.name = "tiny test";
  auto model = Model::Load(dir_.Write("m.gguf", *SyntheticModelBytes(spec)));
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  const ModelConfig& c = (*model)->config();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.name, "tiny test");
  EXPECT_EQ(c.n_vocab, 320u);
  EXPECT_EQ(c.n_embd, 64u);
  EXPECT_EQ(c.n_layer, 2u);
  EXPECT_EQ(c.n_head, 4u);
  EXPECT_EQ(c.n_head_kv, 2u);
  EXPECT_EQ(c.head_dim, 16u);
  EXPECT_EQ(c.n_rot, 8u);
  EXPECT_EQ(c.n_ff, 96u);
  EXPECT_EQ(c.n_ctx_train, 128u);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-6f);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 500000.0f);
  EXPECT_FLOAT_EQ(c.rope_freq_scale, 1.0f);
  EXPECT_EQ(c.weight_type, kGgmlTypeF32);
  EXPECT_FALSE((*model)->tied_output());
}

TEST_F(ModelTest, AbsentOptionalKeysTakeLlamaDefaults) {
  auto model = LoadMutated([](Parts& p) {
    p.Erase("llama.attention.head_count_kv");
    p.Erase("llama.rope.dimension_count");
    p.Erase("llama.rope.freq_base");
    p.Erase("llama.attention.layer_norm_rms_epsilon");
    // Without head_count_kv the KV projections are as wide as the queries.
    for (int i = 0; i < 2; ++i) {
      const std::string b = "blk." + std::to_string(i) + ".";
      p.Reshape(b + "attn_k.weight", kGgmlTypeF32, {64, 64});
      p.Reshape(b + "attn_v.weight", kGgmlTypeF32, {64, 64});
    }
  });
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  const ModelConfig& c = (*model)->config();
  EXPECT_EQ(c.n_head_kv, c.n_head);
  EXPECT_EQ(c.n_rot, c.head_dim);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 10000.0f);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);
}

TEST_F(ModelTest, WeightBytesCountEveryTensorRead) {
  auto model = LoadBytes(base_);
  ASSERT_TRUE(model.has_value());
  auto f = formats::ParseGguf(
      std::span(reinterpret_cast<const uint8_t*>(base_.data()), base_.size()), "m");
  ASSERT_TRUE(f.has_value());
  uint64_t total = 0;
  for (const auto& t : f->tensors) total += t.size_bytes;
  EXPECT_EQ((*model)->weight_bytes(), total);
}

TEST_F(ModelTest, MissingOutputIsTiedToTheEmbedding) {
  auto model = LoadMutated([](Parts& p) { p.EraseTensor("output.weight"); });
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  EXPECT_TRUE((*model)->tied_output());
  EXPECT_EQ((*model)->output().data, (*model)->token_embedding().data);
}

TEST_F(ModelTest, TrailingUnitDimensionsAreAccepted) {
  // ggml keeps 4 dimensions; a writer may store the trailing 1s.
  auto model = LoadMutated([](Parts& p) {
    p.Reshape("blk.0.attn_q.weight", kGgmlTypeF32, {64, 64, 1, 1});
    p.Reshape("output_norm.weight", kGgmlTypeF32, {64, 1});
  });
  EXPECT_TRUE(model.has_value()) << model.error().ToString();
}

TEST_F(ModelTest, UnknownExtraTensorsAreIgnored) {
  auto model = LoadMutated([](Parts& p) { p.AddTensor("blk.0.something_new", kGgmlTypeF32, {7}); });
  EXPECT_TRUE(model.has_value()) << model.error().ToString();
}

TEST_F(ModelTest, LinearRopeScalingIsRead) {
  auto typed = LoadMutated([](Parts& p) {
    p.Set("llama.rope.scaling.type", GgufValue::String("linear"));
    p.Set("llama.rope.scaling.factor", GgufValue::F32(4.0f));
  });
  ASSERT_TRUE(typed.has_value()) << typed.error().ToString();
  EXPECT_FLOAT_EQ((*typed)->config().rope_freq_scale, 0.25f);
  auto legacy =
      LoadMutated([](Parts& p) { p.Set("llama.rope.scale_linear", GgufValue::F32(2.0f)); });
  ASSERT_TRUE(legacy.has_value()) << legacy.error().ToString();
  EXPECT_FLOAT_EQ((*legacy)->config().rope_freq_scale, 0.5f);
}

TEST_F(ModelTest, MixedWeightTypesLoadAndNameTheDominantOne) {
  SyntheticModelSpec spec = BaseSpec();
  spec.weight_type = kGgmlTypeQ8_0;
  Parts p = Parts::From(*SyntheticModelBytes(spec));
  p.Reshape("blk.0.attn_q.weight", kGgmlTypeF16, {64, 64});
  p.Reshape("blk.1.ffn_down.weight", kGgmlTypeQ4_0, {96, 64});
  auto model = LoadBytes(p.Write());
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  EXPECT_EQ((*model)->config().weight_type, kGgmlTypeQ8_0);
  EXPECT_EQ((*model)->layer(0).wq.type, kGgmlTypeF16);
  EXPECT_EQ((*model)->layer(1).w_down.type, kGgmlTypeQ4_0);
  EXPECT_EQ((*model)->layer(1).w_down.row_bytes, 96u / 32 * 18);
}

TEST_F(ModelTest, MetadataStaysReachableForTheTokenizer) {
  auto model = LoadBytes(base_);
  ASSERT_TRUE(model.has_value());
  const GgufValue* m = (*model)->gguf().Find("tokenizer.ggml.model");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m->AsString(), "llama");
  EXPECT_EQ((*model)->path(), dir_ / "model.gguf");
}

TEST_F(ModelTest, LoadsStories260K) {
  auto model = Model::Load(kStoriesPath, {.populate = true});
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  const ModelConfig& c = (*model)->config();
  EXPECT_EQ(c.n_vocab, 512u);
  EXPECT_EQ(c.n_embd, 64u);
  EXPECT_EQ(c.n_layer, 5u);
  EXPECT_EQ(c.n_head, 8u);
  EXPECT_EQ(c.n_head_kv, 4u);
  EXPECT_EQ(c.head_dim, 8u);
  EXPECT_EQ(c.n_rot, 8u);
  EXPECT_EQ(c.n_ff, 172u);
  EXPECT_EQ(c.n_ctx_train, 2048u);
  EXPECT_FLOAT_EQ(c.rms_eps, 1e-5f);
  EXPECT_EQ(c.weight_type, kGgmlTypeF32);
  EXPECT_FALSE((*model)->tied_output());
}

TEST_F(ModelTest, MissingFileIsNotFound) {
  auto model = Model::Load(dir_ / "absent.gguf");
  ASSERT_FALSE(model.has_value());
  EXPECT_EQ(model.error().code(), StatusCode::kNotFound);
}

// ---------------------------------------------------------------------------------------
// The corruption table.

struct Corruption {
  const char* name;
  std::function<void(Parts&)> mutate;
  StatusCode code;
  std::string message;  // a substring of the error message
};

const GgufValue kU32(uint32_t v) { return GgufValue::U32(v); }

std::vector<Corruption> Corruptions() {
  return {
      {"missing_tensor", [](Parts& p) { p.EraseTensor("blk.1.ffn_up.weight"); },
       StatusCode::kDataLoss, "tensor blk.1.ffn_up.weight is missing"},
      {"missing_output_norm", [](Parts& p) { p.EraseTensor("output_norm.weight"); },
       StatusCode::kDataLoss, "tensor output_norm.weight is missing"},
      {"missing_embedding", [](Parts& p) { p.EraseTensor("token_embd.weight"); },
       StatusCode::kDataLoss, "tensor token_embd.weight is missing"},
      {"wrong_shape",
       [](Parts& p) {
         p.Reshape("blk.0.attn_q.weight", kGgmlTypeF32, {64, 32});
       },
       StatusCode::kDataLoss, "tensor blk.0.attn_q.weight: shape [64, 32], want [64, 64]"},
      {"transposed_ffn_down",
       [](Parts& p) {
         p.Reshape("blk.1.ffn_down.weight", kGgmlTypeF32, {64, 96});
       },
       StatusCode::kDataLoss, "tensor blk.1.ffn_down.weight: shape [64, 96], want [96, 64]"},
      {"kv_projection_for_all_heads",
       [](Parts& p) {
         p.Reshape("blk.0.attn_k.weight", kGgmlTypeF32, {64, 64});
       },
       StatusCode::kDataLoss, "tensor blk.0.attn_k.weight: shape [64, 64], want [64, 32]"},
      {"extra_dimension",
       [](Parts& p) {
         p.Reshape("token_embd.weight", kGgmlTypeF32, {64, 320, 2});
       },
       StatusCode::kDataLoss, "tensor token_embd.weight: shape [64, 320, 2], want [64, 320]"},
      {"norm_as_matrix",
       [](Parts& p) {
         p.Reshape("blk.0.ffn_norm.weight", kGgmlTypeF32, {64, 2});
       },
       StatusCode::kDataLoss, "tensor blk.0.ffn_norm.weight: shape [64, 2], want [64]"},
      {"unsupported_type_q5_1",
       [](Parts& p) {
         p.Reshape("blk.0.attn_k.weight", kGgmlTypeQ5_1, {64, 32});
       },
       StatusCode::kInvalidArgument,
       "tensor blk.0.attn_k.weight: type q5_1 is not supported (supported: " +
           SupportedWeightTypeNames() + ")"},
      {"unsupported_type_bf16",
       [](Parts& p) {
         p.Reshape("output.weight", kGgmlTypeBF16, {64, 320});
       },
       StatusCode::kInvalidArgument, "tensor output.weight: type bf16 is not supported"},
      {"quantized_norm", [](Parts& p) { p.Reshape("blk.1.attn_norm.weight", kGgmlTypeF16, {64}); },
       StatusCode::kInvalidArgument,
       "tensor blk.1.attn_norm.weight: type f16 is not supported for a norm or scale vector "
       "(supported: f32)"},
      {"norm_not_finite",
       [](Parts& p) {
         const float nan = std::numeric_limits<float>::quiet_NaN();
         std::memcpy(p.Find("output_norm.weight")->data.data() + 12, &nan, 4);
       },
       StatusCode::kDataLoss, "tensor output_norm.weight: element 3 is not finite"},
      {"architecture_gpt2",
       [](Parts& p) { p.Set("general.architecture", GgufValue::String("gpt2")); },
       StatusCode::kInvalidArgument, "architecture \"gpt2\" is not supported (supported: llama)"},
      {"architecture_missing", [](Parts& p) { p.Erase("general.architecture"); },
       StatusCode::kDataLoss, "metadata general.architecture is missing"},
      {"architecture_not_a_string", [](Parts& p) { p.Set("general.architecture", kU32(1)); },
       StatusCode::kDataLoss, "metadata general.architecture is a uint32, want a string"},
      {"head_count_zero", [](Parts& p) { p.Set("llama.attention.head_count", kU32(0)); },
       StatusCode::kDataLoss, "metadata llama.attention.head_count = 0 is outside [1, 1024]"},
      {"head_count_kv_not_dividing",
       [](Parts& p) { p.Set("llama.attention.head_count_kv", kU32(3)); }, StatusCode::kDataLoss,
       "metadata llama.attention.head_count_kv = 3 does not divide head_count 4"},
      {"head_count_kv_above_head_count",
       [](Parts& p) { p.Set("llama.attention.head_count_kv", kU32(8)); }, StatusCode::kDataLoss,
       "head_count_kv = 8 does not divide head_count 4"},
      {"head_count_not_dividing_embedding",
       [](Parts& p) { p.Set("llama.attention.head_count", kU32(6)); }, StatusCode::kDataLoss,
       "llama.attention.head_count 6 does not divide llama.embedding_length 64"},
      {"odd_head_size",
       [](Parts& p) {
         p.Set("llama.attention.head_count", kU32(64));
         p.Set("llama.attention.head_count_kv", kU32(64));
       },
       StatusCode::kDataLoss, "head size 1 is odd"},
      {"rope_dimensions_above_head_size",
       [](Parts& p) { p.Set("llama.rope.dimension_count", kU32(32)); }, StatusCode::kDataLoss,
       "llama.rope.dimension_count = 32 must be even and in [2, head size 16]"},
      {"rope_dimensions_odd", [](Parts& p) { p.Set("llama.rope.dimension_count", kU32(7)); },
       StatusCode::kDataLoss, "llama.rope.dimension_count = 7"},
      {"rope_scaling_yarn",
       [](Parts& p) { p.Set("llama.rope.scaling.type", GgufValue::String("yarn")); },
       StatusCode::kInvalidArgument,
       "rope scaling \"yarn\" (llama.rope.scaling.type) is not supported (supported: none, "
       "linear)"},
      {"rope_scaling_negative",
       [](Parts& p) { p.Set("llama.rope.scale_linear", GgufValue::F32(-2.0f)); },
       StatusCode::kDataLoss, "rope scaling factor"},
      {"rope_freq_base_zero", [](Parts& p) { p.Set("llama.rope.freq_base", GgufValue::F32(0.0f)); },
       StatusCode::kDataLoss, "llama.rope.freq_base"},
      {"rms_epsilon_negative",
       [](Parts& p) { p.Set("llama.attention.layer_norm_rms_epsilon", GgufValue::F32(-1e-5f)); },
       StatusCode::kDataLoss, "llama.attention.layer_norm_rms_epsilon"},
      {"rms_epsilon_not_finite",
       [](Parts& p) { p.Set("llama.attention.layer_norm_rms_epsilon", GgufValue::F32(INFINITY)); },
       StatusCode::kDataLoss, "is not finite"},
      {"block_count_missing", [](Parts& p) { p.Erase("llama.block_count"); }, StatusCode::kDataLoss,
       "metadata llama.block_count is missing"},
      {"block_count_huge", [](Parts& p) { p.Set("llama.block_count", kU32(2000)); },
       StatusCode::kDataLoss, "metadata llama.block_count = 2000 is outside [1, 1024]"},
      {"block_count_beyond_tensors", [](Parts& p) { p.Set("llama.block_count", kU32(3)); },
       StatusCode::kDataLoss, "tensor blk.2.attn_norm.weight is missing"},
      {"context_length_too_long",
       [](Parts& p) { p.Set("llama.context_length", kU32(uint32_t{1} << 21)); },
       StatusCode::kDataLoss, "metadata llama.context_length = 2097152 is outside"},
      {"embedding_length_negative",
       [](Parts& p) { p.Set("llama.embedding_length", GgufValue::I32(-64)); },
       StatusCode::kDataLoss, "metadata llama.embedding_length is negative"},
      {"embedding_length_a_string",
       [](Parts& p) { p.Set("llama.embedding_length", GgufValue::String("64")); },
       StatusCode::kDataLoss, "metadata llama.embedding_length is a string, want an integer"},
      {"feed_forward_length_per_layer",
       [](Parts& p) {
         p.Set("llama.feed_forward_length",
               GgufValue::Array(GgufValueType::kUint32, {kU32(96), kU32(96)}));
       },
       StatusCode::kInvalidArgument,
       "metadata llama.feed_forward_length is an array (per-layer values are not supported)"},
      {"vocab_size_disagrees_with_tokens", [](Parts& p) { p.Set("llama.vocab_size", kU32(400)); },
       StatusCode::kDataLoss, "tokenizer.ggml.tokens has 320 tokens, the model 400"},
      {"key_length_differs_from_value_length",
       [](Parts& p) {
         p.Set("llama.attention.key_length", kU32(16));
         p.Set("llama.attention.value_length", kU32(32));
       },
       StatusCode::kInvalidArgument, "key_length 16 differs from value_length 32"},
      {"bias_tensor", [](Parts& p) { p.AddTensor("blk.0.attn_q.bias", kGgmlTypeF32, {64}); },
       StatusCode::kInvalidArgument, "tensor blk.0.attn_q.bias: bias tensors are not supported"},
      {"mixture_of_experts", [](Parts& p) { p.Set("llama.expert_count", kU32(8)); },
       StatusCode::kInvalidArgument,
       "mixture-of-experts models (llama.expert_count = 8) are not supported"},
      {"rope_freqs_wrong_length",
       [](Parts& p) { p.AddTensor("rope_freqs.weight", kGgmlTypeF32, {4}); }, StatusCode::kDataLoss,
       "tensor rope_freqs.weight: shape [4], want [8]"},
      {"rope_freqs_zero", [](Parts& p) { p.AddTensor("rope_freqs.weight", kGgmlTypeF32, {8}); },
       StatusCode::kDataLoss, "tensor rope_freqs.weight: element 0 is not positive"},
  };
}

class ModelCorruptionTest : public ModelTest, public ::testing::WithParamInterface<Corruption> {};

TEST_P(ModelCorruptionTest, IsRefusedNamingTheFault) {
  auto model = LoadMutated(GetParam().mutate);
  ASSERT_FALSE(model.has_value()) << GetParam().name;
  EXPECT_EQ(model.error().code(), GetParam().code) << model.error().ToString();
  EXPECT_NE(model.error().message().find(GetParam().message), std::string::npos)
      << model.error().message();
  // Every message starts with the file.
  EXPECT_EQ(model.error().message().rfind(dir_ / "model.gguf", 0), 0u) << model.error().message();
}

INSTANTIATE_TEST_SUITE_P(Table, ModelCorruptionTest, ::testing::ValuesIn(Corruptions()),
                         [](const auto& info) { return std::string(info.param.name); });

// Byte-level damage (not expressible as parts).
TEST_F(ModelTest, TruncatedFileIsRefused) {
  for (size_t cut : {base_.size() - 1, base_.size() / 2, size_t{100}, size_t{4}}) {
    auto model = LoadBytes(base_.substr(0, cut));
    ASSERT_FALSE(model.has_value()) << cut;
    EXPECT_EQ(model.error().code(), StatusCode::kDataLoss) << model.error().ToString();
  }
}

TEST_F(ModelTest, EmptyFileIsRefused) {
  auto model = LoadBytes("");
  ASSERT_FALSE(model.has_value());
  EXPECT_EQ(model.error().code(), StatusCode::kDataLoss);
}

TEST_F(ModelTest, NotAGgufFileIsRefused) {
  auto model = LoadBytes("just some text, not a model\n");
  ASSERT_FALSE(model.has_value());
  EXPECT_EQ(model.error().code(), StatusCode::kDataLoss);
}

TEST_F(ModelTest, MisalignedTensorDataIsRefused) {
  // With general.alignment 1 the data section may start anywhere; vary the header length
  // until it starts at an odd offset, then the first F32 norm cannot be read in place.
  for (size_t pad = 0; pad < 4; ++pad) {
    Parts p = Parts::From(base_);
    p.alignment = 1;
    p.Set("general.name", GgufValue::String(std::string(pad + 1, 'x')));
    const std::string bytes = p.Write();
    auto f = formats::ParseGguf(
        std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "m");
    ASSERT_TRUE(f.has_value());
    if (f->data_offset % 4 == 0) continue;
    auto model = LoadBytes(bytes);
    ASSERT_FALSE(model.has_value());
    EXPECT_EQ(model.error().code(), StatusCode::kDataLoss);
    EXPECT_NE(model.error().message().find("is not 4-byte aligned"), std::string::npos)
        << model.error().message();
    return;
  }
  FAIL() << "no padding gave a misaligned data section";
}

// ---------------------------------------------------------------------------------------
// Context creation limits that depend on the model's shape.

TEST_F(ModelTest, HugeKvCacheIsRefusedBeforeAllocating) {
  // 8 KV heads of 1024 (llama.attention.key_length) on a 32-wide model: 2 layers x 2 x 8192
  // floats = 128 KiB per position, so 2^20 positions need 128 GiB: above kMaxKvCacheBytes
  // (64 GiB) on any machine. The tensors are small (32 columns, Q4_0 zeros).
  SyntheticModelSpec spec = BaseSpec();
  spec.n_embd = 32;
  spec.n_head = 8;
  spec.n_head_kv = 8;
  spec.n_ff = 32;
  spec.n_vocab = 259;
  spec.weight_type = kGgmlTypeQ4_0;
  Parts p = Parts::From(*SyntheticModelBytes(spec));
  p.Set("llama.attention.key_length", kU32(1024));
  p.Set("llama.attention.value_length", kU32(1024));
  for (int i = 0; i < 2; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    p.Reshape(b + "attn_q.weight", kGgmlTypeQ4_0, {32, 8192});
    p.Reshape(b + "attn_k.weight", kGgmlTypeQ4_0, {32, 8192});
    p.Reshape(b + "attn_v.weight", kGgmlTypeQ4_0, {32, 8192});
    p.Reshape(b + "attn_output.weight", kGgmlTypeQ4_0, {8192, 32});
  }
  auto model = LoadBytes(p.Write());
  ASSERT_TRUE(model.has_value()) << model.error().ToString();
  EXPECT_EQ((*model)->config().head_dim, 1024u);

  auto huge = Context::Create(*model, {.n_ctx = kMaxContext, .threads = 1});
  ASSERT_FALSE(huge.has_value());
  EXPECT_EQ(huge.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(huge.error().message().find("KV cache of 65536 MiB for 1048576 positions"),
            std::string::npos)
      << huge.error().message();

  // A modest context on the same model is fine, and runs.
  auto ctx = Context::Create(*model, {.n_ctx = 8, .threads = 1});
  ASSERT_TRUE(ctx.has_value()) << ctx.error().ToString();
  const std::vector<Token> tokens = {1, 2};
  EXPECT_TRUE((*ctx)->Decode(tokens).has_value());
}

// ---------------------------------------------------------------------------------------
// The synthetic model writer (engine/synthetic_model.h).

namespace synthetic {

TEST(SyntheticModelTest, SameSpecGivesTheSameBytes) {
  auto a = SyntheticModelBytes(BaseSpec());
  auto b = SyntheticModelBytes(BaseSpec());
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*a, *b);
  SyntheticModelSpec other = BaseSpec();
  other.seed = 2;
  auto c = SyntheticModelBytes(other);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(a->size(), c->size());
  EXPECT_NE(*a, *c);
}

TEST(SyntheticModelTest, WeightsHaveTheRequestedSpread) {
  SyntheticModelSpec spec = BaseSpec();
  spec.init_std = 0.05f;
  const std::string bytes = *SyntheticModelBytes(spec);
  Parts p = Parts::From(bytes);
  const Parts::Tensor* q = p.Find("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  std::vector<float> w(q->data.size() / 4);
  std::memcpy(w.data(), q->data.data(), q->data.size());
  double sum = 0, sum2 = 0;
  for (float v : w) {
    sum += v;
    sum2 += double{v} * v;
  }
  const double mean = sum / w.size(), std = std::sqrt(sum2 / w.size() - mean * mean);
  // 4096 uniform samples: the sample std is within a few percent of the true one.
  EXPECT_NEAR(std, 0.05, 0.005);
  EXPECT_NEAR(mean, 0.0, 0.005);
  const Parts::Tensor* norm = p.Find("blk.0.ffn_norm.weight");
  ASSERT_NE(norm, nullptr);
  for (size_t i = 0; i < 64; ++i) {
    float v;
    std::memcpy(&v, norm->data.data() + 4 * i, 4);
    EXPECT_GE(v, 0.75f);
    EXPECT_LE(v, 1.25f);
  }
}

TEST(SyntheticModelTest, VocabularyIsSentencePieceWithByteTokens) {
  const std::string bytes = *SyntheticModelBytes(BaseSpec());
  auto f = formats::ParseGguf(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "m");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(*f->Find("tokenizer.ggml.model")->AsString(), "llama");
  const auto& tokens = f->Find("tokenizer.ggml.tokens")->AsArray()->items;
  ASSERT_EQ(tokens.size(), 320u);
  EXPECT_EQ(*tokens[0].AsString(), "<unk>");
  EXPECT_EQ(*tokens[1].AsString(), "<s>");
  EXPECT_EQ(*tokens[2].AsString(), "</s>");
  EXPECT_EQ(*tokens[3].AsString(), "<0x00>");
  EXPECT_EQ(*tokens[3 + 0x0A].AsString(), "<0x0A>");
  EXPECT_EQ(*tokens[258].AsString(), "<0xFF>");
  const std::string word_start = "\xE2\x96\x81";  // U+2581
  EXPECT_EQ(*tokens[259].AsString(), word_start);
  EXPECT_EQ(*tokens[260].AsString(), word_start + "a");
  EXPECT_EQ(*tokens[261].AsString(), "a");
  EXPECT_EQ(f->Find("tokenizer.ggml.scores")->AsArray()->items.size(), 320u);
  const auto& types = f->Find("tokenizer.ggml.token_type")->AsArray()->items;
  ASSERT_EQ(types.size(), 320u);
  EXPECT_EQ(*types[0].AsInt(), 2);    // unknown
  EXPECT_EQ(*types[1].AsInt(), 3);    // control
  EXPECT_EQ(*types[100].AsInt(), 6);  // byte
  EXPECT_EQ(*types[300].AsInt(), 1);  // normal
  EXPECT_EQ(*f->Find("tokenizer.ggml.bos_token_id")->AsUint(), 1u);
  EXPECT_EQ(*f->Find("tokenizer.ggml.eos_token_id")->AsUint(), 2u);
}

TEST(SyntheticModelTest, TokenizerLoadsTheVocabularyAndRoundTrips) {
  const std::string bytes = *SyntheticModelBytes(BaseSpec());
  auto f = formats::ParseGguf(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "m");
  ASSERT_TRUE(f.has_value());
  auto tokenizer = Tokenizer::FromGguf(*f, "m");
  ASSERT_TRUE(tokenizer.has_value()) << tokenizer.error().ToString();
  const std::string text = "a b\nzz \xC3\xA9";  // filler pieces, bytes, a 2-byte character
  auto ids = tokenizer->Encode(text);
  ASSERT_TRUE(ids.has_value()) << ids.error().ToString();
  EXPECT_EQ((*ids)[0], 1);  // BOS
  for (Token id : *ids) EXPECT_LT(id, 320);
  EXPECT_EQ(tokenizer->Decode(*ids), text);
}

struct BadSpec {
  const char* name;
  std::function<void(SyntheticModelSpec&)> mutate;
};

class SyntheticModelSpecTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(SyntheticModelSpecTest, IsRefused) {
  SyntheticModelSpec spec = BaseSpec();
  GetParam().mutate(spec);
  auto bytes = SyntheticModelBytes(spec);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SyntheticModelSpecTest,
    ::testing::Values(
        BadSpec{"vocab_too_small", [](SyntheticModelSpec& s) { s.n_vocab = 258; }},
        BadSpec{"zero_layers", [](SyntheticModelSpec& s) { s.n_layer = 0; }},
        BadSpec{"kv_heads_not_dividing", [](SyntheticModelSpec& s) { s.n_head_kv = 3; }},
        BadSpec{"odd_head_size",
                [](SyntheticModelSpec& s) {
                  s.n_head = 64;
                  s.n_head_kv = 64;
                }},
        BadSpec{"odd_rope_dimensions", [](SyntheticModelSpec& s) { s.n_rot = 3; }},
        BadSpec{"rope_dimensions_above_head", [](SyntheticModelSpec& s) { s.n_rot = 32; }},
        BadSpec{"rows_not_whole_blocks",
                [](SyntheticModelSpec& s) {
                  s.weight_type = kGgmlTypeQ8_0;
                  s.n_ff = 100;
                }},
        BadSpec{"unsupported_type", [](SyntheticModelSpec& s) { s.weight_type = kGgmlTypeBF16; }},
        BadSpec{"zero_spread", [](SyntheticModelSpec& s) { s.init_std = 0.0f; }}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace synthetic

}  // namespace
}  // namespace warden::engine
