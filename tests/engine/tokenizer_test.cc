#include "engine/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "base/files.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace warden::engine {
namespace {

using formats::GgufValue;
using formats::GgufValueType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------
// Helpers.

Result<Tokenizer> LoadTokenizer(const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(auto file, ReadOnlyFile::Open(path));
  WARDEN_ASSIGN_OR_RETURN(auto map, file.MapAll());
  WARDEN_ASSIGN_OR_RETURN(auto gguf, formats::ParseGguf(map.bytes(), path));
  return Tokenizer::FromGguf(gguf, path);
}

std::string ReadText(const std::string& path) {
  constexpr uint64_t kMaxBytes = 1 << 20;
  auto text = ReadFileToString(path, kMaxBytes);
  EXPECT_TRUE(text.has_value()) << text.error().ToString();
  return text.value_or("");
}

// llama.cpp's .inp format: each string followed by "\n__ggml_vocab_test__\n".
std::vector<std::string> ReadInputs(const std::string& path) {
  constexpr std::string_view kSeparator = "\n__ggml_vocab_test__\n";
  const std::string all = ReadText(path);
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < all.size()) {
    const size_t end = all.find(kSeparator, pos);
    if (end == std::string::npos) break;
    out.push_back(all.substr(pos, end - pos));
    pos = end + kSeparator.size();
  }
  return out;
}

// One line of space-separated ids per input.
std::vector<std::vector<Token>> ReadOutputs(const std::string& path) {
  std::vector<std::vector<Token>> out;
  std::istringstream lines(ReadText(path));
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ids(line);
    std::vector<Token> row;
    Token id = 0;
    while (ids >> id) row.push_back(id);
    out.push_back(std::move(row));
  }
  return out;
}

std::string Show(const std::vector<Token>& ids) {
  std::string s;
  for (const Token id : ids) s += " " + std::to_string(id);
  return s;
}

std::vector<Token> EncodeOrDie(const Tokenizer& tok, std::string_view text,
                               EncodeOptions opts = {}) {
  auto ids = tok.Encode(text, opts);
  EXPECT_TRUE(ids.has_value()) << ids.error().ToString();
  return ids.value_or(std::vector<Token>{});
}

constexpr EncodeOptions kPlain{.add_special = false, .parse_special = false};

// ---------------------------------------------------------------------------------------
// llama.cpp's known answers (tests/testdata/vocab/SOURCE.md).

struct KnownAnswerCase {
  const char* name;  // ggml-vocab-<name>.gguf
  TokenizerKind kind;
};

class KnownAnswerTest : public ::testing::TestWithParam<KnownAnswerCase> {
 protected:
  static std::string Base() { return std::string("ggml-vocab-") + GetParam().name + ".gguf"; }
  void SetUp() override {
    auto tok = LoadTokenizer(std::string(WARDEN_EXTRACTED_TESTDATA_DIR) + "/vocab/" + Base());
    ASSERT_TRUE(tok.has_value()) << tok.error().ToString();
    tok_ = std::make_unique<Tokenizer>(std::move(*tok));
    inputs_ = ReadInputs(std::string(WARDEN_TESTDATA_DIR) + "/vocab/" + Base() + ".inp");
    outputs_ = ReadOutputs(std::string(WARDEN_TESTDATA_DIR) + "/vocab/" + Base() + ".out");
    ASSERT_EQ(inputs_.size(), 46u);
    ASSERT_EQ(outputs_.size(), inputs_.size());
  }
  std::unique_ptr<Tokenizer> tok_;
  std::vector<std::string> inputs_;
  std::vector<std::vector<Token>> outputs_;
};

TEST_P(KnownAnswerTest, KindIsAsExpected) { EXPECT_EQ(tok_->kind(), GetParam().kind); }

TEST_P(KnownAnswerTest, EncodesLikeLlamaCpp) {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const std::vector<Token> ids = EncodeOrDie(*tok_, inputs_[i], kPlain);
    EXPECT_EQ(ids, outputs_[i]) << "input " << i << " \"" << inputs_[i]
                                << "\"\n got:     " << Show(ids)
                                << "\n expected:" << Show(outputs_[i]);
  }
}

// WordPiece normalises the text, so only SPM and BPE round-trip.
using RoundTripTest = KnownAnswerTest;

TEST_P(RoundTripTest, DecodeOfEncodeGivesTheText) {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    for (const bool add_special : {false, true}) {
      const std::vector<Token> ids =
          EncodeOrDie(*tok_, inputs_[i], {.add_special = add_special, .parse_special = false});
      EXPECT_EQ(tok_->Decode(ids), inputs_[i]) << "input " << i << " add_special " << add_special;
    }
  }
}

TEST_P(RoundTripTest, DecodeOfKnownIdsGivesTheText) {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    EXPECT_EQ(tok_->Decode(outputs_[i]), inputs_[i]) << "input " << i;
  }
}

std::string CaseName(const ::testing::TestParamInfo<KnownAnswerCase>& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, KnownAnswerTest,
                         ::testing::Values(KnownAnswerCase{"phi-3", TokenizerKind::kSpm},
                                           KnownAnswerCase{"gpt-2", TokenizerKind::kBpe},
                                           KnownAnswerCase{"falcon", TokenizerKind::kBpe},
                                           KnownAnswerCase{"bert-bge", TokenizerKind::kWpm}),
                         CaseName);
