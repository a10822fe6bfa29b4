// Known-answer tests of the watermark PRF, key ids, scheme maps, per-token scores and null
// p-values against tests/testdata/watermark/vectors.json, which an independent Python
// implementation (make_vectors.py, written from the specification in prf.h, key.h and
// detector.h) produced. SipHash-2-4 is also checked against the SipHash paper's published
// vectors written out below, so a wrong vectors.json could not hide a wrong SipHash.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "engine/types.h"
#include "watermark/detector.h"
#include "watermark/key.h"
#include "watermark/prf.h"

namespace warden::watermark {
namespace {

namespace json = boost::json;
using engine::Token;

constexpr char kVectorsPath[] = WARDEN_TESTDATA_DIR "/watermark/vectors.json";

// The key of the SipHash paper's vectors: bytes 00 01 .. 0f.
constexpr SipKey kPaperKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};

const json::object& Vectors() {
  static const json::object* const vectors = [] {
    auto text = ReadFileToString(kVectorsPath, 4 << 20);
    if (!text.has_value()) {
      ADD_FAILURE() << text.error().ToString();
      return new json::object();
    }
    boost::system::error_code ec;
    json::value parsed = json::parse(*text, ec);
    if (ec || !parsed.is_object()) {
      ADD_FAILURE() << kVectorsPath << ": not a JSON object: " << ec.message();
      return new json::object();
    }
    return new json::object(std::move(parsed.as_object()));
  }();
  return *vectors;
}

const json::array& Section(std::string_view name) {
  static const json::array empty;
  const json::value* section = Vectors().if_contains(name);
  if (section == nullptr || !section->is_array()) {
    ADD_FAILURE() << "vectors.json has no array \"" << name << "\"";
    return empty;
  }
  return section->as_array();
}

std::string_view Str(const json::value& v) { return v.as_string(); }

uint64_t U64(const json::value& v) {
  std::string_view s = Str(v);
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  EXPECT_TRUE(ec == std::errc() && end == s.data() + s.size()) << "not a uint64: " << s;
  return out;
}

// Doubles that must match bit for bit are stored as C99 hex floats, which strtod reads
// exactly (a decimal JSON number could be parsed to a neighbouring double).
double HexDouble(const json::value& v) {
  std::string s(Str(v));
  char* end = nullptr;
  double out = std::strtod(s.c_str(), &end);
  EXPECT_EQ(end, s.c_str() + s.size()) << "not a hex float: " << s;
  return out;
}

std::vector<uint8_t> Bytes(const json::value& v) {
  auto bytes = HexDecode(Str(v));
  EXPECT_TRUE(bytes.has_value()) << Str(v);
  return bytes.value_or(std::vector<uint8_t>{});
}

std::vector<Token> Tokens(const json::value& v) {
  std::vector<Token> out;
  for (const json::value& t : v.as_array()) out.push_back(static_cast<Token>(t.as_int64()));
  return out;
}

Token TokenOf(const json::value& v) { return static_cast<Token>(v.as_int64()); }

std::array<uint8_t, kSecretBytes> SecretNamed(std::string_view name) {
  std::array<uint8_t, kSecretBytes> secret{};
  for (const json::value& entry : Section("secrets")) {
    if (Str(entry.at("name")) != name) continue;
    std::vector<uint8_t> bytes = Bytes(entry.at("secret_hex"));
    EXPECT_EQ(bytes.size(), kSecretBytes);
    std::copy_n(bytes.begin(), std::min(bytes.size(), secret.size()), secret.begin());
    return secret;
  }
  ADD_FAILURE() << "no secret named " << name;
  return secret;
}

Scheme SchemeOf(const json::value& v) {
  auto scheme = ParseScheme(Str(v));
  EXPECT_TRUE(scheme.has_value()) << Str(v);
  return scheme.value_or(Scheme::kKgw);
}

SchemeParams ParamsOf(Scheme scheme, const json::object& json) {
  SchemeParams params = DefaultParams(scheme);
  if (auto* v = json.if_contains("context")) params.context = static_cast<uint32_t>(v->as_int64());
  if (auto* v = json.if_contains("gamma")) params.gamma = v->to_number<double>();
  if (auto* v = json.if_contains("delta")) params.delta = v->to_number<double>();
  if (auto* v = json.if_contains("layers")) params.layers = static_cast<uint32_t>(v->as_int64());
  return params;
}

std::string Describe(const json::value& v) { return json::serialize(v); }

TEST(VectorsFileTest, HasEverySection) {
  for (const char* name : {"siphash", "secrets", "prf", "repeat_fingerprint", "green_threshold53",
                           "kgw_green", "gumbel_uniform", "token_values", "p_values"}) {
    EXPECT_TRUE(Vectors().contains(name)) << name;
  }
  EXPECT_EQ(Vectors().at("siphash").at("cases").as_array().size(), 64u);
  EXPECT_GE(Section("prf").size(), 400u);
  EXPECT_GE(Section("token_values").size(), 10u);
}

// --- SipHash-2-4 -------------------------------------------------------------------------------

std::vector<uint8_t> Counting(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i);
  return bytes;
}

