#include "formats/gguf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "format_test_util.h"
#include "formats/ggml_types.h"
#include "formats/gguf_writer.h"

namespace warden::formats {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint32_t kTypeArray = 9;
constexpr uint32_t kTypeString = 8;

// ---------------------------------------------------------------------------------------
// The real model: data/models/stories260K.gguf (llama2.c stories260K converted by llama.cpp).

class Stories260KTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto file =
        ReadOnlyFile::Open(std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf");
    ASSERT_TRUE(file.has_value()) << file.error().ToString();
    auto map = file->MapAll();
    ASSERT_TRUE(map.has_value()) << map.error().ToString();
    map_ = std::move(*map);
    auto parsed = ParseGguf(map_.bytes(), "stories260K.gguf");
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    gguf_ = std::move(*parsed);
  }
  MappedRegion map_;
  GgufFile gguf_;
};

TEST_F(Stories260KTest, Header) {
  EXPECT_EQ(gguf_.version, 3u);
  EXPECT_EQ(gguf_.metadata.size(), 19u);
  EXPECT_EQ(gguf_.tensors.size(), 48u);
  EXPECT_EQ(gguf_.alignment, 32u);
  EXPECT_EQ(gguf_.header_size, 14152u);
  EXPECT_EQ(gguf_.data_offset, 14176u);
}

TEST_F(Stories260KTest, Metadata) {
  const GgufValue* arch = gguf_.Find("general.architecture");
  ASSERT_NE(arch, nullptr);
  ASSERT_NE(arch->AsString(), nullptr);
  EXPECT_EQ(*arch->AsString(), "llama");

  const GgufValue* emb = gguf_.Find("llama.embedding_length");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, GgufValueType::kUint32);
  EXPECT_EQ(emb->AsUint(), 64u);
  EXPECT_EQ(gguf_.Find("llama.block_count")->AsUint(), 5u);
  EXPECT_EQ(gguf_.Find("llama.attention.head_count_kv")->AsUint(), 4u);
  EXPECT_EQ(gguf_.Find("tokenizer.ggml.padding_token_id")->AsUint(), 0xffffffffu);

  const GgufValue* eps = gguf_.Find("llama.attention.layer_norm_rms_epsilon");
  ASSERT_NE(eps, nullptr);
  EXPECT_EQ(eps->type, GgufValueType::kFloat32);
  EXPECT_EQ(*eps->AsFloat(), static_cast<double>(1e-5f));

  const GgufValue* tokens = gguf_.Find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  const GgufArray* a = tokens->AsArray();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->elem_type, GgufValueType::kString);
  ASSERT_EQ(a->items.size(), 512u);
  EXPECT_EQ(*a->items[0].AsString(), "<unk>");
  EXPECT_EQ(*a->items[1].AsString(), "<s>");
  EXPECT_EQ(*a->items[2].AsString(), "</s>");
  EXPECT_EQ(gguf_.Find("tokenizer.ggml.scores")->AsArray()->elem_type, GgufValueType::kFloat32);
  EXPECT_EQ(gguf_.Find("tokenizer.ggml.token_type")->AsArray()->items[0].AsInt(), 2);
  EXPECT_EQ(gguf_.Find("no.such.key"), nullptr);
}

TEST_F(Stories260KTest, Tensors) {
  const GgufTensorInfo& first = gguf_.tensors.front();
  EXPECT_EQ(first.name, "token_embd.weight");
  EXPECT_EQ(first.dims, (std::vector<uint64_t>{64, 512}));
  EXPECT_EQ(first.type, kGgmlTypeF32);
  EXPECT_EQ(first.offset, 0u);
  EXPECT_EQ(first.size_bytes, 64u * 512 * 4);

  const GgufTensorInfo* norm = gguf_.FindTensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->dims, (std::vector<uint64_t>{64}));
  EXPECT_EQ(norm->offset, 131072u);

  const GgufTensorInfo* down = gguf_.FindTensor("blk.4.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->dims, (std::vector<uint64_t>{172, 64}));

  const GgufTensorInfo& last = gguf_.tensors.back();
  EXPECT_EQ(last.name, "blk.4.ffn_norm.weight");
  // The last tensor ends exactly at the end of the file.
  EXPECT_EQ(last.AbsoluteOffset(gguf_.data_offset) + last.size_bytes, map_.size());
  for (const GgufTensorInfo& t : gguf_.tensors) EXPECT_EQ(t.type, kGgmlTypeF32) << t.name;
}

