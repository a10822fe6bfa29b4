#include "guard/tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace warden::guard {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

ArgumentConstraint Arg(std::string path, ValueType type = ValueType::kAny, bool required = false) {
  ArgumentConstraint c;
  c.path = std::move(path);
  c.type = type;
  c.required = required;
  return c;
}

ToolRule Rule(std::string name, std::vector<ArgumentConstraint> args) {
  ToolRule r;
  r.name = std::move(name);
  r.arguments = std::move(args);
  return r;
}

ToolPolicy Policy(std::vector<ToolRule> rules, std::vector<std::string> deny = {}) {
  ToolPolicy p;
  p.allow = std::move(rules);
  p.deny_patterns = std::move(deny);
  return p;
}

ToolGuard Make(const ToolPolicy& policy) {
  auto g = ToolGuard::Create(policy, "free");
  EXPECT_TRUE(g.has_value()) << g.error().message();
  return std::move(g).value();
}

// A guard with one tool "t" and one constraint.
ToolGuard One(ArgumentConstraint c) { return Make(Policy({Rule("t", {std::move(c)})})); }

std::vector<std::string> Reasons(const std::vector<ToolViolation>& v) {
  std::vector<std::string> out;
  for (const auto& x : v) out.push_back(x.path + ": " + x.reason);
  return out;
}

// --- the call itself --------------------------------------------------------------------------

TEST(ToolGuardTest, AllowedToolWithValidArgumentsPasses) {
  ToolGuard g = Make(Policy({Rule("get_weather", {Arg("city", ValueType::kString, true)})}));
  EXPECT_THAT(g.CheckCall("get_weather", R"({"city": "Paris"})"), IsEmpty());
}

TEST(ToolGuardTest, UnlistedToolIsRefusedNamingToolAndTier) {
  ToolGuard g = Make(Policy({Rule("get_weather", {})}));
  auto v = g.CheckCall("exec", "{}");
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].tool, "exec");
  EXPECT_EQ(v[0].path, "");
  EXPECT_EQ(v[0].reason, "tool \"exec\" is not allowed for tier \"free\"");
}

