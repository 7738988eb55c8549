// Errors are values: every fallible operation returns Result<T>, which holds either the value or an Error
// that carries what failed and the chain of context it failed in ("load object raw/x: COPY: connection
// lost").
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

namespace fp {

struct Error {
  // Kinds let callers decide whether to retry without parsing messages.
  enum class Kind { kPermanent, kTransient, kInvalidInput, kNotFound };

  Error() = default;
  explicit Error(std::string msg, Kind k = Kind::kPermanent, std::string c = {})
      : message(std::move(msg)), kind(k), code(std::move(c)) {}

  std::string message;
  Kind kind = Kind::kPermanent;
  // The source's machine-readable cause if any: a PostgreSQL SQLSTATE ("23505"), a CURLcode ("curl:7"), else
  // empty. Context keeps it; callers match on it (pg::is_unique_violation, ...), never on the message.
  std::string code;

  // Prefixes context: Error{"timeout"}.context("GET /x") -> "GET /x: timeout". Kind and code stay.
  Error context(std::string_view what) const& {
    return Error{fmt::format("{}: {}", what, message), kind, code};
  }
  Error context(std::string_view what) && {
    message = fmt::format("{}: {}", what, message);
    return std::move(*this);
  }
  // The same error (message and code) of another kind: a caller that knows better, e.g. that a retry
  // cannot help.
  Error as(Kind k) && {
    kind = k;
    return std::move(*this);
  }
  bool transient() const { return kind == Kind::kTransient; }
};

template <typename... Args>
Error make_error(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...)};
}
template <typename... Args>
Error transient_error(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...), Error::Kind::kTransient};
}
template <typename... Args>
Error invalid_input(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...), Error::Kind::kInvalidInput};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design, like std::expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace fp

// Propagates an error with added context; evaluates to the value otherwise (GNU statement expression,
// supported by GCC and Clang, the two compilers we build with).
#define FP_TRY(expr, ctx)                                          \
  __extension__({                                                  \
    auto _fp_r = (expr);                                           \
    if (!_fp_r.ok()) return std::move(_fp_r).error().context(ctx); \
    std::move(_fp_r).value();                                      \
  })
#define FP_CHECK(expr, ctx)                                        \
  do {                                                             \
    auto _fp_r = (expr);                                           \
    if (!_fp_r.ok()) return std::move(_fp_r).error().context(ctx); \
  } while (0)
