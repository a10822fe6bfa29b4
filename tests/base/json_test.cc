#include "base/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>

namespace warden::json {
namespace {

// Parses `text` or fails the test.
value MustParse(std::string_view text) {
  auto r = Parse(text, "test.json");
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r.has_value() ? *r : value();
}

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// ---------------------------------------------------------------------------------------------
// Parse

TEST(ParseTest, ParsesObject) {
  auto r = Parse(R"({"a": [1, "two", true, null], "b": {"c": 2.5}})", "x.json");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_TRUE(r->is_object());
  EXPECT_EQ(r->at("a").at(1).as_string(), "two");
  EXPECT_EQ(r->at("b").at("c").as_double(), 2.5);
}

TEST(ParseTest, ParsesScalarAtTopLevel) {
  auto r = Parse("42", "x.json");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->as_int64(), 42);
}

TEST(ParseTest, AllowsSurroundingWhitespace) {
  auto r = Parse(" \t\n{\"a\": 1}\n \r\n", "x.json");
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->at("a").as_int64(), 1);
}

TEST(ParseTest, SyntaxErrorNamesSourceLineColumnAndOffset) {
  // The bad token `x` is at offset 16: line 2 starts at offset 9, so column 8.
  auto r = Parse("{\"a\": 1,\n  \"b\": x}", "model.sig");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message().rfind("model.sig: line 2, column 8 (offset 16): ", 0), 0u)
      << r.error().message();
}

