#include "ledger/entries.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "base/json.h"
#include "common/temp_dir.h"

namespace warden::ledger {
namespace {

namespace bj = boost::json;
using ::testing::HasSubstr;

const std::string kEntriesDir = std::string(WARDEN_TESTDATA_DIR) + "/ledger/entries/";

std::string Fixture(std::string_view type) {
  return testing::ReadAll(kEntriesDir + std::string(type) + ".json");
}
std::string Expected(std::string_view type) {
  return testing::ReadAll(kEntriesDir + std::string(type) + ".canonical");
}

bj::object FixtureObject(std::string_view type) {
  auto v = json::Parse(Fixture(type), "fixture");
  EXPECT_TRUE(v.has_value()) << v.error().ToString();
  return v->as_object();
}

constexpr std::string_view kDigestA =
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr std::string_view kEmptyRoot =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(EntriesTest, TypesAreTheNineDocumentedOnes) {
  std::vector<std::string> types(EntryTypes().begin(), EntryTypes().end());
  EXPECT_THAT(types, ::testing::ElementsAre("model-release", "training-run", "fine-tune", "dataset",
                                            "eval-report", "policy", "approval", "audit-checkpoint",
                                            "key-rotation"));
  EXPECT_TRUE(IsEntryType("dataset"));
  EXPECT_FALSE(IsEntryType("Dataset"));
  EXPECT_FALSE(IsEntryType(""));
}

class EntryExampleTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(EntryExampleTest, CanonicalizesToExpectedBytes) {
  auto e = CanonicalizeEntry(GetParam(), Fixture(GetParam()), "entry.json");
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_EQ(e->type, GetParam());
  EXPECT_EQ(e->canonical_json, Expected(GetParam()));
}

TEST_P(EntryExampleTest, CanonicalizationIsIdempotent) {
  auto once = CanonicalizeEntry(GetParam(), Fixture(GetParam()), "entry.json");
  ASSERT_TRUE(once.has_value()) << once.error().ToString();
  auto twice = CanonicalizeEntry(GetParam(), once->canonical_json, "canonical");
  ASSERT_TRUE(twice.has_value()) << twice.error().ToString();
  EXPECT_EQ(twice->canonical_json, once->canonical_json);
  // The canonical form names its type, so it can be read back without one.
  auto untyped = CanonicalizeEntry("", once->canonical_json, "canonical");
  ASSERT_TRUE(untyped.has_value()) << untyped.error().ToString();
  EXPECT_EQ(untyped->type, GetParam());
  EXPECT_EQ(untyped->canonical_json, once->canonical_json);
}

TEST_P(EntryExampleTest, KeyOrderAndWhitespaceDoNotChangeTheBytes) {
  const bj::object o = FixtureObject(GetParam());
  // Reversed key order, minified.
  bj::object reversed;
  for (auto it = o.end(); it != o.begin();) {
    --it;
    reversed[it->key()] = it->value();
  }
  // Indented with tabs and CRLF line ends.
  std::string spaced = "\r\n\t{\r\n";
  size_t i = 0;
  for (const auto& kv : o) {
    spaced += "\t\t" + bj::serialize(bj::value(kv.key())) + " :\t" + bj::serialize(kv.value());
    spaced += ++i < o.size() ? " ,\r\n" : "\r\n";
  }
  spaced += "}\r\n  ";
  for (const std::string& text : {bj::serialize(reversed), spaced}) {
    auto e = CanonicalizeEntry(GetParam(), text, "variant");
    ASSERT_TRUE(e.has_value()) << e.error().ToString() << "\n" << text;
    EXPECT_EQ(e->canonical_json, Expected(GetParam())) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, EntryExampleTest,
                         ::testing::ValuesIn(EntryTypes().begin(), EntryTypes().end()),
                         [](const auto& info) {
                           std::string name(info.param);
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

// Found by entry_fuzz: Boost.JSON 1.81 parses some long numbers to a double whose written form
// parses back to a neighbouring double; canonicalizing the canonical bytes must not move them.
TEST(EntriesTest, LongNumbersCanonicalizeToAFixedPoint) {
  for (const char* number : {"54444444444444444000000000000000000000310976190619",
                             "5.444444444444439E41", "0.1000000000000000055511151231257827",
                             "123456789012345678901234567890.5", "1e-300"}) {
    SCOPED_TRACE(number);
    const std::string entry =
        std::string(R"({"model_digest": "sha256:)") + std::string(64, 'a') +
        R"(", "report_digest": "sha256:)" + std::string(64, 'b') + R"(", "summary": {"m": )" +
        number + "}}";
    auto once = CanonicalizeEntry("eval-report", entry, "e.json");
    ASSERT_TRUE(once.has_value()) << once.error().ToString();
    auto twice = CanonicalizeEntry("eval-report", once->canonical_json, "canonical");
    ASSERT_TRUE(twice.has_value()) << twice.error().ToString();
    EXPECT_EQ(twice->canonical_json, once->canonical_json);
  }
}

TEST(EntriesTest, EscapesAndNumberSpellingsDoNotChangeTheBytes) {
  // "\u0064" is "d"; 1.2e5 and 120000.0 are 120000.
  const std::string text =
      R"({"format":"jsonl","name":"tinystories-v2","root":"sha256:)"
      R"(\u0064fa2b2b3d3b7fb27e4c0a3d4e8d0d8b5b0c7e6e2d1e9b7c5c1c3a5f0e8d1a7b3",)"
      R"("count":1.2e5,"license":"CC-BY-4.0","source":"s"})";
  const std::string plain = R"({"format":"jsonl","name":"tinystories-v2","root":"sha256:)"
                            R"(dfa2b2b3d3b7fb27e4c0a3d4e8d0d8b5b0c7e6e2d1e9b7c5c1c3a5f0e8d1a7b3",)"
                            R"("count":120000.0,"license":"CC-BY-4.0","source":"s"})";
  auto a = CanonicalizeEntry("dataset", text, "a");
  auto b = CanonicalizeEntry("dataset", plain, "b");
  ASSERT_TRUE(a.has_value()) << a.error().ToString();
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ(a->canonical_json, b->canonical_json);
  EXPECT_THAT(a->canonical_json, HasSubstr(R"("count":120000,)"));
}

TEST(EntriesTest, IntegralMetricValuesAreWrittenAsIntegers) {
  bj::object o = FixtureObject("eval-report");
  o["summary"] = bj::object{{"a", 1.0}, {"b", -0.0}, {"c", 0.5}, {"d", 7}};
  auto e = CanonicalizeEntry("eval-report", bj::serialize(o), "entry.json");
  ASSERT_TRUE(e.has_value()) << e.error().ToString();
  EXPECT_THAT(e->canonical_json, HasSubstr(R"("summary":{"a":1,"b":0,"c":5E-1,"d":7})"));
}

TEST(EntriesTest, TypeMemberSuppliesOrMustMatchTheType) {
  bj::object o = FixtureObject("policy");
  o["type"] = "policy";
  auto same = CanonicalizeEntry("policy", bj::serialize(o), "entry.json");
  ASSERT_TRUE(same.has_value()) << same.error().ToString();
  EXPECT_EQ(same->canonical_json, Expected("policy"));
  auto from_member = CanonicalizeEntry("", bj::serialize(o), "entry.json");
  ASSERT_TRUE(from_member.has_value()) << from_member.error().ToString();
  EXPECT_EQ(from_member->type, "policy");

  auto mismatch = CanonicalizeEntry("dataset", bj::serialize(o), "entry.json");
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(mismatch.error().message(),
              HasSubstr("entry.json: field type: \"policy\" does not match the entry type "
                        "\"dataset\""));

  auto none = CanonicalizeEntry("", Fixture("policy"), "entry.json");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message(), "entry.json: field type: missing, and no entry type was given");
}

