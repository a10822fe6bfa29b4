#include "guard/secrets.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace warden::guard {
namespace {

// Fixtures are assembled at run time from a prefix and seeded pseudo-random characters, so that
// no complete token literal sits in this file for push-protection scanners to flag (and none of
// them is, or was, a real credential).

constexpr std::string_view kUpperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr std::string_view kAlnum =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kUrlSafe =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kHex = "0123456789abcdef";

std::string Random(std::string_view alphabet, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(alphabet[pick(rng)]);
  return s;
}

// Written from RFC 4648 section 5 (no padding), independent of the detector's decoder.
std::string Base64Url(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                       uint32_t{static_cast<unsigned char>(in[i + 2])};
    for (int k = 3; k >= 0; --k) out.push_back(kUrlSafe[(v >> (6 * k)) & 63]);
  }
  if (in.size() - i == 1) {
    const uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    out.push_back(kUrlSafe[(v >> 18) & 63]);
    out.push_back(kUrlSafe[(v >> 12) & 63]);
  } else if (in.size() - i == 2) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8);
    out.push_back(kUrlSafe[(v >> 18) & 63]);
    out.push_back(kUrlSafe[(v >> 12) & 63]);
    out.push_back(kUrlSafe[(v >> 6) & 63]);
  }
  return out;
}

std::string Jwt(std::string_view header_json, uint32_t seed) {
  return Base64Url(header_json) + "." + Base64Url(R"({"sub":"1234567890","name":"Test"})") + "." +
         Random(kUrlSafe, 43, seed);
}

// "-----BEGIN <label>-----" etc., with the label passed in pieces.
std::string PemLine(std::string_view what, std::string_view label) {
  return std::string(5, '-') + std::string(what) + " " + std::string(label) + std::string(5, '-');
}

std::string PemBody(uint32_t seed, int lines) {
  constexpr std::string_view kB64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string body;
  for (int i = 0; i < lines; ++i) body += Random(kB64, 64, seed + i) + "\n";
  return body;
}

class SecretDetectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto d = SecretDetector::Create();
    ASSERT_TRUE(d.has_value()) << d.error().ToString();
    detector_ = new SecretDetector(std::move(d).value());
  }
  static void TearDownTestSuite() {
    delete detector_;
    detector_ = nullptr;
  }

  static std::vector<SecretMatch> Find(std::string_view text) {
    auto r = detector_->Find(text);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.has_value() ? std::move(r).value() : std::vector<SecretMatch>{};
  }

  static SecretDetector* detector_;
};
SecretDetector* SecretDetectorTest::detector_ = nullptr;

// ---- ShannonEntropy ----

TEST(ShannonEntropyTest, MatchesHandComputedValues) {
  EXPECT_DOUBLE_EQ(ShannonEntropy(""), 0.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("aaaaaaaa"), 0.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("ab"), 1.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("aabb"), 1.0);
  EXPECT_DOUBLE_EQ(ShannonEntropy("abcdefgh"), 3.0);
  // p = 2/3, 1/3: 0.918295834054489... bits.
  EXPECT_NEAR(ShannonEntropy("aab"), 0.9182958340544896, 1e-12);
  // p = 1/2, 1/4, 1/4: 1.5 bits.
  EXPECT_NEAR(ShannonEntropy("aabc"), 1.5, 1e-12);
}

TEST(ShannonEntropyTest, EveryByteValueOnceIsEightBits) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_NEAR(ShannonEntropy(all), 8.0, 1e-12);
}

// ---- Known formats: kind and span ----

struct FormatCase {
  const char* name;
  std::string token;
  const char* kind;
};

