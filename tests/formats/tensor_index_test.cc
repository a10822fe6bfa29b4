#include "formats/tensor_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "base/json.h"
#include "format_test_util.h"
#include "formats/ggml_types.h"
#include "formats/gguf_writer.h"

namespace warden::formats {
namespace {

using ::testing::HasSubstr;
using testing::Safetensors;

std::string Sha256Hex(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr), 1);
  return HexEncode(std::span<const uint8_t>(md, len));
}

TEST(DetectFormatTest, GgufByMagicSafetensorsByExtension) {
  const std::string gguf("GGUF\x03\0\0\0", 8);
  const std::string other("\x10\0\0\0\0\0\0\0{", 9);
  EXPECT_EQ(DetectFormat("model.bin", AsBytes(gguf)), ModelFormat::kGguf);
  EXPECT_EQ(DetectFormat("model.safetensors", AsBytes(gguf)), ModelFormat::kGguf);
  EXPECT_EQ(DetectFormat("dir/model.safetensors", AsBytes(other)), ModelFormat::kSafetensors);
  EXPECT_EQ(DetectFormat("model.safetensors", {}), ModelFormat::kSafetensors);
  EXPECT_EQ(DetectFormat("model.gguf", AsBytes(other)), ModelFormat::kUnknown);
  EXPECT_EQ(DetectFormat("model.safetensors.bak", AsBytes(other)), ModelFormat::kUnknown);
  EXPECT_EQ(DetectFormat(".safetensor", AsBytes(other)), ModelFormat::kUnknown);
  EXPECT_EQ(DetectFormat("x", AsBytes(std::string_view("GGU"))), ModelFormat::kUnknown);
  EXPECT_EQ(ModelFormatName(ModelFormat::kGguf), "gguf");
  EXPECT_EQ(ModelFormatName(ModelFormat::kSafetensors), "safetensors");
  EXPECT_EQ(ModelFormatName(ModelFormat::kUnknown), "unknown");
}

TEST(IndexTensorsTest, Stories260K) {
  const std::string path = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";
  auto file = ReadOnlyFile::Open(path);
  ASSERT_TRUE(file.has_value());
  auto map = file->MapAll();
  ASSERT_TRUE(map.has_value());
  ASSERT_EQ(DetectFormat(path, map->bytes().subspan(0, 8)), ModelFormat::kGguf);
  auto index = IndexTensors(ModelFormat::kGguf, map->bytes(), "stories260K.gguf");
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  ASSERT_EQ(index->size(), 48u);
  EXPECT_EQ((*index)[0], (TensorRange{"token_embd.weight", 14176, 131072}));
  // This file packs its tensors back to back (all F32 sizes are multiples of 32).
  for (size_t i = 1; i < index->size(); ++i) {
    EXPECT_EQ((*index)[i].offset, (*index)[i - 1].offset + (*index)[i - 1].size);
  }
  EXPECT_EQ(index->back().offset + index->back().size, map->size());
}

TEST(IndexTensorsTest, SortsByOffsetNotRecordOrder) {
  // Records b then a, but a's data comes first.
  testing::Bytes b;
  b.Header(2, 0).Tensor("b", {8}, kGgmlTypeF32, 32).Tensor("a", {8}, kGgmlTypeF32, 0);
  b.PadTo(32);
  const uint64_t data = b.size();
  b.Zeros(64);
  auto index = IndexTensors(ModelFormat::kGguf, b.span(), "x.gguf");
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[0], (TensorRange{"a", data, 32}));
  EXPECT_EQ((*index)[1], (TensorRange{"b", data + 32, 32}));
}

TEST(IndexTensorsTest, Safetensors) {
  const std::string header = R"({"w2":{"dtype":"U8","shape":[3],"data_offsets":[4,7]},)"
                             R"("w1":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}})";
  const std::string file = Safetensors(header, "abcdefg");
  auto index = IndexTensors(ModelFormat::kSafetensors, AsBytes(file), "m.safetensors");
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[0], (TensorRange{"w1", 8 + header.size(), 4}));
  EXPECT_EQ((*index)[1], (TensorRange{"w2", 8 + header.size() + 4, 3}));
  EXPECT_EQ(file.substr((*index)[1].offset, (*index)[1].size), "efg");
}

TEST(IndexTensorsTest, ErrorsAreTheParsers) {
  const std::string bad("GGUF\x01\0\0\0", 8);
  auto r = IndexTensors(ModelFormat::kGguf, AsBytes(bad), "old.gguf");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.error().message(), HasSubstr("old.gguf: offset 4: GGUF version 1"));

  const std::string st = Safetensors("{}", "x");
  r = IndexTensors(ModelFormat::kSafetensors, AsBytes(st), "m.safetensors");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);

  r = IndexTensors(ModelFormat::kUnknown, AsBytes(st), "m.bin");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

// llama.cpp's gguf-hash README example (tests/testdata/llama-cpp-gguf-hash/SOURCE.md): a
// per-tensor hash covers the tensor's data bytes only. We rebuild test.gguf's tensors from
// the recovered facts with our writer, find them with IndexTensors and check every sha256
// line of the published manifest.
TEST(IndexTensorsTest, ReproducesLlamaCppGgufHashManifest) {
  const std::string dir = std::string(WARDEN_TESTDATA_DIR) + "/llama-cpp-gguf-hash";
  auto facts_text = ReadFileToString(dir + "/gguf_hash_facts.json", 1 << 20);
  ASSERT_TRUE(facts_text.has_value()) << facts_text.error().ToString();
  auto facts = json::Parse(*facts_text, "gguf_hash_facts.json");
  ASSERT_TRUE(facts.has_value()) << facts.error().ToString();
  const auto& tensors = facts->as_object().at("tensors").as_array();

  GgufWriter w;
  ASSERT_TRUE(w.AddString("general.name", "test").ok());
  std::vector<std::string> names;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i].as_object();
    const std::string name(t.at("name").as_string());
    const uint64_t n = t.at("n_elements").to_number<uint64_t>();
    const float fill = static_cast<float>(100 + i);
    std::string data(n * 4, '\0');
    for (uint64_t e = 0; e < n; ++e) std::memcpy(&data[e * 4], &fill, 4);  // little-endian host
    ASSERT_TRUE(w.AddTensor(name, kGgmlTypeF32, {n}, std::move(data)).ok());
    names.push_back(name);
  }
  const std::string file = w.WriteToString();
  auto index = IndexTensors(DetectFormat("test.gguf", AsBytes(file)), AsBytes(file), "test.gguf");
  ASSERT_TRUE(index.has_value()) << index.error().ToString();
  ASSERT_EQ(index->size(), names.size());

  std::map<std::string, std::string> want;  // "test.gguf:tensor_0" -> sha256 hex
  auto manifest = ReadFileToString(dir + "/test.gguf.manifest", 1 << 20);
  ASSERT_TRUE(manifest.has_value());
  std::istringstream lines(*manifest);
  std::string type, hex, label;
  while (lines >> type >> hex >> label) {
    if (type == "sha256") want[label] = hex;
  }
  ASSERT_EQ(want.size(), names.size() + 1);

  std::string all;
  for (const TensorRange& r : *index) {
    const std::string_view bytes = std::string_view(file).substr(r.offset, r.size);
    EXPECT_EQ(Sha256Hex(bytes), want["test.gguf:" + r.name]) << r.name;
    all.append(bytes);
  }
  EXPECT_EQ(all.size(), 10100u);
  EXPECT_EQ(Sha256Hex(all), want["test.gguf"]);
}

}  // namespace
}  // namespace warden::formats
