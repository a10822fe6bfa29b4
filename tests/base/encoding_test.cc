#include "base/encoding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace warden {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// ---------------------------------------------------------------------------------------------
// Hex

TEST(HexTest, EncodesLowerCase) {
  EXPECT_EQ(HexEncode(std::string_view("\x00\x01\xab\xff\x7f", 5)), "0001abff7f");
}

TEST(HexTest, EncodesEmpty) { EXPECT_EQ(HexEncode(std::string_view()), ""); }

TEST(HexTest, RoundTripsEveryByteValue) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  auto back = HexDecode(hex);
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(*back, Bytes(all));
}

TEST(HexTest, DecodesEmpty) {
  auto r = HexDecode("");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->empty());
}

TEST(HexTest, AcceptsUpperCase) {
  auto r = HexDecode("ABCDEF09");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, (std::vector<uint8_t>{0xab, 0xcd, 0xef, 0x09}));
}

TEST(HexTest, AcceptsMixedCase) {
  auto r = HexDecode("aBcD");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, (std::vector<uint8_t>{0xab, 0xcd}));
}

TEST(HexTest, OddLengthIsDataLoss) {
  auto r = HexDecode("abc");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("odd length 3"), std::string::npos) << r.error().message();
}

struct BadHexCase {
  const char* name;
  std::string_view text;
  size_t position;
};

void PrintTo(const BadHexCase& c, std::ostream* os) { *os << c.name; }

class HexBadCharTest : public ::testing::TestWithParam<BadHexCase> {};

TEST_P(HexBadCharTest, IsDataLossNamingThePosition) {
  auto r = HexDecode(GetParam().text);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("at position " + std::to_string(GetParam().position)),
            std::string::npos)
      << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(Table, HexBadCharTest,
                         ::testing::Values(BadHexCase{"HighNibbleFirstByte", "g0", 0},
                                           BadHexCase{"LowNibbleFirstByte", "0g", 1},
                                           BadHexCase{"HighNibbleLaterByte", "0011z2", 4},
                                           BadHexCase{"LowNibbleLaterByte", "00112z", 5},
                                           BadHexCase{"Space", "00 1", 2},
                                           BadHexCase{"PrefixX", "0x12", 1},
                                           BadHexCase{"NulByte", std::string_view("ab\0d", 4), 2},
                                           BadHexCase{"HighBitByte", "ab\xc3\xa9", 2}),
                         [](const ::testing::TestParamInfo<BadHexCase>& info) {
                           return info.param.name;
                         });

// ---------------------------------------------------------------------------------------------
// Base64: RFC 4648 section 10 test vectors.

struct Rfc4648Vector {
  std::string_view plain;
  std::string_view encoded;
};

void PrintTo(const Rfc4648Vector& c, std::ostream* os) {
  *os << '"' << c.plain << "\" <-> \"" << c.encoded << '"';
}

class Base64Rfc4648Test : public ::testing::TestWithParam<Rfc4648Vector> {};

TEST_P(Base64Rfc4648Test, Encodes) {
  EXPECT_EQ(Base64Encode(GetParam().plain), GetParam().encoded);
}

TEST_P(Base64Rfc4648Test, Decodes) {
  auto r = Base64Decode(GetParam().encoded);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, GetParam().plain);
}

INSTANTIATE_TEST_SUITE_P(
    Section10, Base64Rfc4648Test,
    ::testing::Values(Rfc4648Vector{"", ""}, Rfc4648Vector{"f", "Zg=="},
                      Rfc4648Vector{"fo", "Zm8="}, Rfc4648Vector{"foo", "Zm9v"},
                      Rfc4648Vector{"foob", "Zm9vYg=="}, Rfc4648Vector{"fooba", "Zm9vYmE="},
                      Rfc4648Vector{"foobar", "Zm9vYmFy"}),
    [](const ::testing::TestParamInfo<Rfc4648Vector>& info) {
      return info.param.plain.empty() ? std::string("Empty") : std::string(info.param.plain);
    });

TEST(Base64Test, UsesStandardAlphabetForHighIndices) {
  // 0xfb 0xff -> indices 62, 63, 63 -> "+//" plus padding.
  EXPECT_EQ(Base64Encode(std::string_view("\xfb\xff", 2)), "+/8=");
  auto r = Base64Decode("+/8=");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, std::string("\xfb\xff", 2));
}