TEST(ParseTest, ErrorOnThirdLineCountsColumnsFromLineStart) {
  // `]` after a trailing comma is at offset 9, the third character of line 3.
  auto r = Parse("[1,\n2,\n  ]", "list.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("list.json: line 3, column 3 (offset 9)"), std::string::npos)
      << r.error().message();
}

TEST(ParseTest, TrailingGarbageIsRefused) {
  auto r = Parse("{} x", "t.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("line 1, column 4 (offset 3)"), std::string::npos)
      << r.error().message();
}

TEST(ParseTest, SecondValueAfterFirstIsRefused) {
  auto r = Parse("{\"a\": 1}\n{\"b\": 2}", "t.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("line 2, column 1 (offset 9)"), std::string::npos)
      << r.error().message();
}

TEST(ParseTest, EmptyInputSaysSo) {
  auto r = Parse("", "empty.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(),
            "empty.json: line 1, column 1 (offset 0): empty input, expected a JSON value");
}

TEST(ParseTest, TruncatedInputIsRefusedAtEnd) {
  auto r = Parse("{\"a\": [1", "t.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("(offset 8)"), std::string::npos) << r.error().message();
}

TEST(ParseTest, InvalidUtf8InStringIsRefused) {
  auto r = Parse("\"\xff\"", "t.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
}

TEST(ParseTest, LoneSurrogateEscapeIsRefused) {
  auto r = Parse(R"(["\ud800"])", "t.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
}

TEST(ParseTest, CommentsAreRefused) {
  auto r = Parse("// note\n{}", "t.json");
  EXPECT_FALSE(r.has_value());
}

TEST(ParseTest, TrailingCommaIsRefused) {
  auto r = Parse("[1,]", "t.json");
  EXPECT_FALSE(r.has_value());
}

TEST(ParseTest, NanLiteralIsRefused) {
  auto r = Parse("[NaN]", "t.json");
  EXPECT_FALSE(r.has_value());
}

TEST(ParseTest, NestingAtDefaultLimitIsAccepted) {
  auto r = Parse(Nested(64), "deep.json");
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
}

TEST(ParseTest, NestingOverDefaultLimitIsRefused) {
  auto r = Parse(Nested(65), "deep.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("deep.json: line 1, column 65 (offset 64)"), std::string::npos)
      << r.error().message();
}

TEST(ParseTest, NestingOverDefaultLimitIsAcceptedWithLargerMaxDepth) {
  auto r = Parse(Nested(65), "deep.json", /*max_depth=*/65);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
}

TEST(ParseTest, SmallMaxDepthIsEnforced) {
  EXPECT_TRUE(Parse(R"({"a": [1]})", "t.json", /*max_depth=*/2).has_value());
  EXPECT_FALSE(Parse(R"({"a": [[1]]})", "t.json", /*max_depth=*/2).has_value());
}

TEST(ParseTest, ObjectNestingCountsTowardDepth) {
  std::string deep;
  for (int i = 0; i < 65; ++i) deep += "{\"k\":";
  deep += "0";
  deep += std::string(65, '}');
  EXPECT_FALSE(Parse(deep, "t.json").has_value());
  EXPECT_TRUE(Parse(deep, "t.json", /*max_depth=*/65).has_value());
}

// A signed bundle with {"digest": A, "digest": B} means A to one parser and B to another.
TEST(ParseTest, DuplicateKeyIsRefused) {
  auto r = Parse(R"({"digest": "aa", "digest": "bb"})", "bundle.json");
  ASSERT_FALSE(r.has_value()) << "accepted as " << Canonical(*r);
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.error().message().find("duplicate key \"digest\""), std::string::npos)
      << r.error().message();
}

TEST(ParseTest, DuplicateKeyNamesItsObjectAndPosition) {
  auto r = Parse("{\"a\": {\"b\": [1, {\"k\": 1,\n \"\\u006b\": 2}]}}", "t.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("in object a.b"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("line 2"), std::string::npos) << r.error().message();
}

TEST(ParseTest, SameKeyInSiblingObjectsIsFine) {
  EXPECT_TRUE(Parse(R"([{"k": 1}, {"k": 2}, {"a": {"k": 3}, "k": 4}])", "t.json").has_value());
}

// ---------------------------------------------------------------------------------------------
// Canonical

TEST(CanonicalTest, SortsKeysWithoutWhitespace) {
  EXPECT_EQ(Canonical(MustParse(R"({ "b" : 1 , "a" : 2 , "c" : 3 })")), R"({"a":2,"b":1,"c":3})");
}

TEST(CanonicalTest, SortsNestedObjectsRecursively) {
  value v = MustParse(R"({"z": {"y": 1, "x": [{"q": 1, "p": 2}]}, "a": null})");
  EXPECT_EQ(Canonical(v), R"({"a":null,"z":{"x":[{"p":2,"q":1}],"y":1}})");
}

TEST(CanonicalTest, KeepsArrayOrder) { EXPECT_EQ(Canonical(MustParse("[3, 1, 2]")), "[3,1,2]"); }

TEST(CanonicalTest, SortsKeysByUtf8BytesNotByCodePointOrLocale) {
  // "é" is 0xC3 0xA9, above every ASCII byte; "Z" (0x5A) sorts before "a" (0x61).
  value v = MustParse("{\"\xc3\xa9\": 1, \"a\": 2, \"Z\": 3, \"ab\": 4}");
  EXPECT_EQ(Canonical(v), "{\"Z\":3,\"a\":2,\"ab\":4,\"\xc3\xa9\":1}");
}

TEST(CanonicalTest, PrefixKeySortsBeforeLongerKey) {
  EXPECT_EQ(Canonical(MustParse(R"({"ab": 1, "a": 2})")), R"({"a":2,"ab":1})");
}

TEST(CanonicalTest, IsIndependentOfInsertionOrder) {
  object a;
  a["one"] = 1;
  a["two"] = array{1, 2};
  object b;
  b["two"] = array{1, 2};
  b["one"] = 1;
  EXPECT_EQ(Canonical(a), Canonical(b));
}

TEST(CanonicalTest, EscapesQuoteBackslashAndControlCharacters) {
  static constexpr char kRaw[] = "q\"b\\n\nt\tr\rf\fb\bnul\0u1\x01us\x1f";
  value v(std::string_view(kRaw, sizeof(kRaw) - 1));
  ASSERT_EQ(v.as_string().size(), 24u);
  EXPECT_EQ(Canonical(v), R"("q\"b\\n\nt\tr\rf\fb\bnul\u0000u1\u0001us\u001f")");
}

TEST(CanonicalTest, WritesNonAsciiUnicodeAsUtf8) {
  // Parsed from \u escapes, written back as the UTF-8 bytes themselves.
  value v = MustParse(R"("\u00e9\u20ac\ud83d\ude00")");
  EXPECT_EQ(Canonical(v), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

TEST(CanonicalTest, EscapesKeysLikeValues) {
  object o;
  o["a\"b\n"] = "\x01";
  EXPECT_EQ(Canonical(o), R"({"a\"b\n":"\u0001"})");
}

TEST(CanonicalTest, WritesIntegersExactly) {
  value v = MustParse("[0, -1, 9223372036854775807, 18446744073709551615, -9223372036854775808]");
  EXPECT_EQ(Canonical(v), "[0,-1,9223372036854775807,18446744073709551615,-9223372036854775808]");
}

TEST(CanonicalTest, WritesLiteralsAndEmptyContainers) {
  EXPECT_EQ(Canonical(MustParse(R"({"t": true, "f": false, "n": null, "o": {}, "a": []})")),
            R"({"a":[],"f":false,"n":null,"o":{},"t":true})");
}

TEST(CanonicalTest, OutputReparsesToEqualValue) {
  value v = MustParse(R"({"b": [1, 2.5, "x\u0001"], "a": {"c": null, "b": false}})");
  value back = MustParse(Canonical(v));
  EXPECT_EQ(back, v);
}

// ---------------------------------------------------------------------------------------------
// Pretty

TEST(PrettyTest, IndentsTwoSpacesWithFinalNewline) {
  value v = MustParse(R"({"a": [1, {}], "b": {}, "c": []})");
  EXPECT_EQ(Pretty(v),
            "{\n"
            "  \"a\": [\n"
            "    1,\n"
            "    {}\n"
            "  ],\n"
            "  \"b\": {},\n"
            "  \"c\": []\n"
            "}\n");
}

TEST(PrettyTest, KeepsStoredKeyOrder) {
  value v = MustParse(R"({"z": 1, "a": 2})");
  EXPECT_EQ(Pretty(v), "{\n  \"z\": 1,\n  \"a\": 2\n}\n");
}

TEST(PrettyTest, WritesScalarOnOneLine) { EXPECT_EQ(Pretty(value("hi")), "\"hi\"\n"); }

TEST(PrettyTest, OutputReparsesToEqualValue) {
  value v = MustParse(
      R"({"name": "m\u00e9\n\"q\"", "n": [0, -5, 1.5, 1e300, 18446744073709551615],
          "deep": {"x": [[], {}, [{"y": null}]], "t": true, "f": false}, "": ""})");
  auto back = Parse(Pretty(v), "pretty.json");
  ASSERT_TRUE(back.has_value()) << back.error().ToString() << "\n" << Pretty(v);
  EXPECT_EQ(*back, v);
  EXPECT_EQ(Canonical(*back), Canonical(v));
}

// ---------------------------------------------------------------------------------------------
// Join / JoinIndex / KindName

TEST(JoinTest, JoinsWithDot) { EXPECT_EQ(Join("a.b", "c"), "a.b.c"); }

TEST(JoinTest, EmptyPathGivesKey) { EXPECT_EQ(Join("", "c"), "c"); }

TEST(JoinTest, JoinIndexAppendsBrackets) {
  EXPECT_EQ(JoinIndex("a.b", 2), "a.b[2]");
  EXPECT_EQ(JoinIndex("", 0), "[0]");
}

TEST(KindNameTest, NamesEveryKind) {
  EXPECT_EQ(KindName(value(nullptr)), "null");
  EXPECT_EQ(KindName(value(true)), "a boolean");
  EXPECT_EQ(KindName(value(int64_t{-1})), "a number");
  EXPECT_EQ(KindName(value(uint64_t{1})), "a number");
  EXPECT_EQ(KindName(value(1.5)), "a number");
  EXPECT_EQ(KindName(value("s")), "a string");
  EXPECT_EQ(KindName(value(array{})), "an array");
  EXPECT_EQ(KindName(value(object{})), "an object");
}

// ---------------------------------------------------------------------------------------------
// Typed access. The document nests so that paths are "a.b[2].c"-shaped.

class AccessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MustParse(R"({
      "a": {"b": [0, 1, {"c": 5, "s": "text", "t": true, "o": {}, "arr": [], "n": null}]}
    })");
    auto a = GetObject(root_.as_object(), "a", "");
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    auto b = GetArray(**a, "b", "a");
    ASSERT_TRUE(b.has_value()) << b.error().ToString();
    auto leaf = AsObject((**b)[2], JoinIndex("a.b", 2));
    ASSERT_TRUE(leaf.has_value()) << leaf.error().ToString();
    leaf_ = *leaf;
  }

  static constexpr std::string_view kLeafPath = "a.b[2]";
  value root_;
  const object* leaf_ = nullptr;
};

TEST_F(AccessorTest, GetStringReturnsValue) {
  auto r = GetString(*leaf_, "s", kLeafPath);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, "text");
}

TEST_F(AccessorTest, GetStringOnNumberNamesFullPathAndFoundKind) {
  auto r = GetString(*leaf_, "c", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "field a.b[2].c: expected a string, found a number");
}

TEST_F(AccessorTest, MissingFieldNamesFullPath) {
  auto r = GetString(*leaf_, "absent", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "missing field a.b[2].absent");
}

TEST_F(AccessorTest, MissingTopLevelFieldHasNoLeadingDot) {
  auto r = GetObject(root_.as_object(), "nope", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "missing field nope");
}

TEST_F(AccessorTest, GetBoolReturnsValue) {
  auto r = GetBool(*leaf_, "t", kLeafPath);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE(*r);
}

TEST_F(AccessorTest, GetBoolOnStringNamesFullPathAndFoundKind) {
  auto r = GetBool(*leaf_, "s", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "field a.b[2].s: expected a boolean, found a string");
}

TEST_F(AccessorTest, GetArrayOnObjectNamesFullPathAndFoundKind) {
  auto r = GetArray(*leaf_, "o", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "field a.b[2].o: expected an array, found an object");
}

TEST_F(AccessorTest, GetArrayReturnsArray) {
  auto r = GetArray(*leaf_, "arr", kLeafPath);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_TRUE((*r)->empty());
}

TEST_F(AccessorTest, GetObjectOnArrayNamesFullPathAndFoundKind) {
  auto r = GetObject(*leaf_, "arr", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "field a.b[2].arr: expected an object, found an array");
}

TEST_F(AccessorTest, GetObjectOnNullSaysNull) {
  auto r = GetObject(*leaf_, "n", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "field a.b[2].n: expected an object, found null");
}

TEST_F(AccessorTest, GetObjectReturnsPointerIntoDocument) {
  auto r = GetObject(*leaf_, "o", kLeafPath);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, &leaf_->at("o").as_object());
}

TEST_F(AccessorTest, AsObjectOnNumberNamesPathAndFoundKind) {
  auto r = AsObject(root_.at("a").at("b").at(0), "a.b[0]");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "field a.b[0]: expected an object, found a number");
}

TEST_F(AccessorTest, AsStringOnBoolNamesPathAndFoundKind) {
  auto r = AsString(value(false), "x[3]");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "field x[3]: expected a string, found a boolean");
}

