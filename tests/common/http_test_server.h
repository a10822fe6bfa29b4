// HttpTestServer: a real HTTP/1.1 server on 127.0.0.1 (port chosen by the OS) for tests of
// code that talks to other services: the HTTP client, the llm_judge scanner, the gateway. The
// test supplies a handler from request to response; the response can also be delayed (a slow
// upstream), dropped (the connection closes without an answer) or replaced by raw bytes (a
// broken upstream). Every request received is recorded for the test to inspect.
//
// Threading: the server runs on one thread of its own (an Asio io_context); the handler runs
// there, one request at a time, so it needs no locking for its own state unless the test reads
// that state concurrently. Delays are timers, not sleeps, so one slow response does not hold
// up other connections, and the destructor does not wait for them: it stops the thread and
// drops every open connection. requests() and port() may be called from any thread.
//
// Keep-alive is honoured (a client may send several requests on one connection); request
// bodies are capped at kMaxRequestBodyBytes (413 beyond).
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace warden::testing {

struct HttpTestRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // "/v1/chat/completions?x=1"
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // in the order received

  // The first header with this name (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return value;
      }
    }
    return "";
  }
};

struct HttpTestResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type etc.
  // Wait this long before answering (or before closing, with close_without_answer).
  std::chrono::milliseconds delay{0};
  // Close the connection instead of answering.
  bool close_without_answer = false;
  // Send these bytes instead of an HTTP response, then close.
  std::optional<std::string> raw;
  // Send the body with chunked transfer coding instead of Content-Length.
  bool chunked = false;

  static HttpTestResponse Text(int status, std::string body) {
    HttpTestResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = {{"Content-Type", "text/plain"}};
    return r;
  }
  static HttpTestResponse Json(std::string body) {
    HttpTestResponse r;
    r.body = std::move(body);
    r.headers = {{"Content-Type", "application/json"}};
    return r;
  }
};

class HttpTestServer {
 public:
  using Handler = std::function<HttpTestResponse(const HttpTestRequest&)>;

  static constexpr uint64_t kMaxRequestBodyBytes = 64 << 20;

  // Binds 127.0.0.1:0 and starts serving. Aborts the test binary if it cannot bind (there is no
  // sensible way for a test to go on without its server).
  explicit HttpTestServer(Handler handler) : handler_(std::move(handler)), acceptor_(ioc_) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) std::abort();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~HttpTestServer() {
    // Stopping the io_context abandons every pending accept, read, timer and write; their
    // handlers (which own the connections) are destroyed with the io_context, closing sockets.
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }

  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" (no trailing slash).
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every request that reached the handler, in order.
  std::vector<HttpTestRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(boost::asio::ip::tcp::socket socket, HttpTestServer* server)
        : stream_(std::move(socket)), timer_(stream_.get_executor()), server_(server) {}

    void Read() {
      parser_.emplace();
      parser_->body_limit(kMaxRequestBodyBytes);
      boost::beast::http::async_read(
          stream_, buffer_, *parser_,
          [self = shared_from_this()](boost::beast::error_code ec, size_t) { self->OnRead(ec); });
    }

   private:
    void OnRead(boost::beast::error_code ec) {
      namespace http = boost::beast::http;
      if (ec == http::error::body_limit) {
        response_ = HttpTestResponse::Text(413, "request body too large");
        keep_alive_ = false;
        Respond();
        return;
      }
      if (ec) return Close();  // the client went away or sent garbage
      auto& message = parser_->get();
      HttpTestRequest request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      request.body = message.body();
      for (const auto& field : message) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      keep_alive_ = message.keep_alive();
      {
        std::lock_guard lock(server_->mu_);
        server_->requests_.push_back(request);
      }
      try {
        response_ = server_->handler_(request);
      } catch (const std::exception& e) {
        response_ = HttpTestResponse::Text(500, std::string("test handler threw: ") + e.what());
      }
      if (response_.delay.count() > 0) {
        timer_.expires_after(response_.delay);
        timer_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
          if (!wait_ec) self->Respond();
        });
        return;
      }
      Respond();
    }

    void Respond() {
      namespace http = boost::beast::http;
      if (response_.close_without_answer) return Close();
      if (response_.raw) {
        raw_ = std::move(*response_.raw);
        boost::asio::async_write(
            stream_, boost::asio::buffer(raw_),
            [self = shared_from_this()](boost::beast::error_code, size_t) { self->Close(); });
        return;
      }
      out_.emplace();
      out_->version(11);
      // Beast refuses codes outside 0..999 (by throwing, which would end the server thread).
      const bool valid = response_.status >= 100 && response_.status <= 999;
      out_->result(static_cast<unsigned>(valid ? response_.status : 500));
      for (const auto& [name, value] : response_.headers) out_->set(name, value);
      out_->body() = std::move(response_.body);
      out_->keep_alive(keep_alive_);
      if (response_.chunked) {
        out_->chunked(true);
      } else {
        out_->prepare_payload();
      }
      http::async_write(stream_, *out_,
                        [self = shared_from_this()](boost::beast::error_code ec, size_t) {
                          if (ec || !self->keep_alive_) return self->Close();
                          self->Read();
                        });
    }

    void Close() {
      boost::beast::error_code ignored;
      stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
    }

    boost::beast::tcp_stream stream_;
    boost::asio::steady_timer timer_;
    HttpTestServer* server_;
    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    HttpTestResponse response_;
    std::optional<boost::beast::http::response<boost::beast::http::string_body>> out_;
    std::string raw_;
    bool keep_alive_ = false;
  };

  void Accept() {
    acceptor_.async_accept(
        [this](boost::beast::error_code ec, boost::asio::ip::tcp::socket socket) {
          if (ec) return;  // the acceptor was closed
          std::make_shared<Session>(std::move(socket), this)->Read();
          Accept();
        });
  }

  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<HttpTestRequest> requests_;
};

}  // namespace warden::testing