INSTANTIATE_TEST_SUITE_P(Vocabularies, RoundTripTest,
                         ::testing::Values(KnownAnswerCase{"phi-3", TokenizerKind::kSpm},
                                           KnownAnswerCase{"gpt-2", TokenizerKind::kBpe},
                                           KnownAnswerCase{"falcon", TokenizerKind::kBpe}),
                         CaseName);

TEST(WordPieceTest, DecodeShowsTheNormalisedWords) {
  auto tok =
      LoadTokenizer(std::string(WARDEN_EXTRACTED_TESTDATA_DIR) + "/vocab/ggml-vocab-bert-bge.gguf");
  ASSERT_TRUE(tok.has_value()) << tok.error().ToString();
  const std::vector<Token> ids = EncodeOrDie(*tok, "Hello, Wörld!");
  EXPECT_EQ(ids.front(), 101);  // [CLS]
  EXPECT_EQ(ids.back(), 102);   // [SEP]
  EXPECT_EQ(tok->Decode(ids), " hello , world !");
  EXPECT_EQ(tok->Decode(ids, /*render_special=*/true), "[CLS] hello , world ![SEP]");
}

// ---------------------------------------------------------------------------------------
// The shipped tiny model against llama.cpp's tokenization of the reference prompts
// (../shared/data/models/reference/stories260K.greedy.jsonl, copied here).

class Stories260KTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tok = LoadTokenizer(std::string(WARDEN_SOURCE_DIR) + "/data/models/stories260K.gguf");
    ASSERT_TRUE(tok.has_value()) << tok.error().ToString();
    tok_ = new Tokenizer(std::move(*tok));
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  static Tokenizer* tok_;
};
Tokenizer* Stories260KTokenizerTest::tok_ = nullptr;

TEST_F(Stories260KTokenizerTest, PromptsTokenizeAsLlamaCpp) {
  const std::pair<std::string, std::vector<Token>> cases[] = {
      {"Once upon a time", {1, 403, 407, 261, 378}},
      {"Lily and Tom went to the park.",
       {1, 317, 269, 274, 287, 263, 377, 267, 265, 282, 295, 433, 426}},
      {"The little dog was sad because",
       {1, 291, 376, 400, 428, 286, 296, 418, 329, 429, 412, 425, 372}},
      {"One day, a big bear", {1, 385, 328, 432, 261, 370, 329, 295}},
  };
  for (const auto& [text, ids] : cases) EXPECT_EQ(EncodeOrDie(*tok_, text), ids) << text;
}

TEST_F(Stories260KTokenizerTest, GeneratedIdsDecodeToLlamaCppText) {
  const std::vector<Token> ids = {342, 394, 261, 370, 268, 414, 444, 335, 261, 370, 268, 414,
                                  444, 426, 342, 391, 266, 267, 337, 335, 312, 426, 342, 391,
                                  266, 267, 337, 335, 265, 268, 414, 444, 426, 342, 391, 266,
                                  267, 337, 335, 265, 268, 414, 444, 426, 13,  436, 438, 347};
  EXPECT_EQ(tok_->Decode(ids, /*render_special=*/false, /*strip_leading_space=*/false),
            " They saw a big box with a big box. They wanted to play with it. They wanted to "
            "play with the box. They wanted to play with the box.\n\"Loo");
}

TEST_F(Stories260KTokenizerTest, SpecialIdsAndFlags) {
  EXPECT_EQ(tok_->vocab_size(), 512u);
  EXPECT_EQ(tok_->bos(), 1);
  EXPECT_EQ(tok_->eos(), 2);
  EXPECT_EQ(tok_->unk(), 0);
  EXPECT_EQ(tok_->pad(), kNoToken);  // written as 0xFFFFFFFF
  EXPECT_TRUE(tok_->add_bos());
  EXPECT_FALSE(tok_->add_eos());
  EXPECT_TRUE(tok_->add_space_prefix());
  EXPECT_TRUE(tok_->IsEndOfGeneration(2));
  EXPECT_FALSE(tok_->IsEndOfGeneration(1));
  EXPECT_EQ(tok_->pre(), "default");
}

TEST_F(Stories260KTokenizerTest, EmptyTextGivesOnlyBos) {
  EXPECT_THAT(EncodeOrDie(*tok_, ""), ElementsAre(1));
  EXPECT_THAT(EncodeOrDie(*tok_, "", kPlain), ElementsAre());
}

TEST_F(Stories260KTokenizerTest, ByteFallbackForCharactersOutsideTheVocabulary) {
  // U+4E2D is not among the 512 pieces: it falls back to its three UTF-8 bytes.
  const std::vector<Token> ids = EncodeOrDie(*tok_, "\xE4\xB8\xAD", kPlain);
  ASSERT_EQ(ids.size(), 4u);  // "▁", <0xE4>, <0xB8>, <0xAD>
  EXPECT_EQ(tok_->TokenText(ids[0]), "\u2581");
  EXPECT_EQ(tok_->TokenText(ids[1]), "<0xE4>");
  EXPECT_EQ(tok_->TokenText(ids[3]), "<0xAD>");
  EXPECT_EQ(tok_->TokenToPiece(ids[1]), "\xE4");
  EXPECT_EQ(tok_->Decode(ids), "\xE4\xB8\xAD");
}