std::vector<FormatCase> FormatCases() {
  return {
      {"AwsDocumentedExample", std::string("AKIA") + "IOSFODNN7EXAMPLE", "aws_access_key_id"},
      {"AwsTemporary", "ASIA" + Random(kUpperDigits, 16, 1), "aws_access_key_id"},
      {"GitHubClassic", "ghp_" + Random(kAlnum, 36, 2), "github_token"},
      {"GitHubOAuth", "gho_" + Random(kAlnum, 36, 3), "github_token"},
      {"GitHubServer", "ghs_" + Random(kAlnum, 36, 4), "github_token"},
      {"GitHubFineGrained",
       "github_" + std::string("pat_") + Random(kAlnum, 22, 5) + "_" + Random(kAlnum, 59, 6),
       "github_token"},
      {"GitLab", "glpat-" + Random(kUrlSafe, 20, 7), "gitlab_token"},
      {"Slack",
       "xoxb-" + Random("0123456789", 12, 8) + "-" + Random("0123456789", 13, 9) + "-" +
           Random(kAlnum, 24, 10),
       "slack_token"},
      {"StripeSecret", std::string("sk_") + "live_" + Random(kAlnum, 24, 11), "stripe_key"},
      {"StripeRestricted", std::string("rk_") + "live_" + Random(kAlnum, 99, 12), "stripe_key"},
      {"OpenAiLegacy", "sk-" + Random(kAlnum, 48, 13), "openai_key"},
      {"OpenAiProject", "sk-" + std::string("proj-") + Random(kUrlSafe, 156, 14), "openai_key"},
      {"Anthropic", "sk-" + std::string("ant-api03-") + Random(kUrlSafe, 93, 15), "anthropic_key"},
      {"GoogleApiKey", "AIza" + Random(kUrlSafe, 35, 16), "google_api_key"},
      {"Jwt", Jwt(R"({"alg":"HS256","typ":"JWT"})", 17), "jwt"},
      {"JwtHeaderWithSpaces", Jwt(R"({ "typ": "JWT", "alg": "RS256" })", 18), "jwt"},
  };
}

class KnownFormatTest : public SecretDetectorTest,
                        public ::testing::WithParamInterface<FormatCase> {};

TEST_P(KnownFormatTest, FoundWithItsKindAndExactSpan) {
  const FormatCase& c = GetParam();
  const std::string prefix = "config: the key is \"";
  const std::string text = prefix + c.token + "\", keep it safe.\n";
  const auto matches = Find(text);
  // Exactly one: the token is also a high-entropy string, which the known format suppresses.
  ASSERT_EQ(matches.size(), 1u) << c.token;
  EXPECT_EQ(matches[0].kind, c.kind);
  EXPECT_EQ(matches[0].begin, prefix.size());
  EXPECT_EQ(matches[0].end, prefix.size() + c.token.size());
  EXPECT_EQ(matches[0].score, 1.0);
}

TEST_P(KnownFormatTest, FoundAtTheVeryStartAndEndOfTheText) {
  const FormatCase& c = GetParam();
  const auto matches = Find(c.token);
  ASSERT_EQ(matches.size(), 1u) << c.token;
  EXPECT_EQ(matches[0].kind, c.kind);
  EXPECT_EQ(matches[0].begin, 0u);
  EXPECT_EQ(matches[0].end, c.token.size());
}

