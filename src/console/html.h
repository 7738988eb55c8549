// The console's pages, rendered on the server from the same JSON the /api/ routes return. Every value that
// reaches the markup goes through escape_markup(), whichever part of the pipeline it came from (topic
// names, message bodies and connector traces are data, never markup). Each page's renderer is in
// console/pages/<page>.cpp beside its view (console/pages/markup.h says why); the frame and message() are
// in pages/markup.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace fp::console::html {

// The page frame: head, navigation (`active` is the current section), main content, footer.
std::string page(std::string_view title, std::string_view active, std::string_view body);

std::string overview_panels(const nlohmann::json& overview);  // the live part, also sent over SSE
std::string overview(const nlohmann::json& overview);
std::string topics(const nlohmann::json& topics, bool internal);
std::string topic(const nlohmann::json& detail, int n);
std::string groups(const nlohmann::json& groups);
// Action forms carry the CSRF token and a field for the operator token.
std::string cdc(const nlohmann::json& cdc, std::string_view csrf_token, std::string_view notice);
std::string batch(const nlohmann::json& batch, const nlohmann::json& runs, std::string_view csrf_token,
                  std::string_view notice);
// The batch page's run history section, with its pager (pages/runs.cpp).
std::string run_history(const nlohmann::json& runs);
std::string message(std::string_view title, std::string_view text, std::string_view back);
std::string dbt_missing(std::string_view target_dir);

}  // namespace fp::console::html
