// Status and Result<T>: warden's error values.
//
// Our code does not throw. A function that can fail returns a Status (no value) or a
// Result<T> (a value or a Status). Result<T> uses std::expected's member names
// (has_value, value, error, operator*, value_or) so that moving to C++23 is mechanical.
//
// A Status is cheap when OK (an empty message and a code); it is [[nodiscard]] so that a
// dropped error is a compile error under -Werror.
//
// Thread-safety: values; no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace warden {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller passed something unusable (a usage error)
  kNotFound,            // a file, key or entry does not exist
  kFailedPrecondition,  // the system is not in a state where the call can run
  kDataLoss,            // malformed or truncated input (file, bundle, config)
  kUnavailable,         // a peer or resource is temporarily unreachable
  kResourceExhausted,   // a limit was hit (size, count, memory, rate)
  kPermissionDenied,    // the OS or a policy refused
  kInternal,            // a bug or an unexpected library failure
  kVerificationFailed,  // a check ran and did not pass; message says expected vs actual
};

// Returns a stable lower-case name for a code ("data_loss", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "data_loss: model.gguf: offset 24: tensor count 2^40 exceeds ..." style text.
  std::string ToString() const;

  // Returns a copy with `context + ": "` put in front of the message (no-op when OK).
  Status WithContext(std::string_view context) const;

  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status NotFoundError(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
inline Status FailedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status DataLossError(std::string m) { return Status(StatusCode::kDataLoss, std::move(m)); }
inline Status UnavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status ResourceExhaustedError(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}
inline Status PermissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status InternalError(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status VerificationFailedError(std::string m) {
  return Status(StatusCode::kVerificationFailed, std::move(m));
}

// Result<T>: either a T or a non-OK Status. Constructing from an OK Status is a programmer
// error and is turned into an Internal error rather than undefined behaviour.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(value) {}                  // NOLINT: implicit by design
  Result(T&& value) : v_(std::move(value)) {}            // NOLINT
  Result(Status status) : v_(Fix(std::move(status))) {}  // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, Result>>>
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  bool ok() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error; an OK Status when a value is held.
  Status error() const { return has_value() ? Status() : std::get<1>(v_); }
  Status status() const { return error(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  static Status Fix(Status s) {
    if (s.ok()) return InternalError("Result constructed from an OK status without a value");
    return s;
  }
  std::variant<T, Status> v_;
};

}  // namespace warden

#define WARDEN_CONCAT_INNER_(a, b) a##b
#define WARDEN_CONCAT_(a, b) WARDEN_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define WARDEN_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::warden::Status warden_status_ = (expr);        \
    if (!warden_status_.ok()) return warden_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its error from the enclosing function.
#define WARDEN_ASSIGN_OR_RETURN(lhs, expr) \
  WARDEN_ASSIGN_OR_RETURN_IMPL_(WARDEN_CONCAT_(warden_result_, __LINE__), lhs, expr)
#define WARDEN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(tmp).value()

// For programmer errors only: never for bytes from a file, a socket, a model or a user.
#define WARDEN_CHECK(cond)                                                  \
  do {                                                                      \
    if (!(cond)) ::warden::internal_check::Fail(#cond, __FILE__, __LINE__); \
  } while (0)

namespace warden::internal_check {
[[noreturn]] void Fail(const char* cond, const char* file, int line);
}  // namespace warden::internal_check
