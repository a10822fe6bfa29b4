#include "http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>

#include "common/http_test_server.h"

namespace warden::http {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::StartsWith;
using warden::testing::HttpTestRequest;
using warden::testing::HttpTestResponse;
using warden::testing::HttpTestServer;

Url MustParse(std::string_view text) {
  auto url = ParseUrl(text);
  EXPECT_TRUE(url.has_value()) << text << ": " << url.error().ToString();
  return url.value_or(Url{});
}

RequestOptions Options(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  RequestOptions options;
  options.timeout = timeout;
  return options;
}

// --- ParseUrl ------------------------------------------------------------------------------

TEST(ParseUrlTest, SplitsHostPortAndTarget) {
  const Url url = MustParse("http://127.0.0.1:8080/v1/chat?x=1&y=%20");
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.host, "127.0.0.1");
  EXPECT_EQ(url.port, "8080");
  EXPECT_EQ(url.target, "/v1/chat?x=1&y=%20");
}

TEST(ParseUrlTest, DefaultsPortTo80AndTargetToSlash) {
  const Url url = MustParse("http://judge.internal");
  EXPECT_EQ(url.host, "judge.internal");
  EXPECT_EQ(url.port, "80");
  EXPECT_EQ(url.target, "/");
}

TEST(ParseUrlTest, AcceptsUpperCaseScheme) { EXPECT_EQ(MustParse("HTTP://h:81/").port, "81"); }

TEST(ParseUrlTest, StripsLeadingZerosOfPort) { EXPECT_EQ(MustParse("http://h:0081/").port, "81"); }

TEST(ParseUrlTest, IPv6LiteralLosesItsBrackets) {
  const Url url = MustParse("http://[::1]:9000/x");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, "9000");
}

TEST(ParseUrlTest, DropsFragment) { EXPECT_EQ(MustParse("http://h/a?b#frag").target, "/a?b"); }

TEST(ParseUrlTest, RefusesHttpsWithAnExplanation) {
  auto url = ParseUrl("https://api.example.com/v1");
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(url.error().message(), StartsWith("https is not supported yet; "));
}

TEST(ParseUrlTest, RefusesUserInfo) {
  for (const char* text : {"http://user:secret@h/", "http://user@h/", "http://:@h/"}) {
    auto url = ParseUrl(text);
    ASSERT_FALSE(url.has_value()) << text;
    EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(url.error().message(), HasSubstr("user information"));
    EXPECT_THAT(url.error().message(), Not(HasSubstr("secret")));
  }
}

TEST(ParseUrlTest, RefusesBadUrls) {
  const struct {
    const char* name;
    std::string text;
  } cases[] = {
      {"empty", ""},
      {"no scheme", "127.0.0.1:8080/x"},
      {"relative path", "/v1/chat/completions"},
      {"other scheme", "ftp://h/"},
      {"file scheme", "file:///etc/passwd"},
      {"no authority", "http:/x"},
      {"empty host", "http:///x"},
      {"port zero", "http://h:0/"},
      {"port too large", "http://h:65536/"},
      {"port overflowing", "http://h:99999999999999999999/"},
      {"port not a number", "http://h:80a/"},
      {"space in host", "http://a b/"},
      {"CRLF in path", "http://h/a\r\nX-Evil: 1"},
      {"percent-encoded host", "http://exa%0d%0ample.com/"},
      {"ipvfuture host", "http://[v1.fe80::a]/"},
      {"too long", "http://h/" + std::string(9000, 'a')},
  };
  for (const auto& c : cases) {
    auto url = ParseUrl(c.text);
    ASSERT_FALSE(url.has_value()) << c.name;
    EXPECT_EQ(url.error().code(), StatusCode::kInvalidArgument) << c.name;
  }
}

// --- Round trips ---------------------------------------------------------------------------

TEST(HttpClientTest, GetRoundTripCarriesHeadersBothWays) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Text(200, "hello");
    r.headers.emplace_back("X-Reply", "yes");
    return r;
  });
  RequestOptions options = Options();
  options.headers = {{"Authorization", "Bearer t0ken"}, {"X-Trace", "abc"}};
  auto response = Get(MustParse(server.url() + "/path?q=1"), options);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_THAT(response->headers, Contains(Pair("X-Reply", "yes")));

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/path?q=1");
  EXPECT_EQ(requests[0].Header("Authorization"), "Bearer t0ken");
  EXPECT_EQ(requests[0].Header("X-Trace"), "abc");
  EXPECT_EQ(requests[0].Header("Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(requests[0].body, "");
}

TEST(HttpClientTest, PostSendsBodyAndContentType) {
  HttpTestServer server([](const HttpTestRequest& request) {
    return HttpTestResponse::Json("{\"echo\":" + std::to_string(request.body.size()) + "}");
  });
  const std::string body = "{\"a\":[1,2,3]}";
  auto response = Post(MustParse(server.url() + "/v1/x"), "application/json", body, Options());
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{\"echo\":13}");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/x");
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].Header("Content-Length"), "13");
}

TEST(HttpClientTest, ErrorStatusIsAResponseNotAnError) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Text(404, "no such thing"); });
  auto response = Get(MustParse(server.url() + "/missing"), Options());
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, "no such thing");
}

TEST(HttpClientTest, ReadsChunkedResponse) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Text(200, std::string(5000, 'z'));
    r.chunked = true;
    return r;
  });
  auto response = Get(MustParse(server.url()), Options());
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->body, std::string(5000, 'z'));
}