TEST(VectorsSipHashTest, MatchesThePaperVectorsAroundBlockBoundaries) {
  // SipHash paper, reference vectors (key 00..0f, message 00..n-1), read as little-endian.
  const std::pair<size_t, uint64_t> kPaper[] = {
      {0, 0x726fdb47dd0e0e31ull},  {1, 0x74f839c593dc67fdull},  {7, 0xab0200f58b01d137ull},
      {8, 0x93f5f5799a932462ull},  {15, 0xa129ca6149be45e5ull}, {16, 0x3f2acc7f57c29bdbull},
      {63, 0x958a324ceb064572ull},
  };
  for (const auto& [n, expected] : kPaper) {
    EXPECT_EQ(SipHash24(kPaperKey, Counting(n)), expected) << "length " << n;
  }
}

TEST(VectorsSipHashTest, MatchesAllSixtyFourVectorsOfTheFile) {
  const json::object& siphash = Vectors().at("siphash").as_object();
  SipKey key{U64(siphash.at("k0")), U64(siphash.at("k1"))};
  ASSERT_EQ(key.k0, kPaperKey.k0);
  ASSERT_EQ(key.k1, kPaperKey.k1);
  for (const json::value& c : siphash.at("cases").as_array()) {
    EXPECT_EQ(SipHash24(key, Bytes(c.at("message_hex"))), U64(c.at("value"))) << Describe(c);
  }
}

std::vector<uint64_t> FileSipHashes() {
  std::vector<uint64_t> out;
  for (const json::value& c : Vectors().at("siphash").at("cases").as_array()) {
    out.push_back(U64(c.at("value")));
  }
  return out;
}

TEST(VectorsSipHasherTest, FinishAfterEveryByteGivesThePrefixHashAndKeepsAbsorbing) {
  std::vector<uint64_t> expected = FileSipHashes();
  ASSERT_EQ(expected.size(), 64u);
  SipHasher hasher(kPaperKey);
  EXPECT_EQ(hasher.Finish(), expected[0]);
  for (size_t i = 0; i < 63; ++i) {
    uint8_t byte = static_cast<uint8_t>(i);
    hasher.Update(std::span<const uint8_t>(&byte, 1));
    EXPECT_EQ(hasher.Finish(), expected[i + 1]) << "after " << i + 1 << " bytes";
    EXPECT_EQ(hasher.Finish(), expected[i + 1]) << "second Finish after " << i + 1 << " bytes";
  }
}

TEST(VectorsSipHasherTest, ChunkingDoesNotChangeTheHash) {
  std::vector<uint64_t> expected = FileSipHashes();
  ASSERT_EQ(expected.size(), 64u);
  std::vector<uint8_t> message = Counting(63);
  for (size_t chunk = 1; chunk <= 17; ++chunk) {
    SipHasher hasher(kPaperKey);
    for (size_t at = 0; at < message.size(); at += chunk) {
      size_t n = std::min(chunk, message.size() - at);
      hasher.Update(std::span<const uint8_t>(message).subspan(at, n));
      EXPECT_EQ(hasher.Finish(), expected[at + n]) << "chunk " << chunk << " at " << at;
    }
  }
}

