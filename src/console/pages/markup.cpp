#include "console/pages/markup.h"

#include <fmt/format.h>

#include "common/http/client.h"
#include "common/http/csrf.h"
#include "common/http/markup.h"
#include "console/format.h"
#include "console/html.h"
#include "console/token.h"

namespace fp::console::html {

using nlohmann::json;

std::string e(std::string_view s) {
  return escape_markup(s);
}

std::string http_path_segment(std::string_view s) {
  return http::url_encode(s);
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int64_t int_of(const json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string badge(std::string_view state) {
  static const char* good[] = {"healthy", "RUNNING", "success", "PASS", "Stable", "active"};
  static const char* idle[] = {"stopped",
                               "not running",
                               "Empty",
                               "skipped",
                               "running",
                               "PAUSED",
                               "UNASSIGNED",
                               "RESTARTING",
                               "restarting",
                               "PreparingRebalance",
                               "CompletingRebalance",
                               "inactive"};
  const char* cls = state == "warning" ? "warn" : "bad";  // a part that works but needs a look
  for (const char* g : good)
    if (state == g) cls = "good";
  for (const char* i : idle)
    if (state == i) cls = "idle";
  return fmt::format("<span class=\"badge {}\">{}</span>", cls, e(state));
}

std::string error_box(const json& panel) {
  if (!panel.is_object() || !panel.contains("error")) return "";
  return fmt::format("<div class=\"panel-error\" role=\"alert\"><strong>Unavailable.</strong> {}</div>\n",
                     e(text_of(panel, "error")));
}

bool failed(const json& panel) {
  return panel.is_object() && panel.contains("error");
}

std::string table_open(std::initializer_list<std::pair<const char*, bool>> headers) {
  std::string out = "<div class=\"table-wrap\"><table>\n<thead><tr>";
  for (const auto& [h, numeric] : headers)
    out += fmt::format("<th scope=\"col\"{}>{}</th>", numeric ? " class=\"num\"" : "", h);
  return out + "</tr></thead>\n<tbody>\n";
}

std::string td_num(int64_t v) {
  return fmt::format("<td class=\"num\">{}</td>", grouped(v));
}

std::string trace_details(const std::string& trace) {
  if (trace.empty()) return "";
  return fmt::format("<details class=\"trace\"><summary>stack trace</summary><pre>{}</pre></details>",
                     e(truncate_utf8(trace, 16384)));
}

std::string action_form(std::string_view action, std::string_view csrf_token, std::string_view label,
                        std::string_view id) {
  return fmt::format(
      "<form method=\"post\" action=\"{0}\" class=\"action\">"
      "<input type=\"hidden\" name=\"{1}\" value=\"{2}\">"
      "<label for=\"tok-{5}\">Operator token</label>"
      "<input id=\"tok-{5}\" name=\"{3}\" type=\"password\" autocomplete=\"off\" required>"
      "<button type=\"submit\">{4}</button></form>",
      e(action), Csrf::kFieldName, e(csrf_token), kTokenField, e(label), e(id));
}

std::string notice_box(std::string_view notice) {
  if (notice.empty()) return "";
  return fmt::format("<div class=\"notice-ok\" role=\"status\">{}</div>\n", e(notice));
}

std::string page(std::string_view title, std::string_view active, std::string_view body) {
  static const std::pair<const char*, const char*> nav[] = {
      {"/", "Overview"}, {"/topics", "Topics"},           {"/groups", "Consumer groups"},
      {"/cdc", "CDC"},   {"/batch", "Batch & warehouse"}, {"/dbt/", "dbt docs"}};
  std::string out = fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{} · fleetpipe console</title>\n<link rel=\"stylesheet\" href=\"/static/console.css\">\n"
      "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
      "<script src=\"/static/console.js\" defer></script>\n</head>\n<body>\n"
      "<header class=\"topbar\"><a class=\"brand\" href=\"/\">fleetpipe</a><span class=\"tagline\">console"
      "</span><nav>",
      e(title));
  for (const auto& [href, label] : nav) {
    const bool on = active == href;
    out += fmt::format("<a href=\"{}\"{}>{}</a>", href, on ? " aria-current=\"page\"" : "", label);
  }
  out += "</nav></header>\n<main>\n";
  out += body;
  out +=
      "</main>\n<footer class=\"foot\">fleetpipe console · read-only unless an action is confirmed with the "
      "operator token · <a href=\"/api/overview\">JSON API</a> · <a href=\"/metrics\">metrics</a></footer>\n"
      "</body>\n</html>\n";
  return out;
}

std::string message(std::string_view title, std::string_view text, std::string_view back) {
  return page(title, "",
              fmt::format("<section class=\"card notice\"><h1>{}</h1><p>{}</p><p><a href=\"{}\">Back</a></p>"
                          "</section>\n",
                          e(title), e(text), e(back)));
}

}  // namespace fp::console::html
