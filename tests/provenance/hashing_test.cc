#include "provenance/hashing.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "base/files.h"
#include "common/temp_dir.h"

namespace warden::provenance {
namespace {

const std::string kModel = std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf";

TEST(HashingTest, TensorDigestsAreDigestsOfTheTensorBytes) {
  auto tree = WalkModel(kModel, {});
  ASSERT_TRUE(tree.has_value());
  HashOptions opt;
  opt.tensors = true;
  opt.window_bytes = 4096;  // many tensors straddle windows
  auto d = HashModel(*tree, opt);
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->size(), 1u);
  const FileDigest& fd = (*d)[0];
  ASSERT_TRUE(fd.status.ok() && fd.tensor_status.ok());
  EXPECT_EQ(fd.format, formats::ModelFormat::kGguf);
  ASSERT_EQ(fd.tensors.size(), 48u);
  auto bytes = ReadFileToString(kModel, 8 << 20);
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(fd.digest, crypto::Sha256(*bytes));
  for (const auto& t : fd.tensors) {
    SCOPED_TRACE(t.name);
    ASSERT_LE(t.offset + t.size, bytes->size());
    EXPECT_EQ(t.digest, crypto::Sha256(std::string_view(*bytes).substr(t.offset, t.size)));
  }
}

TEST(HashingTest, TensorsOnlySkipsTheFileDigestButNotTheTensors) {
  testing::TempDir dir;
  dir.Write("m/notes.txt", "plain file");
  std::filesystem::copy_file(kModel, dir / "m/model.gguf");
  auto tree = WalkModel(dir / "m", {});
  ASSERT_TRUE(tree.has_value());
  HashOptions both;
  both.tensors = true;
  HashOptions only = both;
  only.file_digests = false;
  auto a = HashModel(*tree, both);
  auto b = HashModel(*tree, only);
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_EQ(b->size(), 2u);
  const FileDigest& gguf = (*b)[0];
  const FileDigest& txt = (*b)[1];
  EXPECT_FALSE(gguf.has_file_digest);
  EXPECT_TRUE(txt.has_file_digest);  // no tensors: the file digest is all there is
  EXPECT_EQ(txt.digest, crypto::Sha256(std::string_view("plain file")));
  ASSERT_EQ(gguf.tensors.size(), (*a)[0].tensors.size());
  for (size_t i = 0; i < gguf.tensors.size(); ++i) {
    EXPECT_EQ(gguf.tensors[i].digest, (*a)[0].tensors[i].digest);
  }
}

TEST(HashingTest, OneThreadAndManyThreadsAgree) {
  testing::TempDir dir;
  std::string data(300000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) >> 3);
  for (int f = 0; f < 5; ++f) dir.Write("m/f" + std::to_string(f), data.substr(f * 1000));
  auto tree = WalkModel(dir / "m", {});
  ASSERT_TRUE(tree.has_value());
  HashOptions one;
  one.threads = 1;
  one.method = Method::kShards;
  one.shard_size = 65536;
  HashOptions many = one;
  many.threads = 8;
  auto a = HashModel(*tree, one);
  auto b = HashModel(*tree, many);
  ASSERT_TRUE(a.has_value() && b.has_value());
  for (size_t i = 0; i < a->size(); ++i) {
    ASSERT_EQ((*a)[i].shards.size(), (*b)[i].shards.size());
    for (size_t s = 0; s < (*a)[i].shards.size(); ++s) {
      EXPECT_EQ((*a)[i].shards[s].digest, (*b)[i].shards[s].digest);
    }
  }
  EXPECT_EQ((*a)[0].shards.back().digest, crypto::Sha256(std::string_view(data).substr(4 * 65536)));
}

TEST(HashingTest, MalformedGgufKeepsFileDigestAndReportsTensorError) {
  testing::TempDir dir;
  auto bytes = ReadFileToString(kModel, 8 << 20).value();
  bytes.resize(2000);  // cut inside the metadata
  dir.Write("m/model.gguf", bytes);
  auto tree = WalkModel(dir / "m", {});
  ASSERT_TRUE(tree.has_value());
  HashOptions opt;
  opt.tensors = true;
  auto d = HashModel(*tree, opt);
  ASSERT_TRUE(d.has_value());
  const FileDigest& fd = (*d)[0];
  EXPECT_TRUE(fd.status.ok());
  EXPECT_EQ(fd.digest, crypto::Sha256(bytes));
  EXPECT_EQ(fd.tensor_status.code(), StatusCode::kDataLoss);
  EXPECT_NE(fd.tensor_status.message().find("model.gguf"), std::string::npos)
      << fd.tensor_status.message();
  EXPECT_TRUE(fd.tensors.empty());
}

TEST(HashingTest, ZeroShardSizeIsRefused) {
  ModelTree tree;
  HashOptions opt;
  opt.method = Method::kShards;
  opt.shard_size = 0;
  EXPECT_EQ(HashModel(tree, opt).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::provenance