// ---------------------------------------------------------------------------------------
// Special tokens and pieces on the phi-3 vocabulary.

class Phi3Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tok =
        LoadTokenizer(std::string(WARDEN_EXTRACTED_TESTDATA_DIR) + "/vocab/ggml-vocab-phi-3.gguf");
    ASSERT_TRUE(tok.has_value()) << tok.error().ToString();
    tok_ = new Tokenizer(std::move(*tok));
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  static Tokenizer* tok_;
};
Tokenizer* Phi3Test::tok_ = nullptr;

constexpr Token kPhi3User = 32010;  // <|user|>, control
constexpr Token kPhi3End = 32007;   // <|end|>, control, ends a turn

TEST_F(Phi3Test, ParseSpecialMakesControlTextsTokens) {
  const std::vector<Token> ids =
      EncodeOrDie(*tok_, "<|user|>Hi<|end|>", {.add_special = false, .parse_special = true});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], kPhi3User);
  EXPECT_EQ(tok_->TokenText(ids[1]), "\u2581Hi");  // space prefix after a special token
  EXPECT_EQ(ids[2], kPhi3End);
}

TEST_F(Phi3Test, WithoutParseSpecialControlTextsArePlainText) {
  const std::vector<Token> ids = EncodeOrDie(*tok_, "<|user|>", kPlain);
  EXPECT_GT(ids.size(), 1u);
  for (const Token id : ids) EXPECT_NE(id, kPhi3User);
  EXPECT_EQ(tok_->Decode(ids), "<|user|>");
}

TEST_F(Phi3Test, WhitespaceAfterSpecialTokensIsEaten) {
  // llama.cpp gives Phi-3's special tokens the rstrip flag.
  EXPECT_EQ(EncodeOrDie(*tok_, "<|user|>\n  Hi", {.add_special = false, .parse_special = true}),
            EncodeOrDie(*tok_, "<|user|>Hi", {.add_special = false, .parse_special = true}));
}

TEST_F(Phi3Test, UserDefinedTokensAreCutOutEvenWithoutParseSpecial) {
  // </s> is a user-defined token in this vocabulary (llama.cpp and HF agree on this rule).
  const Token end_s = tok_->FindToken("</s>");
  ASSERT_NE(end_s, kNoToken);
  ASSERT_EQ(tok_->GetTokenType(end_s), TokenType::kUserDefined);
  const std::vector<Token> ids = EncodeOrDie(*tok_, "a</s>", kPlain);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[1], end_s);
  EXPECT_EQ(tok_->TokenToPiece(end_s), "</s>");
}

TEST_F(Phi3Test, AddSpecialAddsBos) {
  const std::vector<Token> ids = EncodeOrDie(*tok_, "Hello world");
  EXPECT_THAT(ids, ElementsAre(1, 15043, 3186));
}

TEST_F(Phi3Test, ControlTokensRenderOnlyOnRequest) {
  EXPECT_EQ(tok_->TokenToPiece(kPhi3User), "");
  EXPECT_EQ(tok_->TokenToPiece(kPhi3User, /*render_special=*/true), "<|user|>");
  EXPECT_EQ(tok_->TokenToPiece(1), "");
  EXPECT_EQ(tok_->TokenToPiece(1, true), "<s>");
  EXPECT_TRUE(tok_->IsControl(kPhi3User));
  EXPECT_FALSE(tok_->IsControl(15043));
}

TEST_F(Phi3Test, PiecesOfNormalAndByteTokens) {
  EXPECT_EQ(tok_->TokenToPiece(15043), " Hello");  // "▁Hello"
  EXPECT_EQ(tok_->TokenToPiece(tok_->FindToken("<0x0A>")), "\n");
  EXPECT_EQ(tok_->TokenToPiece(-1), "");
  EXPECT_EQ(tok_->TokenToPiece(static_cast<Token>(tok_->vocab_size())), "");
}

TEST_F(Phi3Test, DecodeStripsThePrefixSpaceOnlyOnce) {
  const std::vector<Token> ids = EncodeOrDie(*tok_, "  two spaces");
  EXPECT_EQ(tok_->Decode(ids), "  two spaces");
  EXPECT_EQ(tok_->Decode(ids, false, /*strip_leading_space=*/false), "   two spaces");
}

TEST_F(Phi3Test, RenderedBosKeepsTheSpaceAfterIt) {
  const std::vector<Token> ids = EncodeOrDie(*tok_, "Hello");
  EXPECT_EQ(tok_->Decode(ids, /*render_special=*/true), "<s> Hello");
}

TEST_F(Phi3Test, EndOfGeneration) {
  EXPECT_EQ(tok_->eos(), 32000);
  EXPECT_EQ(tok_->eot(), kPhi3End);
  EXPECT_TRUE(tok_->IsEndOfGeneration(32000));
  EXPECT_TRUE(tok_->IsEndOfGeneration(kPhi3End));
  EXPECT_FALSE(tok_->IsEndOfGeneration(kPhi3User));
  EXPECT_FALSE(tok_->IsEndOfGeneration(kNoToken));
}

