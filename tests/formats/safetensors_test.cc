#include "formats/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "format_test_util.h"

namespace warden::formats {
namespace {

using testing::Bytes;
using ::testing::HasSubstr;
using testing::Safetensors;
using ::testing::StartsWith;

Result<SafetensorsFile> Parse(const std::string& bytes) {
  return ParseSafetensors(AsBytes(bytes), "m.safetensors");
}

TEST(SafetensorsTest, ParsesTensorsAndMetadata) {
  const std::string header = R"({"__metadata__":{"format":"pt","note":"x"},)"
                             R"("b":{"dtype":"F16","shape":[2,2],"data_offsets":[24,32]},)"
                             R"("a":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  const std::string file = Safetensors(header, std::string(32, '\x01'));
  auto r = Parse(file);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->header_size, header.size());
  EXPECT_EQ(r->data_offset, 8 + header.size());
  ASSERT_EQ(r->tensors.size(), 2u);
  // Sorted by offset, whatever the header order.
  EXPECT_EQ(r->tensors[0].name, "a");
  EXPECT_EQ(r->tensors[0].dtype, "F32");
  EXPECT_EQ(r->tensors[0].shape, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(r->tensors[0].begin, 0u);
  EXPECT_EQ(r->tensors[0].end, 24u);
  EXPECT_EQ(r->tensors[1].name, "b");
  EXPECT_EQ(r->tensors[1].size(), 8u);
  ASSERT_EQ(r->metadata.size(), 2u);
  EXPECT_EQ(r->metadata[0], (std::pair<std::string, std::string>{"format", "pt"}));
  EXPECT_EQ(*r->FindMetadata("note"), "x");
  EXPECT_EQ(r->FindMetadata("nope"), nullptr);
  ASSERT_NE(r->Find("b"), nullptr);
  EXPECT_EQ(r->Find("b")->dtype, "F16");
}

// The layout the reference writer produces: the header padded with spaces to 8 bytes.
TEST(SafetensorsTest, ReferenceLayoutWithPadding) {
  std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  ASSERT_EQ(header.size(), 64u);
  auto r = Parse(Safetensors(header, std::string(24, '\0')));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->data_offset, 72u);
}

TEST(SafetensorsTest, EmptyFileOfTensors) {
  auto r = Parse(Safetensors("{}      ", ""));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(r->tensors.empty());
  r = Parse(Safetensors(R"({"__metadata__":{"framework":"pt"}})", ""));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->metadata.size(), 1u);
}

TEST(SafetensorsTest, ScalarsEmptyTensorsAndSubByteTypes) {
  const std::string header = R"({"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                             R"("e":{"dtype":"F32","shape":[0,5],"data_offsets":[8,8]},)"
                             R"("f4":{"dtype":"F4","shape":[2,3],"data_offsets":[8,11]},)"
                             R"("f6":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[11,14]},)"
                             R"("x":{"dtype":"F8_E8M0","shape":[2],"data_offsets":[14,16]}})";
  auto r = Parse(Safetensors(header, std::string(16, '\0')));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->tensors.size(), 5u);
  EXPECT_EQ(r->tensors[0].name, "s");
  EXPECT_EQ(r->tensors[1].name, "e");  // empty, at 8, before f4 [8, 11)
  EXPECT_EQ(r->tensors[2].name, "f4");
}

TEST(SafetensorsTest, LargeIntegersAndUnicodeNames) {
  const std::string header =
      R"({"\u00e9\u4e2d":{"dtype":"U8","shape":[18446744073709551615, 0],"data_offsets":[0,0]},)"
      R"("z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  auto r = Parse(Safetensors(header, "q"));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_NE(r->Find("\xc3\xa9\xe4\xb8\xad"), nullptr);
  EXPECT_EQ(r->Find("\xc3\xa9\xe4\xb8\xad")->shape[0], 18446744073709551615ull);
}

