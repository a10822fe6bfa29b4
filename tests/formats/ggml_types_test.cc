#include "formats/ggml_types.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace warden::formats {
namespace {

using ::testing::HasSubstr;

TEST(GgmlTypesTest, IdsAreUniqueAndAscending) {
  uint32_t prev = 0;
  bool first = true;
  std::set<std::string_view> names;
  for (const GgmlTypeInfo& t : AllGgmlTypes()) {
    if (!first) {
      EXPECT_GT(t.id, prev);
    }
    first = false;
    prev = t.id;
    EXPECT_TRUE(names.insert(t.name).second) << t.name;
    EXPECT_GT(t.block_size, 0u);
    EXPECT_GT(t.type_size, 0u);
  }
  EXPECT_EQ(AllGgmlTypes().size(), 34u);
}

// Known answers from ggml's block structs (scale bytes + packed quants).
TEST(GgmlTypesTest, KnownBlockLayouts) {
  struct Case {
    uint32_t id;
    std::string_view name;
    uint32_t block, bytes;
  };
  const Case cases[] = {
      {0, "f32", 1, 4},         {1, "f16", 1, 2},         {2, "q4_0", 32, 18},
      {3, "q4_1", 32, 20},      {6, "q5_0", 32, 22},      {7, "q5_1", 32, 24},
      {8, "q8_0", 32, 34},      {9, "q8_1", 32, 36},      {10, "q2_K", 256, 84},
      {11, "q3_K", 256, 110},   {12, "q4_K", 256, 144},   {13, "q5_K", 256, 176},
      {14, "q6_K", 256, 210},   {15, "q8_K", 256, 292},   {16, "iq2_xxs", 256, 66},
      {17, "iq2_xs", 256, 74},  {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},
      {20, "iq4_nl", 32, 18},   {21, "iq3_s", 256, 110},  {22, "iq2_s", 256, 82},
      {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},         {25, "i16", 1, 2},
      {26, "i32", 1, 4},        {27, "i64", 1, 8},        {28, "f64", 1, 8},
      {29, "iq1_m", 256, 56},   {30, "bf16", 1, 2},       {34, "tq1_0", 256, 54},
      {35, "tq2_0", 256, 66},   {39, "mxfp4", 32, 17},    {40, "nvfp4", 64, 36},
      {41, "q1_0", 128, 18},
  };
  for (const Case& c : cases) {
    const GgmlTypeInfo* t = FindGgmlType(c.id);
    ASSERT_NE(t, nullptr) << c.id;
    EXPECT_EQ(t->name, c.name);
    EXPECT_EQ(t->block_size, c.block) << c.name;
    EXPECT_EQ(t->type_size, c.bytes) << c.name;
  }
}

TEST(GgmlTypesTest, RetiredAndFutureIdsAreUnknown) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u, 0xffffffffu}) {
    EXPECT_EQ(FindGgmlType(id), nullptr) << id;
  }
  EXPECT_EQ(GgmlTypeName(4), "unknown type 4");
  EXPECT_EQ(GgmlTypeName(12), "q4_K");
}

TEST(TensorBytesTest, PlainTypes) {
  const std::vector<uint64_t> dims = {64, 512};
  EXPECT_EQ(*TensorBytes(kGgmlTypeF32, dims), 64u * 512 * 4);
  EXPECT_EQ(*TensorBytes(kGgmlTypeF16, dims), 64u * 512 * 2);
  const std::vector<uint64_t> one = {7};
  EXPECT_EQ(*TensorBytes(kGgmlTypeI8, one), 7u);
}

TEST(TensorBytesTest, QuantizedTypesCountWholeBlocks) {
  const std::vector<uint64_t> q4 = {64, 3};  // 2 blocks per row, 3 rows
  EXPECT_EQ(*TensorBytes(kGgmlTypeQ4_0, q4), 2u * 3 * 18);
  const std::vector<uint64_t> k = {512, 2, 2};
  EXPECT_EQ(*TensorBytes(kGgmlTypeQ4_K, k), 2u * 4 * 144);
  const std::vector<uint64_t> mx = {32};
  EXPECT_EQ(*TensorBytes(kGgmlTypeMXFP4, mx), 17u);
}

TEST(TensorBytesTest, RowNotWholeBlocksIsDataLoss) {
  const std::vector<uint64_t> dims = {33, 2};
  auto r = TensorBytes(kGgmlTypeQ4_0, dims);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.error().message(), HasSubstr("not a multiple of the q4_0 block size 32"));
}

TEST(TensorBytesTest, UnknownTypeListsSupportedNames) {
  const std::vector<uint64_t> dims = {4};
  auto r = TensorBytes(4, dims);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.error().message(), HasSubstr("unknown ggml tensor type 4"));
  EXPECT_THAT(r.error().message(), HasSubstr("f32, f16, q4_0"));
  EXPECT_THAT(r.error().message(), HasSubstr("mxfp4"));
}

TEST(TensorBytesTest, ZeroDimensionGivesZeroBytes) {
  const std::vector<uint64_t> dims = {0, 1ull << 62, 1ull << 62};
  EXPECT_EQ(*TensorBytes(kGgmlTypeF32, dims), 0u);
}

TEST(TensorBytesTest, DimensionCountOutsideOneToFour) {
  const std::vector<uint64_t> none;
  EXPECT_FALSE(TensorBytes(kGgmlTypeF32, none).has_value());
  const std::vector<uint64_t> five = {1, 1, 1, 1, 1};
  auto r = TensorBytes(kGgmlTypeF32, five);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("1 to 4 dimensions, not 5"));
}

TEST(TensorBytesTest, OverflowsAreDataLoss) {
  const std::vector<uint64_t> elements = {1ull << 32, 1ull << 31};  // 2^63 elements
  auto r = TensorBytes(kGgmlTypeF32, elements);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("element count overflows"));

  const std::vector<uint64_t> bytes = {1ull << 31, 1ull << 31};  // 2^62 elements, 2^64 bytes
  r = TensorBytes(kGgmlTypeF32, bytes);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("byte size overflows"));

  const std::vector<uint64_t> huge = {1ull << 63};
  r = TensorBytes(kGgmlTypeI8, huge);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("more than 2^63-1"));
}

TEST(TensorBytesTest, LargestLegalSizeIsExact) {
  const std::vector<uint64_t> dims = {(1ull << 60) - 1};  // I64: 8 bytes each, < 2^63
  auto r = TensorBytes(27, dims);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ((1ull << 60) - 1) * 8);
  const std::vector<uint64_t> over = {1ull << 60};  // exactly 2^63 bytes
  EXPECT_FALSE(TensorBytes(27, over).has_value());
}

}  // namespace
}  // namespace warden::formats
