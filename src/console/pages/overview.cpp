// The overview page (/ and /api/overview; its live panels are also what /api/events pushes): `fleetpipe
// status` through the stack library (the same health checks), plus a direct HTTP probe of each other UI,
// so a web app started by hand shows up too. The view and its HTML; console/pages/markup.h says why the
// two share a file.
#include "common/http/client.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/views.h"
#include "stack/lifecycle.h"

namespace fp::console {

namespace {

nlohmann::json probe(const LinkedService& s, std::chrono::milliseconds timeout) {
  std::string base = s.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  nlohmann::json out = {{"name", s.name}, {"title", s.title}, {"url", s.url}};
  auto r = http::get(base + s.health_path, timeout);
  if (!r) {
    // Nothing listening is the normal state of an optional part, not a failure.
    const bool refused = http::is_connection_refused(r.error());
    out["state"] = refused ? "not running" : "unreachable";
    out["detail"] = refused ? "" : r.error().message;
  } else if (r->status == 200) {
    out["state"] = "healthy";
    out["detail"] = "";
  } else {
    out["state"] = "unhealthy";
    out["detail"] = fmt::format("{}{} answered {}", base, s.health_path, r->status);
  }
  return out;
}

}  // namespace

nlohmann::json overview(Sources& src) {
  nlohmann::json out;
  out["taken_at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  auto ctx = stack::Context::load();
  if (!ctx) {
    out["stack"] = failed_panel("stack", ctx.error());
  } else {
    ctx->cfg = src.config();
    const auto parts = stack::status(*ctx);
    out["stack"] = {{"parts", stack::to_json(parts)}, {"all_healthy", stack::all_healthy(parts)}};
  }
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : src.services()) services.push_back(probe(s, src.timeouts().http));
  out["services"] = std::move(services);
  out["links"] = nlohmann::json::array();
  for (const auto& s : src.services()) out["links"].push_back({{"title", s.title}, {"url", s.url}});
  out["links"].push_back({{"title", "dbt docs"}, {"url", "/dbt/"}});
  out["links"].push_back(
      {{"title", "Kafka Connect REST"}, {"url", src.config().connect_url + "/connectors"}});
  return out;
}

}  // namespace fp::console

namespace fp::console::html {

using nlohmann::json;

std::string overview_panels(const json& o) {
  std::string out;
  out += fmt::format("<p class=\"updated\">Updated {}</p>\n", e(utc_time_ms(int_of(o, "taken_at_ms", -1))));
  out += "<section class=\"card\" aria-labelledby=\"parts-title\"><h2 id=\"parts-title\">Stack parts</h2>\n";
  const json stack = o.value("stack", json::object());
  out += error_box(stack);
  if (!failed(stack)) {
    out += table_open({{"Part", false},
                       {"State", false},
                       {"PID", true},
                       {"Memory", true},
                       {"Restarts", true},
                       {"Address", false},
                       {"Detail", false}});
    for (const auto& p : stack.value("parts", json::array())) {
      const int64_t pid = int_of(p, "pid");
      const int64_t rss = int_of(p, "rss_bytes");
      out += fmt::format(
          "<tr data-part=\"{0}\"><th scope=\"row\">{0}{1}</th><td>{2}</td><td class=\"num\">{3}</td>"
          "<td class=\"num\">{4}</td><td class=\"num\">{5}</td><td>{6}</td><td "
          "class=\"detail\">{7}</td></tr>\n",
          e(text_of(p, "name")), p.value("optional", false) ? " <span class=\"muted\">(service)</span>" : "",
          badge(text_of(p, "state")), pid ? std::to_string(pid) : "-", rss > 0 ? human_bytes(rss) : "-",
          int_of(p, "restarts"), e(text_of(p, "address")), e(text_of(p, "detail")));
    }
    out += kTableClose;
  }
  out += "</section>\n";
  out += "<section class=\"card\" aria-labelledby=\"ui-title\"><h2 id=\"ui-title\">Web interfaces</h2>\n";
  out += table_open({{"Service", false}, {"State", false}, {"Address", false}, {"Detail", false}});
  for (const auto& s : o.value("services", json::array())) {
    out += fmt::format(
        "<tr data-service=\"{0}\"><th scope=\"row\">{1}</th><td>{2}</td><td><a href=\"{3}\">{3}</a></td>"
        "<td class=\"detail\">{4}</td></tr>\n",
        e(text_of(s, "name")), e(text_of(s, "title")), badge(text_of(s, "state")), e(text_of(s, "url")),
        e(text_of(s, "detail")));
  }
  out += kTableClose;
  out += "</section>\n";
  return out;
}

std::string overview(const json& o) {
  std::string body =
      "<h1>Pipeline overview</h1>\n<p class=\"lede\">Health of every part, refreshed live.</p>\n"
      "<div id=\"overview-live\" data-sse=\"/api/events\" aria-live=\"polite\">\n";
  body += overview_panels(o);
  body +=
      "</div>\n<section class=\"card\" aria-labelledby=\"links-title\"><h2 id=\"links-title\">Other "
      "tools</h2><ul class=\"links\">";
  for (const auto& l : o.value("links", json::array()))
    body += fmt::format("<li><a href=\"{}\">{}</a></li>", e(text_of(l, "url")), e(text_of(l, "title")));
  body += "</ul></section>\n";
  return page("Overview", "/", body);
}

}  // namespace fp::console::html
