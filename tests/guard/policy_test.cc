#include "guard/policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace warden::guard {
namespace {

const std::string kPolicies = std::string(WARDEN_TESTDATA_DIR) + "/guard/policies/";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(kPolicies + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The problems of a policy that must be refused, one per line; empty (and a test failure) when
// it was accepted.
std::vector<std::string> Problems(std::string_view yaml) {
  Result<Policy> p = ParsePolicy(yaml, "p.yaml");
  EXPECT_FALSE(p.has_value()) << "accepted:\n" << yaml;
  if (p.has_value()) return {};
  EXPECT_EQ(p.error().code(), StatusCode::kDataLoss);
  return SplitLines(p.error().message());
}

// The one problem of a policy that must be refused for one reason.
std::string OnlyProblem(std::string_view yaml) {
  std::vector<std::string> problems = Problems(yaml);
  EXPECT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
  return problems.empty() ? "" : problems[0];
}

Policy Accepted(std::string_view yaml) {
  Result<Policy> p = ParsePolicy(yaml, "p.yaml");
  EXPECT_TRUE(p.has_value()) << p.error().message();
  return p.has_value() ? *p : Policy{};
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ---------------------------------------------------------------------------------------------
// Corruption table: each tests/testdata/guard/policies/bad-<mutation>.yaml lists, in "# expect:"
// comment lines, the start of every message it must produce ("line:col: path: problem"), in
// document order. Nothing else may be reported.

class BadPolicyFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(BadPolicyFixture, ReportsExactlyTheExpectedProblemsWithLocations) {
  const std::string name = std::string("bad-") + GetParam() + ".yaml";
  const std::string text = ReadFixture(name);
  ASSERT_FALSE(text.empty()) << name;
  std::vector<std::string> expected;
  for (const std::string& line : SplitLines(text)) {
    if (StartsWith(line, "# expect: ")) expected.push_back(line.substr(10));
  }
  ASSERT_FALSE(expected.empty()) << name << " has no # expect: line";

  Result<Policy> p = ParsePolicy(text, name);
  ASSERT_FALSE(p.has_value()) << name << " was accepted";
  EXPECT_EQ(p.error().code(), StatusCode::kDataLoss);
  const std::vector<std::string> got = SplitLines(p.error().message());
  ASSERT_EQ(got.size(), expected.size()) << p.error().message();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(StartsWith(got[i], name + ":" + expected[i]))
        << "got:      " << got[i] << "\nexpected: " << name << ":" << expected[i] << "...";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Mutations, BadPolicyFixture,
    ::testing::Values("unknown-keys", "wrong-types", "out-of-range", "duplicate-tier",
                      "duplicate-key-id", "duplicate-scanner-name", "tier-reference",
                      "missing-default-tier", "implicit-tier-reference", "key-hash", "action",
                      "roles", "empty-roles", "scanner-type", "constraints", "syntax", "anchor",
                      "billion-laughs", "unclosed-flow", "duplicate-mapping-key", "tags",
                      "two-documents", "version", "missing-version", "not-a-mapping",
                      "invalid-utf8", "nul-byte"),
    [](const ::testing::TestParamInfo<const char*>& info) {
      std::string n = info.param;
      for (char& c : n) {
        if (c == '-') c = '_';
      }
      return n;
    });

// ---------------------------------------------------------------------------------------------
// A complete policy.

class FullPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Policy> p = ParsePolicy(ReadFixture("full.yaml"), "full.yaml");
    ASSERT_TRUE(p.has_value()) << p.error().message();
    policy_ = *p;
  }
  Policy policy_;
};

TEST_F(FullPolicy, TopLevelFields) {
  EXPECT_EQ(policy_.version, 1u);
  EXPECT_EQ(policy_.name, "full");
  EXPECT_EQ(policy_.description, "Every field, set to a value other than its default.");
  EXPECT_EQ(policy_.default_tier, "free");
  EXPECT_EQ(policy_.source, "full.yaml");
}

TEST_F(FullPolicy, TiersInFileOrderWithTheirLocations) {
  ASSERT_EQ(policy_.tiers.size(), 2u);
  EXPECT_EQ(policy_.tiers[0].name, "free");
  EXPECT_EQ(policy_.tiers[0].where.line, 7u);
  EXPECT_EQ(policy_.tiers[0].where.column, 3u);
  EXPECT_EQ(policy_.tiers[0].tools.where.line, 8u);
  EXPECT_EQ(policy_.tiers[0].tools.where.column, 5u);
  EXPECT_EQ(policy_.tiers[1].name, "pro");
  EXPECT_EQ(policy_.tiers[1].where.line, 33u);
}

TEST_F(FullPolicy, ToolRulesAndConstraints) {
  const ToolPolicy& tools = policy_.tiers[0].tools;
  ASSERT_EQ(tools.allow.size(), 2u);
  const ToolRule& weather = tools.allow[0];
  EXPECT_EQ(weather.name, "get_weather");
  EXPECT_FALSE(weather.allow_unlisted_arguments);
  EXPECT_EQ(weather.where.line, 10u);
  EXPECT_EQ(weather.where.column, 11u);
  ASSERT_EQ(weather.arguments.size(), 3u);

  const ArgumentConstraint& city = weather.arguments[0];
  EXPECT_EQ(city.path, "city");
  EXPECT_EQ(city.type, ValueType::kString);
  EXPECT_TRUE(city.required);
  EXPECT_EQ(city.min_length, 1u);
  EXPECT_EQ(city.max_length, 64u);
  EXPECT_EQ(city.pattern, "[A-Za-z ]+");
  EXPECT_FALSE(city.minimum.has_value());
  EXPECT_TRUE(city.enum_values.empty());
  EXPECT_EQ(city.where.line, 12u);
  EXPECT_EQ(city.where.column, 13u);

  const ArgumentConstraint& days = weather.arguments[1];
  EXPECT_EQ(days.type, ValueType::kInteger);
  EXPECT_FALSE(days.required);
  EXPECT_EQ(days.minimum, 1.0);
  EXPECT_EQ(days.maximum, 14.0);
  EXPECT_FALSE(days.min_length.has_value());

  const ArgumentConstraint& units = weather.arguments[2];
  ASSERT_EQ(units.enum_values.size(), 2u);
  EXPECT_EQ(units.enum_values[0], json::value("metric"));
  EXPECT_EQ(units.enum_values[1], json::value("imperial"));

  const ToolRule& search = tools.allow[1];
  EXPECT_EQ(search.name, "search");
  EXPECT_TRUE(search.allow_unlisted_arguments);
  ASSERT_EQ(search.arguments.size(), 1u);
  EXPECT_EQ(search.arguments[0].path, "filters[*].field");
  EXPECT_EQ(search.arguments[0].enum_values.size(), 2u);

  // YAML escapes are resolved in double quotes only.
  EXPECT_EQ(tools.deny_patterns, (std::vector<std::string>{"rm\\s+-rf", "DROP TABLE"}));
  EXPECT_EQ(tools.offered, OfferedToolAction::kBlock);
  EXPECT_EQ(tools.max_argument_bytes, 4096u);
  EXPECT_EQ(tools.max_argument_depth, 8u);
}

TEST_F(FullPolicy, RateLimitsAndOutputTokens) {
  const Tier& free = policy_.tiers[0];
  EXPECT_EQ(free.rate_limit.requests_per_minute, 30.0);
  EXPECT_EQ(free.rate_limit.tokens_per_minute, 20000u);
  EXPECT_EQ(free.rate_limit.burst, 5u);
  EXPECT_EQ(free.rate_limit.max_concurrent, 2u);
  EXPECT_EQ(free.max_output_tokens, 512u);
  EXPECT_EQ(policy_.tiers[1].rate_limit.requests_per_minute, 0.5);
  // Fields left out keep the struct's defaults.
  EXPECT_EQ(policy_.tiers[1].rate_limit.burst, RateLimit{}.burst);
  EXPECT_TRUE(policy_.tiers[1].tools.allow.empty());
}

TEST_F(FullPolicy, Keys) {
  ASSERT_EQ(policy_.keys.size(), 1u);
  EXPECT_EQ(policy_.keys[0].id, "alice-laptop");
  EXPECT_EQ(policy_.keys[0].tier, "pro");
  EXPECT_EQ(policy_.keys[0].hash,
            "sha256:00112233445566778899aabbccddeeff:"
            "0000000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(policy_.keys[0].where.line, 36u);
  EXPECT_EQ(policy_.keys[0].where.column, 5u);
}

TEST_F(FullPolicy, ScannerChains) {
  EXPECT_EQ(policy_.input.roles, (std::vector<std::string>{"system", "user"}));
  ASSERT_EQ(policy_.input.scanners.size(), 2u);
  const ScannerEntry& unicode = policy_.input.scanners[0];
  EXPECT_EQ(unicode.type, "unicode");
  EXPECT_EQ(unicode.name, "unicode");  // defaults to the type
  EXPECT_EQ(unicode.action, ConfiguredAction::kBlock);
  EXPECT_EQ(unicode.on_error, OnError::kBlock);
  EXPECT_TRUE(unicode.options.empty());
  EXPECT_EQ(unicode.path, "input.scanners[0]");
  EXPECT_EQ(unicode.where.line, 42u);
  EXPECT_EQ(unicode.where.column, 7u);

  const ScannerEntry& pii = policy_.input.scanners[1];
  EXPECT_EQ(pii.name, "pii-in");
  EXPECT_EQ(pii.action, ConfiguredAction::kRedact);
  EXPECT_EQ(pii.on_error, OnError::kAllow);
  EXPECT_EQ(pii.path, "input.scanners[1]");

  EXPECT_EQ(policy_.output.roles, (std::vector<std::string>{"output"}));
  ASSERT_EQ(policy_.output.scanners.size(), 1u);
  EXPECT_EQ(policy_.output.scanners[0].type, "canary");
  EXPECT_EQ(policy_.output.scanners[0].action, ConfiguredAction::kFlag);
  EXPECT_EQ(policy_.output.scanners[0].path, "output.scanners[0]");
}

TEST_F(FullPolicy, ScannerOptionsAreTypedJsonWithTheirKeyLocations) {
  const ScannerEntry& pii = policy_.input.scanners[1];
  const json::object expected = {
      {"kinds", json::array{"email", "phone"}},
      {"threshold", 0.75},
      {"max_hits", 12},
      {"label", "12"},
      {"strict", true},
      {"extra", nullptr},
      {"nested", json::object{{"a", json::array{1, "2", false}}}},
  };
  EXPECT_EQ(pii.options, expected);
  EXPECT_TRUE(pii.options.at("max_hits").is_int64());
  EXPECT_TRUE(pii.options.at("threshold").is_double());
  ASSERT_EQ(pii.option_where.size(), expected.size());
  EXPECT_EQ(pii.option_where.at("kinds").line, 47u);
  EXPECT_EQ(pii.option_where.at("kinds").column, 7u);
  EXPECT_EQ(pii.option_where.at("nested").line, 53u);
}

TEST_F(FullPolicy, BreakerAuditAndLimits) {
  EXPECT_EQ(policy_.circuit_breaker.failure_threshold, 3u);
  EXPECT_EQ(policy_.circuit_breaker.open_seconds, 12.5);
  EXPECT_EQ(policy_.circuit_breaker.half_open_requests, 2u);
  EXPECT_FALSE(policy_.audit.enabled);
  EXPECT_EQ(policy_.audit.path, "audit/warden.db");
  EXPECT_EQ(policy_.audit.checkpoint_every, 50u);
  EXPECT_EQ(policy_.audit.checkpoint_seconds, 5.0);
  EXPECT_EQ(policy_.audit.ledger, "ledger.db");
  EXPECT_TRUE(policy_.audit.record_text);
  EXPECT_EQ(policy_.limits.max_input_bytes, 65536u);
  EXPECT_EQ(policy_.limits.max_output_bytes, 32768u);
  EXPECT_EQ(policy_.limits.max_messages, 64u);
  EXPECT_EQ(policy_.limits.max_decode_depth, 2u);
  EXPECT_EQ(policy_.limits.max_decoded_bytes, 4096u);
}

// ---------------------------------------------------------------------------------------------
// Defaults.

TEST(PolicyDefaults, VersionAloneGivesTheStructDefaults) {
  const Policy p = Accepted(ReadFixture("minimal.yaml"));
  const Policy d;
  EXPECT_EQ(p.name, d.name);
  EXPECT_TRUE(p.keys.empty());
  EXPECT_TRUE(p.input.scanners.empty());
  EXPECT_TRUE(p.output.scanners.empty());
  EXPECT_EQ(p.circuit_breaker.failure_threshold, d.circuit_breaker.failure_threshold);
  EXPECT_EQ(p.circuit_breaker.open_seconds, d.circuit_breaker.open_seconds);
  EXPECT_EQ(p.audit.enabled, d.audit.enabled);
  EXPECT_EQ(p.audit.checkpoint_every, d.audit.checkpoint_every);
  EXPECT_EQ(p.limits.max_input_bytes, d.limits.max_input_bytes);
  EXPECT_EQ(p.limits.max_decode_depth, d.limits.max_decode_depth);
}

TEST(PolicyDefaults, NoTiersMeansOneImplicitDefaultTierWithNoTools) {
  const Policy p = Accepted("version: 1\n");
  ASSERT_EQ(p.tiers.size(), 1u);
  EXPECT_EQ(p.tiers[0].name, "default");
  EXPECT_TRUE(p.tiers[0].tools.allow.empty());
  EXPECT_EQ(p.default_tier, "default");
}

TEST(PolicyDefaults, KeysAndDefaultTierMayNameTheImplicitTier) {
  const Policy p = Accepted(
      "version: 1\ndefault_tier: default\nkeys:\n  - {id: a, tier: default, hash: "
      "\"sha256:00000000000000000000000000000000:"
      "1111111111111111111111111111111111111111111111111111111111111111\"}\n");
  EXPECT_EQ(p.keys[0].tier, "default");
}

TEST(PolicyDefaults, InputRolesAreUserAssistantToolAndOutputIsTheAnswer) {
  const Policy p = Accepted("version: 1\ninput: {scanners: [{type: pii}]}\n");
  EXPECT_EQ(p.input.roles, (std::vector<std::string>{"user", "assistant", "tool"}));
  EXPECT_EQ(p.output.roles, (std::vector<std::string>{"output"}));
}

TEST(PolicyDefaults, EmptySectionsKeepDefaults) {
  const Policy p = Accepted("version: 1\naudit:\nlimits: {}\ninput:\n");
  EXPECT_EQ(p.audit.enabled, AuditSettings{}.enabled);
  EXPECT_EQ(p.input.roles.size(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Scalars: what is typed how.

TEST(PolicyScalars, PlainScalarsInOptionsAreTypedQuotedOnesStayStrings) {
  const Policy p = Accepted(
      "version: 1\ninput:\n  scanners:\n    - type: x\n"
      "      i: -12\n      qi: \"12\"\n      sq: '12'\n      d: 1.5e3\n      t: True\n"
      "      f: FALSE\n      qt: \"true\"\n      n: null\n      tilde: ~\n      empty:\n"
      "      hex: 0x10\n      inf: .inf\n      word: yes\n      block: |\n        12\n");
  const json::object& o = p.input.scanners[0].options;
  EXPECT_EQ(o.at("i"), json::value(-12));
  EXPECT_EQ(o.at("qi"), json::value("12"));
  EXPECT_EQ(o.at("sq"), json::value("12"));
  EXPECT_EQ(o.at("d"), json::value(1500.0));
  EXPECT_EQ(o.at("t"), json::value(true));
  EXPECT_EQ(o.at("f"), json::value(false));
  EXPECT_EQ(o.at("qt"), json::value("true"));
  EXPECT_TRUE(o.at("n").is_null());
  EXPECT_TRUE(o.at("tilde").is_null());
  EXPECT_TRUE(o.at("empty").is_null());
  // Only decimal numbers, booleans and null are typed (docs/policy.md).
  EXPECT_EQ(o.at("hex"), json::value("0x10"));
  EXPECT_EQ(o.at("inf"), json::value(".inf"));
  EXPECT_EQ(o.at("word"), json::value("yes"));
  EXPECT_EQ(o.at("block"), json::value("12\n"));
}

TEST(PolicyScalars, IntegerOptionBeyondInt64IsRefused) {
  EXPECT_EQ(
      OnlyProblem("version: 1\ninput:\n  scanners:\n    - {type: x, big: 9223372036854775808}\n"),
      "p.yaml:4:22: input.scanners[0].big: integer out of range (at most 19 digits, |n| < "
      "2^63); got \"9223372036854775808\"");
}

TEST(PolicyScalars, LargestInt64OptionIsKept) {
  const Policy p =
      Accepted("version: 1\ninput:\n  scanners:\n    - {type: x, big: 9223372036854775807}\n");
  EXPECT_EQ(p.input.scanners[0].options.at("big"), json::value(INT64_MAX));
}

TEST(PolicyScalars, QuotedBooleanIsNotABoolean) {
  EXPECT_EQ(OnlyProblem("version: 1\naudit: {record_text: \"true\"}\n"),
            "p.yaml:2:22: audit.record_text: expected true or false; got the quoted string "
            "\"true\"");
}

TEST(PolicyScalars, InfinityIsNotAFiniteRate) {
  EXPECT_EQ(OnlyProblem("version: 1\ntiers: {t: {rate_limit: {requests_per_minute: .inf}}}\n"
                        "default_tier: t\n"),
            "p.yaml:2:47: tiers.t.rate_limit.requests_per_minute: must be a finite number; got "
            "\".inf\"");
}

TEST(PolicyScalars, HugeExponentIsOutOfRangeNotInfinite) {
  EXPECT_EQ(OnlyProblem("version: 1\ncircuit_breaker: {open_seconds: 1e999}\n"),
            "p.yaml:2:33: circuit_breaker.open_seconds: must be a finite number; got \"1e999\"");
}

TEST(PolicyScalars, FractionalRateAndQuotedChoiceAreAccepted) {
  const Policy p = Accepted(
      "version: 1\ntiers: {t: {rate_limit: {requests_per_minute: .25}}}\ndefault_tier: t\n"
      "output: {scanners: [{type: canary, action: \"redact\"}]}\n");
  EXPECT_EQ(p.tiers[0].rate_limit.requests_per_minute, 0.25);
  EXPECT_EQ(p.output.scanners[0].action, ConfiguredAction::kRedact);
}

// ---------------------------------------------------------------------------------------------
// Individual rules (the fixtures cover each once; these pin edges and near misses).

TEST(PolicyRules, ValidArgumentPathsAreAccepted) {
  const Policy p = Accepted(
      "version: 1\ntiers:\n  t:\n    tools:\n      allow:\n        - name: f\n"
      "          arguments:\n            a.b: {}\n            \"items[*].name\": {}\n"
      "            \"m[0][12]\": {}\n            \"with space-and_dash\": {}\ndefault_tier: t\n");
  const auto& args = p.tiers[0].tools.allow[0].arguments;
  ASSERT_EQ(args.size(), 4u);
  EXPECT_EQ(args[1].path, "items[*].name");
  EXPECT_EQ(args[2].path, "m[0][12]");
}

TEST(PolicyRules, EnumValuesMatchingTheirTypeAreAccepted) {
  const Policy p = Accepted(
      "version: 1\ntiers:\n  t:\n    tools:\n      allow:\n        - name: f\n"
      "          arguments:\n            n: {type: number, enum: [1, 2.5]}\n"
      "            s: {type: string, enum: [\"1\", x]}\n            b: {type: boolean, enum: "
      "[true]}\n            a: {enum: [1, x, null]}\ndefault_tier: t\n");
  const auto& args = p.tiers[0].tools.allow[0].arguments;
  EXPECT_EQ(args[0].enum_values[1], json::value(2.5));
  EXPECT_EQ(args[1].enum_values[0], json::value("1"));
  EXPECT_EQ(args[1].enum_values[1], json::value("x"));
  EXPECT_EQ(args[3].enum_values.size(), 3u);
}

TEST(PolicyRules, EqualMinimumAndMaximumAreAccepted) {
  const Policy p = Accepted(
      "version: 1\ntiers: {t: {tools: {allow: [{name: f, arguments: {x: {minimum: 3, maximum: "
      "3, min_length: 2, max_length: 2}}}]}}}\ndefault_tier: t\n");
  EXPECT_EQ(p.tiers[0].tools.allow[0].arguments[0].minimum, 3.0);
}

TEST(PolicyRules, SameScannerNameInInputAndOutputIsAccepted) {
  const Policy p = Accepted(
      "version: 1\ninput: {scanners: [{type: pii}, {type: pii, name: pii2}]}\n"
      "output: {scanners: [{type: pii}]}\n");
  EXPECT_EQ(p.input.scanners[1].name, "pii2");
  EXPECT_EQ(p.output.scanners[0].name, "pii");
}

TEST(PolicyRules, EmptyTiersMappingIsRefused) {
  EXPECT_EQ(OnlyProblem("version: 1\ntiers: {}\n"),
            "p.yaml:2:8: tiers: lists no tier; name at least one, or leave tiers out for the "
            "implicit \"default\" tier");
}

TEST(PolicyRules, ColumnsCountBytesLikeTheYamlReader) {
  // "\xc3\xa9" is one character, two bytes: the control character is byte 12 of its line.
  EXPECT_EQ(OnlyProblem("version: 1\nname: \"\xc3\xa9\xc3\xa9\x01\"\n"),
            "p.yaml:2:12: control character 0x01 is not allowed in a policy");
  EXPECT_EQ(OnlyProblem("version: 1\na: \xc3\xa9\xc3\xa9: b\n"),
            "p.yaml:2:8: YAML syntax error: illegal map value");
}

TEST(PolicyRules, KeysThatAreNotIdentifiersAreQuotedInPaths) {
  EXPECT_TRUE(StartsWith(OnlyProblem("version: 1\naudit: {\"a b.c\": 1}\n"),
                         "p.yaml:2:9: audit.\"a b.c\": unknown key"));
}

TEST(PolicyRules, NonStringMappingKeyIsRefused) {
  EXPECT_EQ(OnlyProblem("version: 1\n? [a]\n: 1\n"), "p.yaml:2:3: a mapping key must be a string");
}

TEST(PolicyRules, UppercaseHexHashIsAcceptedAndDuplicatesCompareCaselessly) {
  const std::string h =
      "00000000000000000000000000000000:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaa";
  std::string upper = h;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Accepted("version: 1\nkeys: [{id: a, tier: default, hash: \"sha256:" + upper + "\"}]\n");
  const std::string both = "version: 1\nkeys:\n  - {id: a, tier: default, hash: \"sha256:" + h +
                           "\"}\n  - {id: b, tier: default, hash: \"sha256:" + upper + "\"}\n";
  EXPECT_TRUE(StartsWith(OnlyProblem(both),
                         "p.yaml:4:34: keys[1].hash: the same hash as the key at line 3"));
}

TEST(PolicyRules, SeveralKindsOfProblemAreAllReportedInDocumentOrder) {
  const std::vector<std::string> got = Problems(
      "version: 1\n"                                  // 1
      "limits: {max_messages: 0}\n"                   // 2
      "tiers:\n"                                      // 3
      "  t: {max_output_tokens: -5, color: red}\n"    // 4
      "default_tier: u\n"                             // 5
      "input:\n"                                      // 6
      "  scanners: [{type: pii, on_error: maybe}]\n"  // 7
      "audit: {enabled: true, enabled: false}\n");    // 8
  ASSERT_EQ(got.size(), 6u) << ::testing::PrintToString(got);
  EXPECT_TRUE(StartsWith(got[0], "p.yaml:2:24: limits.max_messages: must be between 1 and"));
  EXPECT_TRUE(StartsWith(got[1], "p.yaml:4:26: tiers.t.max_output_tokens: must be between 0"));
  EXPECT_TRUE(StartsWith(got[2], "p.yaml:4:30: tiers.t.color: unknown key"));
  EXPECT_TRUE(StartsWith(got[3], "p.yaml:5:15: default_tier: names no tier: \"u\""));
  EXPECT_TRUE(StartsWith(got[4], "p.yaml:7:36: input.scanners[0].on_error: must be one of"));
  EXPECT_TRUE(StartsWith(got[5], "p.yaml:8:24: audit.enabled: duplicate key (first at line 8)"));
}

TEST(PolicyRules, ProblemsBeyondOneHundredAreCountedNotListed) {
  std::string yaml = "version: 1\naudit:\n";
  for (int i = 0; i < 150; ++i) yaml += "  k" + std::to_string(i) + ": 1\n";
  const std::vector<std::string> got = Problems(yaml);
  ASSERT_EQ(got.size(), 101u);
  EXPECT_TRUE(StartsWith(got[0], "p.yaml:3:3: audit.k0: unknown key"));
  EXPECT_EQ(got[100], "p.yaml: ... and 50 more problems (only the first 100 are listed)");
}

TEST(PolicyRules, MessagesQuoteHostileValuesOnOneBoundedLine) {
  const std::string long_value(5000, 'x');
  const std::string got = OnlyProblem("version: 1\noutput: {scanners: [{type: t, action: \"a\\nb" +
                                      long_value + "\"}]}\n");
  EXPECT_EQ(got.find('\n'), std::string::npos);
  EXPECT_NE(got.find("got the quoted string \"a\\x0ab"), std::string::npos) << got;
  EXPECT_LT(got.size(), 300u);
}

TEST(PolicyRules, EmptyDocumentIsMissingItsVersion) {
  EXPECT_EQ(OnlyProblem(""),
            "p.yaml: version: missing: the file is empty; a policy starts with \"version: 1\"");
  EXPECT_EQ(OnlyProblem("# only a comment\n"),
            "p.yaml: version: missing: the file is empty; a policy starts with \"version: 1\"");
}

// ---------------------------------------------------------------------------------------------
// Hostile documents: bounded, located refusals.

TEST(PolicyLimits, SixtyFourLevelsOfNestingAreAccepted) {
  // root mapping, input, scanners, the entry: 4 levels, then 60 sequences.
  const std::string deep = std::string(60, '[') + std::string(60, ']');
  Accepted("version: 1\ninput:\n  scanners:\n    - type: x\n      deep: " + deep + "\n");
}

TEST(PolicyLimits, SixtyFiveLevelsAreRefusedAtTheOpeningBracket) {
  const std::string deep = std::string(61, '[') + std::string(61, ']');
  EXPECT_EQ(
      OnlyProblem("version: 1\ninput:\n  scanners:\n    - type: x\n      deep: " + deep + "\n"),
      "p.yaml:5:73: nesting deeper than 64 levels");
}

TEST(PolicyLimits, VeryDeepNestingIsRefusedWithoutExhaustingTheStack) {
  const std::string deep = "version: 1\nx: " + std::string(200000, '[');
  const std::string got = OnlyProblem(deep);
  // Where exactly depends on how yaml-cpp reads an unclosed "[[" (as a sequence holding a
  // mapping with a sequence key: two levels a bracket); the first 64 brackets are the bound.
  EXPECT_TRUE(StartsWith(got, "p.yaml:2:")) << got;
  EXPECT_TRUE(got.ends_with(": nesting deeper than 64 levels")) << got;
  EXPECT_LT(std::stoi(got.substr(9)), 4 + 64) << got;
}

TEST(PolicyLimits, BillionLaughsIsRefusedAtTheFirstAnchor) {
  // Expanded, this document would hold 9^8 strings; refused before anything is expanded.
  const std::string got = OnlyProblem(ReadFixture("bad-billion-laughs.yaml"));
  EXPECT_TRUE(StartsWith(got, "p.yaml:2:4: YAML anchors (&name) are not allowed")) << got;
}

TEST(PolicyLimits, AliasWithoutAnchorIsRefusedAtTheAlias) {
  EXPECT_TRUE(StartsWith(OnlyProblem("version: 1\nname: *nothing\n"), "p.yaml:2:7: "));
}

TEST(PolicyLimits, FileOfExactlyFourMebibytesIsRead) {
  std::string yaml = "version: 1\ninput:\n  scanners:\n    - type: x\n      words:\n";
  const std::string item = "        - " + std::string(245, 'w') + "\n";
  while (yaml.size() + item.size() <= (4 << 20)) yaml += item;
  yaml.resize(4 << 20, ' ');
  const Policy p = Accepted(yaml);
  EXPECT_GT(p.input.scanners[0].options.at("words").as_array().size(), 16000u);
}

TEST(PolicyLimits, FileOverFourMebibytesIsRefusedBeforeParsing) {
  std::string yaml = "version: 1\n#";
  yaml.resize((4 << 20) + 1, 'x');
  EXPECT_EQ(OnlyProblem(yaml),
            "p.yaml: 4194305 bytes is more than the limit of 4194304 bytes (4 MiB) for a policy");
}

TEST(PolicyLimits, TooManyValuesAreRefused) {
  std::string yaml = "version: 1\nx:\n";
  for (int i = 0; i < 140000; ++i) yaml += "- 0\n";
  // 131072 values: the root, "version", "1", "x", the sequence, then 131067 items.
  EXPECT_EQ(OnlyProblem(yaml), "p.yaml:131070:3: more than 131072 values in one policy");
}

TEST(PolicyLimits, TextFarAheadOfTheLastValueIsRefused) {
  // A flow collection inside another is held whole by yaml-cpp (it could be a mapping key), at
  // about 100 bytes a token: refused after 256 KiB instead of growing to gigabytes.
  std::string yaml = "version: 1\nx: [[";
  for (int i = 0; i < 200000; ++i) yaml += "[],";
  yaml += "]]\n";
  EXPECT_TRUE(StartsWith(OnlyProblem(yaml),
                         "p.yaml:2:4: more than 256 KiB of text after this "
                         "point before the next value"));
}

TEST(PolicyLimits, LongCommentsAndValuesUnderTheReadAheadBoundAreAccepted) {
  const std::string text(200 << 10, 'c');
  const Policy p = Accepted("version: 1\n#" + text + "\nname: \"" + text + "\"\n");
  EXPECT_EQ(p.name, text);
}

// ---------------------------------------------------------------------------------------------
// Loading from a file.

class PolicyFile : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/policy_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PolicyFile, LoadSetsSourceAndBaseDir) {
  const std::string path = Write("ok.yaml", "version: 1\nname: from-file\n");
  Result<Policy> p = LoadPolicy(path);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->name, "from-file");
  EXPECT_EQ(p->source, path);
  EXPECT_EQ(p->base_dir, dir_);
}

TEST_F(PolicyFile, MessagesNameTheFile) {
  const std::string path = Write("bad.yaml", "version: 1\nnmae: x\n");
  Result<Policy> p = LoadPolicy(path);
  ASSERT_FALSE(p.has_value());
  EXPECT_TRUE(StartsWith(p.error().message(), path + ":2:1: nmae: unknown key"))
      << p.error().message();
}

TEST_F(PolicyFile, MissingFileIsNotFound) {
  Result<Policy> p = LoadPolicy(dir_ + "/absent.yaml");
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), StatusCode::kNotFound);
}

TEST_F(PolicyFile, OversizedFileIsDataLossNamingTheLimit) {
  const std::string path = Write("big.yaml", std::string((4 << 20) + 1, '#'));
  Result<Policy> p = LoadPolicy(path);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(StartsWith(p.error().message(), path + ": ")) << p.error().message();
  EXPECT_NE(p.error().message().find("4194304"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

TEST(PolicyHelpers, WhereWithAndWithoutALocation) {
  Policy p;
  p.source = "a/policy.yaml";
  EXPECT_EQ(Where(p, {14, 7}), "a/policy.yaml:14:7: ");
  EXPECT_EQ(Where(p, {}), "a/policy.yaml: ");
}

TEST(PolicyHelpers, FindTierByExactName) {
  const Policy p = Accepted("version: 1\ntiers: {free: {}, pro: {}}\ndefault_tier: free\n");
  ASSERT_NE(FindTier(p, "pro"), nullptr);
  EXPECT_EQ(FindTier(p, "pro")->name, "pro");
  EXPECT_EQ(FindTier(p, "Pro"), nullptr);
  EXPECT_EQ(FindTier(p, ""), nullptr);
}

TEST(PolicyHelpers, ActionAndTypeNames) {
  EXPECT_EQ(ConfiguredActionName(ConfiguredAction::kBlock), "block");
  EXPECT_EQ(ConfiguredActionName(ConfiguredAction::kRedact), "redact");
  EXPECT_EQ(ConfiguredActionName(ConfiguredAction::kFlag), "flag");
  const std::vector<std::pair<ValueType, std::string_view>> types = {
      {ValueType::kAny, "any"},         {ValueType::kString, "string"},
      {ValueType::kInteger, "integer"}, {ValueType::kNumber, "number"},
      {ValueType::kBoolean, "boolean"}, {ValueType::kObject, "object"},
      {ValueType::kArray, "array"},     {ValueType::kNull, "null"}};
  for (const auto& [t, name] : types) EXPECT_EQ(ValueTypeName(t), name);
}

// ---------------------------------------------------------------------------------------------
// API keys.

// Salt 000102...0f; digests from Python's hashlib.sha256(salt + key), not from this code.
constexpr std::string_view kKeyA = "wk_live_5f3a9c1e7b2d4a6f8e0c1b3d5a7f9e2c";
constexpr std::string_view kHashA =
    "sha256:000102030405060708090a0b0c0d0e0f:"
    "6741dfc3b0dc4986f51c2fd70e3c3a5c93dcd7c1fe2af41d59227eeea8571cb9";
constexpr std::string_view kKeyB = "wk_live_other";
constexpr std::string_view kHashB =
    "sha256:000102030405060708090a0b0c0d0e0f:"
    "82c125f88cf1f93442c1cf67604e16e8e41c2265868f1b467ed390ee3345f41a";

Policy TwoKeys() {
  Policy p;
  p.keys.push_back({"a", "free", std::string(kHashA), {}});
  p.keys.push_back({"b", "pro", std::string(kHashB), {}});
  return p;
}

TEST(ApiKeys, MatchFindsTheKeyWhoseKnownAnswerHashMatches) {
  const Policy p = TwoKeys();
  ASSERT_NE(MatchApiKey(p, kKeyA), nullptr);
  EXPECT_EQ(MatchApiKey(p, kKeyA)->id, "a");
  ASSERT_NE(MatchApiKey(p, kKeyB), nullptr);
  EXPECT_EQ(MatchApiKey(p, kKeyB)->id, "b");
}

TEST(ApiKeys, NearMissesDoNotMatch) {
  const Policy p = TwoKeys();
  EXPECT_EQ(MatchApiKey(p, ""), nullptr);
  EXPECT_EQ(MatchApiKey(p, std::string(kKeyA) + "x"), nullptr);
  EXPECT_EQ(MatchApiKey(p, kKeyA.substr(0, kKeyA.size() - 1)), nullptr);
  EXPECT_EQ(MatchApiKey(p, "WK_LIVE_OTHER"), nullptr);
  EXPECT_EQ(MatchApiKey(p, kHashA), nullptr);  // the stored hash is not a key
}

TEST(ApiKeys, UppercaseHexInTheStoredHashMatches) {
  Policy p;
  std::string upper(kHashA);
  for (size_t i = 7; i < upper.size(); ++i) {
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  }
  p.keys.push_back({"a", "free", upper, {}});
  EXPECT_NE(MatchApiKey(p, kKeyA), nullptr);
}

TEST(ApiKeys, MalformedStoredHashesAreSkippedNotMatched) {
  Policy p;
  p.keys.push_back({"bad1", "t", "", {}});
  p.keys.push_back({"bad2", "t", "sha256:zz", {}});
  p.keys.push_back({"bad3", "t", std::string(kHashA).replace(6, 1, "-"), {}});
  p.keys.push_back({"good", "t", std::string(kHashA), {}});
  EXPECT_EQ(MatchApiKey(p, kKeyA)->id, "good");
  EXPECT_EQ(MatchApiKey(p, ""), nullptr);
}

TEST(ApiKeys, HashHasThePolicyFormAndAFreshSaltEachTime) {
  const std::string a = HashApiKey(kKeyA);
  const std::string b = HashApiKey(kKeyA);
  const std::regex form("sha256:[0-9a-f]{32}:[0-9a-f]{64}");
  EXPECT_TRUE(std::regex_match(a, form)) << a;
  EXPECT_NE(a.substr(7, 32), b.substr(7, 32));
}

TEST(ApiKeys, HashedKeyIsAcceptedByThePolicyLoaderAndMatches) {
  const std::string hash = HashApiKey(kKeyB);
  const Policy p = Accepted("version: 1\nkeys: [{id: k, tier: default, hash: \"" + hash + "\"}]\n");
  ASSERT_NE(MatchApiKey(p, kKeyB), nullptr);
  EXPECT_EQ(MatchApiKey(p, kKeyB)->id, "k");
  EXPECT_EQ(MatchApiKey(p, kKeyA), nullptr);
}

}  // namespace
}  // namespace warden::guard