TEST(ToolGuardTest, ToolNamesMatchExactly) {
  ToolGuard g = Make(Policy({Rule("get_weather", {})}));
  EXPECT_THAT(g.CheckCall("Get_Weather", "{}"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("get_weather ", "{}"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("get_weather", "{}"), IsEmpty());
}

TEST(ToolGuardTest, EmptyArgumentsAreAnEmptyObject) {
  ToolGuard optional = One(Arg("city", ValueType::kString));
  EXPECT_THAT(optional.CheckCall("t", ""), IsEmpty());
  EXPECT_THAT(optional.CheckCall("t", " \n"), IsEmpty());
  ToolGuard required = One(Arg("city", ValueType::kString, true));
  EXPECT_THAT(Reasons(required.CheckCall("t", "")),
              ElementsAre("city: required argument is missing"));
}

TEST(ToolGuardTest, ArgumentsThatAreNotJsonAreRefused) {
  ToolGuard g = One(Arg("city"));
  for (const char* text : {"{", "city=Paris", R"({"city": "Paris"} x)", R"({'city': 1})"}) {
    auto v = g.CheckCall("t", text);
    ASSERT_THAT(v, SizeIs(1)) << text;
    EXPECT_THAT(v[0].reason, HasSubstr("not a JSON text")) << text;
  }
}

TEST(ToolGuardTest, ArgumentsThatAreNotAnObjectAreRefused) {
  ToolGuard g = Make(Policy({Rule("t", {})}));
  EXPECT_THAT(Reasons(g.CheckCall("t", "[]")),
              ElementsAre(": arguments must be a JSON object, got an array"));
  EXPECT_THAT(g.CheckCall("t", "null"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"("{}")"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", "7"), SizeIs(1));
}

TEST(ToolGuardTest, VeryDeepNestingIsAViolationNotACrash) {
  ToolPolicy p = Policy({Rule("t", {})});
  p.allow[0].allow_unlisted_arguments = true;
  ToolGuard g = Make(p);
  const std::string arrays = "{\"a\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(10000, '}');
  for (const std::string& text : {arrays, objects}) {
    auto v = g.CheckCall("t", text);
    ASSERT_THAT(v, SizeIs(1));
    EXPECT_THAT(v[0].reason, HasSubstr("too deep"));
  }
}

TEST(ToolGuardTest, DepthLimitCountsTheArgumentsObjectAsLevelOne) {
  ToolPolicy p = Policy({Rule("t", {})});
  p.allow[0].allow_unlisted_arguments = true;
  p.max_argument_depth = 3;
  ToolGuard g = Make(p);
  EXPECT_THAT(g.CheckCall("t", R"({"a": {"b": [1]}})"), IsEmpty());
  auto v = g.CheckCall("t", R"({"a": {"b": [[1]]}})");
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_THAT(v[0].reason, HasSubstr("at most 3 nesting levels"));
}

TEST(ToolGuardTest, ArgumentsOverTheByteLimitAreRefusedBeforeParsing) {
  ToolPolicy p = Policy({Rule("t", {Arg("s", ValueType::kString)})});
  p.max_argument_bytes = 32;
  ToolGuard g = Make(p);
  const std::string at_limit = R"({"s": ")" + std::string(32 - 9, 'x') + R"("})";
  ASSERT_EQ(at_limit.size(), 32u);
  EXPECT_THAT(g.CheckCall("t", at_limit), IsEmpty());
  // One byte more, and not even JSON: the size is what is reported.
  const std::string over = "{" + std::string(32, ' ');
  EXPECT_THAT(Reasons(g.CheckCall("t", over)),
              ElementsAre(": arguments are 33 bytes, more than the limit of 32"));
}

TEST(ToolGuardTest, InvalidUtf8InAStringValueIsRefused) {
  ToolGuard g = One(Arg("s", ValueType::kString));
  auto v = g.CheckCall("t", "{\"s\": \"caf\xc3\"}");
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_THAT(v[0].reason, HasSubstr("not a JSON text"));
  EXPECT_THAT(g.CheckCall("t", "{\"s\": \"\xed\xa0\x80\"}"), SizeIs(1));  // encoded surrogate
  EXPECT_THAT(g.CheckCall("t", R"({"s": "\ud800"})"), SizeIs(1));         // lone surrogate escape
}

TEST(ToolGuardTest, InvalidUtf8InAKeyIsRefused) {
  ToolPolicy p = Policy({Rule("t", {})});
  p.allow[0].allow_unlisted_arguments = true;
  ToolGuard g = Make(p);
  EXPECT_THAT(g.CheckCall("t", "{\"\xff\": 1}"), SizeIs(1));
}

TEST(ToolGuardTest, DuplicateKeyIsRefused) {
  // A tool that keeps the last value would see 30 where the guard might check 1.
  ArgumentConstraint days = Arg("days", ValueType::kInteger);
  days.maximum = 14;
  ToolGuard g = One(days);
  auto v = g.CheckCall("t", R"({"days": 1, "days": 30})");
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_THAT(v[0].reason, HasSubstr("duplicate key \"days\""));
}

// --- types ------------------------------------------------------------------------------------

struct TypeCase {
  ValueType type;
  const char* value;
  bool ok;
};

TEST(ToolGuardTest, TypeChecks) {
  const TypeCase cases[] = {
      {ValueType::kString, R"("x")", true},
      {ValueType::kString, "1", false},
      {ValueType::kString, "null", false},
      {ValueType::kInteger, "3", true},
      {ValueType::kInteger, "-3", true},
      {ValueType::kInteger, "3.0", true},
      {ValueType::kInteger, "3e2", true},
      {ValueType::kInteger, "3.5", false},
      {ValueType::kInteger, R"("3")", false},
      {ValueType::kInteger, "1e400", false},
      {ValueType::kInteger, "18446744073709551615", true},
      {ValueType::kNumber, "3.5", true},
      {ValueType::kNumber, "3", true},
      {ValueType::kNumber, R"("3.5")", false},
      {ValueType::kNumber, "true", false},
      {ValueType::kBoolean, "false", true},
      {ValueType::kBoolean, "0", false},
      {ValueType::kBoolean, R"("true")", false},
      {ValueType::kObject, "{}", true},
      {ValueType::kObject, "[]", false},
      {ValueType::kArray, "[]", true},
      {ValueType::kArray, "{}", false},
      {ValueType::kNull, "null", true},
      {ValueType::kNull, R"("")", false},
      {ValueType::kAny, "null", true},
      {ValueType::kAny, "[1, {}]", true},
  };
  for (const TypeCase& c : cases) {
    ToolGuard g = One(Arg("v", c.type));
    auto v = g.CheckCall("t", std::string(R"({"v": )") + c.value + "}");
    EXPECT_EQ(v.empty(), c.ok) << c.value << " as " << static_cast<int>(c.type);
  }
}

TEST(ToolGuardTest, TypeMismatchSaysWhatWasExpectedAndFound) {
  ToolGuard g = One(Arg("days", ValueType::kInteger));
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"days": "30"})")),
              ElementsAre("days: must be an integer, got \"30\""));
}

TEST(ToolGuardTest, TypeMismatchIsNotRestatedByTheOtherChecks) {
  ArgumentConstraint c = Arg("days", ValueType::kInteger);
  c.maximum = 14;
  c.enum_values = {json::value(1), json::value(7)};
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"days": "30"})"), SizeIs(1));
}

