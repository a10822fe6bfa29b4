// Known answers from the OMS reference implementation: manifests and signed statements for
// its seven fixture models, in the files method and the shards method (1e9 and 8 bytes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "base/files.h"
#include "base/json.h"
#include "common/temp_dir.h"
#include "provenance/manifest.h"

namespace warden::provenance {
namespace {

const std::string kOms = std::string(WARDEN_TESTDATA_DIR) + "/oms/model-transparency";

struct Fixture {
  std::string key;   // e.g. "sample_model_folder"
  std::string path;  // the materialized model
};

// Builds one fixture model from fixture_models.json inside `dir`.
Fixture Materialize(const std::string& key, const json::object& spec, const testing::TempDir& dir) {
  const std::string name(spec.at("name").as_string());
  const std::string kind(spec.at("kind").as_string());
  if (kind == "file") {
    return {key, dir.Write(name, std::string(spec.at("content").as_string()))};
  }
  const std::string root = dir / name;
  std::filesystem::create_directories(root);
  for (const auto& f : spec.at("files").as_array()) {
    dir.Write(name + "/" + std::string(f.at("path").as_string()),
              std::string(f.at("content").as_string()));
  }
  if (const auto* links = spec.if_contains("symlinks")) {
    for (const auto& l : links->as_array()) {
      // Upstream's target lies outside the model, which warden refuses; an ignored .git/
      // directory inside the model gives the same resources.
      const std::string target =
          dir.Write(name + "/.git/target", std::string(l.at("target_content").as_string()));
      const std::string link = root + "/" + std::string(l.at("path").as_string());
      EXPECT_EQ(symlink(target.c_str(), link.c_str()), 0);
    }
  }
  return {key, root};
}

std::string ManifestLines(const std::vector<FileDigest>& digests, Method method) {
  std::ostringstream out;
  for (const auto& fd : digests) {
    if (method == Method::kFiles) {
      out << fd.name << ":" << crypto::DigestHex(fd.digest) << "\n";
    } else {
      for (const auto& sh : fd.shards) {
        out << fd.name << ":" << sh.start << ":" << sh.end << ":" << crypto::DigestHex(sh.digest)
            << "\n";
      }
    }
  }
  return out.str();
}

struct Variant {
  Method method;
  uint64_t shard_size;
  std::string serialization_file;  // relative to serialization/
  std::string payload_suffix;      // appended to the model key under signing/TestPayload/
};

class OmsGoldenTest : public ::testing::TestWithParam<Variant> {};

TEST_P(OmsGoldenTest, ManifestsAndStatementsMatchReference) {
  const Variant& v = GetParam();
  auto spec_text = ReadFileToString(kOms + "/fixture_models.json", 1 << 20);
  ASSERT_TRUE(spec_text.has_value());
  auto spec = json::Parse(*spec_text, "fixture_models.json");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  int checked = 0;
  for (const auto& [key, model] : spec->at("models").as_object()) {
    SCOPED_TRACE(std::string(key));
    testing::TempDir dir;
    Fixture fx = Materialize(std::string(key), model.as_object(), dir);
    WalkOptions walk;
    walk.allow_symlinks = true;
    auto tree = WalkModel(fx.path, walk);
    ASSERT_TRUE(tree.has_value()) << tree.error().ToString();
    HashOptions hash;
    hash.method = v.method;
    hash.shard_size = v.shard_size;
    hash.threads = 2;
    auto digests = HashModel(*tree, hash);
    ASSERT_TRUE(digests.has_value());

    // The serialization golden: one line per file or shard.
    std::string golden_name = v.serialization_file;
    golden_name.replace(golden_name.find("MODEL"), 5, fx.key);
    auto golden = ReadFileToString(kOms + "/serialization/" + golden_name, 1 << 20);
    ASSERT_TRUE(golden.has_value()) << golden.error().ToString();
    std::string want = *golden;
    if (!want.empty() && want.back() != '\n') want += '\n';
    EXPECT_EQ(ManifestLines(*digests, v.method), want);

    // The statement golden, compared as parsed values like upstream does.
    auto payload =
        ReadFileToString(kOms + "/signing/TestPayload/" + fx.key + v.payload_suffix, 1 << 20);
    ASSERT_TRUE(payload.has_value());
    auto expected = ParseStatement(*payload, fx.key);
    ASSERT_TRUE(expected.has_value()) << expected.error().ToString();
    Statement got = BuildStatement(*tree, *digests, hash, true);
    EXPECT_EQ(got.subject_name, expected->subject_name);
    EXPECT_EQ(got.subject_digest, expected->subject_digest);
    EXPECT_EQ(got.serialization.method, expected->serialization.method);
    EXPECT_EQ(got.serialization.shard_size, expected->serialization.shard_size);
    ASSERT_EQ(got.resources.size(), expected->resources.size());
    for (size_t i = 0; i < got.resources.size(); ++i) {
      EXPECT_EQ(got.resources[i].name, expected->resources[i].name);
      EXPECT_EQ(got.resources[i].algorithm, expected->resources[i].algorithm);
      EXPECT_EQ(got.resources[i].digest, expected->resources[i].digest);
    }
    // Our own writer's output parses back to the same statement.
    auto round = ParseStatement(StatementToJson(got), "round trip");
    ASSERT_TRUE(round.has_value()) << round.error().ToString();
    EXPECT_EQ(round->subject_digest, got.subject_digest);
    EXPECT_EQ(round->resources.size(), got.resources.size());
    ++checked;
  }
  EXPECT_EQ(checked, 7);
}

INSTANTIATE_TEST_SUITE_P(
    Methods, OmsGoldenTest,
    ::testing::Values(Variant{Method::kFiles, kDefaultShardSize, "file/TestSerializer/MODEL", ""},
                      Variant{Method::kShards, kDefaultShardSize, "file_shard/TestSerializer/MODEL",
                              "_shard"},
                      Variant{Method::kShards, 8, "file_shard/TestSerializer/MODEL_small_shards",
                              "_small_shards"}),
    [](const auto& info) {
      return info.param.method == Method::kFiles ? std::string("Files")
                                                 : "Shards" + std::to_string(info.param.shard_size);
    });

TEST(OmsGoldenTest, SmallWindowsGiveTheSameDigests) {
  // Windows smaller than a shard and than a file exercise the window-crossing code.
  testing::TempDir dir;
  std::string big(100003, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  dir.Write("m/a.bin", big);
  dir.Write("m/b.bin", big.substr(0, 4097));
  auto tree = WalkModel(dir / "m", {});
  ASSERT_TRUE(tree.has_value());
  for (Method m : {Method::kFiles, Method::kShards}) {
    HashOptions wide;
    wide.method = m;
    wide.shard_size = 10000;
    HashOptions narrow = wide;
    narrow.window_bytes = 4096;
    narrow.threads = 3;
    auto a = HashModel(*tree, wide);
    auto b = HashModel(*tree, narrow);
    ASSERT_TRUE(a.has_value() && b.has_value());
    EXPECT_EQ(ManifestLines(*a, m), ManifestLines(*b, m));
  }
  HashOptions files;
  auto d = HashModel(*tree, files);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ((*d)[0].digest, crypto::Sha256(big));
}

}  // namespace
}  // namespace warden::provenance
