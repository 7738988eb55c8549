// How the console answers: pages and views are live, so never cached; the JSON API's errors are
// application/problem+json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/http/message.h"

namespace fp::console {

httpd::Response html_response(int status, std::string body);
// A view's JSON (200).
httpd::Response api(const nlohmann::json& j);
httpd::Response problem(int status, std::string_view title, std::string_view detail);

}  // namespace fp::console