// --- enum -------------------------------------------------------------------------------------

TEST(ToolGuardTest, EnumAcceptsListedStringsOnly) {
  ArgumentConstraint c = Arg("unit", ValueType::kString);
  c.enum_values = {json::value("celsius"), json::value("fahrenheit")};
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"unit": "celsius"})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"unit": "kelvin"})")),
              ElementsAre("unit: must be one of \"celsius\", \"fahrenheit\"; got \"kelvin\""));
  // Exact comparison: no case folding, no trimming.
  EXPECT_THAT(g.CheckCall("t", R"({"unit": "Celsius"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"unit": "celsius "})"), SizeIs(1));
}

TEST(ToolGuardTest, EnumComparesNumbersByValue) {
  // Decision: JSON has one number type, so 1 and 1.0 are the same enum value.
  ArgumentConstraint c = Arg("n", ValueType::kNumber);
  c.enum_values = {json::value(1), json::value(2.5)};
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"n": 1.0})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"n": 1})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"n": 25e-1})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"n": 1.0000001})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": "1"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": true})"), SizeIs(1));
}

TEST(ToolGuardTest, EnumNumberComparisonIsExactForLargeIntegers) {
  // As doubles, 2^53 + 1 and 2^53 are equal.
  ArgumentConstraint c = Arg("n");
  c.enum_values = {json::value(int64_t{9007199254740992})};
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"n": 9007199254740992})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"n": 9007199254740993})"), SizeIs(1));
}

TEST(ToolGuardTest, EnumObjectsCompareRegardlessOfKeyOrder) {
  ArgumentConstraint c = Arg("o");
  json::object o;
  o["a"] = 1;
  o["b"] = "x";
  c.enum_values = {json::value(o)};
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"o": {"b": "x", "a": 1}})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"o": {"b": "x", "a": 1, "c": 0}})"), SizeIs(1));
}

// --- lengths ----------------------------------------------------------------------------------

TEST(ToolGuardTest, StringLengthsCountCodePointsNotBytes) {
  ArgumentConstraint c = Arg("s", ValueType::kString);
  c.min_length = 2;
  c.max_length = 3;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"s": "日本語"})"), IsEmpty());         // 9 bytes, 3 points
  EXPECT_THAT(g.CheckCall("t", R"({"s": "😀😀"})"), IsEmpty());             // 8 bytes, 2 points
  EXPECT_THAT(g.CheckCall("t", R"({"s": "\ud83d\ude00x"})"), IsEmpty());  // escaped pair: 2
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"s": "日本語です"})")),
              ElementsAre("s: must have at most 3 characters, got 5"));
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"s": "é"})")),
              ElementsAre("s: must have at least 2 characters, got 1"));
  // A combining accent is a code point of its own.
  EXPECT_THAT(g.CheckCall("t", "{\"s\": \"e\xcc\x81\"}"), IsEmpty());
}

TEST(ToolGuardTest, ArrayLengthsCountElements) {
  ArgumentConstraint c = Arg("a", ValueType::kArray);
  c.max_length = 2;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"a": ["long string", [1, 2, 3]]})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"a": [1, 2, 3]})")),
              ElementsAre("a: must have at most 2 elements, got 3"));
}

TEST(ToolGuardTest, LengthOnAValueWithoutOneIsAViolation) {
  ArgumentConstraint c = Arg("a");  // any type
  c.max_length = 2;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"a": {"x": 1, "y": 2, "z": 3}})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"a": 12345})"), SizeIs(1));
}

// --- numeric range ----------------------------------------------------------------------------

