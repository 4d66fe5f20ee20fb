// Result<T>: a small subset of std::expected (missing in g++ 12 / clang 14 C++20) used by every
// layer below the tool mains and HTTP handlers, which are the only places that catch exceptions.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tsa {

// What kind of failure an Error is; callers branch on the kind, never on the message.
enum class ErrorKind {
  kInvalidArgument,  // bad input or configuration
  kNotFound,         // a file, row or key that is not there
  kCrypto,           // OpenSSL refused (the message carries the drained error queue)
  kIo,               // file system or network
  kBusy,             // SQLite BUSY/LOCKED: retrying may help
  kStorage,          // any other SQLite failure
  kUnavailable,      // a dependency (clock, remote TSA) is not usable now
  kInternal,         // a bug or an invariant that did not hold
};

const char* ErrorKindName(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;

  // "kind: message", for logs and one-line tool errors.
  std::string ToString() const;
};

inline Error MakeError(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

// strerror(err)'s text for messages, safe from any thread (std::strerror's buffer is not).
std::string ErrnoText(int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error& error() { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

}  // namespace tsa

#define TSA_CONCAT_INNER(a, b) a##b
#define TSA_CONCAT(a, b) TSA_CONCAT_INNER(a, b)

// Returns the error of a failed Result/Status from the enclosing function. The temporary's name is
// unique per expansion so that TSA_TRY inside a lambda inside TSA_TRY does not shadow.
// `tmp` and `lhs` below are a name and a declaration, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TSA_TRY(expr) TSA_TRY_IMPL(TSA_CONCAT(tsa_try_result_, __COUNTER__), expr)
#define TSA_TRY_IMPL(tmp, expr)   \
  do {                            \
    auto&& tmp = (expr);          \
    if (!tmp) return tmp.error(); \
  } while (0)

// auto x = value of expr, or return its error.
#define TSA_ASSIGN_OR_RETURN(lhs, expr) TSA_ASSIGN_OR_RETURN_IMPL(TSA_CONCAT(tsa_res_, __COUNTER__), lhs, expr)
#define TSA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp) return std::move(tmp.error());        \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