TEST(EntriesTest, UnknownTypeArgumentIsAUsageError) {
  auto e = CanonicalizeEntry("model-relase", Fixture("model-release"), "entry.json");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.error().message(), HasSubstr("unknown entry type \"model-relase\""));
  EXPECT_THAT(e.error().message(), HasSubstr("model-release"));
}

// ---- Corruption table: every case is a fixture with one mutation. ----

struct BadCase {
  std::string name;  // the mutation
  std::string type;
  std::function<std::string()> text;
  std::string message;  // expected substring of the DataLoss message
};

std::function<std::string()> Mutate(std::string type, std::function<void(bj::object&)> f) {
  return [type, f] {
    bj::object o = FixtureObject(type);
    f(o);
    return bj::serialize(o);
  };
}
std::function<std::string()> Raw(std::string text) {
  return [text] { return text; };
}
bj::value Str(std::string_view s) { return bj::value(bj::string(s.data(), s.size())); }
auto Set(std::string key, bj::value v) {
  return [key, v](bj::object& o) { o[key] = v; };
}
auto Erase(std::string key) {
  return [key](bj::object& o) { o.erase(key); };
}

std::vector<BadCase> BadCases() {
  const std::string upper =
      "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  const std::string long_label(257, 'x');
  return {
      // Shape of the whole entry.
      {"not_an_object", "dataset", Raw("[1,2,3]"),
       "entry.json: expected a JSON object, found an array"},
      {"not_json", "dataset", Raw("{\"root\":"), "entry.json: line 1, column 9"},
      {"empty_text", "dataset", Raw(""), "entry.json: line 1, column 1"},
      {"trailing_garbage", "policy", [] { return Fixture("policy") + "x"; }, "entry.json: line"},
      {"duplicate_key", "policy",
       Raw(R"({"policy_digest":")" + std::string(kDigestA) + R"(","location":"a","location":"b"})"),
       "duplicate key \"location\""},
      {"oversize", "model-release",
       [] { return Fixture("model-release") + std::string(kMaxEntryBytes, ' '); },
       "larger than the limit of 65536"},
      {"type_member_unknown", "", Raw(R"({"type":"release"})"),
       "entry.json: field type: unknown entry type \"release\""},
      {"type_member_not_string", "", Raw(R"({"type":7})"),
       "entry.json: field type: expected a string, found a number"},
      // model-release
      {"release_missing_name", "model-release", Mutate("model-release", Erase("name")),
       "entry.json: field name: missing (required in a model-release entry)"},
      {"release_missing_bundle_digest", "model-release",
       Mutate("model-release", Erase("bundle_digest")), "field bundle_digest: missing"},
      {"release_unknown_field", "model-release", Mutate("model-release", Set("modle_digest", "x")),
       "entry.json: field modle_digest: unknown field for a model-release entry (known: name,"},
      {"release_unknown_field_odd_name", "model-release", Mutate("model-release", Set("a b\n", 1)),
       "field \"a b\\n\": unknown field"},
      {"release_name_wrong_type", "model-release", Mutate("model-release", Set("name", 5)),
       "field name: expected a string, found a number"},
      {"release_name_empty", "model-release", Mutate("model-release", Set("name", "")),
       "field name: empty string"},
      {"release_name_too_long", "model-release",
       Mutate("model-release", Set("name", Str(long_label))),
       "field name: 257 bytes, more than the limit of 256"},
      {"release_name_newline", "model-release", Mutate("model-release", Set("name", "a\nb")),
       "field name: control character at byte 1"},
      {"release_digest_no_prefix", "model-release",
       Mutate("model-release", Set("model_digest", Str(kDigestA.substr(7)))),
       "field model_digest: expected a digest \"sha256:<64 lower-case hex digits>\""},
      {"release_digest_other_algorithm", "model-release",
       Mutate("model-release",
              Set("model_digest", Str("sha512:" + std::string(kDigestA.substr(7))))),
       "missing the \"sha256:\" prefix"},
      {"release_digest_short", "model-release",
       Mutate("model-release", Set("model_digest", Str(kDigestA.substr(0, 70)))),
       "field model_digest: expected 64 hex digits after \"sha256:\", found 63"},
      {"release_digest_long", "model-release",
       Mutate("model-release", Set("bundle_digest", Str(std::string(kDigestA) + "a"))),
       "field bundle_digest: expected 64 hex digits after \"sha256:\", found 65"},
      {"release_digest_upper_case", "model-release",
       Mutate("model-release", Set("model_digest", Str(upper))),
       "field model_digest: upper-case hex digit at position 7"},
      {"release_digest_not_hex", "model-release",
       Mutate("model-release",
              Set("model_digest", Str("sha256:g" + std::string(kDigestA.substr(8))))),
       "field model_digest: non-hex character at position 7"},
      {"release_uri_relative", "model-release", Mutate("model-release", Set("uri", "models/x")),
       "field uri: expected an absolute URI"},
      {"release_uri_space", "model-release", Mutate("model-release", Set("uri", "https://a b")),
       "field uri: space at byte 9"},
      {"release_notes_control", "model-release", Mutate("model-release", Set("notes", "a\x01")),
       "field notes: control character at byte 1"},
      {"release_notes_null", "model-release", Mutate("model-release", Set("notes", nullptr)),
       "field notes: expected a string, found null"},
      // training-run
      {"training_missing_dataset_roots", "training-run",
       Mutate("training-run", Erase("dataset_roots")), "field dataset_roots: missing"},
      {"training_dataset_roots_empty", "training-run",
       Mutate("training-run", Set("dataset_roots", bj::array{})),
       "field dataset_roots: empty array"},
      {"training_dataset_roots_not_array", "training-run",
       Mutate("training-run", Set("dataset_roots", Str(kDigestA))),
       "field dataset_roots: expected an array of digests, found a string"},
      {"training_dataset_root_bad", "training-run",
       Mutate("training-run", Set("dataset_roots", bj::array{kDigestA, "sha256:abc"})),
       "field dataset_roots[1]: expected 64 hex digits"},
      {"training_dataset_root_not_string", "training-run",
       Mutate("training-run", Set("dataset_roots", bj::array{1})),
       "field dataset_roots[0]: expected a string, found a number"},
      {"training_dataset_root_repeated", "training-run",
       Mutate("training-run", Set("dataset_roots", bj::array{kDigestA, kDigestA})),
       "field dataset_roots[1]: repeats an earlier digest"},
      {"training_finished_before_started", "training-run",
       Mutate("training-run", Set("finished", "2026-11-20T07:59:59Z")),
       "field finished: \"2026-11-20T07:59:59Z\" is before started \"2026-11-20T08:00:00Z\""},
      {"training_time_not_utc", "training-run",
       Mutate("training-run", Set("started", "2026-11-20T08:00:00+01:00")),
       "field started: expected an RFC 3339 UTC time like \"2026-11-29T12:00:00Z\""},
      {"training_time_lower_case_z", "training-run",
       Mutate("training-run", Set("started", "2026-11-20t08:00:00z")), "field started: expected"},
      {"training_time_fraction", "training-run",
       Mutate("training-run", Set("started", "2026-11-20T08:00:00.5Z")), "field started: expected"},
      {"training_time_date_only", "training-run",
       Mutate("training-run", Set("finished", "2026-11-21")), "field finished: expected"},
      {"training_time_bad_month", "training-run",
       Mutate("training-run", Set("started", "2026-13-01T00:00:00Z")), "(month out of range)"},
      {"training_time_bad_day", "training-run",
       Mutate("training-run", Set("started", "2026-02-29T00:00:00Z")), "(day out of range)"},
      {"training_time_bad_hour", "training-run",
       Mutate("training-run", Set("started", "2026-02-28T24:00:00Z")),
       "(time of day out of range)"},
      {"training_time_number", "training-run", Mutate("training-run", Set("started", 1764417600)),
       "field started: expected a string, found a number"},
      {"training_base_equals_output", "training-run",
       Mutate("training-run",
              [](bj::object& o) { o["base_model_digest"] = o["output_model_digest"]; }),
       "field output_model_digest: equals base_model_digest"},
      // fine-tune
      {"finetune_parent_equals_child", "fine-tune",
       Mutate("fine-tune", [](bj::object& o) { o["child_digest"] = o["parent_digest"]; }),
       "field child_digest: equals parent_digest"},
      {"finetune_missing_parent", "fine-tune", Mutate("fine-tune", Erase("parent_digest")),
       "field parent_digest: missing"},
      {"finetune_dataset_roots_empty", "fine-tune",
       Mutate("fine-tune", Set("dataset_roots", bj::array{})), "field dataset_roots: empty array"},
      // dataset
      {"dataset_negative_count", "dataset", Mutate("dataset", Set("count", -1)),
       "field count: negative value -1"},
      {"dataset_fractional_count", "dataset", Mutate("dataset", Set("count", 1.5)),
       "field count: expected a non-negative integer, found 1.5E0"},
      {"dataset_count_string", "dataset", Mutate("dataset", Set("count", "12")),
       "field count: expected a non-negative integer, found a string"},
      {"dataset_count_too_large", "dataset", Mutate("dataset", Set("count", uint64_t{1} << 63)),
       "field count: value too large"},
      {"dataset_count_zero_nonempty_root", "dataset", Mutate("dataset", Set("count", 0)),
       "field root: count is 0 but root is not the empty-tree root"},
      {"dataset_bad_format", "dataset", Mutate("dataset", Set("format", "parquet")),
       "field format: expected one of lines, jsonl, csv, found \"parquet\""},
      {"dataset_missing_license", "dataset", Mutate("dataset", Erase("license")),
       "field license: missing"},
      // eval-report
      {"eval_summary_not_object", "eval-report", Mutate("eval-report", Set("summary", bj::array{})),
       "field summary: expected an object of metric name -> number, found an array"},
      {"eval_summary_empty", "eval-report", Mutate("eval-report", Set("summary", bj::object{})),
       "field summary: empty object"},
      {"eval_summary_value_string", "eval-report",
       Mutate("eval-report", Set("summary", bj::object{{"asr", "0.1"}})),
       "field summary.asr: expected a number, found a string"},
      {"eval_summary_key_empty", "eval-report",
       Mutate("eval-report", Set("summary", bj::object{{"", 1}})),
       "field summary.\"\": metric name: empty string"},
      {"eval_bad_date", "eval-report", Mutate("eval-report", Set("date", "yesterday")),
       "field date: expected an RFC 3339 UTC time"},
      // policy
      {"policy_missing_location", "policy", Mutate("policy", Erase("location")),
       "field location: missing"},
      {"policy_unknown_field", "policy", Mutate("policy", Set("approver", "x")),
       "field approver: unknown field for a policy entry"},
      // approval
      {"approval_bad_signature", "approval", Mutate("approval", Set("signature", "not base64!")),
       "field signature: expected base64"},
      {"approval_empty_signature", "approval", Mutate("approval", Set("signature", "")),
       "field signature: signature of 0 bytes"},
      {"approval_approver_digest_form", "approval",
       Mutate("approval", Set("approver", Str(kDigestA))),
       "field approver: expected a key id of 64 lower-case hex digits, found 71 characters"},
      {"approval_approver_upper_case", "approval",
       Mutate("approval", Set("approver", Str(std::string(64, 'A')))),
       "field approver: upper-case hex digit at position 0"},
      {"approval_revokes_string", "approval", Mutate("approval", Set("revokes", "true")),
       "field revokes: expected a boolean, found a string"},
      // audit-checkpoint
      {"checkpoint_negative_size", "audit-checkpoint", Mutate("audit-checkpoint", Set("size", -5)),
       "field size: negative value -5"},
      {"checkpoint_missing_source", "audit-checkpoint", Mutate("audit-checkpoint", Erase("source")),
       "field source: missing"},
      {"checkpoint_size_zero_nonempty_root", "audit-checkpoint",
       Mutate("audit-checkpoint", Set("size", 0)), "field root: size is 0"},
      // key-rotation
      {"rotation_same_key", "key-rotation",
       Mutate("key-rotation", [](bj::object& o) { o["new_key"] = o["old_key"]; }),
       "field new_key: equals old_key"},
      {"rotation_bad_purpose", "key-rotation", Mutate("key-rotation", Set("purpose", "fun")),
       "field purpose: expected one of approval, ledger, signing, watermark, witness"},
      {"rotation_short_key", "key-rotation", Mutate("key-rotation", Set("old_key", "abcd")),
       "field old_key: expected a key id of 64 lower-case hex digits, found 4 characters"},
  };
}

class EntryBadCaseTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(EntryBadCaseTest, IsDataLossNamingTheField) {
  const BadCase& c = GetParam();
  auto e = CanonicalizeEntry(c.type, c.text(), "entry.json");
  ASSERT_FALSE(e.has_value()) << e->canonical_json;
  EXPECT_EQ(e.error().code(), StatusCode::kDataLoss) << e.error().ToString();
  EXPECT_THAT(e.error().message(), HasSubstr(c.message));
}

INSTANTIATE_TEST_SUITE_P(Mutations, EntryBadCaseTest, ::testing::ValuesIn(BadCases()),
                         [](const auto& info) { return info.param.name; });

TEST(EntriesTest, ValidEdgeCasesAreAccepted) {
  auto ok = [](std::string_view type, bj::object o) {
    auto e = CanonicalizeEntry(type, bj::serialize(o), "entry.json");
    EXPECT_TRUE(e.has_value()) << e.error().ToString();
  };
  bj::object run = FixtureObject("training-run");
  run["started"] = "2024-02-29T23:59:59Z";   // leap day
  run["finished"] = "2024-02-29T23:59:59Z";  // equal times are fine
  ok("training-run", run);
  run["base_model_digest"] = kDigestA;  // from a base model instead of from scratch
  ok("training-run", run);

  bj::object empty = FixtureObject("dataset");
  empty["count"] = 0;
  empty["root"] = kEmptyRoot;
  ok("dataset", empty);

  bj::object min_release = FixtureObject("model-release");
  for (const char* k : {"publisher", "license", "uri", "notes"}) min_release.erase(k);
  ok("model-release", min_release);

  bj::object unicode = FixtureObject("policy");
  unicode["name"] =
      "politique de s\xc3\xa9"
      "curit\xc3\xa9";
  ok("policy", unicode);
}