TEST_F(Phi3Test, InvalidUtf8NamesTheOffset) {
  for (const auto& [text, offset] :
       std::vector<std::pair<std::string, size_t>>{{"ab\xFF", 2},            // not a lead byte
                                                   {"a\xC3", 1},             // truncated
                                                   {"\xC0\xAF", 0},          // overlong
                                                   {"xy\xED\xA0\x80", 2},    // surrogate
                                                   {"\xF4\x90\x80\x80", 0},  // above U+10FFFF
                                                   {"ok\x80", 2}}) {  // stray continuation byte
    auto ids = tok_->Encode(text);
    ASSERT_FALSE(ids.has_value()) << text;
    EXPECT_EQ(ids.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(ids.error().message(), HasSubstr("byte offset " + std::to_string(offset)));
  }
}

TEST_F(Phi3Test, FindTokenAndText) {
  EXPECT_EQ(tok_->FindToken("\u2581Hello"), 15043);
  EXPECT_EQ(tok_->FindToken("no such token here"), kNoToken);
  EXPECT_EQ(tok_->TokenText(kPhi3User), "<|user|>");
  EXPECT_EQ(tok_->TokenText(-5), "");
  EXPECT_EQ(tok_->GetTokenType(kPhi3User), TokenType::kControl);
  EXPECT_EQ(tok_->GetTokenType(1 << 30), TokenType::kUndefined);
}

// ---------------------------------------------------------------------------------------
// Long inputs: must finish (no quadratic blowup). Not a timed assert, just a sanity bound.

std::string RandomUtf8(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) {
    uint32_t cp = 0;
    switch (rng() % 4) {
      case 0:
        cp = 0x20 + rng() % 0x5F;  // ASCII
        break;
      case 1:
        cp = 0x80 + rng() % 0x780;  // 2-byte
        break;
      case 2:
        cp = 0x800 + rng() % 0xF800;  // 3-byte
        break;
      default:
        cp = 0x10000 + rng() % 0x100000;  // 4-byte
        break;
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2581) continue;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return s;
}

TEST(TokenizerLongInputTest, MegabyteInputsFinishAndRoundTrip) {
  constexpr size_t kBytes = 1 << 20;
  const std::string run(kBytes, 'a');
  const std::string random = RandomUtf8(kBytes, 7);
  const auto start = std::chrono::steady_clock::now();
  for (const char* name : {"phi-3", "gpt-2"}) {
    auto tok = LoadTokenizer(std::string(WARDEN_EXTRACTED_TESTDATA_DIR) + "/vocab/ggml-vocab-" +
                             name + ".gguf");
    ASSERT_TRUE(tok.has_value()) << tok.error().ToString();
    for (const std::string* text : {&run, &random}) {
      const std::vector<Token> ids = EncodeOrDie(*tok, *text, kPlain);
      EXPECT_FALSE(ids.empty());
      EXPECT_TRUE(tok->Decode(ids) == *text) << name;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Generous: a quadratic algorithm would take hours here.
  EXPECT_LT(seconds, 60.0);
  RecordProperty("seconds", std::to_string(seconds));
}

// ---------------------------------------------------------------------------------------
// Small vocabularies built in memory.

using Meta = std::vector<std::pair<std::string, GgufValue>>;

GgufValue Strings(const std::vector<std::string>& items) {
  std::vector<GgufValue> v;
  for (const auto& s : items) v.push_back(GgufValue::String(s));
  return GgufValue::Array(GgufValueType::kString, std::move(v));
}
GgufValue Floats(const std::vector<float>& items) {
  std::vector<GgufValue> v;
  for (const float f : items) v.push_back(GgufValue::F32(f));
  return GgufValue::Array(GgufValueType::kFloat32, std::move(v));
}
GgufValue Int32s(const std::vector<int32_t>& items) {
  std::vector<GgufValue> v;
  for (const int32_t i : items) v.push_back(GgufValue::I32(i));
  return GgufValue::Array(GgufValueType::kInt32, std::move(v));
}

void Set(Meta& meta, const std::string& key, GgufValue value) {
  for (auto& [k, v] : meta) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  meta.emplace_back(key, std::move(value));
}
void Erase(Meta& meta, const std::string& key) {
  std::erase_if(meta, [&](const auto& kv) { return kv.first == key; });
}

Result<Tokenizer> Build(const Meta& meta) {
  formats::GgufWriter w;
  for (const auto& [k, v] : meta) WARDEN_RETURN_IF_ERROR(w.AddMetadata(k, v));
  const std::string bytes = w.WriteToString();
  WARDEN_ASSIGN_OR_RETURN(auto gguf, formats::ParseGguf(AsBytes(bytes), "mem.gguf"));
  return Tokenizer::FromGguf(gguf, "mem.gguf");
}

// Declares `const Tokenizer& var` built from `meta`, or fails the test.
#define WARDEN_BUILD_OR_FAIL(var, meta)                                     \
  auto var##_result = Build(meta);                                          \
  ASSERT_TRUE(var##_result.has_value()) << var##_result.error().ToString(); \
  const Tokenizer& var = *var##_result

// A SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, a few pieces, a control and
// a user-defined token.
Meta SpmMeta() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">");
    scores.push_back(0);
    types.push_back(6);
  }
  const std::pair<const char*, float> pieces[] = {{"\u2581", -1}, {"a", -2},       {"b", -2},
                                                  {"c", -2},      {"\u2581a", -3}, {"ab", -1.5f},
                                                  {"abc", -4},    {"bc", -0.5f}};
  for (const auto& [p, s] : pieces) {
    tokens.push_back(p);
    scores.push_back(s);
    types.push_back(1);
  }
  tokens.push_back("<|user|>");
  scores.push_back(0);
  types.push_back(3);
  tokens.push_back("<extra>");
  scores.push_back(0);
  types.push_back(4);
  Meta m;
  m.emplace_back("tokenizer.ggml.model", GgufValue::String("llama"));
  m.emplace_back("tokenizer.ggml.tokens", Strings(tokens));
  m.emplace_back("tokenizer.ggml.scores", Floats(scores));
  m.emplace_back("tokenizer.ggml.token_type", Int32s(types));
  m.emplace_back("tokenizer.ggml.bos_token_id", GgufValue::U32(1));
  m.emplace_back("tokenizer.ggml.eos_token_id", GgufValue::U32(2));
  return m;
}

// A byte-level BPE vocabulary: the 256 byte characters, `extra` tokens and `merges`.
Meta BpeMeta(const std::string& pre, const std::vector<std::string>& extra,
             const std::vector<std::string>& merges) {
  std::vector<std::string> tokens;
  // GPT-2's byte-to-unicode table.
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable =
        (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const uint32_t cp = printable ? b : next++;
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    tokens.push_back(s);
  }
  for (const auto& e : extra) tokens.push_back(e);
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  Meta m;
  m.emplace_back("tokenizer.ggml.model", GgufValue::String("gpt2"));
  m.emplace_back("tokenizer.ggml.pre", GgufValue::String(pre));
  m.emplace_back("tokenizer.ggml.tokens", Strings(tokens));
  m.emplace_back("tokenizer.ggml.token_type", Int32s(types));
  m.emplace_back("tokenizer.ggml.merges", Strings(merges));
  m.emplace_back("tokenizer.ggml.bos_token_id", GgufValue::U32(tokens.size() - 1));
  m.emplace_back("tokenizer.ggml.eos_token_id", GgufValue::U32(tokens.size() - 1));
  return m;
}

std::vector<std::string> Texts(const Tokenizer& tok, const std::vector<Token>& ids) {
  std::vector<std::string> out;
  for (const Token id : ids) out.emplace_back(tok.TokenText(id));
  return out;
}

TEST(SpmTokenizerTest, MergesByScoreAndFallsBackToBytes) {
  WARDEN_BUILD_OR_FAIL(tok, SpmMeta());
  // "▁abc": "bc" (-0.5) beats "ab" (-1.5) and "▁" + "a" pairs; then nothing joins "▁a"+"bc".
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "abc", kPlain)), ElementsAre("\u2581a", "bc"));
  // "d" is not a piece: its byte token.
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "ad", kPlain)), ElementsAre("\u2581a", "<0x64>"));
}

