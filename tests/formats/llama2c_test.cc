#include "formats/llama2c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "formats/format_test_util.h"
#include "formats/ggml_types.h"
#include "formats/gguf.h"

namespace warden::formats {
namespace {

using testing::Bytes;

std::string ReadData(const std::string& name) {
  auto s = ReadFileToString(std::string(WARDEN_SOURCE_DIR) + "/data/models/" + name, 16 << 20);
  EXPECT_TRUE(s.has_value()) << name;
  return s.has_value() ? *s : std::string();
}

std::string F32(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  Bytes b;
  b.U32(bits);
  return b.str();
}

// A synthetic checkpoint: header then `floats` float32 values 0, 1, 2, ...
std::string Model(std::vector<int32_t> header, uint64_t floats) {
  Bytes b;
  for (int32_t v : header) b.U32(static_cast<uint32_t>(v));
  for (uint64_t i = 0; i < floats; ++i) b.Raw(F32(static_cast<float>(i)));
  return b.str();
}

// Floats a tiny model with this shape needs (shared classifier).
uint64_t TinyFloats(uint64_t dim, uint64_t hidden, uint64_t layers, uint64_t heads, uint64_t kv,
                    uint64_t vocab, uint64_t seq) {
  const uint64_t kv_dim = dim / heads * kv;
  return vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * dim * kv_dim + 3 * dim * hidden) +
         dim + 2 * seq * (dim / heads / 2);
}

// dim 8, hidden 12, 1 layer, 2 heads, 1 kv head, vocab 5, seq_len 4.
const std::vector<int32_t> kTinyHeader = {8, 12, 1, 2, 1, 5, 4};
const uint64_t kTinyFloats = TinyFloats(8, 12, 1, 2, 1, 5, 4);

std::string Tokenizer(uint32_t max_len, const std::vector<std::string>& pieces) {
  Bytes b;
  b.U32(max_len);
  for (size_t i = 0; i < pieces.size(); ++i) {
    b.Raw(F32(-static_cast<float>(i)));
    b.U32(static_cast<uint32_t>(pieces[i].size()));
    b.Raw(pieces[i]);
  }
  return b.str();
}

const std::vector<std::string> kTinyPieces = {"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " a b"};

TEST(Llama2cTest, StoriesConvertsToReferenceTensors) {
  const std::string model = ReadData("stories260K.bin");
  const std::string tok = ReadData("tok512.bin");
  const std::string ref_bytes = ReadData("stories260K.gguf");
  auto out = ConvertLlama2cToGguf(AsBytes(model), "stories260K.bin", AsBytes(tok), "tok512.bin");
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  auto got = ParseGguf(AsBytes(*out), "converted.gguf");
  ASSERT_TRUE(got.has_value()) << got.error().ToString();
  auto ref = ParseGguf(AsBytes(ref_bytes), "stories260K.gguf");
  ASSERT_TRUE(ref.has_value()) << ref.error().ToString();

  ASSERT_EQ(got->tensors.size(), ref->tensors.size());
  for (size_t i = 0; i < ref->tensors.size(); ++i) {
    const auto& r = ref->tensors[i];
    const auto& g = got->tensors[i];
    EXPECT_EQ(g.name, r.name);
    EXPECT_EQ(g.dims, r.dims) << r.name;
    EXPECT_EQ(g.type, r.type) << r.name;
    ASSERT_EQ(g.size_bytes, r.size_bytes) << r.name;
    EXPECT_EQ(std::string_view(*out).substr(g.AbsoluteOffset(got->data_offset), g.size_bytes),
              std::string_view(ref_bytes).substr(r.AbsoluteOffset(ref->data_offset), r.size_bytes))
        << r.name;
  }
  // The vocabulary and the standard metadata.
  for (const char* key :
       {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
        "tokenizer.ggml.model", "general.architecture", "general.name",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.bos_token_id",
        "tokenizer.ggml.eos_token_id", "llama.embedding_length", "llama.feed_forward_length",
        "llama.attention.head_count", "llama.attention.head_count_kv", "llama.block_count",
        "llama.rope.dimension_count", "llama.attention.layer_norm_rms_epsilon"}) {
    const GgufValue* r = ref->Find(key);
    const GgufValue* g = got->Find(key);
    ASSERT_NE(r, nullptr) << key;
    ASSERT_NE(g, nullptr) << key;
    EXPECT_TRUE(*g == *r) << key;
  }
  // Context length defaults to the checkpoint's seq_len (llama.cpp writes 2048).
  ASSERT_NE(got->Find("llama.context_length"), nullptr);
  EXPECT_EQ(got->Find("llama.context_length")->AsUint(), 512u);
}

TEST(Llama2cTest, StoriesWithContext2048IsByteIdenticalToReference) {
  const std::string model = ReadData("stories260K.bin");
  const std::string tok = ReadData("tok512.bin");
  ConvertOptions o;
  o.context_length = 2048;
  auto out = ConvertLlama2cToGguf(AsBytes(model), "m", AsBytes(tok), "t", o);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  EXPECT_TRUE(*out == ReadData("stories260K.gguf"));
}

TEST(Llama2cTest, StoriesParses) {
  const std::string model = ReadData("stories260K.bin");
  auto m = ParseLlama2cModel(AsBytes(model), "stories260K.bin");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->config.dim, 64u);
  EXPECT_EQ(m->config.hidden_dim, 172u);
  EXPECT_EQ(m->config.n_layers, 5u);
  EXPECT_EQ(m->config.n_kv_heads, 4u);
  EXPECT_TRUE(m->config.shared_classifier);
  EXPECT_EQ(m->tensors.size(), 3u + 9u * 5u);
  const std::string tok = ReadData("tok512.bin");
  auto v = ParseLlama2cTokenizer(AsBytes(tok), "tok512.bin", 512);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_EQ(v->max_token_length, 7u);
  EXPECT_EQ(v->pieces[1], "\n<s>\n");
}

TEST(Llama2cTest, TokenMapping) {
  EXPECT_EQ(Llama2cPieceToSpm(0, "whatever"), "<unk>");
  EXPECT_EQ(Llama2cPieceToSpm(1, "\n<s>\n"), "<s>");
  EXPECT_EQ(Llama2cPieceToSpm(2, "\n</s>\n"), "</s>");
  EXPECT_EQ(Llama2cPieceToSpm(7, " a b"),
            "\xE2\x96\x81"
            "a\xE2\x96\x81"
            "b");
  EXPECT_EQ(Llama2cPieceToSpm(7, "<0x0A>"), "<0x0A>");
  EXPECT_EQ(Llama2cTokenType(0, "<unk>"), GgufTokenType::kUnknown);
  EXPECT_EQ(Llama2cTokenType(1, ""), GgufTokenType::kControl);
  EXPECT_EQ(Llama2cTokenType(5, "<0xfF>"), GgufTokenType::kByte);
  EXPECT_EQ(Llama2cTokenType(5, "<0xGG>"), GgufTokenType::kNormal);
  EXPECT_EQ(Llama2cTokenType(5, "<0x0A"), GgufTokenType::kNormal);
}

TEST(Llama2cTest, TinySyntheticSharedAndUnshared) {
  const std::string tok = Tokenizer(6, kTinyPieces);
  for (bool shared : {true, false}) {
    std::vector<int32_t> h = kTinyHeader;
    if (!shared) h[5] = -5;
    const std::string model = Model(h, kTinyFloats + (shared ? 0 : 5 * 8));
    auto out = ConvertLlama2cToGguf(AsBytes(model), "m.bin", AsBytes(tok), "t.bin");
    ASSERT_TRUE(out.has_value()) << out.error().ToString();
    auto g = ParseGguf(AsBytes(*out), "out.gguf");
    ASSERT_TRUE(g.has_value()) << g.error().ToString();
    ASSERT_EQ(g->tensors.size(), 12u);
    const GgufTensorInfo* k = g->FindTensor("blk.0.attn_k.weight");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->dims, (std::vector<uint64_t>{8, 4}));
    const GgufTensorInfo* down = g->FindTensor("blk.0.ffn_down.weight");
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->dims, (std::vector<uint64_t>{12, 8}));
    const GgufTensorInfo* outw = g->FindTensor("output.weight");
    ASSERT_NE(outw, nullptr);
    // The first float of output.weight: 0 when shared with the embedding, else the value
    // just after the freq_cis tables.
    float first;
    std::memcpy(&first, out->data() + outw->AbsoluteOffset(g->data_offset), 4);
    EXPECT_EQ(first, shared ? 0.0f : static_cast<float>(kTinyFloats)) << shared;
    const GgufValue* tokens = g->Find("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    ASSERT_NE(tokens->AsArray(), nullptr);
    EXPECT_EQ(*tokens->AsArray()->items[4].AsString(),
              "\xE2\x96\x81"
              "a\xE2\x96\x81"
              "b");
    EXPECT_EQ(g->Find("llama.rope.dimension_count")->AsUint(), 4u);
    EXPECT_EQ(g->Find("llama.context_length")->AsUint(), 4u);
  }
}

