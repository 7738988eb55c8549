// The dbt docs page (/dbt/...): the static docs `dbt docs generate` writes into <state>/dbt/target/, served
// as they are, or a page that says how to generate them: the serving and that page's HTML in one file
// (console/pages/markup.h says why).
#include "console/pages/dbt.h"

#include <fmt/format.h>

#include "common/http/static_files.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/replies.h"

namespace fp::console {

namespace {

// dbt's generated index.html is one page of inline script and style; it gets its own, looser policy.
constexpr const char* kDbtCsp =
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri "
    "'none'";

}  // namespace

httpd::Response dbt_docs(const std::filesystem::path& target, const httpd::Request& req) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(target / "index.html", ec))
    return html_response(404, html::dbt_missing(target.string()));
  auto canonical = std::filesystem::canonical(target, ec);
  if (ec) return html_response(404, html::dbt_missing(target.string()));
  auto it = req.params.find("path");
  auto r =
      httpd::serve_file(canonical, it == req.params.end() ? "" : it->second, req, httpd::StaticOptions{});
  r.header("Content-Security-Policy", kDbtCsp);
  return r;
}

}  // namespace fp::console

namespace fp::console::html {

std::string dbt_missing(std::string_view target_dir) {
  return page(
      "dbt docs", "/dbt/",
      fmt::format(
          "<section class=\"card notice\"><h1>dbt docs have not been generated yet</h1>"
          "<p>The console serves the lineage graph and data dictionary from <code>{}</code>, "
          "which <code>dbt docs generate</code> writes. The scheduler generates them after each "
          "build; to do it by hand, from the checkout's <code>dbt/</code> project with the project's dbt "
          "(its venv, made by <code>scripts/python-venv.sh</code>):</p>"
          "<pre>cd dbt &amp;&amp; dbt docs generate --target-path {}</pre>"
          "<p>Then reload this page.</p></section>\n",
          e(target_dir), e(target_dir)));
}

}  // namespace fp::console::html
