#include "common/pg/error.h"

#include <array>

namespace fp::pg {

Error::Kind classify_sqlstate(std::string_view s) {
  if (s.size() != 5) return Error::Kind::kPermanent;
  const std::string_view cls = s.substr(0, 2);
  static constexpr std::array<std::string_view, 8> kTransient = {"40001", "40P01", "55P03", "57014",
                                                                 "57P01", "57P02", "57P03", "53300"};
  if (cls == "08") return Error::Kind::kTransient;
  for (auto t : kTransient)
    if (s == t) return Error::Kind::kTransient;
  if (cls == "22" || cls == "23") return Error::Kind::kInvalidInput;
  if (s == "3D000" || s == "3F000" || s == "42P01") return Error::Kind::kNotFound;
  return Error::Kind::kPermanent;
}

Error::Kind classify_connect_failure(std::string_view msg) {
  // Lower-case markers from libpq and the server's FATAL startup messages (which are not translated
  // unless lc_messages says so; the stack runs with the C locale).
  static constexpr std::array<std::string_view, 7> kPermanent = {
      "password authentication failed", "authentication failed", "no pg_hba.conf entry", "does not exist",
      "invalid connection option",      "permission denied",     "missing \"=\" after"};
  for (auto p : kPermanent)
    if (msg.find(p) != std::string_view::npos) return Error::Kind::kPermanent;
  return Error::Kind::kTransient;
}

std::string one_line(std::string_view m) {
  std::string out;
  bool space = false;
  for (char c : m) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

Error connection_error(const PGconn* conn, std::string_view what) {
  std::string msg = conn ? one_line(PQerrorMessage(conn)) : "no connection";
  if (msg.empty()) msg = "unknown libpq error";
  const bool broken = !conn || PQstatus(conn) == CONNECTION_BAD;
  return Error{fmt::format("{}: {}", what, msg), broken ? Error::Kind::kTransient : Error::Kind::kPermanent};
}

Error result_error(const PGresult* res, const PGconn* conn, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (!state) return connection_error(conn, what);
  auto field = [&](int code) -> std::string_view {
    const char* v = PQresultErrorField(res, code);
    return v ? v : "";
  };
  std::string msg = fmt::format("{}: {} {}: {}", what, field(PG_DIAG_SEVERITY_NONLOCALIZED), state,
                                field(PG_DIAG_MESSAGE_PRIMARY));
  const auto detail = field(PG_DIAG_MESSAGE_DETAIL);
  const auto hint = field(PG_DIAG_MESSAGE_HINT);
  if (!detail.empty() || !hint.empty()) {
    msg += " (";
    if (!detail.empty()) msg += fmt::format("detail: {}", detail);
    if (!detail.empty() && !hint.empty()) msg += "; ";
    if (!hint.empty()) msg += fmt::format("hint: {}", hint);
    msg += ")";
  }
  Error::Kind kind = classify_sqlstate(state);
  if (conn && PQstatus(conn) == CONNECTION_BAD) kind = Error::Kind::kTransient;
  return Error{std::move(msg), kind, state};
}

bool is_unique_violation(const Error& e) {
  return e.code == "23505";
}

bool is_lock_not_available(const Error& e) {
  return e.code == "55P03";
}

bool is_check_violation(const Error& e) {
  return e.code == "23514";
}

bool is_cardinality_violation(const Error& e) {
  return e.code == "21000";
}

}  // namespace fp::pg
