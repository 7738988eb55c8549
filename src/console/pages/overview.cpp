// The overview page (/ and /api/overview; its live panels are also what /api/events pushes): `fleetpipe
// status` through the stack library (the same health checks), plus a direct HTTP probe of each other UI,
// so a web app started by hand shows up too; consumer groups against Kafka's retained range, and each
// store's disk usage (the Storage card). The view and its HTML; console/pages/markup.h says why the
// two share a file.
#include <map>

#include "common/http/client.h"
#include "common/kafka/group_retention.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/views.h"
#include "stack/disk_report.h"
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

nlohmann::json kafka_retention(Sources& src) {
  auto admin = src.admin();
  if (!admin) return failed_panel("kafka_retention", admin.error());
  auto scan = kafka::scan_group_retention(**admin);
  if (!scan) return failed_panel("kafka_retention", scan.error());
  nlohmann::json parts = nlohmann::json::array();
  int at_risk = 0;
  int lost = 0;
  for (const auto& p : scan->partitions) {
    at_risk += p.verdict.risk == kafka::RetentionRisk::kAtRisk;
    lost += p.verdict.risk == kafka::RetentionRisk::kLost;
    parts.push_back({{"group", p.group},
                     {"topic", p.topic},
                     {"partition", p.partition},
                     {"committed", p.committed},
                     {"low", p.low},
                     {"high", p.high},
                     {"lag", p.verdict.lag},
                     {"risk", kafka::risk_name(p.verdict.risk)},
                     {"headroom_ratio", p.verdict.headroom_ratio},
                     {"lost_messages", p.verdict.lost_messages}});
  }
  return {{"partitions", std::move(parts)},
          {"problems", kafka::retention_problems(*scan, kafka::RetentionRisk::kAtRisk)},
          {"at_risk", at_risk},
          {"lost", lost},
          {"errors", scan->errors}};
}

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
  out["kafka_retention"] = kafka_retention(src);
  out["storage"] = src.disk_usage();
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

namespace {

// Consumer groups against what Kafka still retains: the problems, or that there are none.
std::string retention_card(const json& r) {
  std::string out =
      "<section class=\"card\" aria-labelledby=\"retention-title\"><h2 id=\"retention-title\">Consumer "
      "groups "
      "and retention</h2>\n";
  out += error_box(r);
  if (failed(r)) return out + "</section>\n";
  const auto problems = r.value("problems", json::array());
  if (problems.empty()) {
    out += "<p class=\"muted\">No consumer group is near the start of the range Kafka retains.</p>\n";
  } else {
    out += fmt::format(
        "<p>{} partition(s) lost messages, {} at risk (<a href=\"/groups\">groups</a>).</p>\n<ul>",
        int_of(r, "lost"), int_of(r, "at_risk"));
    for (const auto& p : problems)
      out += "<li class=\"bad-text\">" + e(p.is_string() ? p.get<std::string>() : p.dump()) + "</li>";
    out += "</ul>\n";
  }
  for (const auto& err : r.value("errors", json::array()))
    out +=
        "<div class=\"panel-error\">" + e(err.is_string() ? err.get<std::string>() : err.dump()) + "</div>\n";
  return out + "</section>\n";
}

// Each store's size (stack/disk_report.h), what could not be measured, and the filesystem's free space.
std::string storage_card(const json& d) {
  std::string out =
      "<section class=\"card\" aria-labelledby=\"storage-title\"><h2 id=\"storage-title\">Storage</h2>\n";
  out += error_box(d);
  if (failed(d)) return out + "</section>\n";
  const json fs = d.value("filesystem", json::object());
  if (fs.contains("total_bytes"))
    out += fmt::format("<p class=\"meta\">Filesystem of {}: {} used, <strong>{} free</strong> of {}.</p>\n",
                       e(text_of(fs, "path")), e(human_bytes(int_of(fs, "used_bytes"))),
                       e(human_bytes(int_of(fs, "free_bytes"))), e(human_bytes(int_of(fs, "total_bytes"))));
  out += table_open({{"Store", false}, {"Name", false}, {"Size", true}});
  static const std::map<std::string, const char*> kTitles = {{"state_dir", "State directory"},
                                                             {"postgres_database", "PostgreSQL database"},
                                                             {"postgres_wal", "PostgreSQL WAL"},
                                                             {"kafka_topic", "Kafka topic"},
                                                             {"bucket", "Bucket"}};
  for (const auto& l : stack::disk_lines(d)) {
    const auto title = kTitles.find(l.store);
    if (title == kTitles.end()) continue;  // the filesystem, above
    out +=
        fmt::format("<tr data-store=\"{0}\"><td>{1}</td><td>{2}</td><td class=\"num\">{3}{4}</td></tr>\n",
                    e(l.store), title->second, e(l.name), l.complete ? "" : "&ge; ", e(human_bytes(l.bytes)));
  }
  out += kTableClose;
  std::vector<std::string> errors;
  auto note = [&](const std::string& what, const json& j, const char* key) {
    if (j.is_object() && j.contains(key)) errors.push_back(what + ": " + text_of(j, key));
  };
  for (const auto& p : d.value("state_dir", json::object()).value("parts", json::array()))
    note("state directory " + text_of(p, "name"), p, "error");
  for (const auto& s : d.value("postgres", json::array())) {
    note(text_of(s, "server"), s, "error");
    note(text_of(s, "server") + " WAL", s, "wal_error");
  }
  note("Kafka topics", d.value("kafka", json::object()), "error");
  note("bucket", d.value("bucket", json::object()), "error");
  for (const auto& err : errors) out += "<div class=\"panel-error\">Not measured: " + e(err) + "</div>\n";
  out += fmt::format("<p class=\"updated\">Measured {} (at most every 30 s)</p>\n",
                     e(utc_time_ms(int_of(d, "taken_at_ms", -1))));
  return out + "</section>\n";
}

}  // namespace

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
  out += retention_card(o.value("kafka_retention", json::object()));
  out += storage_card(o.value("storage", json::object()));
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
