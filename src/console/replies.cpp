#include "console/replies.h"

namespace fp::console {

httpd::Response problem(int status, std::string_view title, std::string_view detail) {
  auto r = httpd::Response::json(status, {{"title", title}, {"status", status}, {"detail", detail}});
  r.content_type = "application/problem+json";
  return r;
}

httpd::Response html_response(int status, std::string body) {
  return httpd::Response::html_page(status, std::move(body));
}

httpd::Response api(const nlohmann::json& j) {
  auto r = httpd::Response::json(200, j);
  r.header("Cache-Control", "no-store");
  return r;
}

}  // namespace fp::console