TEST(VectorsSipHasherTest, UpdateLe32AppendsFourLittleEndianBytesAtAnyOffset) {
  std::vector<uint64_t> expected = FileSipHashes();
  ASSERT_EQ(expected.size(), 64u);
  for (size_t lead = 0; lead < 8; ++lead) {
    SipHasher hasher(kPaperKey);
    hasher.Update(std::span<const uint8_t>(Counting(lead)));
    size_t n = lead;
    while (n + 4 <= 63) {
      uint32_t word = static_cast<uint32_t>(n) | static_cast<uint32_t>(n + 1) << 8 |
                      static_cast<uint32_t>(n + 2) << 16 | static_cast<uint32_t>(n + 3) << 24;
      hasher.UpdateLe32(word);
      n += 4;
      EXPECT_EQ(hasher.Finish(), expected[n]) << "lead " << lead << ", length " << n;
    }
  }
}

// --- Keys and subkeys --------------------------------------------------------------------------

TEST(VectorsKeyIdTest, MatchesVectors) {
  for (const json::value& entry : Section("secrets")) {
    EXPECT_EQ(KeyIdOf(SecretNamed(Str(entry.at("name")))), Str(entry.at("key_id")))
        << Str(entry.at("name"));
  }
}

TEST(VectorsPrfTest, SubkeysMatchVectors) {
  for (const json::value& entry : Section("secrets")) {
    std::array<uint8_t, kSecretBytes> secret = SecretNamed(Str(entry.at("name")));
    for (const json::key_value_pair& subkey : entry.at("subkeys").as_object()) {
      std::string what = std::string(Str(entry.at("name"))) + " " + std::string(subkey.key());
      Prf prf(secret, subkey.key());
      EXPECT_EQ(prf.subkey().k0, U64(subkey.value().at("k0"))) << what;
      EXPECT_EQ(prf.subkey().k1, U64(subkey.value().at("k1"))) << what;
    }
  }
}

// --- PRF ---------------------------------------------------------------------------------------

TEST(VectorsPrfTest, ValuesMatchVectors) {
  for (const json::value& c : Section("prf")) {
    Prf prf(SecretNamed(Str(c.at("secret"))), Str(c.at("scheme")));
    std::vector<Token> context = Tokens(c.at("context"));
    EXPECT_EQ(prf(context, TokenOf(c.at("token"))), U64(c.at("value"))) << Describe(c);
  }
}

TEST(VectorsPrfTest, AbsorbedContextFinishedWithTheTokenMatchesVectors) {
  for (const json::value& c : Section("prf")) {
    Prf prf(SecretNamed(Str(c.at("secret"))), Str(c.at("scheme")));
    std::vector<Token> context = Tokens(c.at("context"));
    SipHasher absorbed = prf.Absorb(context);
    SipHasher copy = absorbed;
    copy.UpdateLe32(static_cast<uint32_t>(TokenOf(c.at("token"))));
    EXPECT_EQ(copy.Finish(), U64(c.at("value"))) << Describe(c);
  }
}

TEST(VectorsPrfTest, IsSipHashOfTheDocumentedMessageUnderTheSubkey) {
  // Pins the message layout of docs/formats/watermark.md: the subkey alone, applied to the
  // listed bytes, must give the value.
  for (const json::value& c : Section("prf")) {
    Prf prf(SecretNamed(Str(c.at("secret"))), Str(c.at("scheme")));
    std::vector<uint8_t> message = Bytes(c.at("message_hex"));
    EXPECT_EQ(message.size(), 4 * (c.at("context").as_array().size() + 1)) << Describe(c);
    EXPECT_EQ(SipHash24(prf.subkey(), message), U64(c.at("value"))) << Describe(c);
    EXPECT_EQ(Prf(prf.subkey())(Tokens(c.at("context")), TokenOf(c.at("token"))),
              U64(c.at("value")))
        << Describe(c);
  }
}

TEST(VectorsRepeatFingerprintTest, MatchesVectors) {
  for (const json::value& c : Section("repeat_fingerprint")) {
    std::vector<Token> context = Tokens(c.at("context"));
    EXPECT_EQ(RepeatFingerprint(context, TokenOf(c.at("token")), c.at("with_token").as_bool()),
              U64(c.at("value")))
        << Describe(c);
  }
}

// --- Scheme maps -------------------------------------------------------------------------------

TEST(VectorsSchemeMapTest, GreenThreshold53MatchesVectors) {
  for (const json::value& c : Section("green_threshold53")) {
    EXPECT_EQ(GreenThreshold53(HexDouble(c.at("gamma_hex"))), U64(c.at("threshold")))
        << Describe(c);
  }
}