TEST(HttpClientTest, ResolvesHostNames) {
  HttpTestServer server([](const HttpTestRequest&) { return HttpTestResponse::Text(200, "ok"); });
  auto response = Get(MustParse("http://localhost:" + std::to_string(server.port())), Options());
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->body, "ok");
}

// --- Failures ------------------------------------------------------------------------------

TEST(HttpClientTest, SlowServerTimesOutWithinTheDeadline) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Text(200, "late");
    r.delay = std::chrono::seconds(10);
    return r;
  });
  const auto start = std::chrono::steady_clock::now();
  auto response =
      Post(MustParse(server.url()), "text/plain", "x", Options(std::chrono::milliseconds(300)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.error().message(), HasSubstr("timed out after 300 ms"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1300));
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  uint16_t port = 0;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(
        ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }  // closed: nothing listens there now
  auto response = Get(MustParse("http://127.0.0.1:" + std::to_string(port) + "/"), Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.error().message(), HasSubstr("connecting"));
}

TEST(HttpClientTest, ResponseBodyOverTheCapIsResourceExhausted) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Text(200, std::string(1001, 'x')); });
  RequestOptions options = Options();
  options.max_response_bytes = 1000;
  auto response = Get(MustParse(server.url()), options);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(response.error().message(), HasSubstr("1000 bytes"));
}

TEST(HttpClientTest, ChunkedResponseOverTheCapIsResourceExhausted) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r = HttpTestResponse::Text(200, std::string(1001, 'x'));
    r.chunked = true;
    return r;
  });
  RequestOptions options = Options();
  options.max_response_bytes = 1000;
  auto response = Get(MustParse(server.url()), options);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kResourceExhausted);
}

TEST(HttpClientTest, ResponseBodyExactlyAtTheCapIsAccepted) {
  HttpTestServer server(
      [](const HttpTestRequest&) { return HttpTestResponse::Text(200, std::string(1000, 'x')); });
  RequestOptions options = Options();
  options.max_response_bytes = 1000;
  auto response = Get(MustParse(server.url()), options);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->body.size(), 1000u);
}

TEST(HttpClientTest, HugeResponseHeadersAreResourceExhausted) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.raw = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(100 << 10, 'h') +
            "\r\nContent-Length: 0\r\n\r\n";
    return r;
  });
  auto response = Get(MustParse(server.url()), Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kResourceExhausted);
}

// Bytes that end like a header block but are not HTTP: the parser rejects them -> DataLoss.
TEST(HttpClientTest, GarbageResponseIsDataLoss) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.raw = "SSH-2.0-OpenSSH_9.6\r\n\r\n";
    return r;
  });
  auto response = Get(MustParse(server.url()), Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(response.error().message(), HasSubstr("malformed HTTP response"));
}

TEST(HttpClientTest, BadContentLengthIsDataLoss) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc";
    return r;
  });
  auto response = Get(MustParse(server.url()), Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kDataLoss);
}

// The parser checks the status line as bytes arrive, so garbage is DataLoss even when the
// peer closes before a blank line.
TEST(HttpClientTest, GarbageThenCloseIsDataLoss) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.raw = "garbage without an end";
    return r;
  });
  auto response = Get(MustParse(server.url()), Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kDataLoss);
}

// A well-formed prefix followed by a closed connection is a failed connection (Unavailable).
TEST(HttpClientTest, TruncatedBodyIsUnavailable) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    return r;
  });
  auto response = Get(MustParse(server.url()), Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(response.error().message(), HasSubstr("closed before a complete response"));
}

TEST(HttpClientTest, ConnectionClosedWithoutAnswerIsUnavailable) {
  HttpTestServer server([](const HttpTestRequest&) {
    HttpTestResponse r;
    r.close_without_answer = true;
    return r;
  });
  auto response = Post(MustParse(server.url()), "text/plain", "hi", Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kUnavailable);
}

// --- Refused requests ----------------------------------------------------------------------

TEST(HttpClientTest, RefusesHeaderInjection) {
  HttpTestServer server([](const HttpTestRequest&) { return HttpTestResponse::Text(200, ""); });
  const Url url = MustParse(server.url());
  const std::vector<std::pair<std::string, std::string>> bad[] = {
      {{"X-A", "v\r\nX-Injected: 1"}},
      {{"X-A", std::string("v\0w", 3)}},
      {{"Bad Name", "v"}},
      {{"", "v"}},
      {{"Content-Length", "0"}},
      {{"transfer-encoding", "chunked"}},
      {{"Host", "elsewhere"}},
  };
  for (const auto& headers : bad) {
    RequestOptions options = Options();
    options.headers = headers;
    auto response = Get(url, options);
    ASSERT_FALSE(response.has_value()) << headers[0].first;
    EXPECT_EQ(response.error().code(), StatusCode::kInvalidArgument) << headers[0].first;
  }
  auto response = Post(url, "text/plain\r\nX-Injected: 1", "", Options());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpClientTest, RefusesHandBuiltUrlThatParseUrlWouldReject) {
  Url url{"http", "127.0.0.1", "80", "/a\r\nX-Injected: 1"};
  EXPECT_EQ(Get(url, Options()).error().code(), StatusCode::kInvalidArgument);
  url = Url{"https", "127.0.0.1", "443", "/"};
  EXPECT_EQ(Get(url, Options()).error().code(), StatusCode::kInvalidArgument);
  url = Url{"http", "127.0.0.1", "70000", "/"};
  EXPECT_EQ(Get(url, Options()).error().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, RefusesNonPositiveTimeout) {
  const Url url = MustParse("http://127.0.0.1:9/");
  EXPECT_EQ(Get(url, Options(std::chrono::milliseconds(0))).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Get(url, Options(std::chrono::milliseconds(-1))).error().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace warden::http