// ---------------------------------------------------------------------------------------
// Writer round trip.

std::string Fill(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7);
  return s;
}

TEST(GgufWriterTest, RoundTripsEveryValueTypeAndTensor) {
  GgufWriter w;
  ASSERT_TRUE(w.SetAlignment(64).ok());
  std::vector<std::pair<std::string, GgufValue>> values = {
      {"v.u8", GgufValue::U8(200)},
      {"v.i8", GgufValue::I8(-100)},
      {"v.u16", GgufValue::U16(60000)},
      {"v.i16", GgufValue::I16(-30000)},
      {"v.u32", GgufValue::U32(4000000000u)},
      {"v.i32", GgufValue::I32(-2000000000)},
      {"v.u64", GgufValue::U64(18000000000000000000ull)},
      {"v.i64", GgufValue::I64(-9000000000000000000ll)},
      {"v.f32", GgufValue::F32(3.25f)},
      {"v.f64", GgufValue::F64(-1.0e300)},
      {"v.bool", GgufValue::Bool(true)},
      {"v.string", GgufValue::String("h\xc3\xa9llo\n\0x")},
      {"v.empty_string", GgufValue::String("")},
      {"v.array_u8", GgufValue::Array(GgufValueType::kUint8, {GgufValue::U8(1), GgufValue::U8(2)})},
      {"v.array_empty", GgufValue::Array(GgufValueType::kFloat64, {})},
      {"v.array_strings",
       GgufValue::Array(GgufValueType::kString, {GgufValue::String("a"), GgufValue::String("")})},
      {"v.array_nested",
       GgufValue::Array(GgufValueType::kArray,
                        {GgufValue::Array(GgufValueType::kInt16, {GgufValue::I16(-1)}),
                         GgufValue::Array(GgufValueType::kBool, {GgufValue::Bool(false)})})},
  };
  for (const auto& [k, v] : values) ASSERT_TRUE(w.AddMetadata(k, v).ok()) << k;

  const std::string q4 = Fill(2 * 18, 1);
  const std::string f32 = Fill(3 * 4, 2);
  const std::string f16 = Fill(5 * 2 * 2, 3);
  ASSERT_TRUE(w.AddTensor("q4", kGgmlTypeQ4_0, {64}, q4).ok());
  ASSERT_TRUE(w.AddTensor("f32", kGgmlTypeF32, {3}, f32).ok());
  ASSERT_TRUE(w.AddTensor("empty", kGgmlTypeF32, {0, 4}, std::string()).ok());
  ASSERT_TRUE(w.AddTensor("f16.\xe2\x9c\x93", kGgmlTypeF16, {5, 2}, f16).ok());

  const std::string bytes = w.WriteToString();
  auto r = ParseGguf(AsBytes(bytes), "rt.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->version, 3u);
  EXPECT_EQ(r->alignment, 64u);
  EXPECT_EQ(r->data_offset % 64, 0u);
  ASSERT_EQ(r->metadata.size(), values.size() + 1);  // + general.alignment
  EXPECT_EQ(r->metadata[0].first, "general.alignment");
  EXPECT_EQ(r->metadata[0].second, GgufValue::U32(64));
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(r->metadata[i + 1].first, values[i].first);
    EXPECT_EQ(r->metadata[i + 1].second, values[i].second) << values[i].first;
  }
  ASSERT_EQ(r->tensors.size(), 4u);
  const std::string* datas[] = {&q4, &f32, nullptr, &f16};
  for (size_t i = 0; i < 4; ++i) {
    const GgufTensorInfo& t = r->tensors[i];
    EXPECT_EQ(t.offset % 64, 0u);
    const std::string expect = datas[i] ? *datas[i] : std::string();
    EXPECT_EQ(t.size_bytes, expect.size());
    EXPECT_EQ(bytes.substr(t.AbsoluteOffset(r->data_offset), t.size_bytes), expect) << t.name;
  }
  EXPECT_EQ(r->tensors[3].name, "f16.\xe2\x9c\x93");
  EXPECT_EQ(r->tensors[3].dims, (std::vector<uint64_t>{5, 2}));
  // Like ggml, the writer pads after the last tensor too.
  EXPECT_EQ(bytes.size() % 64, 0u);
}

