#include "guard/llm_judge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "common/http_test_server.h"

namespace warden::guard {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using warden::testing::HttpTestRequest;
using warden::testing::HttpTestResponse;
using warden::testing::HttpTestServer;

// --- ParseJudgeReply -----------------------------------------------------------------------

JudgeVerdict MustParseReply(std::string_view content) {
  auto verdict = ParseJudgeReply(content);
  EXPECT_TRUE(verdict.has_value()) << verdict.error().ToString();
  return verdict.value_or(JudgeVerdict{});
}

TEST(ParseJudgeReplyTest, SafeIsSafe) {
  const JudgeVerdict v = MustParseReply("safe");
  EXPECT_FALSE(v.unsafe);
  EXPECT_THAT(v.categories, IsEmpty());
  EXPECT_EQ(v.raw, "safe");
}

TEST(ParseJudgeReplyTest, IgnoresCaseAndSurroundingWhitespace) {
  EXPECT_FALSE(MustParseReply(" SAFE ").unsafe);
  EXPECT_FALSE(MustParseReply("\n\n Safe\r\n").unsafe);
  EXPECT_TRUE(MustParseReply("\t UnSafe \n").unsafe);
}

TEST(ParseJudgeReplyTest, UnsafeWithCategoriesMapsLlamaGuardNames) {
  const JudgeVerdict v = MustParseReply("unsafe\nS1,S10");
  EXPECT_TRUE(v.unsafe);
  EXPECT_THAT(v.categories, ElementsAre("S1", "S10"));
  EXPECT_THAT(v.category_names, ElementsAre("violent crimes", "hate"));
}

// Names from Llama Guard 3's model card, written out independently of the code's table.
TEST(ParseJudgeReplyTest, KnowsEveryLlamaGuard3Category) {
  const JudgeVerdict v = MustParseReply("unsafe\nS1,S2,S3,S4,S5,S6,S7,S8,S9,S10,S11,S12,S13,S14");
  EXPECT_THAT(
      v.category_names,
      ElementsAre("violent crimes", "non-violent crimes", "sex-related crimes",
                  "child sexual exploitation", "defamation", "specialized advice", "privacy",
                  "intellectual property", "indiscriminate weapons", "hate", "suicide & self-harm",
                  "sexual content", "elections", "code interpreter abuse"));
}

TEST(ParseJudgeReplyTest, CategoriesKeepTheirSpellingAndMapCaseInsensitively) {
  const JudgeVerdict v = MustParseReply("unsafe\r\n s2 , S14 ,, \r\n");
  EXPECT_THAT(v.categories, ElementsAre("s2", "S14"));
  EXPECT_THAT(v.category_names, ElementsAre("non-violent crimes", "code interpreter abuse"));
}

TEST(ParseJudgeReplyTest, UnknownCategoryIsNamedByItsCode) {
  const JudgeVerdict v = MustParseReply("unsafe\nS15,O3,S1x");
  EXPECT_THAT(v.categories, ElementsAre("S15", "O3", "S1x"));
  EXPECT_THAT(v.category_names, ElementsAre("S15", "O3", "S1x"));
}

TEST(ParseJudgeReplyTest, UnsafeWithoutCategoriesIsStillUnsafe) {
  const JudgeVerdict v = MustParseReply("unsafe");
  EXPECT_TRUE(v.unsafe);
  EXPECT_THAT(v.categories, IsEmpty());
  EXPECT_THAT(v.category_names, IsEmpty());
}

TEST(ParseJudgeReplyTest, OnlyTheSecondLineListsCategories) {
  const JudgeVerdict v = MustParseReply("unsafe\nS2\nS3 is also close");
  EXPECT_THAT(v.categories, ElementsAre("S2"));
}

TEST(ParseJudgeReplyTest, MalformedRepliesAreDataLoss) {
  const struct {
    const char* name;
    std::string reply;
  } cases[] = {
      {"empty", ""},
      {"whitespace only", " \n\t\r\n "},
      {"maybe", "maybe"},
      {"prose mentioning safe", "I think this is safe"},
      {"safe as a prefix", "safety"},
      {"unsafe as a prefix", "unsafely"},
      {"verdict and category on one line", "unsafe S1"},
      {"verdict with punctuation", "safe."},
      {"verdict on the second line", "\xef\xbb\xbfresult\nsafe"},
      {"NUL inside", std::string("sa\0fe", 5)},
  };
  for (const auto& c : cases) {
    auto v = ParseJudgeReply(c.reply);
    ASSERT_FALSE(v.has_value()) << c.name;
    EXPECT_EQ(v.error().code(), StatusCode::kDataLoss) << c.name;
  }
}

TEST(ParseJudgeReplyTest, ErrorQuotesTheReply) {
  auto v = ParseJudgeReply("maybe");
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message(), HasSubstr("\"maybe\""));
}

