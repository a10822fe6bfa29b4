#include "ledger/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/encoding.h"
#include "base/json.h"
#include "common/temp_dir.h"
#include "crypto/sha256.h"

namespace warden::ledger {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// ---- Slow reference: RFC 9162 2.1.1 MTH, written out recursively from the text. ----

Hash RefLeaf(std::string_view record) {
  return crypto::Sha256(std::string(1, '\0') + std::string(record));
}

Hash RefMth(const std::vector<std::string>& records, size_t begin, size_t end) {
  const size_t n = end - begin;
  if (n == 0) return crypto::Sha256(std::string_view());
  if (n == 1) return RefLeaf(records[begin]);
  size_t k = 1;
  while (k * 2 < n) k *= 2;  // largest power of two smaller than n
  const Hash l = RefMth(records, begin, begin + k);
  const Hash r = RefMth(records, begin + k, end);
  std::string buf(1, '\1');
  buf.append(reinterpret_cast<const char*>(l.data()), l.size());
  buf.append(reinterpret_cast<const char*>(r.data()), r.size());
  return crypto::Sha256(buf);
}

Hash RefRoot(const std::vector<std::string>& records) { return RefMth(records, 0, records.size()); }

std::vector<std::string> Records(const std::string& path, RecordFormat format) {
  std::vector<std::string> out;
  Status s = ForEachRecord(path, format, [&](uint64_t i, std::string_view r) {
    EXPECT_EQ(i, out.size());
    out.emplace_back(r);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

Hash CommitRoot(const std::string& path, RecordFormat format) {
  auto c = CommitDataset(path, format);
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return c.has_value() ? c->root : Hash{};
}

// ---- Formats ----

TEST(DatasetFormatTest, ChosenByExtensionOrOverride) {
  EXPECT_EQ(*FormatFor("data/train.jsonl", ""), RecordFormat::kJsonl);
  EXPECT_EQ(*FormatFor("train.NDJSON", ""), RecordFormat::kJsonl);
  EXPECT_EQ(*FormatFor("rows.csv", ""), RecordFormat::kCsv);
  EXPECT_EQ(*FormatFor("corpus.txt", ""), RecordFormat::kLines);
  EXPECT_EQ(*FormatFor("dir.csv/corpus", ""), RecordFormat::kLines);
  EXPECT_EQ(*FormatFor("rows.csv", "lines"), RecordFormat::kLines);
  EXPECT_EQ(*FormatFor("x", "ndjson"), RecordFormat::kJsonl);
  auto bad = FormatFor("x.csv", "parquet");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.error().message(), HasSubstr("unknown dataset format \"parquet\""));
  for (RecordFormat f : {RecordFormat::kLines, RecordFormat::kJsonl, RecordFormat::kCsv}) {
    EXPECT_EQ(*ParseRecordFormat(RecordFormatName(f)), f);
  }
}

struct LinesCase {
  std::string name;
  std::string text;
  std::vector<std::string> records;
};

class DatasetLinesTest : public ::testing::TestWithParam<LinesCase> {};

TEST_P(DatasetLinesTest, RecordsAndRootMatchTheReference) {
  TempDir dir;
  const std::string path = dir.Write("data.txt", GetParam().text);
  EXPECT_EQ(Records(path, RecordFormat::kLines), GetParam().records);
  auto c = CommitDataset(path, RecordFormat::kLines);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->root, RefRoot(GetParam().records));
  EXPECT_EQ(c->count, GetParam().records.size());
  EXPECT_EQ(c->bytes, GetParam().text.size());
  EXPECT_EQ(c->format, RecordFormat::kLines);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DatasetLinesTest,
    ::testing::Values(
        LinesCase{"empty_file", "", {}}, LinesCase{"one_line_no_newline", "a", {"a"}},
        LinesCase{"one_line", "a\n", {"a"}}, LinesCase{"only_newline", "\n", {""}},
        LinesCase{"no_final_newline", "a\nb", {"a", "b"}},
        LinesCase{"crlf", "a\r\nb\r\n", {"a", "b"}},
        LinesCase{"blank_lines_inside", "a\n\n\r\nb\n", {"a", "", "", "b"}},
        LinesCase{"lone_cr_is_data", "a\rb\nc\r", {"a\rb", "c\r"}},
        LinesCase{"binary", std::string("\0\xff\n\x80", 4), {std::string("\0\xff", 2), "\x80"}},
        LinesCase{"spaces_kept", "  a \n\tb\n", {"  a ", "\tb"}}),
    [](const auto& info) { return info.param.name; });

TEST(DatasetTest, EmptyDatasetHasTheEmptyTreeRoot) {
  TempDir dir;
  for (const char* name : {"empty.txt", "empty.jsonl", "empty.csv"}) {
    const std::string path = dir.Write(name, "");
    auto c = CommitDataset(path, *FormatFor(path, ""));
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    EXPECT_EQ(c->count, 0u);
    EXPECT_EQ(crypto::DigestHex(c->root),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}

TEST(DatasetTest, RandomLineFilesMatchTheReference) {
  std::mt19937 rng(7);
  TempDir dir;
  for (int n = 0; n <= 70; ++n) {
    std::vector<std::string> records;
    std::string text;
    for (int i = 0; i < n; ++i) {
      std::string r(rng() % 12, 'x');
      for (char& c : r) c = static_cast<char>('a' + rng() % 26);
      records.push_back(r);
      text += r + ((rng() % 3 == 0) ? "\r\n" : "\n");
    }
    const std::string path = dir.Write("r" + std::to_string(n) + ".txt", text);
    EXPECT_EQ(CommitRoot(path, RecordFormat::kLines), RefRoot(records)) << n;
  }
}

// ---- JSONL ----

TEST(DatasetJsonlTest, RecordsAreCanonicalJson) {
  TempDir dir;
  const std::string path =
      dir.Write("d.jsonl", "{\"b\": 1, \"a\": [true, null]}\n  \"text\"  \r\n42\n{}\n");
  EXPECT_THAT(Records(path, RecordFormat::kJsonl),
              ::testing::ElementsAre(R"({"a":[true,null],"b":1})", R"("text")", "42", "{}"));
  EXPECT_EQ(CommitRoot(path, RecordFormat::kJsonl),
            RefRoot({R"({"a":[true,null],"b":1})", R"("text")", "42", "{}"}));
}

TEST(DatasetJsonlTest, FormattingDoesNotChangeTheRoot) {
  TempDir dir;
  const std::string a =
      dir.Write("a.jsonl",
                "{\"prompt\":\"hi\",\"completion\":\"hello\",\"meta\":{\"x\":1,\"y\":[1,2]}}\n"
                "{\"prompt\":\"caf\xc3\xa9\",\"completion\":\"ok\"}\n");
  const std::string b =
      dir.Write("b.jsonl",
                "{ \"meta\" : { \"y\" : [ 1 , 2 ] , \"x\" : 1 } , \"completion\" : \"hello\", "
                "\"prompt\" : \"\\u0068i\" }\r\n"
                "{\"completion\":\"ok\",   \"prompt\":\"caf\\u00e9\"}");
  EXPECT_EQ(CommitRoot(a, RecordFormat::kJsonl), CommitRoot(b, RecordFormat::kJsonl));
  // As plain lines the two files differ, of course.
  EXPECT_NE(CommitRoot(a, RecordFormat::kLines), CommitRoot(b, RecordFormat::kLines));
}

struct BadFileCase {
  std::string name;
  RecordFormat format;
  std::string text;
  std::string message;
};

class DatasetBadFileTest : public ::testing::TestWithParam<BadFileCase> {};

TEST_P(DatasetBadFileTest, IsDataLossNamingTheLine) {
  TempDir dir;
  const std::string path = dir.Write("data", GetParam().text);
  auto c = CommitDataset(path, GetParam().format);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), StatusCode::kDataLoss) << c.error().ToString();
  EXPECT_THAT(c.error().message(), HasSubstr(path + ": " + GetParam().message));
  // However the file is cut (tiny files cut into several chunks), the same first error.
  for (size_t chunks : {1, 2, 3, 5, 16}) {
    auto cut =
        CommitDataset(path, GetParam().format, CommitOptions{.threads = 2, .chunks = chunks});
    ASSERT_FALSE(cut.has_value()) << chunks;
    EXPECT_EQ(cut.error().code(), StatusCode::kDataLoss) << chunks;
    EXPECT_EQ(cut.error().message(), c.error().message()) << chunks;
  }
  auto p = ProveRecord(path, GetParam().format, 0);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), StatusCode::kDataLoss);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DatasetBadFileTest,
    ::testing::Values(
        BadFileCase{"jsonl_blank_line_inside", RecordFormat::kJsonl, "1\n\n2\n",
                    "line 2: blank line"},
        BadFileCase{"jsonl_whitespace_line", RecordFormat::kJsonl, "1\n2\n \t\n",
                    "line 3: blank line"},
        BadFileCase{"jsonl_two_trailing_newlines", RecordFormat::kJsonl, "1\n\n",
                    "line 2: blank line"},
        BadFileCase{"jsonl_syntax_error", RecordFormat::kJsonl, "1\n{\"a\":}\n",
                    "line 2, column 6"},
        BadFileCase{"jsonl_two_values_on_a_line", RecordFormat::kJsonl, "1 2\n", "line 1, column"},
        BadFileCase{"jsonl_duplicate_key", RecordFormat::kJsonl, "{}\n{}\n{\"a\":1,\"a\":2}\n",
                    "line 3, column"},
        BadFileCase{"jsonl_invalid_utf8", RecordFormat::kJsonl, "\"\xff\"\n", "line 1, column"},
        BadFileCase{"csv_too_few_fields", RecordFormat::kCsv, "a,b\n1,2\n3\n",
                    "line 3: row has 1 fields, the header has 2"},
        BadFileCase{"csv_too_many_fields", RecordFormat::kCsv, "a,b\n1,2,3\n",
                    "line 2: row has 3 fields, the header has 2"},
        BadFileCase{"csv_row_count_after_quoted_newline", RecordFormat::kCsv,
                    "a,b\n\"x\ny\",2\n3\n", "line 4: row has 1 fields"},
        BadFileCase{"csv_quote_in_unquoted_field", RecordFormat::kCsv, "a,b\n1,x\"y\n",
                    "line 2: field 2: quote inside an unquoted field"},
        BadFileCase{"csv_junk_after_closing_quote", RecordFormat::kCsv, "a,b\n\"x\"y,2\n",
                    "line 2: field 1: unexpected character after the closing quote"},
        BadFileCase{"csv_unclosed_quote", RecordFormat::kCsv, "a,b\n1,\"x\n\n",
                    "line 2: field 2: quoted field is not closed"},
        BadFileCase{"csv_duplicate_header", RecordFormat::kCsv, "a,b,a\n1,2,3\n",
                    "line 1: header: column 3 repeats the name \"a\""},
        BadFileCase{"csv_invalid_utf8", RecordFormat::kCsv, "a\n\xc3\x28\n",
                    "line 2: field 1: not valid UTF-8"},
        BadFileCase{"csv_blank_line_inside", RecordFormat::kCsv, "a,b\n1,2\n\n3,4\n",
                    "line 3: row has 1 fields"}),
    [](const auto& info) { return info.param.name; });