INSTANTIATE_TEST_SUITE_P(Formats, KnownFormatTest, ::testing::ValuesIn(FormatCases()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- Near misses ----

struct NearMiss {
  const char* name;
  std::string text;
};

std::vector<NearMiss> NearMisses() {
  return {
      {"AwsFifteenChars", "id AKIA" + Random(kUpperDigits, 15, 20) + " end"},
      {"AwsSeventeenChars", "id AKIA" + Random(kUpperDigits, 17, 21) + " end"},
      {"AwsLowerCaseBody", "id AKIA" + Random("abcdefghij", 16, 22) + " end"},
      // Lower case and digits only, so that the body is not a high-entropy string either.
      {"GitHubThirtyFiveChars", "t ghp_" + Random("abcdefghij0123456789", 35, 23) + " end"},
      {"GitHubGluedOnTheLeft", "t xghp_" + Random("abcdefghij", 36, 24) + " end"},
      {"GoogleKeyOneShort", "k AIza" + Random("abcdefghij", 34, 25) + " end"},
      {"SkHyphenatedWords", "use sk-learn-compatible-estimators-and-transformers here"},
      {"EnglishSentence",
       "The quick brown fox jumps over the lazy dog, then internationalization and "
       "counterrevolutionaries meet incomprehensibilities at the conference."},
      {"LongLowerCaseWord", "pneumonoultramicroscopicsilicovolcanoconiosis is a word"},
      {"LongPath",
       "see /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30 and "
       "/home/User1/Documents/Project2024/src/Main3.cc for details"},
      {"RelativePath", "edit src/main/java/com/Example1/Widget/Factory2/Builder.java now"},
      {"Uuid", "request id 550e8400-e29b-41d4-a716-446655440000 failed"},
      {"UpperCaseUuid", "request id 550E8400-E29B-41D4-A716-446655440000 failed"},
      // Digests are not secrets (see EntropyScore in secrets.cc): MD5, SHA-1 / git commit,
      // SHA-256 and SHA-512 lengths of pure hex are exempt.
      {"Md5Digest", "md5 " + Random(kHex, 32, 26)},
      {"GitCommit", "commit " + Random(kHex, 40, 27)},
      {"Sha256Digest", "sha256:" + Random(kHex, 64, 28)},
      {"Sha512Digest", "sha512 " + Random(kHex, 128, 29)},
      {"LongDecimalNumber", "order 12345678901234567890123456789 shipped"},
      {"CamelCaseIdentifier", "class AbstractSingletonProxyFactoryBean extends Object"},
      {"PasswordPlaceholderVariable", "password=${DB_PASSWORD} and token: <your token here>"},
      {"PasswordTypeAnnotation", "interface User { password: string; apiKey: undefined }"},
      {"PasswordFromAFunctionCall", "password = getpass.getpass()\ntoken = os.environ.get(x)"},
      {"PasswordMasked", "password: ******** (hidden)"},
      {"PasswordTooShort", "password=abc123"},
      {"PasswordWordInProse", "Choose a strong password: length matters more than symbols."},
      {"BeginWithoutPrivateKey",
       PemLine("BEGIN", "CERTIFICATE") + "\nMIIB\n" + PemLine("END", "CERTIFICATE")},
  };
}

class NearMissTest : public SecretDetectorTest, public ::testing::WithParamInterface<NearMiss> {};

TEST_P(NearMissTest, FindsNothing) {
  const auto matches = Find(GetParam().text);
  for (const SecretMatch& m : matches) {
    ADD_FAILURE() << m.kind << " [" << m.begin << "," << m.end << "): \""
                  << GetParam().text.substr(m.begin, m.end - m.begin) << "\"";
  }
}

INSTANTIATE_TEST_SUITE_P(NearMisses, NearMissTest, ::testing::ValuesIn(NearMisses()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(SecretDetectorTest, HexOfANonDigestLengthWithHighEntropyIsReported) {
  const std::string hex = Random(kHex, 48, 30);
  const auto matches = Find("key " + hex + " end");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "high_entropy");
  EXPECT_EQ(matches[0].begin, 4u);
  EXPECT_EQ(matches[0].end, 4u + hex.size());
}

// ---- Private keys ----

TEST_F(SecretDetectorTest, PemPrivateKeyBlockIsOneMatchFromBeginLineToEndLine) {
  const std::string label = std::string("RSA PRIVATE") + " KEY";
  const std::string block =
      PemLine("BEGIN", label) + "\n" + PemBody(40, 5) + "Zm9vYmFy\n" + PemLine("END", label);
  const std::string text = "here is my key:\n" + block + "\nthanks";
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "private_key");
  EXPECT_EQ(matches[0].begin, 16u);
  EXPECT_EQ(matches[0].end, 16u + block.size());
}

TEST_F(SecretDetectorTest, TwoPemBlocksAreTwoMatchesNotOneSpanningTheProseBetween) {
  const std::string label = std::string("OPENSSH PRIVATE") + " KEY";
  const std::string block1 =
      PemLine("BEGIN", label) + "\n" + PemBody(50, 3) + PemLine("END", label);
  const std::string block2 =
      PemLine("BEGIN", label) + "\r\n" + PemBody(60, 2) + PemLine("END", label);
  const std::string between = "\nand the other one:\n";
  const auto matches = Find(block1 + between + block2);
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(matches[0].begin, 0u);
  EXPECT_EQ(matches[0].end, block1.size());
  EXPECT_EQ(matches[1].begin, block1.size() + between.size());
  EXPECT_EQ(matches[1].end, block1.size() + between.size() + block2.size());
}

TEST_F(SecretDetectorTest, PemBlockWithoutEndLineCoversItsBodyLines) {
  const std::string label = std::string("EC PRIVATE") + " KEY";
  const std::string begin_line = PemLine("BEGIN", label);
  const std::string body = PemBody(70, 3);  // ends with "\n"
  const std::string text = begin_line + "\n" + body + "that is all I have\n";
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "private_key");
  EXPECT_EQ(matches[0].begin, 0u);
  // Up to the last body byte: the BEGIN line, its '\n', the body less its final '\n'.
  EXPECT_EQ(matches[0].end, begin_line.size() + 1 + body.size() - 1);
}

// ---- JWT structure ----

TEST_F(SecretDetectorTest, Base64UrlTripleWhoseHeaderIsNotJsonIsNotAJwt) {
  // Starts with "ey" like a JSON object would, but decodes to binary.
  const std::string triple = "eyZ" + Random(kUrlSafe, 33, 80) + "." + Random(kUrlSafe, 40, 81) +
                             "." + Random(kUrlSafe, 43, 82);
  for (const SecretMatch& m : Find("auth " + triple)) EXPECT_NE(m.kind, "jwt");
}

TEST_F(SecretDetectorTest, JsonHeaderWithoutAlgIsNotAJwt) {
  const std::string token = Jwt(R"({"typ":"JWT","kid":"k1"})", 83);
  for (const SecretMatch& m : Find("auth " + token)) EXPECT_NE(m.kind, "jwt");
}

TEST_F(SecretDetectorTest, JwtWithEmptySignatureIsStillAJwt) {
  const std::string token =
      Base64Url(R"({"alg":"none"})") + "." + Base64Url(R"({"admin":true})") + ".";
  const auto matches = Find("Bearer " + token + " ok");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "jwt");
  EXPECT_EQ(matches[0].begin, 7u);
  EXPECT_EQ(matches[0].end, 7u + token.size());
}