TEST(ToolGuardTest, NumericRangeIsInclusive) {
  ArgumentConstraint c = Arg("days", ValueType::kNumber);
  c.minimum = 1;
  c.maximum = 14;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"days": 1})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"days": 14})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"days": 14.0})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"days": 30})")),
              ElementsAre("days: must be <= 14, got 30"));
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"days": 0.5})")),
              ElementsAre("days: must be >= 1, got 0.5"));
  EXPECT_THAT(g.CheckCall("t", R"({"days": 14.000001})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"days": -5})"), SizeIs(1));
}

TEST(ToolGuardTest, NumericRangeHandlesExtremeNumbers) {
  ArgumentConstraint c = Arg("n", ValueType::kNumber);
  c.minimum = -100;
  c.maximum = 9007199254740992.0;  // 2^53
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"n": 9007199254740992})"), IsEmpty());
  // Exactly one more than 2^53: equal to the bound as a double, greater in fact.
  EXPECT_THAT(g.CheckCall("t", R"({"n": 9007199254740993})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": 18446744073709551615})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": 1e400})"), SizeIs(1));  // parses as infinity
  EXPECT_THAT(g.CheckCall("t", R"({"n": -1e400})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": -9223372036854775808})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": -100})"), IsEmpty());
}

TEST(ToolGuardTest, RangeOnANonNumberIsAViolation) {
  ArgumentConstraint c = Arg("n");  // any type
  c.maximum = 14;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"n": "30"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"n": [30]})"), SizeIs(1));
}

// --- pattern ----------------------------------------------------------------------------------

ToolGuard WithPattern(const char* pattern, ValueType type = ValueType::kString) {
  ArgumentConstraint c = Arg("s", type);
  c.pattern = pattern;
  return One(c);
}

TEST(ToolGuardTest, PatternMustMatchTheWholeString) {
  ToolGuard g = WithPattern("[a-z]+");
  EXPECT_THAT(g.CheckCall("t", R"({"s": "paris"})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"s": "paris; rm"})")),
              ElementsAre("s: must match the pattern \"[a-z]+\", got \"paris; rm\""));
  EXPECT_THAT(g.CheckCall("t", R"({"s": ";paris"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"s": "Paris"})"), SizeIs(1));  // case-sensitive
}

TEST(ToolGuardTest, PatternRefusesATrailingNewline) {
  // PCRE's `$` also matches before a final newline; an anchored pattern must not let one in.
  ToolGuard plain = WithPattern("[a-z]+");
  EXPECT_THAT(plain.CheckCall("t", R"({"s": "paris\n"})"), SizeIs(1));
  ToolGuard anchored = WithPattern("^[a-z]+$");
  EXPECT_THAT(anchored.CheckCall("t", R"({"s": "paris"})"), IsEmpty());
  EXPECT_THAT(anchored.CheckCall("t", R"({"s": "paris\n"})"), SizeIs(1));
}

TEST(ToolGuardTest, PatternRefusesAnEmbeddedNul) {
  ToolGuard g = WithPattern("[a-z]+");
  EXPECT_THAT(g.CheckCall("t", R"({"s": "ls\u0000; rm"})"), SizeIs(1));
}

TEST(ToolGuardTest, PatternAlternativesStayAnchored) {
  ToolGuard g = WithPattern("cat|ls");
  EXPECT_THAT(g.CheckCall("t", R"({"s": "ls"})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": "cat"})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": "cat /etc/passwd"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"s": "rm -rf / ; ls"})"), SizeIs(1));
}

TEST(ToolGuardTest, PatternThatMatchesTheEmptyStringIsSupported) {
  ToolGuard g = WithPattern("[0-9]*");
  EXPECT_THAT(g.CheckCall("t", R"({"s": ""})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": "123"})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": "12a"})"), SizeIs(1));
}

TEST(ToolGuardTest, PatternDotIsOneCodePoint) {
  ToolGuard g = WithPattern("...");
  EXPECT_THAT(g.CheckCall("t", R"({"s": "日本語"})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": "日本"})"), SizeIs(1));
}

TEST(ToolGuardTest, PatternWithAnOpenQuoteIsStillAnchored) {
  // "\Q" quotes to the end of the pattern; it must not quote the wrapper's anchor.
  ToolGuard g = WithPattern("\\Qa.b");
  EXPECT_THAT(g.CheckCall("t", R"({"s": "a.b"})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": "axb"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"s": "a.bc"})"), SizeIs(1));
}