// ---- CSV ----

TEST(DatasetCsvTest, RowsBecomeCanonicalObjects) {
  TempDir dir;
  const std::string path =
      dir.Write("d.csv",
                "text,label,id\r\n"
                "\"hello, world\",pos,1\r\n"         // comma inside quotes
                "\"she said \"\"hi\"\"\",neg,2\r\n"  // doubled quotes
                "\"two\nlines\",,3\n"                // LF inside quotes, empty cell
                "\"crlf\r\ninside\",\"\",4\n"        // CRLF inside quotes, quoted empty cell
                "caf\xc3\xa9 \\ \t,\"\"\"\",5");     // UTF-8, backslash, tab; no final newline
  EXPECT_THAT(Records(path, RecordFormat::kCsv),
              ::testing::ElementsAre(R"({"id":"1","label":"pos","text":"hello, world"})",
                                     R"({"id":"2","label":"neg","text":"she said \"hi\""})",
                                     R"({"id":"3","label":"","text":"two\nlines"})",
                                     R"({"id":"4","label":"","text":"crlf\r\ninside"})",
                                     "{\"id\":\"5\",\"label\":\"\\\"\",\"text\":\"caf\xc3\xa9 "
                                     "\\\\ \\t\"}"));
  const auto records = Records(path, RecordFormat::kCsv);
  EXPECT_EQ(CommitRoot(path, RecordFormat::kCsv), RefRoot(records));
}