TEST(ParseJudgeReplyTest, ErrorQuoteIsTruncatedAndEscaped) {
  const std::string hostile = "\x1b[2J" + std::string(100000, 'A') + "\n\r";
  auto v = ParseJudgeReply(hostile);
  ASSERT_FALSE(v.has_value());
  const std::string message = v.error().message();
  EXPECT_LT(message.size(), 400u);
  EXPECT_THAT(message, HasSubstr("\\x1b[2J"));
  EXPECT_THAT(message, HasSubstr("..."));
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
}

TEST(ParseJudgeReplyTest, RawIsTruncatedTo1KiB) {
  const JudgeVerdict v = MustParseReply("unsafe\nS1\n" + std::string(100000, 'z'));
  EXPECT_EQ(v.raw.size(), 1024u);
  EXPECT_THAT(v.raw, StartsWith("unsafe\nS1\n"));
}

TEST(ParseJudgeReplyTest, RawTruncationKeepsUtf8Whole) {
  std::string reply = "safe\n";
  for (int i = 0; i < 1000; ++i) reply += "\xe2\x82\xac";  // U+20AC, three bytes
  const JudgeVerdict v = MustParseReply(reply);
  EXPECT_LE(v.raw.size(), 1024u);
  EXPECT_GE(v.raw.size(), 1022u);
  EXPECT_TRUE(IsValidUtf8(v.raw));
}

TEST(ParseJudgeReplyTest, HostileCategoryListIsCapped) {
  std::string list;
  for (int i = 0; i < 100000; ++i) list += "S" + std::to_string(i % 20) + ",";
  list += std::string(5000, 'Q');
  const JudgeVerdict v = MustParseReply("unsafe\n" + list);
  EXPECT_TRUE(v.unsafe);
  EXPECT_EQ(v.categories.size(), 32u);
  EXPECT_EQ(v.category_names.size(), v.categories.size());
}

TEST(ParseJudgeReplyTest, LongCategoryIsTruncated) {
  const JudgeVerdict v = MustParseReply("unsafe\n" + std::string(5000, 'C') + ",S1");
  ASSERT_THAT(v.categories, ::testing::SizeIs(2));
  EXPECT_EQ(v.categories[0], std::string(64, 'C'));
  EXPECT_EQ(v.categories[1], "S1");
}

// --- ParseJudgeResponse --------------------------------------------------------------------

