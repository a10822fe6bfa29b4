// End-to-end tests of `warden watermark` and `warden generate --watermark` on the bundled tiny
// model: real binary, real key files, real exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/json_output.h"
#include "common/run_binary.h"
#include "common/temp_dir.h"

namespace warden {
namespace {

using testing::Describe;
using testing::ParseObject;
using testing::RunBinary;
using testing::RunResult;
using testing::TempDir;

RunResult Warden(std::vector<std::string> args) { return RunBinary(WARDEN_BINARY, args); }

class WatermarkCliTest : public ::testing::Test {
 protected:
  // A fixed key (secret 00 01 .. 1f), so that every run generates and detects the same text:
  // a random key would make the thresholds below hold only with high probability.
  void SetUp() override {
    key_ = dir_.Write("wm.key", testing::ReadAll(std::string(WARDEN_TESTDATA_DIR) +
                                                 "/watermark/test-kgw.key"));
    chmod(key_.c_str(), 0600);  // git keeps 0644
  }

  // Generates `n` tokens (watermarked with `key` unless empty) into a file; returns its path.
  std::string Generate(const std::string& key, const std::string& name, int seed,
                       const std::string& scheme = "") {
    std::vector<std::string> args = {"generate", "-p", "Once upon a time", "-n", "200",
                                     "--seed", std::to_string(seed), "--temperature", "1"};
    if (!key.empty()) {
      args.insert(args.end(), {"--watermark", key});
      if (!scheme.empty()) args.insert(args.end(), {"--scheme", scheme});
    }
    RunResult r = Warden(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return dir_.Write(name, r.out);
  }

  boost::json::object Detect(const std::string& key, const std::string& file, int want_exit,
                             std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"watermark", "detect", "--key", key, "--json", file};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Warden(args);
    EXPECT_EQ(r.exit_code, want_exit) << Describe(r);
    return ParseObject(r.out);
  }