TEST(GgufWriterTest, VersionTwoAndDefaultAlignment) {
  GgufWriter w;
  ASSERT_TRUE(w.SetVersion(2).ok());
  ASSERT_TRUE(w.AddString("general.name", "x").ok());
  ASSERT_TRUE(w.AddTensor("t", kGgmlTypeF32, {1}, std::string(4, 'a')).ok());
  const std::string bytes = w.WriteToString();
  auto r = ParseGguf(AsBytes(bytes), "v2.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->alignment, 32u);
  EXPECT_EQ(r->Find("general.alignment"), nullptr);
  EXPECT_EQ(r->data_offset % 32, 0u);
}

TEST(GgufWriterTest, NoTensorsHasNoPadding) {
  GgufWriter w;
  ASSERT_TRUE(w.AddUint32("a", 1).ok());
  const std::string bytes = w.WriteToString();
  EXPECT_EQ(bytes.size(), 24u + 8 + 1 + 4 + 4);
  auto r = ParseGguf(AsBytes(bytes), "kv.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->tensors.empty());
}

TEST(GgufWriterTest, WritesFileAtomically) {
  GgufWriter w;
  ASSERT_TRUE(w.AddBool("b", false).ok());
  ASSERT_TRUE(w.AddTensor("t", kGgmlTypeI32, {2}, std::string(8, '\x01')).ok());
  const std::string path = ::testing::TempDir() + "/warden_gguf_writer_test.gguf";
  ASSERT_TRUE(w.WriteToFile(path).ok());
  auto text = ReadFileToString(path, 1 << 20);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, w.WriteToString());
  EXPECT_TRUE(ParseGguf(AsBytes(*text), path).has_value());
}

TEST(GgufWriterTest, RefusesBadInput) {
  GgufWriter w;
  ASSERT_TRUE(w.AddUint32("k", 1).ok());
  EXPECT_EQ(w.AddUint32("k", 2).code(), StatusCode::kInvalidArgument);  // duplicate
  EXPECT_EQ(w.AddUint32("", 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddUint32("\xff", 2).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddMetadata("u8", GgufValue{GgufValueType::kUint8, uint64_t{256}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddMetadata("i8", GgufValue{GgufValueType::kInt8, int64_t{-129}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddMetadata("mix", GgufValue{GgufValueType::kString, uint64_t{1}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      w.AddMetadata("arr", GgufValue::Array(GgufValueType::kUint32, {GgufValue::U8(1)})).code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddMetadata("f32", GgufValue{GgufValueType::kFloat32, 1e300}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(w.AddMetadata("inf", GgufValue{GgufValueType::kFloat32, HUGE_VAL}).ok());
  EXPECT_EQ(w.AddMetadata("bad", GgufValue{static_cast<GgufValueType>(13), uint64_t{0}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddMetadata("general.alignment", GgufValue::U64(64)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddMetadata("general.alignment", GgufValue::U32(48)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(w.SetAlignment(0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.SetAlignment(1ull << 32).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.SetVersion(1).code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(w.AddTensor("t", kGgmlTypeF32, {2}, std::string(7, 'x')).code(),
            StatusCode::kInvalidArgument);  // wrong size
  EXPECT_EQ(w.AddTensor("t", 4, {2}, std::string(8, 'x')).code(),
            StatusCode::kInvalidArgument);  // retired type
  EXPECT_EQ(w.AddTensor("t", kGgmlTypeQ4_0, {16}, std::string(9, 'x')).code(),
            StatusCode::kInvalidArgument);  // half a block
  ASSERT_TRUE(w.AddTensor("t", kGgmlTypeF32, {2}, std::string(8, 'x')).ok());
  EXPECT_EQ(w.AddTensor("t", kGgmlTypeF32, {2}, std::string(8, 'x')).code(),
            StatusCode::kInvalidArgument);  // duplicate
  // What was refused left no trace.
  auto r = ParseGguf(AsBytes(w.WriteToString()), "w.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->metadata.size(), 2u);  // "k" and "inf"
  EXPECT_TRUE(std::isinf(*r->Find("inf")->AsFloat()));
  EXPECT_EQ(r->tensors.size(), 1u);
}

TEST(GgufWriterTest, AlignmentViaMetadataMovesTensors) {
  GgufWriter w;
  ASSERT_TRUE(w.AddMetadata("general.alignment", GgufValue::U32(128)).ok());
  ASSERT_TRUE(w.AddTensor("a", kGgmlTypeI8, {3}, std::string("abc")).ok());
  ASSERT_TRUE(w.AddTensor("b", kGgmlTypeI8, {3}, std::string("def")).ok());
  auto r = ParseGguf(AsBytes(w.WriteToString()), "a.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->alignment, 128u);
  EXPECT_EQ(r->tensors[1].offset, 128u);
}

// ---------------------------------------------------------------------------------------
// Hand-built files the writer cannot make.

TEST(GgufParseTest, ZeroDimensionTensorIsLegal) {
  Bytes b;
  b.Header(1, 0).Tensor("z", {0, 4}, kGgmlTypeF32, 0).PadTo(32);
  auto r = ParseGguf(b.span(), "z.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->tensors[0].size_bytes, 0u);
}

TEST(GgufParseTest, GapsBetweenTensorsAreAllowed) {
  Bytes b;
  b.Header(2, 0).Tensor("a", {4}, kGgmlTypeF32, 0).Tensor("b", {4}, kGgmlTypeF32, 64);
  b.PadTo(32).Zeros(80);
  auto r = ParseGguf(b.span(), "gap.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
}

TEST(GgufParseTest, NestedArraysUpToTheLimit) {
  // depth 4: array of array of array of array of u8.
  Bytes b;
  b.Header(0, 1).Str("n").U32(kTypeArray);
  for (int i = 0; i < 3; ++i) b.U32(kTypeArray).U64(1);
  b.U32(0).U64(2).U8(7).U8(8);
  auto r = ParseGguf(b.span(), "n.gguf");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const GgufValue* v = r->Find("n");
  for (int i = 0; i < 3; ++i) v = &v->AsArray()->items[0];
  EXPECT_EQ(v->AsArray()->items[1].AsUint(), 8u);
}

TEST(GgufParseTest, LimitsAreConfigurable) {
  Bytes b;
  b.Header(0, 1).Str("s").U32(kTypeString).Str("0123456789");
  GgufLimits limits;
  limits.max_string_bytes = 9;
  auto r = ParseGguf(b.span(), "l.gguf", limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("offset 37: string value length 10 exceeds the "
                                             "limit of 9 bytes"));
  limits.max_string_bytes = 10;
  EXPECT_TRUE(ParseGguf(b.span(), "l.gguf", limits).has_value());
}

TEST(GgufParseTest, ArrayItemBudgetIsPerFile) {
  Bytes b;
  b.Header(0, 2);
  b.Str("a").U32(kTypeArray).U32(0).U64(3).U8(1).U8(2).U8(3);
  const uint64_t second = b.size() + 8 + 1 + 4 + 4;
  b.Str("b").U32(kTypeArray).U32(0).U64(3).U8(1).U8(2).U8(3);
  GgufLimits limits;
  limits.max_array_elements = 5;
  auto r = ParseGguf(b.span(), "l.gguf", limits);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(),
              HasSubstr("offset " + std::to_string(second) + ": array count 3 exceeds the limit"));
}

// ---------------------------------------------------------------------------------------
// Corruption table: each case is a mutation of a small file, the offset the error must name
// and a piece of the message.

struct Corruption {
  std::string name;
  std::string bytes;
  uint64_t offset;
  std::string what;
};

void PrintTo(const Corruption& c, std::ostream* os) { *os << c.name; }

std::vector<Corruption> GgufCorruptions() {
  std::vector<Corruption> out;
  auto add = [&](std::string name, const Bytes& b, uint64_t offset, std::string what) {
    out.push_back({std::move(name), b.str(), offset, std::move(what)});
  };
  {
    Bytes b;
    b.Raw("GGUX").U32(3).U64(0).U64(0);
    add("BadMagic", b, 0, "bad magic 47475558");
  }
  {
    Bytes b;
    b.Raw("GG");
    add("TruncatedMagic", b, 0, "truncated");
  }
  {
    Bytes b;
    b.Header(0, 0, 1);
    add("Version1", b, 4, "GGUF version 1 is not supported");
  }
  {
    Bytes b;
    b.Header(0, 0, 4);
    add("Version4", b, 4, "unsupported GGUF version 4");
  }
  {
    Bytes b;
    b.Header(0, 0, 0x03000000);
    add("BigEndian", b, 4, "big-endian GGUF");
  }
  {
    Bytes b;
    b.Raw("GGUF").U32(3).U64(0).U32(0);
    add("TruncatedKvCount", b, 16, "truncated: metadata count needs 8 bytes, 4 left");
  }
  {
    Bytes b;
    b.Header(1ull << 40, 0);
    add("TensorCountAbsurd", b, 8, "tensor count 1099511627776 exceeds the limit");
  }
  {
    Bytes b;
    b.Header(0, 4611686018427387904ull).Zeros(52);
    add("KvCountAbsurd", b, 16, "metadata count 4611686018427387904 exceeds the limit");
  }
  {
    Bytes b;
    b.Header(0, 1000).Zeros(52);
    add("KvCountPastEnd", b, 16, "metadata count 1000 needs at least 14000 bytes, 52 left");
  }
  {
    Bytes b;
    b.Header(1000, 0).Zeros(52);
    add("TensorCountPastEnd", b, 8, "tensor count 1000 needs at least 33000 bytes");
  }
  {
    Bytes b;
    b.Header(0, 1).U64(1ull << 62).Raw("abcdef");
    add("KeyLengthPastEnd", b, 24, "metadata key length 4611686018427387904 exceeds the limit");
  }
  {
    Bytes b;
    b.Header(0, 1).U64(100).Raw("abcdef");
    add("KeyLengthPastEndSmall", b, 24, "metadata key length 100 exceeds the 6 bytes left");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("").U32(0).U8(0).Zeros(1);
    add("EmptyKey", b, 24, "metadata key is empty");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k\xff").U32(0).U8(0);
    add("KeyNotUtf8", b, 24, "metadata key is not valid UTF-8");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k\xed\xa0\x80").U32(0).U8(0);  // an encoded surrogate
    add("KeySurrogate", b, 24, "metadata key is not valid UTF-8");
  }
  {
    Bytes b;
    b.Header(0, 2).KvU32("k", 1);
    const uint64_t at = b.size();
    b.KvU32("k", 2);
    add("DuplicateKey", b, at, "duplicate metadata key \"k\" (first at offset 24)");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(13).U64(0);
    add("UnknownValueType", b, 33, "unknown value type 13");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(kTypeString).U64(1000).Raw("short");
    add("StringLengthPastEnd", b, 37, "string value length 1000 exceeds the 5 bytes left");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(kTypeArray).U32(0).U64(1ull << 60).Zeros(10);
    add("ArrayCountAbsurd", b, 41,
        "array count 1152921504606846976 of uint8 needs at least 1152921504606846976 bytes, "
        "10 left");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(kTypeArray).U32(kTypeString).U64(2).Str("a").U64(5).Raw("ab");
    add("ArrayStringPastEnd", b, 58, "string value length 5 exceeds the 2 bytes left");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(kTypeArray).U32(kTypeArray).U64(1ull << 40).Zeros(24);
    add("ArrayOfArraysCountAbsurd", b, 41, "array count 1099511627776 of array");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(kTypeArray).U32(14).U64(0);
    add("ArrayElementTypeUnknown", b, 37, "unknown array element type 14");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(kTypeArray);
    for (int i = 0; i < 4; ++i) b.U32(kTypeArray).U64(1);
    b.U32(0).U64(0);
    // Five levels: the fifth array starts at 37 + 4 * 12.
    add("ArrayNestedTooDeep", b, 37 + 4 * 12, "arrays nested deeper than 4 levels");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("k").U32(7).U8(2);
    add("BoolNotZeroOrOne", b, 37, "bool value 2 is neither 0 nor 1");
  }
  {
    Bytes b;
    b.Header(0, 1).Str("general.alignment").U32(10).U64(64);
    add("AlignmentWrongType", b, 53, "general.alignment is a uint64, not a uint32");
  }
  {
    Bytes b;
    b.Header(0, 1).KvU32("general.alignment", 48);
    add("AlignmentNotPowerOfTwo", b, 53, "general.alignment 48 is not a power of two");
  }
  {
    Bytes b;
    b.Header(0, 1).KvU32("general.alignment", 0);
    add("AlignmentZero", b, 53, "general.alignment 0 is not a power of two");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("", {4}, kGgmlTypeF32, 0).PadTo(32).Zeros(16);
    add("TensorNameEmpty", b, 24, "tensor name is empty");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t\xc0\xaf", {4}, kGgmlTypeF32, 0).PadTo(32).Zeros(16);
    add("TensorNameNotUtf8", b, 24, "tensor name is not valid UTF-8");  // overlong '/'
  }
  {
    Bytes b;
    b.Header(2, 0).Tensor("t", {4}, kGgmlTypeF32, 0);
    const uint64_t at = b.size();
    b.Tensor("t", {4}, kGgmlTypeF32, 32).PadTo(32).Zeros(64);
    add("DuplicateTensorName", b, at, "duplicate tensor name \"t\" (first at offset 24)");
  }
  {
    Bytes b;
    b.Header(1, 0).Str("t").U32(0).U32(0).U64(0).PadTo(32);
    add("NDims0", b, 33, "tensor \"t\": n_dims 0 is not in 1..4");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {1, 1, 1, 1, 1}, kGgmlTypeF32, 0).PadTo(32).Zeros(4);
    add("NDims5", b, 33, "tensor \"t\": n_dims 5 is not in 1..4");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {4}, 4, 0).PadTo(32).Zeros(16);
    add("TensorTypeRetired", b, 45, "tensor \"t\": unknown ggml type 4 (supported: f32");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {4}, 99, 0).PadTo(32).Zeros(16);
    add("TensorTypeUnknown", b, 45, "unknown ggml type 99");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {33}, kGgmlTypeQ4_0, 0).PadTo(32).Zeros(64);
    add("RowNotWholeBlocks", b, 37, "not a multiple of the q4_0 block size 32");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {1ull << 32, 1ull << 32}, kGgmlTypeF32, 0).PadTo(32);
    add("ElementCountOverflow", b, 37, "element count overflows 63 bits");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {1ull << 63}, kGgmlTypeI8, 0).PadTo(32);
    add("DimensionAbove2To63", b, 37, "more than 2^63-1");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {4}, kGgmlTypeF32, 4).PadTo(32).Zeros(32);
    add("MisalignedOffset", b, 49, "data offset 4 is not a multiple of the alignment 32");
  }
  {
    Bytes b;
    b.Header(1, 1).KvU32("general.alignment", 64);
    const uint64_t at = b.size();
    b.Tensor("t", {4}, kGgmlTypeF32, 32).PadTo(64).Zeros(64);
    add("OffsetMisalignedForCustomAlignment", b, at + 25, "not a multiple of the alignment 64");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {4}, kGgmlTypeF32, 0).PadTo(32).Zeros(15);
    add("DataPastEnd", b, 24, "tensor \"t\": data at 64+0, 16 bytes, runs past the end");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {4}, kGgmlTypeF32, 1ull << 63).PadTo(32).Zeros(16);
    add("OffsetHuge", b, 24, "runs past the end of the file");
  }
  {
    Bytes b;
    b.Header(1, 0).Tensor("t", {4}, kGgmlTypeF32, 0xffffffffffffffe0ull).PadTo(32).Zeros(16);
    add("OffsetWrapsAround", b, 24, "runs past the end of the file");
  }
  {
    Bytes b;
    b.Header(2, 0).Tensor("a", {16}, kGgmlTypeF32, 0);
    const uint64_t at = b.size();
    b.Tensor("b", {4}, kGgmlTypeF32, 32).PadTo(32).Zeros(64);
    add("OverlappingTensors", b, at, "tensor \"b\": data [32, 48) overlaps tensor \"a\" [0, 64)");
  }
  {
    Bytes b;
    b.Header(2, 0).Tensor("a", {8}, kGgmlTypeF32, 0);
    const uint64_t at = b.size();
    b.Tensor("b", {8}, kGgmlTypeF32, 0).PadTo(32).Zeros(32);
    add("SameOffsetTwice", b, at, "overlaps tensor \"a\"");
  }
  return out;
}

class GgufCorruptionTest : public ::testing::TestWithParam<Corruption> {};

TEST_P(GgufCorruptionTest, IsDataLossNamingTheOffset) {
  const Corruption& c = GetParam();
  auto r = ParseGguf(AsBytes(c.bytes), "t.gguf");
  ASSERT_FALSE(r.has_value()) << c.name << " parsed";
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.error().message(), StartsWith("t.gguf: offset " + std::to_string(c.offset) + ": "))
      << r.error().message();
  EXPECT_THAT(r.error().message(), HasSubstr(c.what));
}

INSTANTIATE_TEST_SUITE_P(Mutations, GgufCorruptionTest, ::testing::ValuesIn(GgufCorruptions()),
                         [](const auto& info) { return info.param.name; });

// Every proper prefix of a small valid file that cuts into the header or the tensor data
// is refused; a prefix that only drops trailing padding is still a complete file.
TEST(GgufCorruptionTest, TruncatedAtEveryOffset) {
  GgufWriter w;
  ASSERT_TRUE(w.AddString("general.name", "tiny").ok());
  ASSERT_TRUE(w.AddMetadata("a", GgufValue::Array(GgufValueType::kUint32,
                                                  {GgufValue::U32(1), GgufValue::U32(2)}))
                  .ok());
  ASSERT_TRUE(w.AddFloat32("f", 0.5f).ok());
  ASSERT_TRUE(w.AddTensor("w1", kGgmlTypeF32, {3}, std::string(12, 'a')).ok());
  ASSERT_TRUE(w.AddTensor("w2", kGgmlTypeF16, {2, 2}, std::string(8, 'b')).ok());
  const std::string full = w.WriteToString();
  auto parsed = ParseGguf(AsBytes(full), "full.gguf");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  const GgufTensorInfo& last = parsed->tensors.back();
  const uint64_t data_end = last.AbsoluteOffset(parsed->data_offset) + last.size_bytes;
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = ParseGguf(AsBytes(std::string_view(full).substr(0, n)), "cut.gguf");
    if (n < data_end) {
      ASSERT_FALSE(r.has_value()) << "prefix " << n << " parsed";
      EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
      EXPECT_THAT(r.error().message(), StartsWith("cut.gguf: offset ")) << n;
    } else {
      EXPECT_TRUE(r.has_value()) << n << ": " << r.error().ToString();
    }
  }
}

// Every single-byte change of a small file either parses or is DataLoss (never a crash or
// another code); run under the sanitizers this is a cheap deterministic fuzz.
TEST(GgufCorruptionTest, EveryByteFlipIsHandled) {
  GgufWriter w;
  ASSERT_TRUE(w.AddMetadata("n", GgufValue::Array(GgufValueType::kArray,
                                                  {GgufValue::Array(GgufValueType::kString,
                                                                    {GgufValue::String("x")})}))
                  .ok());
  ASSERT_TRUE(w.AddTensor("t", kGgmlTypeQ8_0, {32}, std::string(34, 'q')).ok());
  const std::string full = w.WriteToString();
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t x : {uint8_t{0x00}, uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::string m = full;
      m[i] = static_cast<char>(x);
      auto r = ParseGguf(AsBytes(m), "flip.gguf");
      if (!r.has_value()) {
        EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << i;
      }
    }
  }
}

}  // namespace
}  // namespace warden::formats