TEST(DatasetCsvTest, HeaderOnlyAndTrailingCommas) {
  TempDir dir;
  const std::string header_only = dir.Write("h.csv", "a,b\n");
  auto c = CommitDataset(header_only, RecordFormat::kCsv);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->count, 0u);
  const std::string trailing = dir.Write("t.csv", "a,\n1,\n,\n");
  EXPECT_THAT(Records(trailing, RecordFormat::kCsv),
              ::testing::ElementsAre(R"({"":"","a":"1"})", R"({"":"","a":""})"));
}

TEST(DatasetCsvTest, QuotingStyleDoesNotChangeTheRoot) {
  TempDir dir;
  const std::string a = dir.Write("a.csv", "x,y\n1,2\n3,4\n");
  const std::string b = dir.Write("b.csv", "\"x\",\"y\"\r\n\"1\",2\r\n3,\"4\"");
  EXPECT_EQ(CommitRoot(a, RecordFormat::kCsv), CommitRoot(b, RecordFormat::kCsv));
}

// ---- Proofs ----

TEST(DatasetProofTest, ProveAndCheckEveryIndexOfSmallDatasets) {
  TempDir dir;
  for (int n = 1; n <= 17; ++n) {
    std::vector<std::string> records;
    std::string text;
    for (int i = 0; i < n; ++i) {
      records.push_back("record " + std::to_string(i));
      text += records.back() + "\n";
    }
    const std::string path = dir.Write("d" + std::to_string(n) + ".txt", text);
    const Hash root = RefRoot(records);
    for (int i = 0; i < n; ++i) {
      auto p = ProveRecord(path, RecordFormat::kLines, static_cast<uint64_t>(i));
      ASSERT_TRUE(p.has_value()) << p.error().ToString();
      EXPECT_EQ(p->record, records[static_cast<size_t>(i)]);
      EXPECT_EQ(p->index, static_cast<uint64_t>(i));
      EXPECT_EQ(p->size, static_cast<uint64_t>(n));
      EXPECT_EQ(p->root, root);
      EXPECT_TRUE(CheckDatasetProof(*p, root).ok()) << n << " " << i;
      // Through the JSON document and back.
      auto parsed = ParseDatasetProof(DatasetProofToJson(*p), "proof.json");
      ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
      EXPECT_EQ(parsed->record, p->record);
      EXPECT_EQ(parsed->path, p->path);
      EXPECT_EQ(parsed->format, RecordFormat::kLines);
      EXPECT_TRUE(CheckDatasetProof(*parsed, std::nullopt).ok());
    }
  }
}

