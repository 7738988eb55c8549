#include "common/pg/rows.h"

#include <charconv>
#include <cstdlib>

namespace fp::pg {
namespace {

template <typename T>
Result<T> parse_number(std::string_view text, std::string_view type) {
  T v{};
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec == std::errc::result_out_of_range) return invalid_input("{:?} is out of range for {}", text, type);
  if (ec != std::errc() || p != end) return invalid_input("{:?} is not a valid {}", text, type);
  return v;
}

}  // namespace

template <>
Result<int64_t> parse_text<int64_t>(std::string_view t) {
  return parse_number<int64_t>(t, "int64");
}
template <>
Result<int32_t> parse_text<int32_t>(std::string_view t) {
  return parse_number<int32_t>(t, "int32");
}
template <>
Result<double> parse_text<double>(std::string_view t) {
  // from_chars accepts an optional minus and "nan", "inf", "infinity" in any case: PostgreSQL's spellings.
  return parse_number<double>(t, "double");
}
template <>
Result<bool> parse_text<bool>(std::string_view t) {
  if (t == "t" || t == "true") return true;
  if (t == "f" || t == "false") return false;
  return invalid_input("{:?} is not a boolean", t);
}
template <>
Result<std::string> parse_text<std::string>(std::string_view t) {
  return std::string(t);
}

std::string_view Rows::column_name(int col) const {
  if (!res_ || col < 0 || col >= columns()) return {};
  return PQfname(res_.get(), col);
}

Result<int> Rows::column(std::string_view name) const {
  for (int c = 0; c < columns(); ++c)
    if (column_name(c) == name) return c;
  return Error{fmt::format("no column {:?} in the result", name), Error::Kind::kNotFound};
}

int64_t Rows::affected() const {
  if (!res_) return 0;
  const char* n = PQcmdTuples(res_.get());
  if (!n || !*n) return 0;
  auto v = parse_text<int64_t>(n);
  return v.ok() ? *v : 0;
}

std::string_view Rows::command_tag() const {
  if (!res_) return {};
  const char* s = PQcmdStatus(res_.get());
  return s ? s : "";
}

Result<std::optional<std::string_view>> Rows::text(int row, int col) const {
  if (row < 0 || row >= size()) return invalid_input("row {} out of range (result has {} rows)", row, size());
  if (col < 0 || col >= columns())
    return invalid_input("column {} out of range (result has {} columns)", col, columns());
  if (PQgetisnull(res_.get(), row, col)) return std::optional<std::string_view>{};
  return std::optional<std::string_view>{std::string_view(
      PQgetvalue(res_.get(), row, col), static_cast<size_t>(PQgetlength(res_.get(), row, col)))};
}

std::string Rows::describe(int row, int col) const {
  return fmt::format("row {} column {:?}", row, column_name(col));
}

}  // namespace fp::pg