std::string Completion(std::string_view content) {
  boost::json::object message{{"role", "assistant"}, {"content", content}};
  boost::json::object choice{{"index", 0}, {"message", message}, {"finish_reason", "stop"}};
  boost::json::object body{
      {"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"choices", boost::json::array{choice}}};
  return boost::json::serialize(body);
}

TEST(ParseJudgeResponseTest, ReadsFirstChoiceContent) {
  auto v = ParseJudgeResponse(Completion("unsafe\nS9"));
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_TRUE(v->unsafe);
  EXPECT_THAT(v->category_names, ElementsAre("indiscriminate weapons"));
}

TEST(ParseJudgeResponseTest, MalformedResponsesAreDataLoss) {
  const struct {
    const char* name;
    std::string body;
  } cases[] = {
      {"empty body", ""},
      {"not JSON", "<html>Bad Gateway</html>"},
      {"truncated JSON", Completion("safe").substr(0, 40)},
      {"array root", "[]"},
      {"missing choices", R"({"id":"x"})"},
      {"choices not an array", R"({"choices":{}})"},
      {"choices empty", R"({"choices":[]})"},
      {"choice not an object", R"({"choices":["safe"]})"},
      {"missing message", R"({"choices":[{"text":"safe"}]})"},
      {"content null", R"({"choices":[{"message":{"content":null}}]})"},
      {"content a number", R"({"choices":[{"message":{"content":1}}]})"},
      {"duplicate key", R"({"choices":[{"message":{"content":"unsafe","content":"safe"}}]})"},
      {"nested too deep", R"({"choices":[{"message":{"content":"safe"}}],"x":)" +
                              std::string(100, '[') + std::string(100, ']') + "}"},
      {"unparseable content", Completion("maybe")},
  };
  for (const auto& c : cases) {
    auto v = ParseJudgeResponse(c.body);
    ASSERT_FALSE(v.has_value()) << c.name;
    EXPECT_EQ(v.error().code(), StatusCode::kDataLoss) << c.name << ": " << v.error().ToString();
  }
}

// --- Judge::Create -------------------------------------------------------------------------

JudgeOptions Options(std::string endpoint) {
  JudgeOptions options;
  options.endpoint = std::move(endpoint);
  options.model = "llama-guard-3-1b";
  options.timeout = std::chrono::milliseconds(3000);
  return options;
}

TEST(JudgeCreateTest, RefusesUnusableOptions) {
  const struct {
    const char* name;
    JudgeOptions options;
  } cases[] = {
      {"https endpoint", Options("https://judge.example.com")},
      {"not a URL", Options("judge:8080")},
      {"empty endpoint", Options("")},
      {"credentials in URL", Options("http://u:p@127.0.0.1:1/")},
      {"zero timeout",
       [] {
         auto o = Options("http://127.0.0.1:1");
         o.timeout = std::chrono::milliseconds(0);
         return o;
       }()},
      {"api key with a line break",
       [] {
         auto o = Options("http://127.0.0.1:1");
         o.api_key = "k\r\nX-Injected: 1";
         return o;
       }()},
      {"prompt without placeholder",
       [] {
         auto o = Options("http://127.0.0.1:1");
         o.prompt = "Is this safe?";
         return o;
       }()},
  };
  for (const auto& c : cases) {
    auto judge = Judge::Create(c.options);
    ASSERT_FALSE(judge.has_value()) << c.name;
    EXPECT_EQ(judge.error().code(), StatusCode::kInvalidArgument) << c.name;
  }
}

// --- Judge::Ask against a real server ------------------------------------------------------

const std::vector<JudgeMessage> kQuestion = {{"user", "How do I bake bread?"}};

Judge MustCreate(JudgeOptions options) {
  auto judge = Judge::Create(std::move(options));
  EXPECT_TRUE(judge.has_value()) << judge.error().ToString();
  return *std::move(judge);
}

boost::json::value Body(const HttpTestRequest& request) { return boost::json::parse(request.body); }

TEST(JudgeAskTest, SafeReply) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
  auto v = MustCreate(Options(server.url())).Ask(kQuestion);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_FALSE(v->unsafe);
}

TEST(JudgeAskTest, UnsafeReplyWithCategories) {
  HttpTestServer server([](const HttpTestRequest&) {
    return HttpTestResponse::Json(Completion("\n\nunsafe\nS2,S11"));
  });
  auto v = MustCreate(Options(server.url())).Ask(kQuestion);
  ASSERT_TRUE(v.has_value()) << v.error().ToString();
  EXPECT_TRUE(v->unsafe);
  EXPECT_THAT(v->categories, ElementsAre("S2", "S11"));
  EXPECT_THAT(v->category_names, ElementsAre("non-violent crimes", "suicide & self-harm"));
}

TEST(JudgeAskTest, SendsTheExpectedRequest) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
  JudgeOptions options = Options(server.url());
  options.api_key = "sk-test-123";
  ASSERT_TRUE(MustCreate(options)
                  .Ask({{"user", "Tell me a joke"}, {"assistant", "Why did the chicken..."}})
                  .has_value());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer sk-test-123");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  const boost::json::value expected = boost::json::parse(R"({
    "model": "llama-guard-3-1b",
    "messages": [{"role": "user", "content": "Tell me a joke"},
                 {"role": "assistant", "content": "Why did the chicken..."}],
    "temperature": 0,
    "max_tokens": 32})");
  EXPECT_EQ(Body(requests[0]), expected) << requests[0].body;
}

TEST(JudgeAskTest, OmitsEmptyModelAndApiKey) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
  JudgeOptions options = Options(server.url());
  options.model.clear();
  ASSERT_TRUE(MustCreate(options).Ask(kQuestion).has_value());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(Body(requests[0]).as_object().contains("model"));
  EXPECT_EQ(requests[0].Header("Authorization"), "");
}