TEST(DatasetProofTest, IndexPastTheEndIsInvalidArgument) {
  TempDir dir;
  const std::string path = dir.Write("d.txt", "a\nb\n");
  auto p = ProveRecord(path, RecordFormat::kLines, 2);
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.error().message(),
              HasSubstr("record 2 is past the end of " + path + " (2 records)"));
}

TEST(DatasetProofTest, MissingFileIsNotFound) {
  TempDir dir;
  auto c = CommitDataset(dir / "nope.txt", RecordFormat::kLines);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
}

class DatasetTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    for (int i = 0; i < 11; ++i) text += "{\"n\": " + std::to_string(i) + "}\n";
    path_ = dir_.Write("d.jsonl", text);
    auto p = ProveRecord(path_, RecordFormat::kJsonl, 6);
    ASSERT_TRUE(p.has_value()) << p.error().ToString();
    proof_ = *p;
    ASSERT_EQ(proof_.record, "{\"n\":6}");
    ASSERT_TRUE(CheckDatasetProof(proof_, proof_.root).ok());
  }
  void ExpectFails(const DatasetProof& p, const std::optional<Hash>& expected_root,
                   std::string_view message) {
    Status s = CheckDatasetProof(p, expected_root);
    EXPECT_EQ(s.code(), StatusCode::kVerificationFailed) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(message));
  }
  TempDir dir_;
  std::string path_;
  DatasetProof proof_;
};

TEST_F(DatasetTamperTest, TamperedRecord) {
  DatasetProof p = proof_;
  p.record = "{\"n\":7}";
  ExpectFails(p, std::nullopt, "expected");
  p.record = "{\"n\": 6}";  // same value, not the committed bytes
  ExpectFails(p, std::nullopt, "expected");
}