TEST(ToolGuardTest, PatternOnANonStringIsAViolation) {
  ToolGuard g = WithPattern("[0-9]+", ValueType::kAny);
  EXPECT_THAT(g.CheckCall("t", R"({"s": "42"})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"s": 42})"), SizeIs(1));
}

// --- paths ------------------------------------------------------------------------------------

TEST(ToolGuardTest, NestedObjectPath) {
  ArgumentConstraint c = Arg("options.days", ValueType::kInteger, true);
  c.maximum = 14;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"options": {"days": 3}})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"options": {"days": 30}})")),
              ElementsAre("options.days: must be <= 14, got 30"));
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"options": {}})")),
              ElementsAre("options.days: required argument is missing"));
}

TEST(ToolGuardTest, ArrayIndexPath) {
  ToolGuard g = One(Arg("items[1]", ValueType::kString, true));
  EXPECT_THAT(g.CheckCall("t", R"({"items": [1, "x"]})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"items": ["x", 1]})")),
              ElementsAre("items[1]: must be a string, got 1"));
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"items": ["x"]})")),
              ElementsAre("items[1]: required argument is missing (items has 1 elements)"));
}

TEST(ToolGuardTest, EachElementPathChecksEveryElement) {
  ArgumentConstraint c = Arg("items[*].name", ValueType::kString, true);
  c.max_length = 3;
  ToolGuard g = One(c);
  EXPECT_THAT(g.CheckCall("t", R"({"items": [{"name": "a"}, {"name": "b"}]})"), IsEmpty());
  EXPECT_THAT(
      Reasons(g.CheckCall("t", R"({"items": [{"name": "a"}, {"name": "long"}, {}, {"name": 7}]})")),
      ElementsAre("items[2].name: required argument is missing",
                  "items[1].name: must have at most 3 characters, got 4",
                  "items[3].name: must be a string, got 7"));
}

TEST(ToolGuardTest, EachElementOfAnEmptyArrayHoldsVacuously) {
  ToolGuard g = One(Arg("items[*].name", ValueType::kString, true));
  EXPECT_THAT(g.CheckCall("t", R"({"items": []})"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({})"), SizeIs(1));  // but the array itself must be there
}

TEST(ToolGuardTest, NestedEachPathsFanOut) {
  ToolGuard g = One(Arg("m[*][*]", ValueType::kInteger));
  EXPECT_THAT(g.CheckCall("t", R"({"m": [[1, 2], [], [3]]})"), IsEmpty());
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"m": [[1, 2], [3, "x"]]})")),
              ElementsAre("m[1][1]: must be an integer, got \"x\""));
}

TEST(ToolGuardTest, TypeMismatchOnTheWayMeansUnresolved) {
  // Indexing a string does not resolve: skipped when optional, a violation when required.
  ToolGuard optional = One(Arg("options.days", ValueType::kInteger));
  EXPECT_THAT(optional.CheckCall("t", R"({"options": "days=30"})"), IsEmpty());
  ToolGuard required = One(Arg("options.days", ValueType::kInteger, true));
  EXPECT_THAT(Reasons(required.CheckCall("t", R"({"options": "days=30"})")),
              ElementsAre("options.days: required argument is missing (options is a string, "
                          "not an object)"));
  ToolGuard each = One(Arg("items[*]", ValueType::kString, true));
  EXPECT_THAT(Reasons(each.CheckCall("t", R"({"items": {"0": "x"}})")),
              ElementsAre("items[*]: required argument is missing (items is an object, not an "
                          "array)"));
}

TEST(ToolGuardTest, OptionalArgumentMayBeAbsentButNotWrong) {
  ToolGuard g = One(Arg("unit", ValueType::kString));
  EXPECT_THAT(g.CheckCall("t", "{}"), IsEmpty());
  EXPECT_THAT(g.CheckCall("t", R"({"unit": null})"), SizeIs(1));
}

// --- unlisted arguments -----------------------------------------------------------------------

TEST(ToolGuardTest, UnexpectedTopLevelArgumentIsAViolation) {
  ToolGuard g = Make(Policy({Rule("t", {Arg("city"), Arg("options.days")})}));
  EXPECT_THAT(g.CheckCall("t", R"({"city": "x", "options": {"days": 1}})"), IsEmpty());
  auto v = g.CheckCall("t", R"({"city": "x", "cmd": "ls", "City": "y"})");
  EXPECT_THAT(Reasons(v),
              ElementsAre("cmd: unexpected argument 'cmd'", "City: unexpected argument 'City'"));
}