TEST(SpmTokenizerTest, NoSpacePrefixWhenTheVocabularySaysSo) {
  Meta m = SpmMeta();
  Set(m, "tokenizer.ggml.add_space_prefix", GgufValue::Bool(false));
  WARDEN_BUILD_OR_FAIL(tok, m);
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "ab", kPlain)), ElementsAre("ab"));
  EXPECT_EQ(tok.Decode(EncodeOrDie(tok, " ab", kPlain)), " ab");
}

TEST(SpmTokenizerTest, ParseSpecialOnAndOff) {
  WARDEN_BUILD_OR_FAIL(tok, SpmMeta());
  const Token user = tok.FindToken("<|user|>");
  const Token extra = tok.FindToken("<extra>");
  const std::vector<Token> with =
      EncodeOrDie(tok, "a<|user|>b", {.add_special = false, .parse_special = true});
  EXPECT_THAT(Texts(tok, with), ElementsAre("\u2581a", "<|user|>", "\u2581", "b"));
  const std::vector<Token> without = EncodeOrDie(tok, "a<|user|>b", kPlain);
  EXPECT_EQ(std::count(without.begin(), without.end(), user), 0);
  EXPECT_EQ(tok.Decode(without), "a<|user|>b");
  // User-defined tokens are cut out either way.
  EXPECT_THAT(EncodeOrDie(tok, "<extra>", kPlain), ElementsAre(extra));
}