TEST_F(DatasetTamperTest, TamperedIndex) {
  DatasetProof p = proof_;
  p.index = 7;
  ExpectFails(p, std::nullopt, "expected");
}

TEST_F(DatasetTamperTest, TamperedPath) {
  for (size_t i = 0; i < proof_.path.size(); ++i) {
    DatasetProof p = proof_;
    p.path[i][0] ^= 1;
    ExpectFails(p, std::nullopt, "expected");
  }
  DatasetProof shorter = proof_;
  shorter.path.pop_back();
  ExpectFails(shorter, std::nullopt, "");
  DatasetProof longer = proof_;
  longer.path.push_back(proof_.path[0]);
  ExpectFails(longer, std::nullopt, "");
}

TEST_F(DatasetTamperTest, TamperedRootAndSize) {
  DatasetProof p = proof_;
  p.root[31] ^= 0x80;
  ExpectFails(p, std::nullopt, "expected");
  // The path's length depends on the size. (A size with the same path shape gives the same
  // root: the tree size is bound by the commitment's count, which the caller compares.)
  for (uint64_t size : {7u, 100u}) {
    DatasetProof q = proof_;
    q.size = size;
    ExpectFails(q, std::nullopt, "");
  }
}

TEST_F(DatasetTamperTest, RootOtherThanExpected) {
  Hash other = proof_.root;
  other[0] ^= 1;
  ExpectFails(proof_, other,
              "dataset root: expected sha256:" + crypto::DigestHex(other) +
                  ", the proof is for sha256:" + crypto::DigestHex(proof_.root));
}

TEST(DatasetProofTest, JsonDocumentShape) {
  DatasetProof p;
  p.record = "{\"n\":6}";
  p.format = RecordFormat::kJsonl;
  p.index = 1;
  p.size = 2;
  p.root = crypto::Sha256(std::string_view("root"));
  p.path = {crypto::Sha256(std::string_view("sibling"))};
  EXPECT_EQ(DatasetProofToJson(p),
            "{\n"
            "  \"format\": \"warden-dataset-proof/v1\",\n"
            "  \"record_format\": \"jsonl\",\n"
            "  \"record\": \"{\\\"n\\\":6}\",\n"
            "  \"index\": 1,\n"
            "  \"tree_size\": 2,\n"
            "  \"root\": \"sha256:" +
                crypto::DigestHex(p.root) +
                "\",\n"
                "  \"audit_path\": [\n"
                "    \"" +
                crypto::DigestHex(p.path[0]) +
                "\"\n"
                "  ]\n"
                "}\n");
}

TEST(DatasetProofTest, BinaryRecordTravelsAsBase64) {
  TempDir dir;
  const std::string path = dir.Write("bin.txt", std::string("ok\n\xff\xfe\0x\n", 7));
  auto p = ProveRecord(path, RecordFormat::kLines, 1);
  ASSERT_TRUE(p.has_value()) << p.error().ToString();
  const std::string json = DatasetProofToJson(*p);
  EXPECT_THAT(json,
              HasSubstr("\"record_base64\": \"" + Base64Encode(std::string("\xff\xfe\0x", 4))));
  auto back = ParseDatasetProof(json, "proof.json");
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->record, std::string("\xff\xfe\0x", 4));
  EXPECT_TRUE(CheckDatasetProof(*back, p->root).ok());
}

// ---- Malformed proof documents ----

struct BadProofCase {
  std::string name;
  std::function<void(boost::json::object&)> mutate;  // applied to a valid proof document
  std::string message;
};

boost::json::value S(std::string_view s) { return boost::json::value(boost::json::string(s)); }