TEST(Base64Test, DecodesBinaryWithZeroBytes) {
  auto r = Base64Decode("AAAA");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, std::string(3, '\0'));
}

struct BadBase64Case {
  const char* name;
  std::string_view text;
  std::string_view message_part;  // a piece the message must contain
};

void PrintTo(const BadBase64Case& c, std::ostream* os) { *os << c.name; }

class Base64CorruptionTest : public ::testing::TestWithParam<BadBase64Case> {};

TEST_P(Base64CorruptionTest, IsDataLoss) {
  auto r = Base64Decode(GetParam().text);
  ASSERT_FALSE(r.has_value()) << "decoded to " << HexEncode(*r);
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find(GetParam().message_part), std::string::npos)
      << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, Base64CorruptionTest,
    ::testing::Values(BadBase64Case{"LengthOne", "Z", "not a multiple of 4"},
                      BadBase64Case{"LengthThree", "Zm9", "not a multiple of 4"},
                      BadBase64Case{"LengthFive", "Zm9vY", "not a multiple of 4"},
                      BadBase64Case{"MissingPadding", "Zg", "not a multiple of 4"},
                      BadBase64Case{"BadCharFirst", "*m9v", "position 0"},
                      BadBase64Case{"BadCharLater", "Zm9vY-Fy", "position 5"},
                      BadBase64Case{"UrlSafeUnderscore", "Zm9_", "position 3"},
                      BadBase64Case{"Whitespace", "Zm9v Zm9", "position 4"},
                      BadBase64Case{"LeadingWhitespace", " Zm9", "position 0"},
                      BadBase64Case{"Newline", "Zm9v\nZm9", "position 4"},
                      BadBase64Case{"NulByte", std::string_view("Zm\0v", 4), "position 2"},
                      BadBase64Case{"HighBitByte", "Zm9\xc3", "position 3"},
                      BadBase64Case{"PaddingInMiddle", "Zg==Zm9v", "position 2"},
                      BadBase64Case{"PaddingAtStart", "=Zm9", "position 0"},
                      BadBase64Case{"ThreePadding", "Z===", "position 1"},
                      BadBase64Case{"AllPadding", "====", "position 0"},
                      BadBase64Case{"PaddingBeforeData", "Zm=v", "position 2"},
                      BadBase64Case{"NonCanonicalOnePad", "Zm9=", "canonical"},
                      BadBase64Case{"NonCanonicalTwoPad", "Zh==", "canonical"},
                      BadBase64Case{"NonCanonicalLastBitOnePad", "Zm9vYmF=", "canonical"},
                      BadBase64Case{"NonCanonicalLowBitTwoPad", "Zm9vYh==", "canonical"}),
    [](const ::testing::TestParamInfo<BadBase64Case>& info) { return info.param.name; });

// Slow, obviously-correct reference encoder: walk the input bit by bit.
std::string ReferenceBase64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<int> bits;
  for (unsigned char c : in) {
    for (int b = 7; b >= 0; --b) bits.push_back((c >> b) & 1);
  }
  while (bits.size() % 6 != 0) bits.push_back(0);
  std::string out;
  for (size_t i = 0; i < bits.size(); i += 6) {
    int v = 0;
    for (size_t k = 0; k < 6; ++k) v = v * 2 + bits[i + k];
    out.push_back(kAlphabet[v]);
  }
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

TEST(Base64Test, ReferenceEncoderMatchesRfcVector) {
  // Guards the reference itself, so that agreement below means something.
  EXPECT_EQ(ReferenceBase64("fooba"), "Zm9vYmE=");
}

TEST(Base64Test, EncodeMatchesReferenceOnRandomInputs) {
  std::mt19937 rng(4648);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t len = 0; len <= 300; ++len) {
    std::string in(len, '\0');
    for (char& c : in) c = static_cast<char>(byte(rng));
    ASSERT_EQ(Base64Encode(in), ReferenceBase64(in)) << "length " << len;
  }
}