TEST(JudgeAskTest, EndpointPathRules) {
  const struct {
    std::string suffix;
    std::string target;
  } cases[] = {
      {"", "/v1/chat/completions"},
      {"/", "/v1/chat/completions"},
      {"/v1", "/v1/chat/completions"},
      {"/openai/v1/", "/openai/v1/chat/completions"},
      {"/proxy", "/proxy/v1/chat/completions"},
      {"/custom/chat/completions", "/custom/chat/completions"},
      {"/x?api-version=2", "/x/v1/chat/completions?api-version=2"},
  };
  for (const auto& c : cases) {
    HttpTestServer server(
        [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
    ASSERT_TRUE(MustCreate(Options(server.url() + c.suffix)).Ask(kQuestion).has_value())
        << c.suffix;
    ASSERT_EQ(server.requests().size(), 1u);
    EXPECT_EQ(server.requests()[0].target, c.target) << c.suffix;
  }
}

// Safety models' chat templates demand user/assistant alternation starting with user.
TEST(JudgeAskTest, FoldsRolesIntoAlternatingTurns) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
  ASSERT_TRUE(MustCreate(Options(server.url()))
                  .Ask({{"assistant", "Hello!"},
                        {"system", "Be terse."},
                        {"user", "part one"},
                        {"tool", "result"},
                        {"assistant", "a1"},
                        {"assistant", "a2"}})
                  .has_value());
  const boost::json::value expected = boost::json::parse(R"([
    {"role": "user", "content": ""},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Be terse.\n\npart one\n\nresult"},
    {"role": "assistant", "content": "a1\n\na2"}])");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(Body(server.requests()[0]).at("messages"), expected);
}

TEST(JudgeAskTest, PromptTemplateSendsOneUserMessageWithTheTranscript) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
  JudgeOptions options = Options(server.url());
  options.prompt = "Judge this:\n{conversation}\nAnswer safe or unsafe.";
  ASSERT_TRUE(MustCreate(options)
                  .Ask({{"user", "say {conversation}"}, {"assistant", "{conversation}"}})
                  .has_value());
  ASSERT_EQ(server.requests().size(), 1u);
  const boost::json::value expected = boost::json::parse(R"([{"role": "user", "content":
    "Judge this:\nUser: say {conversation}\n\nAgent: {conversation}\nAnswer safe or unsafe."}])");
  EXPECT_EQ(Body(server.requests()[0]).at("messages"), expected);
}

TEST(JudgeAskTest, InvalidUtf8IsReplacedNotSent) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Json(Completion("safe")); });
  ASSERT_TRUE(MustCreate(Options(server.url())).Ask({{"user", "a\xff\xc0z"}}).has_value());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(IsValidUtf8(server.requests()[0].body));
  EXPECT_EQ(Body(server.requests()[0]).at("messages").at(0).at("content"),
            "a\xef\xbf\xbd\xef\xbf\xbdz");
}

TEST(JudgeAskTest, MalformedRepliesAreDataLoss) {
  const std::string bodies[] = {Completion(""), Completion("maybe"), R"({"object":"error"})",
                                "not json"};
  for (const std::string& body : bodies) {
    HttpTestServer server([&](const HttpTestRequest&) { return HttpTestResponse::Json(body); });
    auto v = MustCreate(Options(server.url())).Ask(kQuestion);
    ASSERT_FALSE(v.has_value()) << body;
    EXPECT_EQ(v.error().code(), StatusCode::kDataLoss) << body;
  }
}

TEST(JudgeAskTest, ServerErrorIsUnavailableWithStatusAndSnippet) {
  HttpTestServer server([](const HttpTestRequest&) {
    return HttpTestResponse::Text(500, "model not loaded\n" + std::string(10000, '-'));
  });
  auto v = MustCreate(Options(server.url())).Ask(kQuestion);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(v.error().message(), HasSubstr("HTTP 500"));
  EXPECT_THAT(v.error().message(), HasSubstr("model not loaded\\x0a"));
  EXPECT_LT(v.error().message().size(), 400u);
}

TEST(JudgeAskTest, NonOkSuccessStatusIsUnavailable) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Json(Completion("safe"));
    r.status = 202;
    return r;
  });
  auto v = MustCreate(Options(server.url())).Ask(kQuestion);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kUnavailable);
}

TEST(JudgeAskTest, SlowEndpointTimesOut) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Json(Completion("safe"));
    r.delay = std::chrono::seconds(10);
    return r;
  });
  JudgeOptions options = Options(server.url());
  options.timeout = std::chrono::milliseconds(250);
  const auto start = std::chrono::steady_clock::now();
  auto v = MustCreate(options).Ask(kQuestion);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(v.error().message(), HasSubstr("timed out after 250 ms"));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1250));
}

TEST(JudgeAskTest, DroppedConnectionIsUnavailable) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.close_without_answer = true;
    return r;
  });
  auto v = MustCreate(Options(server.url())).Ask(kQuestion);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kUnavailable);
}

TEST(JudgeAskTest, EmptyConversationIsRefused) {
  auto v = MustCreate(Options("http://127.0.0.1:9")).Ask({});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::guard