std::vector<BadProofCase> BadProofCases() {
  using boost::json::object;
  const std::string hex(64, 'a');
  return {
      {"unknown_field", [](object& o) { o["extra"] = 1; }, "field \"extra\": unknown field"},
      {"missing_format", [](object& o) { o.erase("format"); }, "missing field format"},
      {"wrong_format", [](object& o) { o["format"] = "warden-dataset-proof/v2"; },
       "field format: expected \"warden-dataset-proof/v1\""},
      {"bad_record_format", [](object& o) { o["record_format"] = "xml"; },
       "field record_format: unknown dataset format"},
      {"no_record", [](object& o) { o.erase("record"); },
       "field record: expected exactly one of record"},
      {"both_records", [](object& o) { o["record_base64"] = "AA=="; },
       "field record: expected exactly one of record"},
      {"record_not_string", [](object& o) { o["record"] = 5; },
       "field record: expected a string, found a number"},
      {"bad_base64",
       [](object& o) {
         o.erase("record");
         o["record_base64"] = "A";
       },
       "field record_base64: base64"},
      {"negative_index", [](object& o) { o["index"] = -1; }, "field index: negative value"},
      {"fractional_index", [](object& o) { o["index"] = 0.5; }, "field index: expected"},
      {"index_not_in_tree", [](object& o) { o["index"] = o["tree_size"]; },
       "field index: 3 is not inside a tree of 3 records"},
      {"missing_tree_size", [](object& o) { o.erase("tree_size"); }, "missing field tree_size"},
      {"root_without_prefix", [hex](object& o) { o["root"] = S(hex); },
       "field root: expected \"sha256:"},
      {"root_upper_case", [](object& o) { o["root"] = S("sha256:" + std::string(64, 'A')); },
       "field root: character 0 is not a lower-case hex digit"},
      {"root_short", [](object& o) { o["root"] = "sha256:abcd"; },
       "field root: expected 64 lower-case hex digits, found 4"},
      {"path_not_array", [](object& o) { o["audit_path"] = "x"; },
       "field audit_path: expected an array"},
      {"path_item_not_string", [](object& o) { o["audit_path"].as_array().push_back(1); },
       "field audit_path[2]: expected a string"},
      {"path_item_with_prefix",
       [hex](object& o) { o["audit_path"].as_array()[0] = S("sha256:" + hex); },
       "field audit_path[0]: expected 64 lower-case hex digits, found 71"},
      {"path_too_long",
       [hex](object& o) {
         boost::json::array a;
         for (int i = 0; i < 65; ++i) a.push_back(S(hex));
         o["audit_path"] = a;
       },
       "field audit_path: 65 hashes"},
  };
}

class DatasetBadProofTest : public ::testing::TestWithParam<BadProofCase> {};

TEST_P(DatasetBadProofTest, IsDataLoss) {
  TempDir dir;
  const std::string path = dir.Write("d.txt", "a\nb\nc\n");
  auto p = ProveRecord(path, RecordFormat::kLines, 0);
  ASSERT_TRUE(p.has_value());
  auto doc = json::Parse(DatasetProofToJson(*p), "proof");
  ASSERT_TRUE(doc.has_value());
  GetParam().mutate(doc->as_object());
  auto parsed = ParseDatasetProof(boost::json::serialize(*doc), "proof.json");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code(), StatusCode::kDataLoss) << parsed.error().ToString();
  EXPECT_THAT(parsed.error().message(), HasSubstr("proof.json: " + GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(Mutations, DatasetBadProofTest, ::testing::ValuesIn(BadProofCases()),
                         [](const auto& info) { return info.param.name; });

TEST(DatasetProofTest, NotJsonOrNotAnObjectIsDataLoss) {
  for (std::string_view text : {"", "[]", "{\"format\":", "{\"a\":1,\"a\":1}"}) {
    auto p = ParseDatasetProof(text, "proof.json");
    ASSERT_FALSE(p.has_value()) << text;
    EXPECT_EQ(p.error().code(), StatusCode::kDataLoss);
    EXPECT_THAT(p.error().message(), HasSubstr("proof.json: "));
  }
}

// ---- Scale ----

TEST(DatasetTest, LargeGeneratedFileMatchesTheReference) {
  TempDir dir;
  constexpr int kLines = 200000;
  std::vector<std::string> records;
  records.reserve(kLines);
  std::string text;
  for (int i = 0; i < kLines; ++i) {
    records.push_back("line " + std::to_string(i * 7919 % 100003) + " of the generated corpus");
    text += records.back();
    text += '\n';
  }
  const std::string path = dir.Write("big.txt", text);
  auto c = CommitDataset(path, RecordFormat::kLines);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->count, static_cast<uint64_t>(kLines));
  EXPECT_EQ(c->root, RefRoot(records));
  auto p = ProveRecord(path, RecordFormat::kLines, 123456);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->path.size(), 18u);  // ceil(log2(200000))
  EXPECT_TRUE(CheckDatasetProof(*p, c->root).ok());
}

