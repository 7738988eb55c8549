// A query result: owns the PGresult and reads text-format values into C++ types. Getters return Result<T>
// so a NULL where a value was expected, a value that does not parse, or an unknown column is an error value,
// never an exception or a silent zero. Ask for std::optional<T> where NULL is legitimate.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/error.h"

namespace fp::pg {

namespace detail {
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

// Parsers for one non-NULL text value. Supported: int64_t, int32_t, double, bool, std::string.
template <typename T>
Result<T> parse_text(std::string_view text);
template <>
Result<int64_t> parse_text<int64_t>(std::string_view text);
template <>
Result<int32_t> parse_text<int32_t>(std::string_view text);
template <>
Result<double> parse_text<double>(std::string_view text);
template <>
Result<bool> parse_text<bool>(std::string_view text);
template <>
Result<std::string> parse_text<std::string>(std::string_view text);

class Rows {
 public:
  Rows() = default;
  explicit Rows(detail::ResultPtr res) : res_(std::move(res)) {}

  int size() const { return res_ ? PQntuples(res_.get()) : 0; }
  bool empty() const { return size() == 0; }
  int columns() const { return res_ ? PQnfields(res_.get()) : 0; }
  std::string_view column_name(int col) const;
  // The index of a column by name (exact match; the server folds unquoted names to lower case).
  Result<int> column(std::string_view name) const;
  // Rows affected by INSERT/UPDATE/DELETE/COPY/SELECT... (PQcmdTuples), 0 when the command reports none.
  int64_t affected() const;
  // The command tag, e.g. "INSERT 0 3".
  std::string_view command_tag() const;

  // The raw text of a value, nullopt for NULL; an out-of-range row or column is an error.
  Result<std::optional<std::string_view>> text(int row, int col) const;

  template <typename T>
  Result<T> get(int row, int col) const {
    auto t = text(row, col);
    if (!t.ok()) return std::move(t).error();
    if constexpr (detail::is_optional<T>::value) {
      if (!t.value()) return T{std::nullopt};
      auto v = parse_text<typename T::value_type>(**t);
      if (!v.ok()) return std::move(v).error().context(describe(row, col));
      return T{std::move(v).value()};
    } else {
      if (!t.value()) return invalid_input("{}: is NULL (read it as std::optional)", describe(row, col));
      auto v = parse_text<T>(**t);
      if (!v.ok()) return std::move(v).error().context(describe(row, col));
      return v;
    }
  }
  template <typename T>
  Result<T> get(int row, std::string_view col) const {
    auto c = column(col);
    if (!c.ok()) return std::move(c).error();
    return get<T>(row, *c);
  }

  const PGresult* raw() const { return res_.get(); }

 private:
  std::string describe(int row, int col) const;
  detail::ResultPtr res_;
};

}  // namespace fp::pg
