#include "http/client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace warden::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Longer URLs are almost certainly a mistake or an attack on whatever logs them.
constexpr size_t kMaxUrlBytes = 8 << 10;
// Response headers are not counted in max_response_bytes; this bounds them separately.
constexpr uint32_t kMaxResponseHeaderBytes = 64 << 10;
// The deadline is added to steady_clock::now(); a day is far beyond any sensible call and far
// from overflowing the clock's representation.
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24);

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// RFC 9110 token characters: what a header field name may contain.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAsciiAlnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// A decimal port in 1..65535, or nothing.
std::optional<uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// A header value must not smuggle a second header or a second request into the connection.
bool IsSafeHeaderValue(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string UrlForMessages(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + url.host + "]" : url.host) + ":" + url.port + url.target;
}

std::string HostHeader(const Url& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + url.host + "]" : url.host;
  if (url.port != "80") host += ":" + url.port;
  return host;
}

// Resolves host names on a thread of its own: getaddrinfo cannot be cancelled, and Asio's
// resolver joins its worker thread when its io_context goes away, so a slow DNS server would
// hold the caller past its deadline either way. A detached thread that outlives a timed-out
// call costs one blocked thread until the lookup ends, which is the lesser evil.
struct ResolveState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
};

Result<std::vector<tcp::endpoint>> Resolve(const Url& url, Clock::time_point deadline,
                                           std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(url.host, ec);
  if (!ec) return std::vector<tcp::endpoint>{tcp::endpoint(address, *ParsePort(url.port))};

  auto state = std::make_shared<ResolveState>();
  try {
    std::thread([state, host = url.host, service = url.port] {
      asio::io_context ioc;
      tcp::resolver resolver(ioc);
      boost::system::error_code error;
      std::vector<tcp::endpoint> found;
      try {
        for (const auto& entry : resolver.resolve(host, service, error)) {
          found.push_back(entry.endpoint());
        }
      } catch (const std::exception&) {
        error = asio::error::no_memory;
      }
      std::lock_guard lock(state->mu);
      state->ec = error;
      state->endpoints = std::move(found);
      state->done = true;
      state->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    return UnavailableError("cannot start a resolver thread: " + std::string(e.what()));
  }
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_until(lock, deadline, [&] { return state->done; })) {
    return UnavailableError("timed out after " + std::to_string(timeout.count()) +
                            " ms (resolving " + url.host + ")");
  }
  if (state->ec) {
    return UnavailableError("cannot resolve " + url.host + ": " + state->ec.message());
  }
  if (state->endpoints.empty()) return UnavailableError("no address for " + url.host);
  return std::move(state->endpoints);
}

Status MapError(const boost::system::error_code& ec, std::string_view phase,
                std::chrono::milliseconds timeout, uint64_t max_response_bytes) {
  if (ec == beast::error::timeout) {
    return UnavailableError("timed out after " + std::to_string(timeout.count()) + " ms (" +
                            std::string(phase) + ")");
  }
  if (ec == bhttp::error::body_limit) {
    return ResourceExhaustedError("response body exceeds " + std::to_string(max_response_bytes) +
                                  " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    return ResourceExhaustedError("response headers exceed " +
                                  std::to_string(kMaxResponseHeaderBytes) + " bytes");
  }
  // The peer went away before a whole response arrived (end_of_stream: nothing came back,
  // partial_message: a prefix did). That is a failed connection, not a malformed answer.
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
    return UnavailableError("connection closed before a complete response (" + std::string(phase) +
                            ")");
  }
  // Every other parser error means bytes came back that are not HTTP/1.x.
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
    return DataLossError("malformed HTTP response: " + ec.message());
  }
  return UnavailableError(std::string(phase) + ": " + ec.message());
}

// Framing and routing headers are the client's to write; letting a caller set them would let
// it desynchronize the request (two lengths, a second request in the body).
bool IsReservedHeader(std::string_view name) {
  for (std::string_view reserved : {"content-length", "transfer-encoding", "connection", "host"}) {
    if (EqualsIgnoreCase(name, reserved)) return true;
  }
  return false;
}