// ---- Parallel commitment: files cut into chunks ----

// The commitment of `path` cut into `chunks` chunks hashed on `threads` threads.
DatasetCommitment CommitCut(const std::string& path, RecordFormat format, size_t threads,
                            size_t chunks) {
  auto c = CommitDataset(path, format, CommitOptions{.threads = threads, .chunks = chunks});
  EXPECT_TRUE(c.has_value()) << path << " threads=" << threads << " chunks=" << chunks << ": "
                             << c.error().ToString();
  return c.has_value() ? *c : DatasetCommitment{};
}

// Record counts around powers of two (so chunks start aligned, unaligned, and the last chunk is
// partial or not), line endings of every kind, and cuts from one chunk to more chunks than
// records (empty chunks).
TEST(DatasetParallelTest, EveryCutMatchesTheReference) {
  std::mt19937 rng(11);
  TempDir dir;
  for (int n : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 257}) {
    for (bool terminated : {true, false}) {
      std::vector<std::string> records;
      std::string text;
      for (int i = 0; i < n; ++i) {
        std::string r(rng() % 9, 'x');
        for (char& c : r) c = "ab\r \t\xff"[rng() % 6];
        const bool last = i + 1 == n;
        if (!terminated && last && r.empty()) r = "z";  // else it would be no line
        // A '\r' before "\n" would end the line; a lone one on an unterminated last line is data.
        if ((terminated || !last) && !r.empty() && r.back() == '\r') r += 'c';
        records.push_back(r);
        text += r;
        if (terminated || !last) text += (rng() % 3 == 0) ? "\r\n" : "\n";
      }
      const std::string path = dir.Write("cut" + std::to_string(n) + ".txt", text);
      ASSERT_EQ(Records(path, RecordFormat::kLines), records) << n;
      const Hash want = RefRoot(records);
      for (size_t threads : {1, 2, 3}) {
        for (size_t chunks : {1, 2, 3, 4, 5, 7, 8, 16, 64, 300}) {
          const DatasetCommitment c = CommitCut(path, RecordFormat::kLines, threads, chunks);
          EXPECT_EQ(c.root, want) << "n=" << n << " threads=" << threads << " chunks=" << chunks;
          EXPECT_EQ(c.count, records.size());
          EXPECT_EQ(c.bytes, text.size());
          EXPECT_EQ(c.format, RecordFormat::kLines);
        }
      }
    }
  }
}

// Equal-length records, so that equal-size chunks hold exactly a power of two records each and
// are perfect subtrees, or not quite.
TEST(DatasetParallelTest, PowerOfTwoRecordsInEqualChunks) {
  TempDir dir;
  for (int n : {64, 96, 128, 1024}) {
    std::vector<std::string> records;
    std::string text;
    for (int i = 0; i < n; ++i) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "rec%05d", i);
      records.emplace_back(buf);
      text += records.back() + "\n";
    }
    const std::string path = dir.Write("p" + std::to_string(n) + ".txt", text);
    const Hash want = RefRoot(records);
    for (size_t chunks : {1, 2, 4, 8, 16, 32, 3, 6, 12}) {
      const DatasetCommitment c = CommitCut(path, RecordFormat::kLines, 2, chunks);
      EXPECT_EQ(c.root, want) << "n=" << n << " chunks=" << chunks;
      EXPECT_EQ(c.count, static_cast<uint64_t>(n));
    }
  }
}

TEST(DatasetParallelTest, JsonlCutsMatchTheReference) {
  std::mt19937 rng(5);
  TempDir dir;
  const char* const kValues[] = {
      "{\"b\": 1, \"a\": [true, null]}",      "  \"text\"  ", "42",  "{}",
      "[1, {\"y\":2,\"x\":\"caf\xc3\xa9\"}]", "-0.5e3",       "null"};
  for (int n : {1, 2, 3, 5, 8, 13, 32, 33, 100}) {
    std::string text;
    for (int i = 0; i < n; ++i) {
      text += kValues[rng() % std::size(kValues)];
      text += (rng() % 2 == 0) ? "\r\n" : "\n";
    }
    const std::string path = dir.Write("j" + std::to_string(n) + ".jsonl", text);
    const std::vector<std::string> records = Records(path, RecordFormat::kJsonl);
    ASSERT_EQ(records.size(), static_cast<size_t>(n));
    const Hash want = RefRoot(records);
    for (size_t chunks : {1, 2, 3, 4, 7, 16, 200}) {
      const DatasetCommitment c = CommitCut(path, RecordFormat::kJsonl, 2, chunks);
      EXPECT_EQ(c.root, want) << "n=" << n << " chunks=" << chunks;
      EXPECT_EQ(c.count, static_cast<uint64_t>(n));
    }
  }
}