TEST(ToolGuardTest, NestedKeysAreNotCheckedForListing) {
  // Only top-level keys are named by paths' first segments; nested ones are the tool's business
  // (and still searched for deny patterns).
  ToolGuard g = Make(Policy({Rule("t", {Arg("options.days")})}));
  EXPECT_THAT(g.CheckCall("t", R"({"options": {"days": 1, "verbose": true}})"), IsEmpty());
}

TEST(ToolGuardTest, AllowUnlistedArgumentsAcceptsOtherKeys) {
  ToolPolicy p = Policy({Rule("t", {Arg("city", ValueType::kString, true)})});
  p.allow[0].allow_unlisted_arguments = true;
  ToolGuard g = Make(p);
  EXPECT_THAT(g.CheckCall("t", R"({"city": "x", "extra": [1]})"), IsEmpty());
}

TEST(ToolGuardTest, UnexpectedKeyIsQuotedSafely) {
  ToolGuard g = Make(Policy({Rule("t", {})}));
  const std::string long_key(500, 'k');
  auto v = g.CheckCall("t", R"({"a\nb": 1, ")" + long_key + R"(": 2})");
  ASSERT_THAT(v, SizeIs(2));
  EXPECT_EQ(v[0].reason, "unexpected argument 'a\\x0ab'");
  EXPECT_LT(v[1].reason.size(), 120u);
  EXPECT_THAT(v[1].reason, HasSubstr("..."));
}

// --- deny patterns ----------------------------------------------------------------------------

ToolGuard Denying(std::vector<std::string> deny) {
  ToolPolicy p = Policy({Rule("t", {})}, std::move(deny));
  p.allow[0].allow_unlisted_arguments = true;
  return Make(p);
}

TEST(ToolGuardTest, DenyPatternFoundInANestedValue) {
  ToolGuard g = Denying({R"(rm\s+-rf\s+/)"});
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"steps": [{"cmd": "ls"}, {"cmd": "rm -rf /"}]})")),
              ElementsAre("steps[1].cmd: value matches deny pattern \"rm\\s+-rf\\s+/\""));
}

TEST(ToolGuardTest, DenyPatternFoundInAKey) {
  ToolGuard g = Denying({R"(rm\s+-rf\s+/)"});
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"steps": [{"rm -rf /": true}]})")),
              ElementsAre("steps[0].rm -rf /: key matches deny pattern \"rm\\s+-rf\\s+/\""));
}

TEST(ToolGuardTest, DenyPatternsAreCaselessAndSeeDecodedEscapes) {
  ToolGuard g = Denying({R"(rm\s+-rf\s+/)"});
  EXPECT_THAT(g.CheckCall("t", R"({"c": "RM -RF /"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"c": "\u0072m\t-rf /"})"), SizeIs(1));
  EXPECT_THAT(g.CheckCall("t", R"({"c": "echo; rm  -rf   /home"})"), SizeIs(1));
}

TEST(ToolGuardTest, DenyPatternsSeeThroughUnicodeEvasions) {
  ToolGuard g = Denying({R"(rm\s+-rf\s+/)", "/etc/passwd"});
  // Zero-width space inside the command, a Cyrillic "а" in the file name, full-width letters.
  for (const char* text : {R"({"c": "r\u200bm -rf /"})", R"({"f": "/etc/p\u0430sswd"})",
                           R"({"c": "\uff52\uff4d -rf /"})"}) {
    auto v = g.CheckCall("t", text);
    ASSERT_THAT(v, SizeIs(1)) << text;
    EXPECT_THAT(v[0].reason, HasSubstr("once Unicode-normalised")) << text;
  }
}

TEST(ToolGuardTest, DenyPatternsAsSentAreNotMarkedNormalised) {
  ToolGuard g = Denying({"passwd"});
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"f": "caf\u00e9 /etc/passwd"})")),
              ElementsAre("f: value matches deny pattern \"passwd\""));
}

TEST(ToolGuardTest, NonLatinTextWithoutDenyPatternsPasses) {
  ToolGuard g = Denying({R"(rm\s+-rf\s+/)", "passwd"});
  EXPECT_THAT(g.CheckCall("t", R"({"q": "погода в Москве", "j": "東京の天気", "e": "😀"})"),
              IsEmpty());
}

