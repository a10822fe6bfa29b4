#include "guard/hyperscan.h"
#include "guard/secrets.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include <string>
#include <thread>
#include <vector>

namespace warden::guard {
namespace {

Database Compile(std::vector<PatternSpec> specs) {
  auto db = Database::Compile(specs);
  EXPECT_TRUE(db.has_value()) << db.error().message();
  return std::move(*db);
}

TEST(HyperscanTest, ReportsSpansOrderedByStartThenPattern) {
  Database db = Compile({{"world"}, {"hello"}, {"o w"}});
  auto m = db.Scan("hello world");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].pattern, 1u);
  EXPECT_EQ((*m)[0].begin, 0u);
  EXPECT_EQ((*m)[0].end, 5u);
  EXPECT_EQ((*m)[1].pattern, 2u);
  EXPECT_EQ((*m)[1].begin, 4u);
  EXPECT_EQ((*m)[2].pattern, 0u);
  EXPECT_EQ((*m)[2].begin, 6u);
  EXPECT_EQ((*m)[2].end, 11u);
}

TEST(HyperscanTest, KeepsTheLongestMatchPerStart) {
  // Hyperscan reports a+ at every end; with leftmost starts that is one match per end.
  Database db = Compile({{"a+"}});
  auto m = db.Scan("xaaay");
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].begin, 1u);
  EXPECT_EQ((*m)[0].end, 4u);
}

TEST(HyperscanTest, CaselessIsPerPattern) {
  Database db = Compile({{"secret", true}, {"token", false}});
  auto m = db.Scan("SECRET TOKEN token");
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].pattern, 0u);
  EXPECT_EQ((*m)[1].begin, 13u);
}

TEST(HyperscanTest, OffsetsAreBytesInUtf8Text) {
  Database db = Compile({{"caf\u00e9"}, {"\\w+"}, {"x.y"}});
  const std::string text = "\u00fc caf\u00e9 x\u00e9y";
  auto m = db.Scan(text);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  std::vector<Match> cafe, words, dot;
  for (const Match& x : *m) (x.pattern == 0 ? cafe : x.pattern == 1 ? words : dot).push_back(x);
  ASSERT_EQ(cafe.size(), 1u);
  EXPECT_EQ(cafe[0].begin, 3u);
  EXPECT_EQ(cafe[0].end, 8u);
  // \w is ASCII (no UCP): "caf" and "x" and "y", not the accented letters.
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0].begin, 3u);
  EXPECT_EQ(words[0].end, 6u);
  // With UTF-8 mode `.` is one whole character (two bytes here).
  ASSERT_EQ(dot.size(), 1u);
  EXPECT_EQ(dot[0].end - dot[0].begin, 4u);
}

TEST(HyperscanTest, RejectedPatternsNameTheirIndex) {
  auto lookaround = Database::Compile({{"ok"}, {"a(?=b)"}});
  ASSERT_FALSE(lookaround.has_value());
  EXPECT_EQ(lookaround.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(lookaround.error().message().find("pattern 1"), std::string::npos)
      << lookaround.error().message();
  auto empty = Database::Compile({{"a*"}});
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message().find("pattern 0"), std::string::npos);
  auto unbalanced = Database::Compile({{"(abc"}});
  ASSERT_FALSE(unbalanced.has_value());
  EXPECT_FALSE(Database::Compile({}).has_value());
}

TEST(HyperscanTest, InvalidUtf8IsRefusedWithItsOffset) {
  Database db = Compile({{"a"}});
  auto m = db.Scan(std::string("ab\xff", 3));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(m.error().message().find("offset 2"), std::string::npos) << m.error().message();
}

TEST(HyperscanTest, TooManyMatchesIsResourceExhausted) {
  Database db = Compile({{"a"}});
  auto m = db.Scan(std::string(100, 'a'), 10);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), StatusCode::kResourceExhausted);
  auto ok = db.Scan(std::string(10, 'a'), 10);
  EXPECT_TRUE(ok.has_value());
}

TEST(HyperscanTest, ConcurrentScansGiveTheSameAnswer) {
  Database db = Compile({{"needle"}, {"[0-9]{3}-[0-9]{4}"}});
  std::string text;
  for (int i = 0; i < 200; ++i) text += "hay needle 555-1234 hay ";
  auto want = db.Scan(text);
  ASSERT_TRUE(want.has_value());
  std::vector<std::thread> threads;
  std::vector<int> same(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 50; ++r) {
        auto got = db.Scan(text);
        same[t] += got.has_value() && got->size() == want->size();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(same[t], 50);
}

// Hyperscan 5.4.0 reads past the end of some texts (found by guard_detectors_fuzz with the
// secret detector's patterns); Scan works on a padded copy. The text is placed so that it ends
// exactly at a page that is not readable: without the copy this test dies with SIGSEGV.
TEST(HyperscanTest, PaddingProtectsAgainstOverRead) {
  std::ifstream in(std::string(WARDEN_TESTDATA_DIR) + "/guard/hyperscan-overread.bin",
                   std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  ASSERT_FALSE(text.empty());
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ASSERT_LT(text.size(), page);
  void* mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  char* base = static_cast<char*>(mem);
  ASSERT_EQ(mprotect(base + page, page, PROT_NONE), 0);
  char* at = base + page - text.size();
  std::memcpy(at, text.data(), text.size());
  // The secret detector's patterns take the over-reading path for this text.
  auto detector = SecretDetector::Create();
  ASSERT_TRUE(detector.has_value());
  auto m = detector->Find(std::string_view(at, text.size()));
  EXPECT_TRUE(m.has_value() || m.error().code() == StatusCode::kInvalidArgument);
  munmap(mem, 2 * page);
}

}  // namespace
}  // namespace warden::guard
