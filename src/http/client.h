// A small HTTP/1.1 client on Boost.Beast for the calls warden makes to other services (the
// `llm_judge` scanner today; the gateway's upstream proxy later): one request per connection,
// plain http:// (https:// is refused with a clear error until TLS lands with the gateway),
// a deadline that covers resolve, connect, write and read together, and a cap on the
// response body.
//
// Errors: InvalidArgument for a URL it cannot use; Unavailable for resolve/connect/I/O
// failures and for the deadline ("timed out after 500 ms"); ResourceExhausted for a response
// larger than max_response_bytes; DataLoss for a malformed response. An HTTP error status is
// not an error: the caller reads Response::status.
//
// Thread-safety: every call is independent (its own io_context).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace warden::http {

struct Url {
  std::string scheme;  // "http"
  std::string host;
  std::string port;    // "80" when absent
  std::string target;  // path and query, "/" when absent
};

// Parses with Boost.URL. InvalidArgument for anything but an absolute http URL.
Result<Url> ParseUrl(std::string_view text);

struct Response {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct RequestOptions {
  std::chrono::milliseconds timeout{5000};
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization
  uint64_t max_response_bytes = 8 << 20;
};

Result<Response> Post(const Url& url, std::string_view content_type, std::string_view body,
                      const RequestOptions& options);
Result<Response> Get(const Url& url, const RequestOptions& options);

}  // namespace warden::http