// Appends tokens (text, type) with score 0 to a vocabulary built by SpmMeta.
Meta WithTokens(Meta m, const std::vector<std::pair<std::string, int32_t>>& extra) {
  auto tokens = m[1].second.AsArray()->items;
  auto scores = m[2].second.AsArray()->items;
  auto types = m[3].second.AsArray()->items;
  for (const auto& [text, type] : extra) {
    tokens.push_back(GgufValue::String(text));
    scores.push_back(GgufValue::F32(0));
    types.push_back(GgufValue::I32(type));
  }
  Set(m, "tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, tokens));
  Set(m, "tokenizer.ggml.scores", GgufValue::Array(GgufValueType::kFloat32, scores));
  Set(m, "tokenizer.ggml.token_type", GgufValue::Array(GgufValueType::kInt32, types));
  return m;
}

constexpr int32_t kControl = 3;
constexpr int32_t kUserDefined = 4;

TEST(SpmTokenizerTest, LongestSpecialTokenWins) {
  WARDEN_BUILD_OR_FAIL(tok, WithTokens(SpmMeta(), {{"<|user|>x", kControl}}));
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "<|user|>x<|user|>",
                                     {.add_special = false, .parse_special = true})),
              ElementsAre("<|user|>x", "<|user|>"));
}

TEST(SpmTokenizerTest, SpecialTokenInsideAPartialMatchOfAnother) {
  // "abcd" starts matching at "abc" and fails at "e"; "bc" inside it must still be found.
  WARDEN_BUILD_OR_FAIL(tok,
                       WithTokens(SpmMeta(), {{"xabcd", kUserDefined}, {"bc!", kUserDefined}}));
  const std::vector<Token> ids = EncodeOrDie(tok, "xabc!e", kPlain);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.FindToken("bc!")), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), tok.FindToken("xabcd")), 0);
}

TEST(SpmTokenizerTest, CharacterWithoutAnyTokenBecomesUnknown) {
  Meta m;
  m.emplace_back("tokenizer.ggml.model", GgufValue::String("llama"));
  m.emplace_back("tokenizer.ggml.tokens", Strings({"<unk>", "<s>", "</s>", "\u2581", "a"}));
  m.emplace_back("tokenizer.ggml.token_type", Int32s({2, 3, 3, 1, 1}));
  WARDEN_BUILD_OR_FAIL(tok, m);
  EXPECT_THAT(EncodeOrDie(tok, "az", kPlain), ElementsAre(3, 4, 0));
}

TEST(SpmTokenizerTest, CharacterWithoutAnyTokenAndNoUnknownIsAnError) {
  Meta m;
  m.emplace_back("tokenizer.ggml.model", GgufValue::String("llama"));
  m.emplace_back("tokenizer.ggml.tokens", Strings({"<unk>", "<s>", "</s>", "\u2581", "a"}));
  m.emplace_back("tokenizer.ggml.unknown_token_id", GgufValue::U32(0xFFFFFFFFu));
  WARDEN_BUILD_OR_FAIL(tok, m);
  auto ids = tok.Encode("az", kPlain);
  ASSERT_FALSE(ids.has_value());
  EXPECT_EQ(ids.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ids.error().message(), HasSubstr("byte 0x7A"));
}

TEST(SpmTokenizerTest, AddEosWhenTheVocabularySaysSo) {
  Meta m = SpmMeta();
  Set(m, "tokenizer.ggml.add_eos_token", GgufValue::Bool(true));
  WARDEN_BUILD_OR_FAIL(tok, m);
  const std::vector<Token> ids = EncodeOrDie(tok, "a");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
}

TEST(SpmTokenizerTest, CopiesShareTheVocabulary) {
  WARDEN_BUILD_OR_FAIL(a, SpmMeta());
  const Tokenizer b = a;  // NOLINT: the copy is the point
  EXPECT_EQ(EncodeOrDie(a, "abc"), EncodeOrDie(b, "abc"));
}

// GPT-2's byte-level characters for a space and a newline.
const std::string kG = "\u0120";  // Ġ
const std::string kC = "\u010A";  // Ċ

// The llama3 pre-tokenizer, seen through "ignore merges": a pre-token that is itself in the
// vocabulary comes out as that one token, anything else as byte-level characters.
TEST(BpeTokenizerTest, Llama3PreTokenizerSplits) {
  WARDEN_BUILD_OR_FAIL(
      tok, BpeMeta("llama-bpe", {"Hello", "'s", "123", "45", kG + "world", "!!" + kC + kC}, {}));
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "Hello's 12345 world!!\n\n", kPlain)),
              ElementsAre("Hello", "'s", kG, "123", "45", kG + "world", "!!" + kC + kC));
  EXPECT_TRUE(tok.add_bos());  // llama-bpe's default
}

TEST(BpeTokenizerTest, Llama3ContractionsIgnoreCase) {
  WARDEN_BUILD_OR_FAIL(tok, BpeMeta("llama-bpe", {"'S", "'LL", "IT"}, {}));
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "IT'S'LL", kPlain)), ElementsAre("IT", "'S", "'LL"));
}

TEST(BpeTokenizerTest, Gpt2PreTokenizerSplits) {
  // Merges that build each expected pre-token from its characters (every intermediate is a
  // token too, as in real vocabularies).
  WARDEN_BUILD_OR_FAIL(
      tok, BpeMeta("gpt-2",
                   {"He", "Hel", "Hell", "Hello", "'s", "12", "123", "1234", "12345", kG + "12345",
                    "wo", "wor", "worl", "world", kG + "world", "!!", kC + kC},
                   {"H e", "He l", "Hel l", "Hell o", "' s", "1 2", "12 3", "123 4", "1234 5",
                    kG + " 12345", "w o", "wo r", "wor l", "worl d", kG + " world", "! !",
                    kC + " " + kC}));
  EXPECT_FALSE(tok.add_bos());
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "Hello's 12345 world!!\n\n", kPlain)),
              ElementsAre("Hello", "'s", kG + "12345", kG + "world", "!!", kC + kC));
}