// ---- Assignments ----

TEST_F(SecretDetectorTest, PasswordAssignmentReportsTheValueOnly) {
  const std::string text = "export DB_PASSWORD=s3cr3t-v4lue-x9 && run";
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "secret_assignment");
  EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), "s3cr3t-v4lue-x9");
}

TEST_F(SecretDetectorTest, QuotedJsonApiKeyValueIsReported) {
  const std::string text = R"({"user": "bob", "api_key": "abc123 def456!"})";
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "secret_assignment");
  EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), "abc123 def456!");
}

TEST_F(SecretDetectorTest, KnownFormatInAnAssignmentIsReportedOnceByItsFormat) {
  const std::string key = std::string("AKIA") + "IOSFODNN7EXAMPLE";
  const auto matches = Find("aws_access_key = " + key);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "aws_access_key_id");
}

// ---- High entropy ----

TEST_F(SecretDetectorTest, RandomBase64IsHighEntropyWithAScoreBelowOne) {
  // 40 random base64url characters: the empirical entropy is about 4.8 bits; the chance that a
  // random 40-character string falls under 4.0 bits or lacks a class is below 0.2%, and the
  // seed is fixed.
  const std::string token = Random(kAlnum, 40, 90);
  const auto matches = Find("secret sauce " + token + "== end");
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "high_entropy");
  EXPECT_EQ(matches[0].begin, 13u);
  EXPECT_EQ(matches[0].end, 13u + token.size() + 2);  // padding included
  EXPECT_GT(matches[0].score, 0.5);
  EXPECT_LT(matches[0].score, 1.0);
}