struct ModelCase {
  const char* what;
  std::string file;
  uint64_t offset;
  const char* needle;
};

TEST(Llama2cTest, CorruptModelsAreDataLossWithOffset) {
  auto with = [](int field, int32_t v) {
    std::vector<int32_t> h = kTinyHeader;
    h[field] = v;
    return h;
  };
  const std::string good = Model(kTinyHeader, kTinyFloats);
  const std::vector<ModelCase> cases = {
      {"empty", "", 0, "truncated header"},
      {"truncated header", good.substr(0, 17), 16, "n_kv_heads is missing"},
      {"versioned export", Model({0x616b3432, 2, 8, 12, 1, 2, 1}, 0), 0, "ak42"},
      {"zero dim", Model(with(0, 0), 100), 0, "dim 0 is not positive"},
      {"negative dim", Model(with(0, -8), 100), 0, "not positive"},
      {"huge dim", Model(with(0, 1 << 30), 100), 0, "above the limit"},
      {"huge hidden", Model(with(1, 0x7fffffff), 100), 4, "above the limit"},
      {"zero layers", Model(with(2, 0), 100), 8, "n_layers 0"},
      {"negative heads", Model(with(3, -2), 100), 12, "not positive"},
      {"zero kv heads", Model(with(4, 0), 100), 16, "n_kv_heads 0"},
      {"zero vocab", Model(with(5, 0), 100), 20, "vocab_size 0"},
      {"min vocab", Model(with(5, std::numeric_limits<int32_t>::min()), 100), 20,
       "above the limit"},
      {"tiny vocab", Model(with(5, 2), 100), 20, "below 3"},
      {"negative seq", Model(with(6, -1), 100), 24, "seq_len -1"},
      {"heads not dividing dim", Model(with(3, 3), 100), 12, "does not divide dim"},
      {"kv not dividing heads", Model({8, 12, 1, 4, 3, 5, 4}, 100), 16, "does not divide n_heads"},
      {"kv above heads", Model({8, 12, 1, 2, 4, 5, 4}, 100), 16, "does not divide n_heads"},
      {"odd head size", Model({6, 12, 1, 2, 1, 5, 4}, 100), 12, "odd"},
      {"short by one byte", good.substr(0, good.size() - 1), good.size() - 1,
       "ends inside (freq_cis_imag)"},
      {"header only", good.substr(0, 28), 28, "ends inside token_embd.weight"},
      {"long by one float", Model(kTinyHeader, kTinyFloats + 1), 28 + kTinyFloats * 4,
       "4 unexpected bytes"},
      {"unshared without classifier", Model(with(5, -5), kTinyFloats), 28 + kTinyFloats * 4,
       "ends inside output.weight"},
  };
  for (const auto& c : cases) {
    auto m = ParseLlama2cModel(AsBytes(c.file), "bad.bin");
    ASSERT_FALSE(m.has_value()) << c.what;
    EXPECT_EQ(m.error().code(), StatusCode::kDataLoss) << c.what;
    const std::string msg = m.error().message();
    EXPECT_EQ(msg.rfind("bad.bin: offset " + std::to_string(c.offset) + ": ", 0), 0u)
        << c.what << ": " << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << c.what << ": " << msg;
  }
  ASSERT_TRUE(ParseLlama2cModel(AsBytes(good), "good.bin").has_value());
}