Result<Response> Send(bhttp::verb verb, const Url& url, std::string_view content_type,
                      std::string_view body, const RequestOptions& options) {
  // A Url built by hand rather than by ParseUrl gets the same scrutiny before it reaches a
  // request line or a Host header.
  if (url.scheme != "http" || url.host.empty() || !ParsePort(url.port) || url.target.empty() ||
      url.target[0] != '/' || !IsSafeHeaderValue(url.target) ||
      url.target.find(' ') != std::string::npos || !IsSafeHeaderValue(url.host)) {
    return InvalidArgumentError("not a usable URL (parse it with http::ParseUrl)");
  }
  if (options.timeout <= std::chrono::milliseconds(0) || options.timeout > kMaxTimeout) {
    return InvalidArgumentError("timeout must be in (0, 24 h], got " +
                                std::to_string(options.timeout.count()) + " ms");
  }
  for (const auto& [name, value] : options.headers) {
    if (!IsToken(name) || !IsSafeHeaderValue(value)) {
      return InvalidArgumentError("invalid request header \"" + name.substr(0, 64) + "\"");
    }
    if (IsReservedHeader(name)) {
      return InvalidArgumentError("request header \"" + name + "\" is set by the client");
    }
  }
  if (!IsSafeHeaderValue(content_type)) return InvalidArgumentError("invalid content type");

  const Clock::time_point deadline = Clock::now() + options.timeout;
  const std::string what = std::string(bhttp::to_string(verb)) + " " + UrlForMessages(url);
  try {
    auto endpoints = Resolve(url, deadline, options.timeout);
    if (!endpoints) return endpoints.error().WithContext(what);

    bhttp::request<bhttp::string_body> request{verb, url.target, 11};
    request.set(bhttp::field::host, HostHeader(url));
    request.set(bhttp::field::user_agent, "warden");
    for (const auto& [name, value] : options.headers) request.set(name, value);
    if (verb == bhttp::verb::post) {
      request.set(bhttp::field::content_type, content_type);
      request.body() = std::string(body);
    }
    request.keep_alive(false);  // one request per connection
    request.prepare_payload();

    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options.max_response_bytes);
    parser.header_limit(kMaxResponseHeaderBytes);

    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    // One deadline for connect, write and read together: the stream's timer closes the socket
    // when it fires, whichever operation is pending then.
    stream.expires_at(deadline);
    beast::flat_buffer buffer;
    boost::system::error_code error;
    std::string_view phase = "connecting";
    stream.async_connect(
        *endpoints, [&](const boost::system::error_code& ec, const tcp::endpoint&) {
          if (ec) {
            error = ec;
            return;
          }
          phase = "sending the request";
          bhttp::async_write(stream, request, [&](const boost::system::error_code& ec, size_t) {
            if (ec) {
              error = ec;
              return;
            }
            phase = "reading the response";
            bhttp::async_read(stream, buffer, parser,
                              [&](const boost::system::error_code& ec, size_t) { error = ec; });
          });
        });
    ioc.run();
    if (error) {
      return MapError(error, phase, options.timeout, options.max_response_bytes).WithContext(what);
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

    auto& message = parser.get();
    Response response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(message.body());
    return response;
  } catch (const std::exception& e) {
    return InternalError(what + ": " + e.what());
  }
}

}  // namespace

Result<Url> ParseUrl(std::string_view text) {
  if (text.size() > kMaxUrlBytes) {
    return InvalidArgumentError("URL longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  }
  try {
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed) {
      // Absolute URIs may not carry a fragment; accept one (it never reaches the server).
      parsed = boost::urls::parse_uri(text);
    }
    if (!parsed) {
      return InvalidArgumentError("not a valid absolute URL: " + parsed.error().message());
    }
    const boost::urls::url_view& u = *parsed;
    const std::string_view scheme = u.scheme();
    if (EqualsIgnoreCase(scheme, "https")) {
      return InvalidArgumentError(
          "https is not supported yet; use http:// to a local endpoint or a TLS-terminating "
          "proxy");
    }
    if (!EqualsIgnoreCase(scheme, "http")) {
      return InvalidArgumentError("unsupported URL scheme \"" + std::string(scheme) +
                                  "\" (only http:// is supported)");
    }
    if (!u.has_authority()) return InvalidArgumentError("URL has no host");
    // Credentials in a URL end up in logs and error messages; headers are the place for them.
    if (u.has_userinfo()) {
      return InvalidArgumentError(
          "URL must not contain user information (user:password@); "
          "pass credentials as a header");
    }
    Url url;
    url.scheme = "http";
    switch (u.host_type()) {
      case boost::urls::host_type::ipv4:
        url.host = u.host_ipv4_address().to_string();
        break;
      case boost::urls::host_type::ipv6:
        url.host = u.host_ipv6_address().to_string();
        break;
      case boost::urls::host_type::name: {
        const std::string_view name = u.encoded_host_name();
        // Plain DNS names only: percent escapes could decode to bytes that do not belong in a
        // Host header or a resolver call.
        const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
          return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_';
        });
        if (!plain) {
          return InvalidArgumentError("URL host must be a plain DNS name or an IP address");
        }
        url.host = std::string(name);
        break;
      }
      default:
        return InvalidArgumentError("URL host must be a DNS name or an IP address");
    }
    if (url.host.empty()) return InvalidArgumentError("URL has no host");
    url.port = "80";
    if (u.has_port() && !u.port().empty()) {
      // Leading zeros are legal in a URL ("http://h:0080") but mean nothing; strip them so the
      // Host header and messages show the port as a number.
      std::string_view port = u.port();
      while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
      const std::optional<uint16_t> number = ParsePort(port);
      if (!number) {
        return InvalidArgumentError("URL port " + std::string(u.port().substr(0, 16)) +
                                    " is not in 1..65535");
      }
      url.port = std::to_string(*number);
    }
    url.target = std::string(u.encoded_path());
    // RFC 3986 ends the authority at the first '/', so a path here always starts with one;
    // Boost.URL 1.81 nevertheless reads "http://h:80a/" as port 80 and path "a/".
    if (!url.target.empty() && url.target[0] != '/') {
      return InvalidArgumentError("URL authority is malformed (bad port?)");
    }
    if (url.target.empty()) url.target = "/";
    if (u.has_query()) url.target += "?" + std::string(u.encoded_query());
    return url;
  } catch (const std::exception& e) {
    return InternalError(std::string("URL parser failed: ") + e.what());
  }
}

Result<Response> Post(const Url& url, std::string_view content_type, std::string_view body,
                      const RequestOptions& options) {
  return Send(bhttp::verb::post, url, content_type, body, options);
}

Result<Response> Get(const Url& url, const RequestOptions& options) {
  return Send(bhttp::verb::get, url, {}, {}, options);
}

}  // namespace warden::http
