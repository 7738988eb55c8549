// The console's pages live one per file in console/pages/: each file holds a page's view (the JSON its
// /api/ route serves, declared in console/views.h) beside the HTML that renders it (console/html.h), so a
// panel's query and its markup change together, in one place. app.cpp only routes. This header holds
// what every page's HTML is built from: escaping, the JSON accessors the renderers read panels with,
// badges, tables, action forms and notices (the frame, page(), is in html.h).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace fp::console::html {

// Escapes a value for the markup (escape_markup); every value from the pipeline goes through it.
std::string e(std::string_view s);

// A topic or connector name as one URL path segment ('/' and everything else outside RFC 3986's
// unreserved set percent-encoded).
std::string http_path_segment(std::string_view s);

// A panel's field as text ("" when missing or null; non-strings as JSON), or as an integer.
std::string text_of(const nlohmann::json& j, const char* key);
int64_t int_of(const nlohmann::json& j, const char* key, int64_t fallback = 0);

// A coloured state label: green for working states, grey for idle ones, red for the rest.
std::string badge(std::string_view state);

// A panel's error, or empty when it has data.
std::string error_box(const nlohmann::json& panel);
bool failed(const nlohmann::json& panel);

// A table's opening up to <tbody>: the column headers, each flagged numeric (right-aligned) or not.
std::string table_open(std::initializer_list<std::pair<const char*, bool>> headers);
inline constexpr const char* kTableClose = "</tbody>\n</table></div>\n";
std::string td_num(int64_t v);

// A stack trace, folded.
std::string trace_details(const std::string& trace);

// A POST form with the CSRF token and a field for the operator token.
std::string action_form(std::string_view action, std::string_view csrf_token, std::string_view label,
                        std::string_view id);

// The outcome of an action, shown above the page's panels (nothing when empty).
std::string notice_box(std::string_view notice);

}  // namespace fp::console::html