TEST_F(AccessorTest, GetUintOnStringNamesFullPathAndFoundKind) {
  auto r = GetUint(*leaf_, "s", kLeafPath);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "field a.b[2].s: expected an integer, found a string");
}

TEST_F(AccessorTest, GetUintReturnsValue) {
  auto r = GetUint(*leaf_, "c", kLeafPath);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(*r, 5u);
}

// ---------------------------------------------------------------------------------------------
// GetUint: which JSON numbers count as a non-negative integer below 2^63.

struct UintCase {
  const char* name;
  std::string_view json;  // the value of field "n"
  bool ok;
  uint64_t want;
};

void PrintTo(const UintCase& c, std::ostream* os) { *os << c.name << " " << c.json; }

class GetUintTest : public ::testing::TestWithParam<UintCase> {};

TEST_P(GetUintTest, AcceptsOrRejects) {
  value doc = MustParse("{\"n\": " + std::string(GetParam().json) + "}");
  ASSERT_TRUE(doc.is_object());
  auto r = GetUint(doc.as_object(), "n", "cfg");
  if (GetParam().ok) {
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    EXPECT_EQ(*r, GetParam().want);
  } else {
    ASSERT_FALSE(r.has_value()) << "accepted as " << *r;
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.error().message().find("field cfg.n"), std::string::npos) << r.error().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, GetUintTest,
    ::testing::Values(
        UintCase{"Integer", "8", true, 8}, UintCase{"Zero", "0", true, 0},
        UintCase{"IntegralFloat", "8.0", true, 8},
        UintCase{"IntegralExponent", "1e9", true, 1000000000},
        UintCase{"LargeIntegralFloat", "1000000000.0", true, 1000000000},
        UintCase{"MaxInt64", "9223372036854775807", true, 9223372036854775807u},
        UintCase{"LargestDoubleBelowTwo63", "9223372036854774784.0", true, 9223372036854774784u},
        UintCase{"Fraction", "8.5", false, 0}, UintCase{"SmallFraction", "0.1", false, 0},
        UintCase{"Negative", "-1", false, 0}, UintCase{"NegativeFloat", "-1.0", false, 0},
        UintCase{"Huge", "1e300", false, 0}, UintCase{"TwoTo63", "9223372036854775808", false, 0},
        UintCase{"TwoTo63AsFloat", "9223372036854775808.0", false, 0},
        UintCase{"MaxUint64", "18446744073709551615", false, 0},
        UintCase{"BeyondUint64", "18446744073709551616", false, 0},
        UintCase{"String", "\"8\"", false, 0}, UintCase{"Bool", "true", false, 0},
        UintCase{"Null", "null", false, 0}, UintCase{"Array", "[8]", false, 0}),
    [](const ::testing::TestParamInfo<UintCase>& info) { return info.param.name; });

TEST(GetUintMessageTest, FractionSaysWhatWasFound) {
  value doc = MustParse(R"({"n": 8.5})");
  auto r = GetUint(doc.as_object(), "n", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("field n: expected a non-negative integer"), std::string::npos)
      << r.error().message();
}

TEST(GetUintMessageTest, NegativeIntegerSaysNegative) {
  value doc = MustParse(R"({"n": -1})");
  auto r = GetUint(doc.as_object(), "n", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "field n: negative value");
}

}  // namespace
}  // namespace warden::json
