// The trip record's SQL lists, parameters and row reader (sql.h), built from kFields.
#include "common/trip/sql.h"

#include <fmt/format.h>

#include <array>

#include "common/pg/params.h"
#include "common/trip/text.h"

namespace fp::trip {

namespace {

// The SQL type of each Kind, in the enum's order.
constexpr std::array<std::string_view, 4> kSqlTypes = {"int", "timestamp", "float8", "text"};

// The value of one column as statement text: numbers in their shortest form, the time as
// "YYYY-MM-DD HH:MM:SS", text as it is.
template <typename F>
std::string text_of(const Measurement& m, const F& f) {
  if constexpr (kIsText<F>) {
    return m.*f.member;
  } else if constexpr (kIsTime<F>) {
    return format_time(m.*f.member);
  } else {
    return fmt::format("{}", m.*f.member);
  }
}

// A PostgreSQL array literal of quoted elements ({"a","b"}); the values are validated, quoting is for safety.
template <typename T>
std::string array_literal(const std::vector<const Measurement*>& ms, const Field<T>& f) {
  std::string out = "{";
  for (size_t i = 0; i < ms.size(); ++i) {
    if (i) out += ',';
    pg::append_array_element(out, text_of(*ms[i], f));
  }
  out += '}';
  return out;
}

}  // namespace

std::string select_list(std::string_view qualifier, std::string_view time_expr) {
  std::string out;
  for_each_field([&](const auto& f) {
    if (!out.empty()) out += ", ";
    const std::string column = fmt::format("{}{}", qualifier, f.name);
    if (f.kind == Kind::kTimestamp) {
      out += fmt::format(fmt::runtime(time_expr), column);
      out += fmt::format(" AS {}", f.name);
    } else {
      out += column;
    }
  });
  return out;
}

std::string placeholders(int first) {
  std::string out;
  for_each_field([&](const auto& f) {
    if (!out.empty()) out += ", ";
    out += fmt::format("${}{}", first++, f.kind == Kind::kTimestamp ? "::timestamp" : "");
  });
  return out;
}

std::string array_placeholders(int first) {
  std::string out;
  for_each_field([&](const auto& f) {
    if (!out.empty()) out += ", ";
    out += fmt::format("${}::{}[]", first++, kSqlTypes[static_cast<size_t>(f.kind)]);
  });
  return out;
}

pg::Params to_params(const Measurement& m) {
  pg::Params out;
  out.reserve(kColumnCount);
  for_each_field([&](const auto& f) {
    if constexpr (kIsTime<decltype(f)>) {
      out.push_back(format_time(m.*f.member));
    } else {
      out.push_back(pg::to_param(m.*f.member));
    }
  });
  return out;
}

pg::Params to_array_params(const std::vector<const Measurement*>& ms) {
  pg::Params out;
  out.reserve(kColumnCount);
  for_each_field([&](const auto& f) { out.push_back(array_literal(ms, f)); });
  return out;
}

Status read_row(const pg::Rows& rows, int row, int first, Measurement& m, int64_t& time) {
  Status st = ok_status();
  int col = first;
  for_each_field([&](const auto& f) {
    if (!st.ok()) return;
    using T = std::remove_cvref_t<decltype(m.*f.member)>;
    auto v = rows.get<T>(row, col++);
    if (!v.ok()) {
      st = std::move(v).error().context(f.name);
    } else if constexpr (kIsTime<decltype(f)>) {
      time = *v;
    } else {
      m.*f.member = std::move(*v);
    }
  });
  return st;
}

}  // namespace fp::trip