TEST(SafetensorsTest, EveryDtypeHasItsSize) {
  struct Case {
    const char* name;
    uint32_t bits;
  };
  const Case cases[] = {{"BOOL", 8},    {"U8", 8},   {"I8", 8},   {"F8_E5M2", 8}, {"F8_E4M3", 8},
                        {"F8_E8M0", 8}, {"I16", 16}, {"U16", 16}, {"F16", 16},    {"BF16", 16},
                        {"I32", 32},    {"U32", 32}, {"F32", 32}, {"F64", 64},    {"I64", 64},
                        {"U64", 64},    {"C64", 64}, {"F4", 4},   {"F6_E2M3", 6}, {"F6_E3M2", 6}};
  for (const Case& c : cases) {
    const SafetensorsDtype* d = FindSafetensorsDtype(c.name);
    ASSERT_NE(d, nullptr) << c.name;
    EXPECT_EQ(d->bits, c.bits) << c.name;
  }
  EXPECT_EQ(AllSafetensorsDtypes().size(), std::size(cases));
  EXPECT_EQ(FindSafetensorsDtype("f32"), nullptr);  // case-sensitive
}

// ---------------------------------------------------------------------------------------
// Corruption table. `where` is the start of the message after the source: "offset N: " for
// byte-level faults, "header field <path>: " for a field.

struct Corruption {
  std::string name;
  std::string bytes;
  std::string where;
  std::string what;
};

void PrintTo(const Corruption& c, std::ostream* os) { *os << c.name; }

std::string T(std::string_view name, std::string_view dtype, std::string_view shape, uint64_t begin,
              uint64_t end) {
  return "\"" + std::string(name) + "\":{\"dtype\":\"" + std::string(dtype) +
         "\",\"shape\":" + std::string(shape) + ",\"data_offsets\":[" + std::to_string(begin) +
         "," + std::to_string(end) + "]}";
}