TEST(EntriesTest, LinksOfEveryType) {
  auto links = [](std::string_view type) {
    auto l = LinksOf(type, Expected(type));
    EXPECT_TRUE(l.has_value()) << l.error().ToString();
    return l.value_or(EntryLinks{});
  };
  const bj::object run = FixtureObject("training-run");
  EntryLinks l = links("training-run");
  EXPECT_TRUE(l.model_digests_in.empty());  // trained from scratch
  EXPECT_THAT(l.model_digests_out,
              ::testing::ElementsAre(run.at("output_model_digest").as_string()));
  ASSERT_EQ(l.dataset_roots.size(), 2u);
  EXPECT_EQ(l.dataset_roots[1], run.at("dataset_roots").as_array()[1].as_string());

  const bj::object ft = FixtureObject("fine-tune");
  l = links("fine-tune");
  EXPECT_THAT(l.model_digests_in, ::testing::ElementsAre(ft.at("parent_digest").as_string()));
  EXPECT_THAT(l.model_digests_out, ::testing::ElementsAre(ft.at("child_digest").as_string()));
  EXPECT_EQ(l.dataset_roots.size(), 1u);

  l = links("model-release");
  EXPECT_THAT(
      l.model_digests_out,
      ::testing::ElementsAre(FixtureObject("model-release").at("model_digest").as_string()));
  l = links("eval-report");
  EXPECT_THAT(l.model_digests_in,
              ::testing::ElementsAre(FixtureObject("eval-report").at("model_digest").as_string()));
  l = links("dataset");
  EXPECT_THAT(l.dataset_roots,
              ::testing::ElementsAre(FixtureObject("dataset").at("root").as_string()));
  EXPECT_EQ(links("policy").policy_digests, links("approval").policy_digests);
  EXPECT_EQ(links("policy").policy_digests.size(), 1u);
  l = links("key-rotation");
  EXPECT_TRUE(l.model_digests_in.empty() && l.model_digests_out.empty() &&
              l.dataset_roots.empty() && l.policy_digests.empty());

  // The type can come from the canonical bytes; a corrupt row is an error, not a walk.
  auto untyped = LinksOf("", Expected("fine-tune"));
  ASSERT_TRUE(untyped.has_value());
  EXPECT_EQ(untyped->model_digests_out, links("fine-tune").model_digests_out);
  auto corrupt = LinksOf("fine-tune", "{\"parent_digest\":1}");
  ASSERT_FALSE(corrupt.has_value());
  EXPECT_EQ(corrupt.error().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace warden::ledger