TEST(Base64Test, DecodeInvertsReferenceOnRandomInputs) {
  std::mt19937 rng(1046);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t len = 0; len <= 300; ++len) {
    std::string in(len, '\0');
    for (char& c : in) c = static_cast<char>(byte(rng));
    auto r = Base64Decode(ReferenceBase64(in));
    ASSERT_TRUE(r.has_value()) << "length " << len << ": " << r.error().ToString();
    ASSERT_EQ(*r, in) << "length " << len;
  }
}

TEST(Base64Test, SpanAndStringViewOverloadsAgree) {
  std::vector<uint8_t> bytes = {0, 1, 2, 250, 251};
  EXPECT_EQ(Base64Encode(std::span<const uint8_t>(bytes)), Base64Encode(AsChars(bytes)));
}

// ---------------------------------------------------------------------------------------------
// AsBytes / AsChars

TEST(AsBytesTest, ViewsTheSameMemory) {
  std::string s = "abc";
  auto b = AsBytes(s);
  EXPECT_EQ(static_cast<const void*>(b.data()), static_cast<const void*>(s.data()));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(AsChars(b), "abc");
}

// ---------------------------------------------------------------------------------------------
// IsValidUtf8

struct Utf8Case {
  const char* name;
  std::string_view text;
  bool valid;
};

void PrintTo(const Utf8Case& c, std::ostream* os) { *os << c.name; }

