#include "watermark/key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "common/temp_dir.h"

namespace warden::watermark {
namespace {

using testing::TempDir;

TEST(WatermarkKeyTest, GeneratedKeysAreFreshAndNamedBySecret) {
  auto a = GenerateKey(Scheme::kKgw);
  auto b = GenerateKey(Scheme::kKgw);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(a->secret, b->secret);
  EXPECT_EQ(a->key_id, KeyIdOf(a->secret));
  EXPECT_EQ(a->key_id.size(), 64u);
  EXPECT_EQ(a->params.context, 1u);
}

TEST(WatermarkKeyTest, KeyIdIsSha256OfLabelAndSecret) {
  // sha256("warden-watermark-key-id/v1" || 32 zero bytes), computed with coreutils:
  // printf 'warden-watermark-key-id/v1' > f; head -c 32 /dev/zero >> f; sha256sum f
  std::array<uint8_t, kSecretBytes> zero{};
  EXPECT_EQ(KeyIdOf(zero), "82d7df938760a86938e07e13cf730c9a3e38bae46a79fb6985ea38d9934fc8f4");
}

TEST(WatermarkKeyTest, SerializeParseRoundTripsEveryScheme) {
  for (Scheme s : {Scheme::kKgw, Scheme::kTournament, Scheme::kGumbel}) {
    auto key = GenerateKey(s);
    ASSERT_TRUE(key.has_value());
    auto back = ParseKey(SerializeKey(*key), "k.json");
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(back->secret, key->secret);
    EXPECT_EQ(back->key_id, key->key_id);
    EXPECT_EQ(back->scheme, s);
    EXPECT_EQ(back->params.context, key->params.context);
  }
}

TEST(WatermarkKeyTest, FileIsWrittenPrivateAndNotOverwritten) {
  TempDir dir;
  auto key = GenerateKey(Scheme::kGumbel);
  ASSERT_TRUE(key.has_value());
  const std::string path = dir / "wm.key";
  ASSERT_TRUE(WriteKeyFile(*key, path, false).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Status again = WriteKeyFile(*key, path, false);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  auto loaded = LoadKeyFile(path);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_EQ(loaded->secret, key->secret);
}

TEST(WatermarkKeyTest, ReadableByOthersIsRefused) {
  TempDir dir;
  auto key = GenerateKey(Scheme::kKgw);
  const std::string path = dir / "wm.key";
  ASSERT_TRUE(WriteKeyFile(*key, path, false).ok());
  chmod(path.c_str(), 0644);
  auto loaded = LoadKeyFile(path);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.error().message().find("chmod 600"), std::string::npos);
}

TEST(WatermarkKeyTest, MissingFileIsNotFound) {
  auto loaded = LoadKeyFile("/nonexistent/wm.key");
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), StatusCode::kNotFound);
}

constexpr std::string_view kGood =
    R"({"warden_watermark_key":1,"key_id":"82d7df938760a86938e07e13cf730c9a3e38bae46a79fb6985ea38d9934fc8f4","secret":"0000000000000000000000000000000000000000000000000000000000000000","scheme":"kgw","params":{"context":1,"gamma":0.25,"delta":2}})";

std::string Mutate(std::string_view from, std::string_view to) {
  std::string s(kGood);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

TEST(WatermarkKeyTest, TheUnmutatedFixtureParses) {
  auto key = ParseKey(kGood, "good.key");
  ASSERT_TRUE(key.has_value()) << key.error().message();
}

struct Corruption {
  const char* name;
  std::string text;
  const char* expect;  // a fragment of the message
};

TEST(WatermarkKeyTest, CorruptionsAreDataLossNamingTheField) {
  const Corruption cases[] = {
      {"empty", "", "k.key"},
      {"not json", "hello", "syntax"},
      {"array", "[1]", "JSON object"},
      {"no version", Mutate(R"("warden_watermark_key":1,)", ""), "not a warden watermark key"},
      {"version 2", Mutate(R"("warden_watermark_key":1)", R"("warden_watermark_key":2)"),
       "unsupported version"},
      {"version string", Mutate(R"("warden_watermark_key":1)", R"("warden_watermark_key":"1")"),
       "unsupported version"},
      {"unknown field", Mutate(R"("scheme")", R"("extra":1,"scheme")"), "\"extra\""},
      {"duplicate field", Mutate(R"("scheme":"kgw")", R"("scheme":"kgw","scheme":"gumbel")"),
       "scheme"},
      {"short secret", Mutate("\"0000000000000000000000000000000000000000000000000000000000000000\"",
                              "\"00\""),
       "\"secret\""},
      {"non-hex secret",
       Mutate("\"0000000000000000000000000000000000000000000000000000000000000000\"",
              "\"000000000000000000000000000000000000000000000000000000000000000g\""),
       "\"secret\""},
      {"secret flipped (key id mismatch)",
       Mutate("\"0000000000000000000000000000000000000000000000000000000000000000\"",
              "\"0000000000000000000000000000000000000000000000000000000000000001\""),
       "does not match the secret"},
      {"missing key id", Mutate(R"("key_id":"82d7df938760a86938e07e13cf730c9a3e38bae46a79fb6985ea38d9934fc8f4",)", ""), "key_id"},
      {"unknown scheme", Mutate(R"("scheme":"kgw")", R"("scheme":"rot13")"), "\"scheme\""},
      {"gamma 1.5", Mutate(R"("gamma":0.25)", R"("gamma":1.5)"), "gamma"},
      {"delta 0", Mutate(R"("delta":2)", R"("delta":0)"), "delta"},
      {"context 0", Mutate(R"("context":1)", R"("context":0)"), "context"},
      {"context 99", Mutate(R"("context":1)", R"("context":99)"), "context"},
      {"context -1", Mutate(R"("context":1)", R"("context":-1)"), "context"},
      {"context 1.5", Mutate(R"("context":1)", R"("context":1.5)"), "context"},
      {"layers on kgw", Mutate(R"("delta":2)", R"("delta":2,"layers":3)"), "layers"},
      {"params not object", Mutate(R"({"context":1,"gamma":0.25,"delta":2})", "[]"), "params"},
      {"missing params", Mutate(R"(,"params":{"context":1,"gamma":0.25,"delta":2})", ""),
       "params"},
  };
  for (const Corruption& c : cases) {
    auto key = ParseKey(c.text, "k.key");
    ASSERT_FALSE(key.has_value()) << c.name;
    EXPECT_EQ(key.error().code(), StatusCode::kDataLoss) << c.name;
    EXPECT_NE(key.error().message().find(c.expect), std::string::npos)
        << c.name << ": " << key.error().message();
    EXPECT_NE(key.error().message().find("k.key"), std::string::npos) << c.name;
  }
}

TEST(SchemeParamsTest, JsonRoundTripAndErrors) {
  SchemeParams p = DefaultParams(Scheme::kTournament);
  p.layers = 12;
  auto back = ParamsFromJson(Scheme::kTournament, ParamsToJson(Scheme::kTournament, p));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->layers, 12u);
  EXPECT_EQ(back->context, 4u);
  boost::json::object bad{{"layers", 65}};
  auto err = ParamsFromJson(Scheme::kTournament, bad);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(err.error().message().find("\"layers\" must be in [1, 64], got 65"), std::string::npos);
  EXPECT_FALSE(ParseScheme("KGW").has_value());
  EXPECT_EQ(*ParseScheme("gumbel"), Scheme::kGumbel);
}

}  // namespace
}  // namespace warden::watermark