TEST(Llama2cTest, CorruptTokenizersAreDataLossWithOffset) {
  const std::string good = Tokenizer(6, kTinyPieces);
  ASSERT_TRUE(ParseLlama2cTokenizer(AsBytes(good), "tok.bin", 5).has_value());
  std::string past_end = Tokenizer(6, {"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", "abcdef"});
  past_end.resize(past_end.size() - 2);
  // Token 0's length field patched to 100 (max_token_length 200).
  std::string long_len = Tokenizer(200, kTinyPieces);
  long_len[8] = 100;
  const std::vector<ModelCase> cases = {
      {"empty", "", 0, "too short for max_token_length"},
      {"zero max length", Tokenizer(0, kTinyPieces), 0, "max_token_length 0"},
      {"huge max length", Tokenizer(1 << 30, kTinyPieces), 0, "outside"},
      {"truncated in a score", good.substr(0, 4 + 13 + 13 + 14 + 3), 4 + 13 + 13 + 14,
       "score/length of token 3"},
      {"too short for vocab", good.substr(0, 30), 30, "cannot hold"},
      {"token past end", past_end, past_end.size() - 4, "runs past the end"},
      {"token length past end", long_len, 12, "token 0 length 100 runs past the end"},
      {"max_token_length violated", Tokenizer(5, kTinyPieces), 4 + 13 + 13 + 4,
       "token 2 length 6 exceeds"},
      {"extra token", Tokenizer(6, {"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " a b", "x"}),
       good.size(), "vocabulary size does not match"},
      {"not utf-8", Tokenizer(6, {"<unk>", "\n<s>\n", "\n</s>\n", "\xff", " a b"}),
       4 + 13 + 13 + 14 + 8, "token 3 is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    auto v = ParseLlama2cTokenizer(AsBytes(c.file), "tok.bin", 5);
    ASSERT_FALSE(v.has_value()) << c.what;
    EXPECT_EQ(v.error().code(), StatusCode::kDataLoss) << c.what;
    const std::string msg = v.error().message();
    EXPECT_EQ(msg.rfind("tok.bin: offset " + std::to_string(c.offset) + ": ", 0), 0u)
        << c.what << ": " << msg;
    EXPECT_NE(msg.find(c.needle), std::string::npos) << c.what << ": " << msg;
  }
  // The model's vocabulary is larger than the tokenizer's: truncated at the end.
  auto v = ParseLlama2cTokenizer(AsBytes(good), "tok.bin", 6);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(v.error().message().find("offset " + std::to_string(good.size())), std::string::npos)
      << v.error().message();
}

TEST(Llama2cTest, ConvertNamesTheFileAtFault) {
  const std::string model = Model(kTinyHeader, kTinyFloats);
  const std::string tok = Tokenizer(6, kTinyPieces);
  auto bad_model =
      ConvertLlama2cToGguf(AsBytes(model.substr(0, 40)), "model.bin", AsBytes(tok), "tok.bin");
  ASSERT_FALSE(bad_model.has_value());
  EXPECT_EQ(bad_model.error().message().rfind("model.bin: offset 40: ", 0), 0u);
  auto bad_tok = ConvertLlama2cToGguf(AsBytes(model), "model.bin",
                                      AsBytes(tok.substr(0, tok.size() - 1)), "tok.bin");
  ASSERT_FALSE(bad_tok.has_value());
  EXPECT_EQ(bad_tok.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(bad_tok.error().message().rfind("tok.bin: offset ", 0), 0u);
  ConvertOptions o;
  o.name = "";
  auto bad_opt = ConvertLlama2cToGguf(AsBytes(model), "m", AsBytes(tok), "t", o);
  ASSERT_FALSE(bad_opt.has_value());
  EXPECT_EQ(bad_opt.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::formats
