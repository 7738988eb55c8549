// Query parameters. Every parameter travels in text format (PQexecParams with paramFormats = text), so a
// parameter is an optional string: nullopt is SQL NULL. The server infers each parameter's type from the
// statement, so `WHERE id = $1` with 42 sends "42" and the server parses it as the column's type.
#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace fp::pg {

using Param = std::optional<std::string>;
using Params = std::vector<Param>;

inline Param to_param(std::nullopt_t) {
  return std::nullopt;
}
inline Param to_param(std::string_view s) {
  return std::string(s);
}
inline Param to_param(const std::string& s) {
  return s;
}
inline Param to_param(std::string&& s) {
  return std::move(s);
}
inline Param to_param(const char* s) {
  return s ? Param(std::string(s)) : std::nullopt;
}
inline Param to_param(bool b) {
  return std::string(b ? "true" : "false");
}
// Shortest text that parses back to the same double; NaN and infinities in PostgreSQL's spelling.
Param to_param(double d);
inline Param to_param(float f) {
  return to_param(static_cast<double>(f));
}
// char is excluded on purpose: to_param('x') sending "120" would surprise everyone.
template <std::integral T>
requires(!std::same_as<T, bool> && !std::same_as<T, char>) Param to_param(T v) {
  return std::to_string(v);
}
template <typename T>
Param to_param(const std::optional<T>& v) {
  return v ? to_param(*v) : std::nullopt;
}
inline Param to_param(const Param& p) {
  return p;
}

template <typename... Args>
Params make_params(Args&&... args) {
  Params out;
  out.reserve(sizeof...(Args));
  (out.push_back(to_param(std::forward<Args>(args))), ...);
  return out;
}

// A PostgreSQL array literal ({"a","b"}) of the given elements, each quoted (and '"', '\\' escaped): bind it
// as one parameter and cast it in SQL ($1::text[], $1::bigint[]) instead of building an IN list.
void append_array_element(std::string& literal, std::string_view element);
template <typename Range>
Param array_param(const Range& elements) {
  std::string out = "{";
  for (const auto& e : elements) {
    if (out.size() > 1) out += ',';
    if constexpr (std::integral<std::decay_t<decltype(e)>>)
      out += std::to_string(e);
    else
      append_array_element(out, e);
  }
  out += '}';
  return out;
}

// Text parameters are NUL-terminated on the wire, so a NUL byte would silently truncate the value; this
// rejects such parameters (and more than 65535 of them, the protocol limit) before anything is sent.
Status validate_params(const Params& params);

}  // namespace fp::pg