TEST_F(SecretDetectorTest, HigherEntropyScoresHigher) {
  // Same length and classes; the second repeats a few characters, so its entropy is lower.
  const std::string random = Random(kAlnum, 48, 91);
  std::string repetitive = "Ab1" + Random("abcdefghijklmnopqrstuvwxyzABCD123", 45, 92);
  ASSERT_GT(ShannonEntropy(random), ShannonEntropy(repetitive));
  const auto a = Find(random);
  const auto b = Find(repetitive);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_GT(a[0].score, b[0].score);
}

TEST_F(SecretDetectorTest, AssignedValueSuppressesHighEntropyOverIt) {
  const std::string value = Random(kAlnum, 32, 93);
  const auto matches = Find("client_secret: " + value);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "secret_assignment");
}

// ---- Ordering, errors, size ----

TEST_F(SecretDetectorTest, MatchesAreOrderedByBegin) {
  const std::string gh = "ghp_" + Random(kAlnum, 36, 100);
  const std::string aws = std::string("AKIA") + "IOSFODNN7EXAMPLE";
  const std::string jwt = Jwt(R"({"alg":"HS256"})", 101);
  const std::string noise = Random(kAlnum, 40, 102);
  const std::string text = "jwt " + jwt + " then " + noise + " then " + gh + " and " + aws;
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), 4u);
  EXPECT_EQ(matches[0].kind, "jwt");
  EXPECT_EQ(matches[1].kind, "high_entropy");
  EXPECT_EQ(matches[2].kind, "github_token");
  EXPECT_EQ(matches[3].kind, "aws_access_key_id");
  for (size_t i = 1; i < matches.size(); ++i) EXPECT_LT(matches[i - 1].begin, matches[i].begin);
}

TEST_F(SecretDetectorTest, InvalidUtf8IsAnError) {
  const std::string text = "key AKIA" + std::string("IOSFODNN7EXAMPLE") + " \xC3\x28 tail";
  auto r = detector_->Find(text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST_F(SecretDetectorTest, EmptyTextHasNoMatches) { EXPECT_TRUE(Find("").empty()); }

TEST_F(SecretDetectorTest, SecretsPlantedIn64KbOfProseAreAllFoundAndNothingElse) {
  const std::string sentence =
      "Warden reads the prompt, checks every turn and the tool results, and decides. ";
  std::vector<std::string> planted = {
      "ghp_" + Random(kAlnum, 36, 110),
      std::string("AKIA") + "IOSFODNN7EXAMPLE",
      "glpat-" + Random(kUrlSafe, 20, 111),
  };
  std::string text;
  std::vector<size_t> at;
  size_t next = 0;
  while (text.size() < 64 * 1024) {
    text += sentence;
    if (text.size() > (next + 1) * 20000 && next < planted.size()) {
      at.push_back(text.size());
      text += planted[next] + " ";
      ++next;
    }
  }
  ASSERT_EQ(at.size(), planted.size());
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), planted.size());
  for (size_t i = 0; i < planted.size(); ++i) {
    EXPECT_EQ(matches[i].begin, at[i]);
    EXPECT_EQ(matches[i].end, at[i] + planted[i].size());
  }
}

TEST_F(SecretDetectorTest, HostileRepetitionsAreHandledWithoutError) {
  // Many overlapping format prefixes and one 64 KB token: each must stay one pass (no
  // candidate re-extended over the same bytes) and within the match budget.
  std::string prefixes;
  while (prefixes.size() < 64 * 1024) prefixes += "sk-";
  EXPECT_TRUE(Find(prefixes).empty());

  const std::string token = Random(kAlnum, 64 * 1024, 120);
  const auto matches = Find(token);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].kind, "high_entropy");
  EXPECT_EQ(matches[0].end, token.size());
}

TEST_F(SecretDetectorTest, ManyPemBeginLinesWithoutEndAreEachAKey) {
  const std::string line = PemLine("BEGIN", std::string("PRIVATE") + " KEY") + "\n";
  std::string text;
  for (int i = 0; i < 1000; ++i) text += line;
  const auto matches = Find(text);
  ASSERT_EQ(matches.size(), 1000u);
  EXPECT_EQ(matches[0].end, line.size() - 1);
}

}  // namespace
}  // namespace warden::guard