std::vector<Corruption> SafetensorsCorruptions() {
  std::vector<Corruption> out;
  auto add = [&](std::string name, std::string bytes, std::string where, std::string what) {
    out.push_back({std::move(name), std::move(bytes), std::move(where), std::move(what)});
  };
  const std::string a8 = T("a", "F32", "[2]", 0, 8);
  const std::string data8(8, '\0');

  add("ShorterThanLength", std::string("\x10\0\0", 3), "offset 0: ", "truncated");
  {
    Bytes b;
    b.U64(100'000'001).Raw("{}");
    add("HeaderLengthOverLimit", b.str(),
        "offset 0: ", "header length 100000001 exceeds the limit of 100000000 bytes");
  }
  {
    Bytes b;
    b.U64(~0ull).Raw("{}");
    add("HeaderLengthHuge", b.str(), "offset 0: ", "header length 18446744073709551615");
  }
  {
    Bytes b;
    b.U64(50).Raw("{}");
    add("HeaderLengthPastEnd", b.str(),
        "offset 0: ", "header length 50 exceeds the 2 bytes after it");
  }
  add("HeaderEmpty", Safetensors("", ""), "offset 8: ", "does not start with '{'");
  add("HeaderNotObject", Safetensors("[1]", ""), "offset 8: ", "does not start with '{'");
  add("HeaderLeadingSpace", Safetensors(" {}", ""), "offset 8: ", "does not start with '{'");
  add("HeaderNotUtf8", Safetensors("{\"\xff\":1}", ""), "offset 8: ", "not valid UTF-8");
  add("JsonSyntaxError", Safetensors("{\"a\" 1}", ""), "offset 13: ", "header JSON: ");
  add("JsonTruncated", Safetensors("{\"a\":{", ""), "offset 14: ", "header JSON: ");
  add("TrailingData", Safetensors("{} x", ""), "offset 11: ", "data after the header object");
  add("TrailingSecondObject", Safetensors("{}{}", ""),
      "offset 10: ", "data after the header object");
  add("DuplicateTensorName", Safetensors("{" + a8 + "," + T("a", "F32", "[2]", 0, 8) + "}", data8),
      "offset ", "duplicate key \"a\" in the header object");
  add("DuplicateNameViaEscape",
      Safetensors("{" + a8 + "," + T("\\u0061", "F32", "[2]", 0, 8) + "}", data8), "offset ",
      "duplicate key \"a\"");
  add("DuplicateDtypeField",
      Safetensors(R"({"a":{"dtype":"F32","dtype":"I32","shape":[2],"data_offsets":[0,8]}})", data8),
      // The offset is where the parser stood: the duplicate key's closing quote.
      "offset 34: ", "duplicate key \"dtype\" in the object \"a\"");
  add("DuplicateMetadataKey",
      Safetensors(R"({"__metadata__":{"k":"1","k":"2"},)" + a8 + "}", data8), "offset ",
      "duplicate key \"k\" in the object \"__metadata__\"");
  add("DuplicateMetadataObject",
      Safetensors(R"({"__metadata__":{},"__metadata__":{},)" + a8 + "}", data8), "offset ",
      "duplicate key \"__metadata__\"");
  add("NestingTooDeep",
      Safetensors("{\"a\":" + std::string(20, '[') + std::string(20, ']') + "}", ""), "offset ",
      "header JSON: ");
  add("MetadataNotObject", Safetensors(R"({"__metadata__":"pt"})", ""),
      "header field \"__metadata__\": ", "expected an object of strings, found a string");
  add("MetadataValueNotString", Safetensors(R"({"__metadata__":{"n":1}})", ""),
      "header field \"__metadata__\".\"n\": ", "expected a string, found a number");
  add("TensorNotObject", Safetensors(R"({"a":[1]})", ""),
      "header field \"a\": ", "expected an object, found an array");
  add("EmptyTensorName", Safetensors("{" + T("", "F32", "[2]", 0, 8) + "}", data8),
      "header field \"\": ", "empty tensor name");
  add("UnknownField",
      Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data8),
      "header field \"a\": ", "unknown field \"x\"");
  add("MissingDtype", Safetensors(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", data8),
      "header field \"a\".dtype: ", "missing");
  add("DtypeNotString", Safetensors(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", data8),
      "header field \"a\".dtype: ", "expected a string");
  add("UnknownDtype", Safetensors("{" + T("a", "F12", "[2]", 0, 8) + "}", data8),
      "header field \"a\".dtype: ", "unknown dtype \"F12\" (known: BOOL, F4");
  add("MissingShape", Safetensors(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", data8),
      "header field \"a\".shape: ", "missing");
  add("ShapeNegative", Safetensors("{" + T("a", "F32", "[-2]", 0, 8) + "}", data8),
      "header field \"a\".shape[0]: ", "expected an integer >= 0, found -2");
  add("ShapeFraction", Safetensors("{" + T("a", "F32", "[1,2.0]", 0, 8) + "}", data8),
      "header field \"a\".shape[1]: ", "expected an integer >= 0");
  add("ShapeTooBigForU64",
      Safetensors("{" + T("a", "F32", "[18446744073709551616]", 0, 8) + "}", data8),
      "header field \"a\".shape[0]: ", "expected an integer >= 0");
  add("ShapeNotArray", Safetensors("{" + T("a", "F32", "2", 0, 8) + "}", data8),
      "header field \"a\".shape: ", "expected an array, found a number");
  add("MissingOffsets", Safetensors(R"({"a":{"dtype":"F32","shape":[2]}})", data8),
      "header field \"a\".data_offsets: ", "missing");
  add("OffsetsThreeItems",
      Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", data8),
      "header field \"a\".data_offsets: ", "found an array of 3");
  add("OffsetNegative",
      Safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", data8),
      "header field \"a\".data_offsets[0]: ", "expected an integer >= 0, found -8");
  add("BeginAfterEnd", Safetensors("{" + T("a", "U8", "[0]", 8, 4) + "}", data8),
      "header field \"a\".data_offsets: ", "[8, 4]: begin is after end");
  add("EndPastData", Safetensors("{" + T("a", "F32", "[4]", 0, 16) + "}", data8),
      "header field \"a\".data_offsets: ", "end is past the data section (8 bytes)");
  add("SizeMismatch", Safetensors("{" + T("a", "F32", "[3]", 0, 8) + "}", data8),
      "header field \"a\".data_offsets: ", "[0, 8] holds 8 bytes, but 3 elements of F32 take 12");
  add("ShapeOverflow",
      Safetensors("{" + T("a", "F32", "[4294967296,4294967296]", 0, 8) + "}", data8),
      "header field \"a\".shape: ", "overflows 64 bits");
  add("ShapeTimesBitsOverflow",
      Safetensors("{" + T("a", "F64", "[1152921504606846976]", 0, 8) + "}", data8),
      "header field \"a\".shape: ", "overflows 64 bits");
  add("SubByteNotWholeBytes", Safetensors("{" + T("a", "F4", "[3]", 0, 2) + "}", "ab"),
      "header field \"a\".shape: ", "3 elements of F4 are 12 bits, not whole bytes");
  add("OverlappingTensors",
      Safetensors("{" + T("a", "F32", "[2]", 0, 8) + "," + T("b", "F32", "[1]", 4, 8) + "}", data8),
      "header field \"b\".data_offsets: ", "[4, 8] overlaps tensor \"a\" [0, 8]");
  add("SameRangeTwice",
      Safetensors("{" + T("b", "F32", "[2]", 0, 8) + "," + T("a", "F32", "[2]", 0, 8) + "}", data8),
      "header field \"b\".data_offsets: ", "overlaps tensor \"a\"");
  add("EmptyTensorInsideAnother",
      Safetensors("{" + T("a", "F32", "[2]", 0, 8) + "," + T("e", "F32", "[0]", 4, 4) + "}", data8),
      "header field \"e\".data_offsets: ", "overlaps tensor \"a\"");
  add("HoleBetweenTensors",
      Safetensors("{" + T("a", "F32", "[1]", 0, 4) + "," + T("b", "F32", "[1]", 8, 12) + "}",
                  std::string(12, '\0')),
      "header field \"b\".data_offsets: ", "leaves bytes [4, 8) of the data section in no tensor");
  add("HoleAtStart", Safetensors("{" + T("a", "F32", "[1]", 4, 8) + "}", data8),
      "header field \"a\".data_offsets: ", "leaves bytes [0, 4)");
  {
    const std::string header = "{" + a8 + "}";
    add("BytesAfterLastTensor", Safetensors(header, std::string(12, '\0')),
        "offset " + std::to_string(8 + header.size() + 8) + ": ",
        "the tensors end 4 bytes before the end of the file");
  }
  add("DataWithNoTensors", Safetensors("{}", "x"),
      "offset 10: ", "the tensors end 1 bytes before the end of the file");
  return out;
}

class SafetensorsCorruptionTest : public ::testing::TestWithParam<Corruption> {};

TEST_P(SafetensorsCorruptionTest, IsDataLossNamingTheOffsetOrField) {
  const Corruption& c = GetParam();
  auto r = Parse(c.bytes);
  ASSERT_FALSE(r.has_value()) << c.name << " parsed";
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.error().message(), StartsWith("m.safetensors: " + c.where)) << r.error().message();
  EXPECT_THAT(r.error().message(), HasSubstr(c.what));
}

INSTANTIATE_TEST_SUITE_P(Mutations, SafetensorsCorruptionTest,
                         ::testing::ValuesIn(SafetensorsCorruptions()),
                         [](const auto& info) { return info.param.name; });

TEST(SafetensorsCorruptionTest, TruncatedAtEveryOffset) {
  const std::string full = Safetensors(
      R"({"__metadata__":{"a":"b"},"x":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},)"
      R"("y":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}})",
      "0123456789abcdef");
  ASSERT_TRUE(Parse(full).has_value());
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = Parse(full.substr(0, n));
    ASSERT_FALSE(r.has_value()) << "prefix " << n << " parsed";
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
    EXPECT_THAT(r.error().message(), StartsWith("m.safetensors: ")) << n;
  }
}

TEST(SafetensorsCorruptionTest, EveryByteFlipIsHandled) {
  const std::string full = Safetensors(
      R"({"x":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"__metadata__":{"k":"v"}})", "abcd");
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t x : {uint8_t{0x00}, uint8_t{'"'}, uint8_t{'9'}, uint8_t{0xc3}, uint8_t{0xff}}) {
      std::string m = full;
      m[i] = static_cast<char>(x);
      auto r = Parse(m);
      if (!r.has_value()) {
        EXPECT_EQ(r.error().code(), StatusCode::kDataLoss) << i;
      }
    }
  }
}

}  // namespace
}  // namespace warden::formats