class Utf8Test : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(Utf8Test, Classifies) {
  EXPECT_EQ(IsValidUtf8(GetParam().text), GetParam().valid) << HexEncode(GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    Table, Utf8Test,
    ::testing::Values(Utf8Case{"Empty", "", true}, Utf8Case{"Ascii", "hello, world", true},
                      Utf8Case{"AsciiNul", std::string_view("a\0b", 3), true},
                      Utf8Case{"AsciiDel", "\x7f", true},
                      Utf8Case{"TwoByteSmallest", "\xC2\x80", true},                // U+0080
                      Utf8Case{"TwoByteEAcute", "\xC3\xA9", true},                  // U+00E9
                      Utf8Case{"TwoByteLargest", "\xDF\xBF", true},                 // U+07FF
                      Utf8Case{"ThreeByteSmallest", "\xE0\xA0\x80", true},          // U+0800
                      Utf8Case{"ThreeByteEuro", "\xE2\x82\xAC", true},              // U+20AC
                      Utf8Case{"ThreeByteBeforeSurrogates", "\xED\x9F\xBF", true},  // U+D7FF
                      Utf8Case{"ThreeByteAfterSurrogates", "\xEE\x80\x80", true},   // U+E000
                      Utf8Case{"ThreeByteLargest", "\xEF\xBF\xBF", true},           // U+FFFF
                      Utf8Case{"FourByteSmallest", "\xF0\x90\x80\x80", true},       // U+10000
                      Utf8Case{"FourByteEmoji", "\xF0\x9F\x98\x80", true},          // U+1F600
                      Utf8Case{"FourByteLargest", "\xF4\x8F\xBF\xBF", true},        // U+10FFFF
                      Utf8Case{"Mixed", "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z", true},
                      Utf8Case{"OverlongSlash", "\xC0\xAF", false},
                      Utf8Case{"OverlongNulTwoByte", "\xC0\x80", false},
                      Utf8Case{"OverlongTwoByteC1", "\xC1\xBF", false},
                      Utf8Case{"OverlongThreeByte", "\xE0\x80\xAF", false},
                      Utf8Case{"OverlongThreeByteLargest", "\xE0\x9F\xBF", false},
                      Utf8Case{"OverlongFourByte", "\xF0\x80\x80\xAF", false},
                      Utf8Case{"OverlongFourByteLargest", "\xF0\x8F\xBF\xBF", false},
                      Utf8Case{"SurrogateHighFirst", "\xED\xA0\x80", false},  // U+D800
                      Utf8Case{"SurrogateLowLast", "\xED\xBF\xBF", false},    // U+DFFF
                      Utf8Case{"SurrogatePair", "\xED\xA0\xBD\xED\xB8\x80", false},
                      Utf8Case{"AboveMax", "\xF4\x90\x80\x80", false},  // U+110000
                      Utf8Case{"LeadF5", "\xF5\x80\x80\x80", false},
                      Utf8Case{"LeadF7", "\xF7\xBF\xBF\xBF", false},
                      Utf8Case{"LeadF8FiveByte", "\xF8\x88\x80\x80\x80", false},
                      Utf8Case{"LeadFC", "\xFC\x84\x80\x80\x80\x80", false},
                      Utf8Case{"LeadFE", "\xFE", false}, Utf8Case{"LeadFF", "\xFF", false},
                      Utf8Case{"TruncatedTwoByte", "\xC3", false},
                      Utf8Case{"TruncatedThreeByteAfterOne", "\xE2", false},
                      Utf8Case{"TruncatedThreeByteAfterTwo", "\xE2\x82", false},
                      Utf8Case{"TruncatedFourByteAfterThree", "\xF0\x9F\x98", false},
                      Utf8Case{"TruncatedThenAscii", "\xE2\x82z", false},
                      Utf8Case{"TruncatedAtEndAfterValid", "ok\xC3\xA9\xC3", false},
                      Utf8Case{"StrayContinuation", "\x80", false},
                      Utf8Case{"StrayContinuationAfterAscii", "a\xBF", false},
                      Utf8Case{"ExtraContinuationAfterValid", "\xC3\xA9\xA9", false},
                      Utf8Case{"ContinuationReplacedByAscii", "\xC3(", false},
                      Utf8Case{"ContinuationReplacedByLead", "\xE2\xC3\xA9", false}),
    [](const ::testing::TestParamInfo<Utf8Case>& info) { return info.param.name; });

TEST(Utf8BoundsTest, SequenceCutByViewEndIsInvalidEvenIfMemoryContinues) {
  // The bytes after the view are valid continuation bytes, so only the length check can refuse.
  static constexpr char kEuro[] = "\xE2\x82\xAC";
  EXPECT_TRUE(IsValidUtf8(std::string_view(kEuro, 3)));
  EXPECT_FALSE(IsValidUtf8(std::string_view(kEuro, 2)));
  EXPECT_FALSE(IsValidUtf8(std::string_view(kEuro, 1)));
}

TEST(Utf8Test, FirstInvalidUtf8NamesTheOffset) {
  EXPECT_EQ(FirstInvalidUtf8("plain"), std::string_view::npos);
  EXPECT_EQ(FirstInvalidUtf8("ok \xC3\x28 bad"), 3u);
  EXPECT_EQ(FirstInvalidUtf8("\xE2\x82\xAC\xFF"), 3u);
}

TEST(Utf8Test, DecodeAndAppendRoundTripEveryLengthAtItsBounds) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFFu, 0x10000u,
                      0x10FFFFu}) {
    std::string s;
    AppendUtf8(cp, s);
    uint32_t back = 0xFFFFFFFF;
    ASSERT_EQ(DecodeUtf8At(s, 0, &back), s.size()) << std::hex << cp;
    EXPECT_EQ(back, cp);
    EXPECT_TRUE(IsValidUtf8(s));
  }
}

TEST(Utf8Test, DecodeRefusesOverlongSurrogateAndTooLarge) {
  uint32_t cp = 0;
  EXPECT_EQ(DecodeUtf8At("\xC0\x80", 0, &cp), 0u);          // overlong NUL
  EXPECT_EQ(DecodeUtf8At("\xED\xA0\x80", 0, &cp), 0u);      // U+D800
  EXPECT_EQ(DecodeUtf8At("\xF4\x90\x80\x80", 0, &cp), 0u);  // U+110000
  EXPECT_EQ(DecodeUtf8At("a\xE2\x82", 1, &cp), 0u);         // cut short
}

TEST(Utf8Test, WhiteSpaceIsUnicodesProperty) {
  for (uint32_t cp : {0x09u, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au, 0x2028u,
                      0x3000u}) {
    EXPECT_TRUE(IsUnicodeWhiteSpace(cp)) << std::hex << cp;
  }
  for (uint32_t cp : {0x1Cu, 0x1Fu, 0x200Bu, 0xFEFFu, 0x41u, 0x180Eu}) {
    EXPECT_FALSE(IsUnicodeWhiteSpace(cp)) << std::hex << cp;
  }
}

}  // namespace
}  // namespace warden