TEST(BpeTokenizerTest, MergesApplyInRankOrder) {
  // "abc": rank 0 is "b c", so "a" + "bc", although "a b" is also a merge.
  WARDEN_BUILD_OR_FAIL(tok, BpeMeta("gpt-2", {"bc", "ab", "abc"}, {"b c", "a b", "a bc"}));
  EXPECT_THAT(Texts(tok, EncodeOrDie(tok, "abc", kPlain)), ElementsAre("abc"));
  WARDEN_BUILD_OR_FAIL(tok2, BpeMeta("gpt-2", {"bc", "ab", "abc"}, {"b c", "a b", "ab c"}));
  EXPECT_THAT(Texts(tok2, EncodeOrDie(tok2, "abc", kPlain)), ElementsAre("a", "bc"));
}

TEST(BpeTokenizerTest, PiecesMapByteCharactersBack) {
  WARDEN_BUILD_OR_FAIL(tok, BpeMeta("gpt-2", {}, {}));
  const std::string all_bytes = [] {
    std::string s;
    for (int b = 1; b < 128; ++b) s.push_back(static_cast<char>(b));
    return s;
  }();
  EXPECT_EQ(tok.Decode(EncodeOrDie(tok, all_bytes, kPlain)), all_bytes);
  EXPECT_EQ(tok.TokenToPiece(tok.FindToken(kG)), " ");
}

TEST(BpeTokenizerTest, SupportedPreTokenizersLoad) {
  for (const char* pre :
       {"default", "gpt-2", "falcon", "starcoder", "llama-bpe", "llama3", "qwen2", "dbrx"}) {
    auto tok = Build(BpeMeta(pre, {}, {}));
    ASSERT_TRUE(tok.has_value()) << pre << ": " << tok.error().ToString();
    EXPECT_EQ(tok->pre(), pre);
    EXPECT_EQ(tok->Decode(EncodeOrDie(*tok, "It's 2024, déjà vu!\n", kPlain)),
              "It's 2024, déjà vu!\n")
        << pre;
  }
}

TEST(BpeTokenizerTest, MissingPreMeansDefault) {
  Meta m = BpeMeta("default", {}, {});
  Erase(m, "tokenizer.ggml.pre");
  WARDEN_BUILD_OR_FAIL(tok, m);
  EXPECT_EQ(tok.pre(), "default");
}

// ---------------------------------------------------------------------------------------
// Corrupt or unsupported vocabulary metadata: one row per mutation.

struct CorruptionCase {
  const char* name;
  bool bpe;  // start from BpeMeta (else SpmMeta)
  void (*mutate)(Meta&);
  StatusCode code;
  const char* message;  // expected in the error message
};