// An error deep in a later chunk names its line of the file; with errors in several chunks the
// first in the file is reported, whichever thread finds one first.
TEST(DatasetParallelTest, ErrorsNameTheLineOfTheFile) {
  TempDir dir;
  auto jsonl = [](int lines, const std::map<int, std::string>& bad) {
    std::string text;
    for (int line = 1; line <= lines; ++line) {
      auto it = bad.find(line);
      text += it != bad.end() ? it->second : "{\"n\": " + std::to_string(line) + "}";
      text += "\n";
    }
    return text;
  };
  struct Case {
    std::map<int, std::string> bad;
    std::string message;
  };
  const Case cases[] = {
      {{{777, ""}}, ": line 777: blank line"},
      {{{1000, " "}}, ": line 1000: blank line"},
      {{{2, "{"}}, ": line 2, column"},
      {{{600, "{\"a\":}"}, {900, ""}}, ": line 600, column 6"},
      {{{901, ""}, {300, "[1,]"}, {999, "x"}}, ": line 300, column"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.Write("bad.jsonl", jsonl(1000, c.bad));
    for (size_t threads : {1, 2, 4}) {
      for (size_t chunks : {0, 1, 2, 3, 8, 64}) {
        auto r = CommitDataset(path, RecordFormat::kJsonl,
                               CommitOptions{.threads = threads, .chunks = chunks});
        ASSERT_FALSE(r.has_value()) << c.message;
        EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
        EXPECT_THAT(r.error().message(), HasSubstr(path + c.message))
            << "threads=" << threads << " chunks=" << chunks;
      }
    }
  }
}

// The automatic choice (used by `warden dataset commit`) cuts files of 1 MiB and more.
TEST(DatasetParallelTest, AutomaticCutsMatchOneThread) {
  TempDir dir;
  std::string lines;
  std::string jsonl;
  for (int i = 0; lines.size() < (5 << 18); ++i) {
    lines += "record " + std::to_string(i * 2654435761u) + (i % 5 == 0 ? "\r\n" : "\n");
    jsonl += "{\"i\": " + std::to_string(i) + ", \"s\": \"x" + std::to_string(i % 97) + "\"}\n";
  }
  lines += "unterminated";
  for (const auto& [name, text, format] : {std::tuple{"big.txt", lines, RecordFormat::kLines},
                                           std::tuple{"big.jsonl", jsonl, RecordFormat::kJsonl}}) {
    const std::string path = dir.Write(name, text);
    const DatasetCommitment one = CommitCut(path, format, 1, 0);
    for (size_t threads : {0, 2, 3, 16}) {
      const DatasetCommitment many = CommitCut(path, format, threads, 0);
      EXPECT_EQ(many.root, one.root) << name << " threads=" << threads;
      EXPECT_EQ(many.count, one.count);
      EXPECT_EQ(many.bytes, one.bytes);
    }
    auto plain = CommitDataset(path, format);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(plain->root, one.root);
  }
}

// CSV is never cut (a quoted cell may hold a newline); asking for chunks changes nothing.
TEST(DatasetParallelTest, CsvIgnoresChunks) {
  TempDir dir;
  const std::string path = dir.Write("d.csv", "a,b\n\"x\ny\",2\n3,4\n\"p,q\",\"\"\"\"\n");
  const Hash want = RefRoot(Records(path, RecordFormat::kCsv));
  for (size_t chunks : {1, 2, 3, 16}) {
    const DatasetCommitment c = CommitCut(path, RecordFormat::kCsv, 2, chunks);
    EXPECT_EQ(c.root, want) << chunks;
    EXPECT_EQ(c.count, 3u);
  }
}

}  // namespace
}  // namespace warden::ledger