TEST(ToolGuardTest, DenyPatternNearMissesPass) {
  ToolGuard g = Denying({R"(rm\s+-rf\s+/)"});
  EXPECT_THAT(g.CheckCall("t", R"({"c": "rm -r tmp/x", "d": "firm -rfc", "rm": 1})"), IsEmpty());
  // Numbers and booleans are not text.
  EXPECT_THAT(g.CheckCall("t", R"({"n": 12345, "b": false})"), IsEmpty());
}

TEST(ToolGuardTest, DenyPatternsReportEachPatternOnce) {
  ToolGuard g = Denying({"passwd", "shadow"});
  EXPECT_THAT(Reasons(g.CheckCall("t", R"({"f": "/etc/shadow /etc/passwd /etc/passwd"})")),
              ElementsAre("f: value matches deny pattern \"passwd\"",
                          "f: value matches deny pattern \"shadow\""));
}

TEST(ToolGuardTest, DenyPatternsSearchDeepStructuresWithinTheDepthLimit) {
  ToolGuard g = Denying({"evil"});
  std::string text;
  for (int i = 0; i < 31; ++i) text += "{\"a\":";
  text += "\"evil\"" + std::string(31, '}');
  auto v = g.CheckCall("t", text);
  ASSERT_THAT(v, SizeIs(1));
  EXPECT_EQ(v[0].path, "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a");
}

TEST(ToolGuardTest, ManyViolationsAreCappedWithACount) {
  ToolGuard g = Denying({"bad"});
  std::string text = "{\"a\": [";
  for (int i = 0; i < 1000; ++i) text += std::string(i ? "," : "") + "\"bad\"";
  text += "]}";
  auto v = g.CheckCall("t", text);
  ASSERT_THAT(v, SizeIs(65));
  EXPECT_EQ(v[0].path, "a[0]");
  EXPECT_EQ(v[63].path, "a[63]");
  EXPECT_EQ(v[64].reason, "936 more violations not listed (1000 in all)");
}

// --- all violations, in order -----------------------------------------------------------------

TEST(ToolGuardTest, ReportsEveryViolationInADocumentedOrder) {
  // Unexpected arguments, then constraints in policy order, then deny patterns in document
  // order.
  ArgumentConstraint days = Arg("days", ValueType::kInteger, true);
  days.maximum = 14;
  ToolGuard g =
      Make(Policy({Rule("t", {Arg("city", ValueType::kString, true), days})}, {"drop\\s+table"}));
  const char* call = R"({"x": "DROP TABLE users", "days": 30, "cmd": 1})";
  auto v = g.CheckCall("t", call);
  EXPECT_THAT(Reasons(v),
              ElementsAre("x: unexpected argument 'x'", "cmd: unexpected argument 'cmd'",
                          "city: required argument is missing", "days: must be <= 14, got 30",
                          "x: value matches deny pattern \"drop\\s+table\""));
  for (const auto& x : v) EXPECT_EQ(x.tool, "t");
  EXPECT_THAT(Reasons(g.CheckCall("t", call)), Reasons(v));
}

// --- offers -----------------------------------------------------------------------------------

TEST(ToolGuardTest, RefusedOffersKeepInputOrder) {
  ToolGuard g = Make(Policy({Rule("search", {}), Rule("get_weather", {})}));
  EXPECT_THAT(g.RefusedOffers({"exec", "search", "shell", "get_weather", "exec"}),
              ElementsAre("exec", "shell", "exec"));
  EXPECT_THAT(g.RefusedOffers({"search"}), IsEmpty());
  EXPECT_THAT(g.RefusedOffers({}), IsEmpty());
}

TEST(ToolGuardTest, EmptyAllowlistRefusesEverything) {
  ToolGuard g = Make(Policy({}));
  EXPECT_THAT(g.RefusedOffers({"a", "b"}), ElementsAre("a", "b"));
  EXPECT_THAT(g.CheckCall("a", "{}"), SizeIs(1));
}

// --- Create -----------------------------------------------------------------------------------

Status CreateError(const ToolPolicy& p) {
  auto g = ToolGuard::Create(p, "free");
  return g.has_value() ? Status::Ok() : g.error();
}