  TempDir dir_;
  std::string key_;
};

TEST_F(WatermarkCliTest, KeygenWritesAPrivateFileAndRefusesToOverwrite) {
  struct stat st;
  RunResult fresh = Warden({"watermark", "keygen", "--out", dir_ / "new.key"});
  ASSERT_EQ(fresh.exit_code, 0) << Describe(fresh);
  ASSERT_EQ(stat((dir_ / "new.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  RunResult again = Warden({"watermark", "keygen", "--out", key_});
  EXPECT_EQ(again.exit_code, 4) << Describe(again);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  RunResult forced = Warden({"watermark", "keygen", "--out", key_, "--force", "--json",
                             "--scheme", "tournament", "--layers", "12"});
  ASSERT_EQ(forced.exit_code, 0) << Describe(forced);
  boost::json::object o = ParseObject(forced.out);
  EXPECT_EQ(o["scheme"].as_string(), "tournament");
  EXPECT_EQ(o["params"].as_object()["layers"].to_number<int64_t>(), 12);
  EXPECT_EQ(o["key_id"].as_string().size(), 64u);
}

TEST_F(WatermarkCliTest, WatermarkedTextIsDetectedAndPlainTextIsNot) {
  const std::string marked = Generate(key_, "marked.txt", 11);
  boost::json::object d = Detect(key_, marked, 0);
  EXPECT_EQ(d["verdict"].as_string(), "watermarked");
  EXPECT_EQ(d["scheme"].as_string(), "kgw");
  EXPECT_LT(d["p_value"].to_number<double>(), 1e-6);
  EXPECT_GT(d["tokens_scored"].to_number<int64_t>(), 100);

  const std::string plain = Generate("", "plain.txt", 11);
  boost::json::object n = Detect(key_, plain, 1);
  EXPECT_EQ(n["verdict"].as_string(), "not_detected");
  EXPECT_GT(n["p_value"].to_number<double>(), 1e-4);
}

TEST_F(WatermarkCliTest, AWrongKeyFindsNothing) {
  const std::string marked = Generate(key_, "marked.txt", 12);
  const std::string other = dir_ / "other.key";
  ASSERT_EQ(Warden({"watermark", "keygen", "--out", other}).exit_code, 0);
  boost::json::object d = Detect(other, marked, 1);
  EXPECT_EQ(d["verdict"].as_string(), "not_detected");
  EXPECT_GT(d["p_value"].to_number<double>(), 1e-4);
}

TEST_F(WatermarkCliTest, EverySchemeRoundTripsThroughGenerateAndDetect) {
  for (const std::string scheme : {"tournament", "gumbel"}) {
    const std::string marked = Generate(key_, scheme + ".txt", 13, scheme);
    boost::json::object d = Detect(key_, marked, 0, {"--scheme", scheme});
    EXPECT_EQ(d["verdict"].as_string(), "watermarked") << scheme;
    EXPECT_EQ(d["scheme"].as_string(), scheme);
    // Detecting with the key's default scheme (kgw) finds nothing in tournament text.
    boost::json::object k = Detect(key_, marked, 1);
    EXPECT_EQ(k["verdict"].as_string(), "not_detected") << scheme;
  }
}

TEST_F(WatermarkCliTest, AnotherTokenizersVocabularyFindsNothing) {
  // The same watermarked text read through GPT-2's vocabulary: different token ids, so the
  // key's PRF values are unrelated to how the text was written.
  const std::string marked = Generate(key_, "marked.txt", 15);
  boost::json::object d = Detect(key_, marked, 1,
                                 {"--tokenizer", std::string(WARDEN_EXTRACTED_TESTDATA_DIR) +
                                                     "/vocab/ggml-vocab-gpt-2.gguf"});
  EXPECT_EQ(d["verdict"].as_string(), "not_detected");
  EXPECT_GT(d["p_value"].to_number<double>(), 1e-4);
}

TEST_F(WatermarkCliTest, GenerateJsonNamesTheKeyButNotTheSecret) {
  RunResult r = Warden({"generate", "-p", "Once", "-n", "8", "--seed", "1", "--json",
                        "--watermark", key_});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  boost::json::object o = ParseObject(r.out);
  ASSERT_TRUE(o.contains("watermark"));
  const std::string key_text = testing::ReadAll(key_);
  const size_t at = key_text.find("\"secret\":\"");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(r.out.find(key_text.substr(at + 10, 64)), std::string::npos);
}

TEST_F(WatermarkCliTest, SlidingWindowFindsAPassageInsideHumanText) {
  const std::string marked = testing::ReadAll(Generate(key_, "marked.txt", 14));
  const std::string human = testing::ReadAll(std::string(WARDEN_TESTDATA_DIR) +
                                             "/watermark/human.txt");
  const std::string before = human.substr(0, 6000), after = human.substr(6000, 6000);
  const std::string mixed = dir_.Write("mixed.txt", before + marked + "\n" + after);
  // At the false-positive rate for power claims (1e-4): one 200-token kgw passage on
  // this small, low-entropy model is not always enough for 1e-6 after the window correction.
  boost::json::object d = Detect(key_, mixed, 0, {"--window", "120", "--fpr", "1e-4"});
  ASSERT_TRUE(d["best_window"].is_object()) << boost::json::serialize(d);
  boost::json::object w = d["best_window"].as_object();
  EXPECT_LT(w["p_adjusted"].to_number<double>(), 1e-4);
  // The whole text, diluted by the human text around the passage, gives a weaker p-value.
  EXPECT_GT(d["p_value"].to_number<double>(), w["p_value"].to_number<double>());
  // The window lies inside the pasted passage (give or take the window's edges).
  EXPECT_GE(w["byte_begin"].to_number<int64_t>(), 6000 - 400);
  EXPECT_LE(w["byte_end"].to_number<int64_t>(),
            static_cast<int64_t>(6000 + marked.size() + 400));
}

TEST_F(WatermarkCliTest, BadInputGetsClearErrors) {
  // Not UTF-8: exit 3 naming the offset.
  const std::string bad = dir_.Write("bad.txt", std::string("hello \xff world"));
  RunResult r = Warden({"watermark", "detect", "--key", key_, bad});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("offset 6"), std::string::npos) << r.err;
  // Empty text: inconclusive, exit 1, never "watermarked".
  const std::string empty = dir_.Write("empty.txt", "");
  boost::json::object e = Detect(key_, empty, 1);
  EXPECT_EQ(e["verdict"].as_string(), "inconclusive");
  EXPECT_EQ(e["tokens_scored"].to_number<int64_t>(), 0);
  // A corrupted key file: exit 3 naming the field.
  const std::string key_text = testing::ReadAll(key_);
  std::string broken = key_text;
  broken[broken.find("\"secret\":\"") + 12] ^= 1;
  const std::string broken_key = dir_.Write("broken.key", broken);
  chmod(broken_key.c_str(), 0600);
  r = Warden({"watermark", "detect", "--key", broken_key, empty});
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("key_id"), std::string::npos) << r.err;
  // Out-of-range options are usage errors.
  r = Warden({"watermark", "detect", "--key", key_, "--fpr", "2", empty});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  r = Warden({"generate", "--scheme", "gumbel", "-n", "4"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("--watermark"), std::string::npos) << r.err;
}

TEST_F(WatermarkCliTest, KeyFileReadableByOthersIsRefused) {
  chmod(key_.c_str(), 0644);
  const std::string text = dir_.Write("t.txt", "Once upon a time there was a cat.");
  RunResult r = Warden({"watermark", "detect", "--key", key_, text});
  EXPECT_EQ(r.exit_code, 4) << Describe(r);
  EXPECT_NE(r.err.find("chmod 600"), std::string::npos) << r.err;
}

TEST_F(WatermarkCliTest, RotationIsRecordedInTheLedger) {
  const std::string db = dir_ / "l.ledger";
  const std::string log_key = dir_ / "log.key";
  ASSERT_EQ(Warden({"keygen", "--type", "ed25519", "--out", log_key}).exit_code, 0);
  RunResult init = Warden({"ledger", "init", "--db", db, "--key", log_key + ".pub"});
  ASSERT_EQ(init.exit_code, 0) << Describe(init);
  RunResult r = Warden({"watermark", "keygen", "--out", dir_ / "wm2.key", "--rotate-from", key_,
                        "--ledger", db, "--reason", "scheduled", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  boost::json::object o = ParseObject(r.out);
  ASSERT_TRUE(o.contains("ledger_entry"));
  RunResult half = Warden({"watermark", "keygen", "--out", dir_ / "wm3.key", "--ledger", db});
  EXPECT_EQ(half.exit_code, 2) << Describe(half);
}

}  // namespace
}  // namespace warden