TEST(VectorsSchemeMapTest, KgwGreenMatchesVectorsOnBothSidesOfTheThreshold) {
  for (const json::value& c : Section("kgw_green")) {
    EXPECT_EQ(KgwGreen(U64(c.at("value")), U64(c.at("threshold"))), c.at("green").as_bool())
        << Describe(c);
  }
}

TEST(VectorsSchemeMapTest, GumbelUniformMatchesVectorsBitForBit) {
  for (const json::value& c : Section("gumbel_uniform")) {
    EXPECT_EQ(GumbelUniform(U64(c.at("value"))), HexDouble(c.at("r_hex"))) << Describe(c);
  }
}

// --- Per-token scores --------------------------------------------------------------------------

// -ln(1 - r) may be computed as -log1p(-r) (the vectors) or -log(1 - r); the two differ by an
// absolute ~1e-16 and a few ulp, far below what a wrong r or a wrong formula would change.
constexpr double kGumbelScoreTolerance = 1e-14;

TEST(VectorsTokenScoreTest, MatchesVectorsForEverySchemeAndKey) {
  for (const json::value& group : Section("token_values")) {
    std::array<uint8_t, kSecretBytes> secret = SecretNamed(Str(group.at("secret")));
    Scheme scheme = SchemeOf(group.at("scheme"));
    SchemeParams params = ParamsOf(scheme, group.at("params").as_object());
    WatermarkKey key;
    key.secret = secret;
    key.key_id = KeyIdOf(secret);
    key.scheme = scheme;
    key.params = params;
    auto detector = Detector::Create(key, scheme, params);
    ASSERT_TRUE(detector.has_value()) << detector.error().ToString();
    Prf prf(secret, SchemeName(scheme));
    for (const json::value& c : group.at("cases").as_array()) {
      std::string what = Describe(group.at("params")) + " " + Describe(c);
      std::vector<Token> context = Tokens(c.at("context"));
      Token token = TokenOf(c.at("token"));
      uint64_t value = U64(c.at("value"));
      EXPECT_EQ(prf(context, token), value) << what;
      double score = c.at("score").to_number<double>();
      switch (scheme) {
        case Scheme::kKgw:
          EXPECT_EQ(KgwGreen(value, GreenThreshold53(params.gamma)), c.at("green").as_bool())
              << what;
          EXPECT_EQ(detector->TokenScore(context, token), score) << what;
          break;
        case Scheme::kTournament: {
          std::string_view bits = Str(c.at("g_bits"));
          ASSERT_EQ(bits.size(), params.layers) << what;
          for (uint32_t layer = 0; layer < params.layers; ++layer) {
            EXPECT_EQ((value >> layer) & 1, bits[layer] == '1' ? 1u : 0u) << what << " " << layer;
          }
          EXPECT_EQ(detector->TokenScore(context, token), score) << what;
          break;
        }
        case Scheme::kGumbel:
          EXPECT_EQ(GumbelUniform(value), HexDouble(c.at("r_hex"))) << what;
          score = HexDouble(c.at("score_hex"));
          EXPECT_NEAR(detector->TokenScore(context, token), score,
                      kGumbelScoreTolerance * std::max(1.0, score))
              << what;
          break;
      }
    }
  }
}

// --- Null distributions ------------------------------------------------------------------------

// The vectors are exact binomial sums (rational arithmetic) and 60-digit Gamma tails; Boost's
// incomplete beta and gamma are accurate to a few ulp, so 1e-12 relative leaves a wide margin
// while any wrong distribution parameter (n, gamma', layers, an off-by-one in the tail) moves p
// by far more.
constexpr double kPValueRelativeTolerance = 1e-12;

TEST(VectorsPValueTest, MatchesExactNullTails) {
  for (const json::value& c : Section("p_values")) {
    Scheme scheme = SchemeOf(c.at("scheme"));
    SchemeParams params = ParamsOf(scheme, c.at("params").as_object());
    uint64_t scored = static_cast<uint64_t>(c.at("scored").as_int64());
    double score = c.at("score").to_number<double>();
    double expected = c.at("p").to_number<double>();
    double p = PValue(scheme, params, scored, score);
    if (expected == 0) {  // a score no sequence of `scored` tokens can reach
      EXPECT_EQ(p, 0.0) << Describe(c);
    } else {
      EXPECT_NEAR(p, expected, kPValueRelativeTolerance * expected) << Describe(c);
    }
  }
}

}  // namespace
}  // namespace warden::watermark