const CorruptionCase kCorruptions[] = {
    {"missing_model", false, [](Meta& m) { Erase(m, "tokenizer.ggml.model"); },
     StatusCode::kDataLoss, "tokenizer.ggml.model: missing"},
    {"model_not_a_string", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.model", GgufValue::U32(1)); }, StatusCode::kDataLoss,
     "tokenizer.ggml.model: expected a string, found uint32"},
    {"unsupported_model_rwkv", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.model", GgufValue::String("rwkv")); },
     StatusCode::kInvalidArgument,
     "\"rwkv\" is not a supported tokenizer (supported: llama, "
     "gpt2, bert)"},
    {"unsupported_pre_foo", true,
     [](Meta& m) { Set(m, "tokenizer.ggml.pre", GgufValue::String("foo")); },
     StatusCode::kInvalidArgument, "\"foo\" is not a supported pre-tokenizer"},
    {"pre_not_a_string", true, [](Meta& m) { Set(m, "tokenizer.ggml.pre", GgufValue::Bool(true)); },
     StatusCode::kDataLoss, "tokenizer.ggml.pre: expected a string"},
    {"missing_tokens_array", false, [](Meta& m) { Erase(m, "tokenizer.ggml.tokens"); },
     StatusCode::kDataLoss, "tokenizer.ggml.tokens: missing"},
    {"tokens_not_strings", false,
     [](Meta& m) {
       Set(m, "tokenizer.ggml.tokens", Int32s({1, 2, 3}));
     },
     StatusCode::kDataLoss,
     "tokenizer.ggml.tokens: expected an array of string, found array of int32"},
    {"empty_tokens_array", false, [](Meta& m) { Set(m, "tokenizer.ggml.tokens", Strings({})); },
     StatusCode::kDataLoss, "tokenizer.ggml.tokens: empty vocabulary"},
    {"duplicate_token", false,
     [](Meta& m) {
       auto items = m[1].second.AsArray()->items;
       items[5] = items[3];
       Set(m, "tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, items));
     },
     StatusCode::kDataLoss,
     "tokenizer.ggml.tokens[5]: \"<0x00>\" repeats tokenizer.ggml.tokens[3]"},
    {"scores_length_mismatch", false,
     [](Meta& m) {
       Set(m, "tokenizer.ggml.scores", Floats({0, 0}));
     },
     StatusCode::kDataLoss, "tokenizer.ggml.scores: 2 entries for 269 tokens"},
    {"scores_not_numbers", false, [](Meta& m) { Set(m, "tokenizer.ggml.scores", Strings({"x"})); },
     StatusCode::kDataLoss,
     "tokenizer.ggml.scores: expected an array of float32 or array of int32"},
    {"token_type_out_of_range", false,
     [](Meta& m) {
       auto items = m[3].second.AsArray()->items;
       items[4] = GgufValue::I32(9);
       Set(m, "tokenizer.ggml.token_type", GgufValue::Array(GgufValueType::kInt32, items));
     },
     StatusCode::kDataLoss, "tokenizer.ggml.token_type[4]: 9 is not a token type (0..6)"},
    {"token_type_negative", false,
     [](Meta& m) {
       auto items = m[3].second.AsArray()->items;
       items[0] = GgufValue::I32(-1);
       Set(m, "tokenizer.ggml.token_type", GgufValue::Array(GgufValueType::kInt32, items));
     },
     StatusCode::kDataLoss, "tokenizer.ggml.token_type[0]: -1 is not a token type"},
    {"token_type_length_mismatch", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.token_type", Int32s({1})); }, StatusCode::kDataLoss,
     "tokenizer.ggml.token_type: 1 entries for 269 tokens"},
    {"byte_token_malformed", false,
     [](Meta& m) {
       auto items = m[1].second.AsArray()->items;
       items[3] = GgufValue::String("<0xZZ>");
       Set(m, "tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, items));
     },
     StatusCode::kDataLoss, "tokenizer.ggml.tokens[3]: byte token \"<0xZZ>\" is not of the form"},
    {"bos_id_out_of_range", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.bos_token_id", GgufValue::U32(5000)); },
     StatusCode::kDataLoss,
     "tokenizer.ggml.bos_token_id: token id 5000 is out of range (the vocabulary has 269 "
     "tokens)"},
    {"eos_id_not_an_integer", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.eos_token_id", GgufValue::String("2")); },
     StatusCode::kDataLoss, "tokenizer.ggml.eos_token_id: expected an integer token id"},
    {"add_bos_not_a_bool", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.add_bos_token", GgufValue::U32(1)); },
     StatusCode::kDataLoss, "tokenizer.ggml.add_bos_token: expected a bool"},
    {"add_bos_without_bos", false,
     [](Meta& m) { Set(m, "tokenizer.ggml.bos_token_id", GgufValue::U32(0xFFFFFFFFu)); },
     StatusCode::kDataLoss, "tokenizer.ggml.add_bos_token: true, but the vocabulary has no BOS"},
    {"merges_missing", true, [](Meta& m) { Erase(m, "tokenizer.ggml.merges"); },
     StatusCode::kDataLoss, "tokenizer.ggml.merges: missing"},
    {"merges_entry_without_space", true,
     [](Meta& m) {
       Set(m, "tokenizer.ggml.merges", Strings({"a b", "ab"}));
     },
     StatusCode::kDataLoss, "tokenizer.ggml.merges[1]: \"ab\" has no space between two tokens"},
    {"merges_naming_unknown_tokens", true,
     [](Meta& m) { Set(m, "tokenizer.ggml.merges", Strings({"a zz"})); }, StatusCode::kDataLoss,
     "tokenizer.ggml.merges[0]: \"a zz\" names \"zz\", which is not in tokenizer.ggml.tokens"},
    {"merges_not_strings", true, [](Meta& m) { Set(m, "tokenizer.ggml.merges", Int32s({1})); },
     StatusCode::kDataLoss, "tokenizer.ggml.merges: expected an array of string"},
};

class CorruptionTest : public ::testing::TestWithParam<CorruptionCase> {};

TEST_P(CorruptionTest, IsRefusedWithAClearMessage) {
  const CorruptionCase& c = GetParam();
  Meta m = c.bpe ? BpeMeta("gpt-2", {"ab"}, {"a b"}) : SpmMeta();
  c.mutate(m);
  auto tok = Build(m);
  ASSERT_FALSE(tok.has_value());
  EXPECT_EQ(tok.error().code(), c.code) << tok.error().ToString();
  EXPECT_THAT(tok.error().message(), HasSubstr(c.message));
  EXPECT_THAT(tok.error().message(), HasSubstr("mem.gguf: "));
}

INSTANTIATE_TEST_SUITE_P(Mutations, CorruptionTest, ::testing::ValuesIn(kCorruptions),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(CorruptionBaseTest, UnmutatedVocabulariesLoad) {
  EXPECT_TRUE(Build(SpmMeta()).has_value());
  EXPECT_TRUE(Build(BpeMeta("gpt-2", {"ab"}, {"a b"})).has_value());
}

TEST(TokenizerKindTest, Names) {
  EXPECT_EQ(TokenizerKindName(TokenizerKind::kSpm), "spm");
  EXPECT_EQ(TokenizerKindName(TokenizerKind::kBpe), "bpe");
  EXPECT_EQ(TokenizerKindName(TokenizerKind::kWpm), "wpm");
}

}  // namespace
}  // namespace warden::engine