TEST(ToolGuardTest, PatternHyperscanRejectsIsAnErrorNamingToolAndPath) {
  ArgumentConstraint c = Arg("q.text", ValueType::kString);
  c.pattern = "a(?=b)";
  Status s = CreateError(Policy({Rule("search", {c})}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tool \"search\""));
  EXPECT_THAT(s.message(), HasSubstr("argument \"q.text\""));
  EXPECT_THAT(s.message(), HasSubstr("\"a(?=b)\""));
  EXPECT_THAT(s.message(), HasSubstr("not supported"));  // Hyperscan's own words
}

TEST(ToolGuardTest, PatternThatOnlyCompilesInsideTheAnchorsIsRefused) {
  // "a)|(b" would become "^(?:a)|(b\E)\z": balanced, but no longer anchored as a whole.
  ArgumentConstraint c = Arg("s", ValueType::kString);
  c.pattern = "a)|(b";
  EXPECT_EQ(CreateError(Policy({Rule("t", {c})})).code(), StatusCode::kInvalidArgument);
}

TEST(ToolGuardTest, BadDenyPatternIsAnErrorNamingIt) {
  Status s = CreateError(Policy({Rule("t", {})}, {"ok", "(unclosed"}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("deny_patterns"));
  EXPECT_THAT(s.message(), HasSubstr("pattern 1 (\"(unclosed\")"));
}

TEST(ToolGuardTest, DenyPatternMatchingEverythingIsRefused) {
  EXPECT_EQ(CreateError(Policy({Rule("t", {})}, {".*"})).code(), StatusCode::kInvalidArgument);
}

TEST(ToolGuardTest, MalformedPathsAreRefused) {
  for (const char* path : {"", "a..b", ".a", "a.", "a[", "a[x]", "a[-1]", "[0]", "a]", "a[1]b",
                           "a[99999999999999999999999]"}) {
    Status s = CreateError(Policy({Rule("t", {Arg(path)})}));
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(s.message(), HasSubstr("bad path")) << path;
  }
}

TEST(ToolGuardTest, ContradictoryConstraintsAreRefused) {
  ArgumentConstraint pattern_on_int = Arg("n", ValueType::kInteger);
  pattern_on_int.pattern = "[0-9]+";
  ArgumentConstraint range_on_string = Arg("s", ValueType::kString);
  range_on_string.maximum = 3;
  ArgumentConstraint length_on_bool = Arg("b", ValueType::kBoolean);
  length_on_bool.max_length = 3;
  ArgumentConstraint inverted = Arg("n", ValueType::kNumber);
  inverted.minimum = 10;
  inverted.maximum = 1;
  ArgumentConstraint nan_bound = Arg("n", ValueType::kNumber);
  nan_bound.maximum = std::nan("");
  ArgumentConstraint inverted_length = Arg("s", ValueType::kString);
  inverted_length.min_length = 10;
  inverted_length.max_length = 1;
  for (const auto& c :
       {pattern_on_int, range_on_string, length_on_bool, inverted, nan_bound, inverted_length}) {
    EXPECT_EQ(CreateError(Policy({Rule("t", {c})})).code(), StatusCode::kInvalidArgument) << c.path;
  }
}

TEST(ToolGuardTest, ToolListedTwiceIsRefused) {
  Status s = CreateError(Policy({Rule("t", {}), Rule("t", {})}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("listed twice"));
}

TEST(ToolGuardTest, KeepsThePolicy) {
  ToolPolicy p = Policy({Rule("t", {Arg("a")})}, {"x"});
  p.max_argument_depth = 5;
  ToolGuard g = Make(p);
  EXPECT_EQ(g.policy().allow.size(), 1u);
  EXPECT_EQ(g.policy().deny_patterns, std::vector<std::string>{"x"});
  EXPECT_EQ(g.policy().max_argument_depth, 5u);
  ToolGuard moved = std::move(g);
  EXPECT_THAT(moved.CheckCall("t", R"({"a": "x"})"), SizeIs(1));
}

TEST(ToolGuardTest, ConcurrentChecksAgree) {
  ArgumentConstraint c = Arg("s", ValueType::kString);
  c.pattern = "[a-z]+";
  ToolGuard g = Make(Policy({Rule("t", {c})}, {"evil"}));
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&g, &bad, t] {
      for (int i = 0; i < 200; ++i) {
        if (!g.CheckCall("t", R"({"s": "fine"})").empty()) ++bad[t];
        if (g.CheckCall("t", R"({"s": "evil!"})").size() != 2) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(bad, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace warden::guard
