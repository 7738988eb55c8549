#include "common/pg/params.h"

#include <cmath>

namespace fp::pg {

Param to_param(double d) {
  if (std::isnan(d)) return std::string("NaN");
  if (std::isinf(d)) return std::string(d > 0 ? "Infinity" : "-Infinity");
  return fmt::format("{}", d);  // fmt's default is the shortest round-trip representation
}

Status validate_params(const Params& params) {
  if (params.size() > 65535)
    return invalid_input("{} parameters exceed the protocol limit of 65535", params.size());
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i] && params[i]->find('\0') != std::string::npos)
      return invalid_input("parameter ${} contains a NUL byte, which PostgreSQL text cannot hold", i + 1);
  return ok_status();
}

void append_array_element(std::string& literal, std::string_view element) {
  literal += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') literal += '\\';
    literal += c;
  }
  literal += '"';
}

}  // namespace fp::pg
