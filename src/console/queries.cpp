#include "console/queries.h"

#include <fmt/format.h>

#include <charconv>

#include "console/html.h"
#include "console/replies.h"

namespace fp::console {

namespace {

httpd::Response bad_query(const httpd::Request& req, std::string_view field, std::string_view reason) {
  const std::string detail = fmt::format("{}: {}", field, reason);
  if (req.path.rfind("/api/", 0) == 0) return problem(400, "Invalid query", detail);
  return html_response(400, html::message("Invalid query", detail, "/"));
}

}  // namespace

std::optional<int64_t> parse_int(std::string_view s, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

std::variant<TopicQuery, httpd::Response> topic_query(const httpd::Request& req) {
  TopicQuery q;
  if (const std::string* p = req.query_value("partition")) {
    auto v = parse_int(*p, 0, 1 << 20);
    if (!v) return bad_query(req, "partition", "must be a partition number, 0 or more");
    q.partition = static_cast<int32_t>(*v);
  }
  if (const std::string* n = req.query_value("n")) {
    auto v = parse_int(*n, 1, 200);
    if (!v) return bad_query(req, "n", "must be between 1 and 200");
    q.n = static_cast<int>(*v);
  }
  return q;
}

std::variant<RunsQuery, httpd::Response> runs_query(const httpd::Request& req) {
  RunsQuery q;
  if (const std::string* b = req.query_value("before")) {
    auto v = parse_int(*b, 1, INT64_MAX);
    if (!v) return bad_query(req, "before", "must be a run id");
    q.before = *v;
  }
  if (const std::string* l = req.query_value("limit")) {
    auto v = parse_int(*l, 1, 100);
    if (!v) return bad_query(req, "limit", "must be between 1 and 100");
    q.limit = static_cast<int>(*v);
  }
  return q;
}

}  // namespace fp::console
