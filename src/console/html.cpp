#include "console/html.h"

#include <fmt/format.h>

#include "common/http/client.h"
#include "common/http/csrf.h"
#include "common/http/markup.h"
#include "console/format.h"
#include "console/token.h"

namespace fp::console::html {

namespace {

using nlohmann::json;

std::string e(std::string_view s) {
  return escape_markup(s);
}

// A topic or connector name as one URL path segment ('/' and everything else outside RFC 3986's
// unreserved set percent-encoded).
std::string http_path_segment(std::string_view s) {
  return http::url_encode(s);
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int64_t int_of(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

// A coloured state label: green for working states, grey for idle ones, red for the rest.
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
                               "PreparingRebalance",
                               "CompletingRebalance",
                               "inactive"};
  const char* cls = "bad";
  for (const char* g : good)
    if (state == g) cls = "good";
  for (const char* i : idle)
    if (state == i) cls = "idle";
  return fmt::format("<span class=\"badge {}\">{}</span>", cls, e(state));
}

// A panel's error, or empty when it has data.
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

const char* kTableClose = "</tbody>\n</table></div>\n";

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

}  // namespace

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
                       {"Address", false},
                       {"Detail", false}});
    for (const auto& p : stack.value("parts", json::array())) {
      const int64_t pid = int_of(p, "pid");
      const int64_t rss = int_of(p, "rss_bytes");
      out += fmt::format(
          "<tr data-part=\"{0}\"><th scope=\"row\">{0}{1}</th><td>{2}</td><td class=\"num\">{3}</td>"
          "<td class=\"num\">{4}</td><td>{5}</td><td class=\"detail\">{6}</td></tr>\n",
          e(text_of(p, "name")), p.value("optional", false) ? " <span class=\"muted\">(service)</span>" : "",
          badge(text_of(p, "state")), pid ? std::to_string(pid) : "-", rss > 0 ? human_bytes(rss) : "-",
          e(text_of(p, "address")), e(text_of(p, "detail")));
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

std::string topics(const json& t, bool internal) {
  std::string body = "<h1>Topics</h1>\n";
  body += fmt::format("<p class=\"lede\">Kafka at {} · <a href=\"/topics{}\">{}</a></p>\n",
                      e(text_of(t, "bootstrap")), internal ? "" : "?internal=1",
                      internal ? "hide internal topics" : "show internal topics");
  body += error_box(t);
  if (!failed(t)) {
    body += table_open({{"Topic", false},
                        {"Partitions", true},
                        {"Messages", true},
                        {"Offsets per partition (low → high)", false}});
    for (const auto& topic : t.value("topics", json::array())) {
      const std::string name = text_of(topic, "name");
      const std::string href = "/topics/" + http_path_segment(name);
      std::string offsets;
      if (topic.contains("error")) {
        offsets = "<span class=\"bad-text\">" + e(text_of(topic, "error")) + "</span>";
      } else {
        for (const auto& p : topic.value("offsets", json::array())) {
          offsets += fmt::format("<a class=\"chip\" href=\"{}?partition={}\">p{}: {} → {}</a> ", e(href),
                                 int_of(p, "partition"), int_of(p, "partition"), grouped(int_of(p, "low")),
                                 grouped(int_of(p, "high")));
        }
      }
      body += fmt::format(
          "<tr data-topic=\"{0}\"><th scope=\"row\"><a href=\"{1}\">{0}</a></th>{2}{3}<td>{4}"
          "</td></tr>\n",
          e(name), e(href), td_num(int_of(topic, "partitions")), td_num(int_of(topic, "messages")), offsets);
    }
    body += kTableClose;
  }
  return page("Topics", "/topics", body);
}

std::string topic(const json& d, int n) {
  const std::string name = text_of(d, "topic");
  std::string body =
      fmt::format("<p class=\"crumbs\"><a href=\"/topics\">Topics</a> /</p><h1>{}</h1>\n", e(name));
  body += error_box(d);
  if (failed(d)) return page(name, "/topics", body);
  const std::string href = "/topics/" + http_path_segment(name);
  body += "<section class=\"card\"><h2>Partitions</h2>\n";
  body += table_open({{"Partition", true}, {"Low", true}, {"High", true}, {"Messages", true}, {"", false}});
  for (const auto& p : d.value("offsets", json::array())) {
    body += fmt::format(
        "<tr data-partition=\"{0}\"><td class=\"num\">{0}</td>{1}{2}{3}<td><a href=\"{4}?"
        "partition={0}&amp;n={5}\">last {5} messages</a></td></tr>\n",
        int_of(p, "partition"), td_num(int_of(p, "low")), td_num(int_of(p, "high")),
        td_num(int_of(p, "messages")), e(href), n);
  }
  body += kTableClose;
  body += "</section>\n";
  if (d.contains("tail")) {
    const json& tail = d["tail"];
    const int64_t part = int_of(tail, "partition");
    body += fmt::format("<section class=\"card\" id=\"tail\"><h2>Partition {}: the last {} messages</h2>\n",
                        part, int_of(tail, "requested"));
    body += fmt::format(
        "<form method=\"get\" action=\"{}\" class=\"inline\"><input type=\"hidden\" name=\"partition\" "
        "value=\"{}\"><label for=\"tail-n\">Messages</label><input id=\"tail-n\" name=\"n\" type=\"number\" "
        "min=\"1\" max=\"200\" value=\"{}\"><button type=\"submit\">Show</button></form>\n",
        e(href), part, n);
    body += error_box(tail);
    if (!failed(tail)) {
      body += fmt::format("<p class=\"muted\">Offsets {} to {} (newest first){}.</p>\n",
                          grouped(int_of(tail, "from")), grouped(int_of(tail, "to") - 1),
                          tail.value("complete", true) ? "" : "; the read timed out, so some may be missing");
      const auto& msgs = tail.value("messages", json::array());
      if (msgs.empty()) {
        body += "<p class=\"empty\">No messages in this partition.</p>\n";
      } else {
        body += table_open({{"Offset", true}, {"Timestamp", false}, {"Key", false}, {"Value", false}});
        for (const auto& m : msgs) {
          const int64_t bytes = int_of(m, "value_bytes", -1);
          body += fmt::format(
              "<tr class=\"msg\" data-offset=\"{0}\"><td class=\"num\">{0}</td><td>{1}</td><td "
              "class=\"key\"><code>{2}"
              "</code></td><td><pre class=\"value\">{3}</pre>{4}</td></tr>\n",
              int_of(m, "offset"), e(text_of(m, "timestamp")), e(text_of(m, "key")), e(text_of(m, "value")),
              bytes >= 0 ? fmt::format("<span class=\"muted\">{}</span>", human_bytes(bytes))
                         : std::string("<span class=\"muted\">tombstone</span>"));
        }
        body += kTableClose;
      }
    }
    body += "</section>\n";
  }
  return page(name, "/topics", body);
}

std::string groups(const json& g) {
  std::string body =
      "<h1>Consumer groups</h1>\n<p class=\"lede\">Committed offsets against each "
      "partition's high watermark.</p>\n";
  body += error_box(g);
  if (failed(g)) return page("Consumer groups", "/groups", body);
  const auto& list = g.value("groups", json::array());
  if (list.empty()) body += "<p class=\"empty\">No consumer groups.</p>\n";
  for (const auto& grp : list) {
    const std::string id = text_of(grp, "group");
    body +=
        fmt::format("<section class=\"card group\" data-group=\"{0}\"><h2>{0} {1}</h2>\n<p class=\"meta\">",
                    e(id), badge(text_of(grp, "state")));
    if (grp.contains("members")) body += fmt::format("{} member(s) · ", int_of(grp, "members"));
    body += fmt::format("total lag <strong class=\"lag\">{}</strong></p>\n", grouped(int_of(grp, "lag")));
    if (grp.contains("describe_error"))
      body += "<div class=\"panel-error\">" + e(text_of(grp, "describe_error")) + "</div>\n";
    body += error_box(grp);
    const auto& parts = grp.value("partitions", json::array());
    if (!failed(grp) && parts.empty()) body += "<p class=\"muted\">No committed offsets.</p>\n";
    if (!parts.empty()) {
      body += table_open({{"Topic", false},
                          {"Partition", true},
                          {"Committed", true},
                          {"High watermark", true},
                          {"Lag", true}});
      for (const auto& p : parts) {
        if (p.contains("error")) {
          body += fmt::format(
              "<tr><td>{}</td><td class=\"num\">{}</td><td colspan=\"3\" class=\"bad-text\">{}"
              "</td></tr>\n",
              e(text_of(p, "topic")), int_of(p, "partition"), e(text_of(p, "error")));
          continue;
        }
        const int64_t committed = int_of(p, "committed", -1);
        body += fmt::format(
            "<tr data-topic=\"{0}\" data-partition=\"{1}\"><td>{0}</td><td class=\"num\">{1}</td><td "
            "class=\"num\">{2}</td>{3}<td class=\"num lag\">{4}</td></tr>\n",
            e(text_of(p, "topic")), int_of(p, "partition"), committed >= 0 ? grouped(committed) : "none",
            td_num(int_of(p, "high")), grouped(int_of(p, "lag")));
      }
      body += kTableClose;
    }
    body += "</section>\n";
  }
  return page("Consumer groups", "/groups", body);
}

std::string cdc(const json& c, std::string_view csrf_token, std::string_view notice) {
  std::string body = "<h1>Change data capture</h1>\n";
  body += notice_box(notice);
  const json connect = c.value("connect", json::object());
  body +=
      fmt::format("<section class=\"card\"><h2>Connectors</h2><p class=\"muted\">Kafka Connect at {}</p>\n",
                  e(text_of(connect, "connect_url")));
  body += error_box(connect);
  if (!failed(connect)) {
    const auto& list = connect.value("connectors", json::array());
    if (list.empty())
      body +=
          "<p class=\"empty\">No connectors. <code>fleetpipe connectors apply</code> "
          "creates the ones in config/connectors/.</p>\n";
    for (const auto& k : list) {
      const std::string name = text_of(k, "name");
      body += fmt::format(
          "<div class=\"connector\" data-connector=\"{0}\"><h3>{0} {1}</h3><p class=\"meta\">{2} · {3} · "
          "worker {4}</p>{5}\n",
          e(name), badge(text_of(k, "state")), e(text_of(k, "type")), e(text_of(k, "class")),
          e(text_of(k, "worker_id")), trace_details(text_of(k, "trace")));
      body += table_open({{"Task", true}, {"State", false}, {"Worker", false}, {"Trace", false}});
      for (const auto& t : k.value("tasks", json::array())) {
        body += fmt::format(
            "<tr data-task=\"{0}\"><td class=\"num\">{0}</td><td>{1}</td><td>{2}</td><td>{3}</td>"
            "</tr>\n",
            int_of(t, "id"), badge(text_of(t, "state")), e(text_of(t, "worker_id")),
            trace_details(text_of(t, "trace")));
      }
      body += kTableClose;
      body += action_form("/cdc/connectors/" + http_path_segment(name) + "/restart", csrf_token,
                          "Restart connector and tasks", name);
      body += "</div>\n";
    }
  }
  body += "</section>\n";
  const json slots = c.value("slots", json::object());
  body +=
      "<section class=\"card\"><h2>Replication slots</h2><p class=\"muted\">WAL the webapp database keeps "
      "for each slot's consumer; lag is the distance from the current WAL position to what the consumer "
      "confirmed.</p>\n";
  body += error_box(slots);
  if (!failed(slots)) {
    const auto& list = slots.value("slots", json::array());
    if (list.empty())
      body += "<p class=\"empty\">No replication slots in the webapp database.</p>\n";
    else {
      body += table_open({{"Slot", false},
                          {"Plugin", false},
                          {"Active", false},
                          {"Lag", true},
                          {"Lag (bytes)", true},
                          {"WAL retained", true},
                          {"WAL status", false}});
      for (const auto& s : list) {
        const bool has_lag = s.contains("lag_bytes") && s["lag_bytes"].is_number_integer();
        const int64_t lag = has_lag ? s["lag_bytes"].get<int64_t>() : 0;
        const int64_t kept = int_of(s, "retained_bytes", 0);
        body += fmt::format(
            "<tr data-slot=\"{0}\"><th scope=\"row\">{0}</th><td>{1}</td><td>{2}</td><td "
            "class=\"num\">{3}</td>"
            "<td class=\"num slot-lag\">{4}</td><td class=\"num\">{5}</td><td>{6}</td></tr>\n",
            e(text_of(s, "slot_name")), e(text_of(s, "plugin")),
            badge(s.value("active", false) ? "active" : "inactive"), has_lag ? human_bytes(lag) : "-",
            has_lag ? grouped(lag) : "-", human_bytes(kept), e(text_of(s, "wal_status")));
      }
      body += kTableClose;
    }
  }
  body += "</section>\n";
  return page("CDC", "/cdc", body);
}

namespace {

std::string step_box(const char* title, const json& step, bool dbt) {
  std::string out = fmt::format("<section class=\"card half\"><h2>{}</h2>\n", title);
  out += error_box(step);
  if (failed(step)) return out + "</section>\n";
  if (step.is_null()) {
    return out +
           "<p class=\"empty\">No run recorded yet. <code>fleetpipe scheduler</code> records each step "
           "in the warehouse's ops schema.</p></section>\n";
  }
  out += fmt::format(
      "<p class=\"meta\">{} run {} · attempt {} · started {}{}</p>\n", badge(text_of(step, "outcome")),
      int_of(step, "run_id"), int_of(step, "attempt"), e(text_of(step, "started_at")),
      text_of(step, "finished_at").empty() ? "" : ", finished " + e(text_of(step, "finished_at")));
  if (!text_of(step, "step_error").empty())
    out += "<div class=\"panel-error\">" + e(text_of(step, "step_error")) + "</div>\n";
  if (step.contains("detail_error"))
    out += "<div class=\"panel-error\">detail: " + e(text_of(step, "detail_error")) + "</div>\n";
  const json detail = step.value("detail", json::object());
  if (dbt && !detail.empty()) {
    out += "<dl class=\"counts\">";
    for (const char* k : {"pass", "fail", "error", "skip", "warn"})
      out += fmt::format("<div class=\"count-{0}\"><dt>{0}</dt><dd data-count=\"{0}\">{1}</dd></div>", k,
                         int_of(detail, k));
    out += "</dl>\n";
  }
  if (!dbt && detail.contains("stages")) {
    out += table_open({{"Stage", false}, {"Table", false}, {"Result", false}, {"Detail", false}});
    for (const auto& s : detail["stages"]) {
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"detail\">{}</td></tr>\n",
                         e(text_of(s, "check")), e(text_of(s, "table")), badge(text_of(s, "result")),
                         e(text_of(s, "detail")));
    }
    out += kTableClose;
  }
  return out + "</section>\n";
}

}  // namespace

std::string batch(const json& b, const json& r, std::string_view csrf_token, std::string_view notice) {
  std::string body = "<h1>Batch lane and warehouse</h1>\n";
  body += notice_box(notice);
  body += "<div class=\"cols\">\n";
  const json ex = b.value("export", json::object());
  body += "<section class=\"card half\" id=\"export\"><h2>Export watermark</h2>\n";
  body += error_box(ex);
  if (!failed(ex)) {
    body += "<dl class=\"facts\">";
    if (ex.contains("last_run")) {
      const json& lr = ex["last_run"];
      body +=
          fmt::format("<dt>Last export</dt><dd>run {} · {} object(s), {} rows · {}</dd>", int_of(lr, "run"),
                      int_of(lr, "objects"), grouped(int_of(lr, "rows")), e(text_of(lr, "committed_at")));
      body +=
          fmt::format("<dt>Watermark (xid)</dt><dd data-watermark>{}</dd>", e(text_of(ex, "watermark_xid")));
    } else {
      body += "<dt>Last export</dt><dd>none yet (<code>fleetpipe export</code>)</dd>";
    }
    if (ex.contains("pending_intent"))
      body += fmt::format(
          "<dt>Unfinished run</dt><dd>run {} has an intent but no manifest; the next export "
          "redoes it</dd>",
          int_of(ex, "pending_intent"));
    body += fmt::format("<dt>Source position (xid)</dt><dd>{}</dd>", e(text_of(ex, "source_xmin")));
    if (ex.contains("source_newest_trip")) {
      const json& t = ex["source_newest_trip"];
      body += fmt::format("<dt>Newest source trip</dt><dd>id {} · {} · {}</dd>", int_of(t, "id"),
                          e(text_of(t, "measurement_time")),
                          t.value("exported", false) ? "exported" : "not exported yet");
    }
    const int64_t cap = int_of(ex, "pending_cap", 0);
    body += "<dt>Rows waiting for the next export</dt><dd><ul class=\"plain\">";
    // A named copy: items() of a temporary would outlive it.
    const json pending = ex.value("pending_rows", json::object());
    for (const auto& [table, n] : pending.items()) {
      const int64_t v = n.get<int64_t>();
      body += fmt::format("<li data-pending=\"{}\">{}: {}</li>", e(table), e(table),
                          v > cap ? "more than " + grouped(cap) : grouped(v));
    }
    body += "</ul></dd></dl>\n";
  }
  body += "</section>\n";
  const json load = b.value("load", json::object());
  body += "<section class=\"card half\" id=\"load\"><h2>Last load</h2>\n";
  body += error_box(load);
  if (!failed(load)) {
    body += "<dl class=\"facts\">";
    if (load.contains("last")) {
      const json& l = load["last"];
      body += fmt::format(
          "<dt>Object</dt><dd><code>{}</code></dd><dt>Table</dt><dd>{}</dd><dt>Rows</dt><dd>{}"
          "</dd><dt>Loaded</dt><dd>{}</dd>",
          e(text_of(l, "object_key")), e(text_of(l, "table")), grouped(int_of(l, "rows")),
          e(text_of(l, "loaded_at")));
    } else {
      body += "<dt>Object</dt><dd>nothing loaded yet (<code>fleetpipe load</code>)</dd>";
    }
    body += fmt::format("<dt>All loads</dt><dd>{} object(s), {} rows</dd></dl>\n",
                        grouped(int_of(load, "objects")), grouped(int_of(load, "rows")));
  }
  body += "</section>\n";
  body += step_box("Last dbt build", b.value("dbt", json(nullptr)), true);
  body += step_box("Last verify", b.value("verify", json(nullptr)), false);
  body += "</div>\n";

  const json req = b.value("requests", json::object());
  body +=
      "<section class=\"card\" id=\"run-now\"><h2>Run now</h2>\n<p>Asks the scheduler for a run of "
      "export → load → dbt build → verify at once (a row in <code>ops.run_requests</code> and a "
      "notification); the scheduler picks it up within seconds.</p>\n";
  body += error_box(req);
  if (!failed(req))
    body += fmt::format(
        "<p class=\"meta\" data-open-requests=\"{0}\">{0} request(s) waiting{1}.</p>\n", int_of(req, "open"),
        text_of(req, "oldest").empty() ? "" : ", the oldest from " + e(text_of(req, "oldest")));
  body += action_form("/batch/run-now", csrf_token, "Run the pipeline now", "run-now");
  body += "</section>\n";

  body += "<section class=\"card\" id=\"history\"><h2>Run history</h2>\n";
  body += error_box(r);
  if (!failed(r)) {
    const auto& list = r.value("runs", json::array());
    if (list.empty())
      body += "<p class=\"empty\">No runs recorded yet.</p>\n";
    else {
      body += table_open({{"Run", true},
                          {"Trigger", false},
                          {"Started", false},
                          {"Duration", true},
                          {"Outcome", false},
                          {"Steps", false},
                          {"Error", false}});
      for (const auto& run : list) {
        std::string steps;
        for (const auto& s : run.value("steps", json::array())) {
          std::string rows = s.contains("rows") && s["rows"].is_number_integer()
                                 ? fmt::format(" · {} rows", grouped(s["rows"].get<int64_t>()))
                                 : "";
          steps +=
              fmt::format("<span class=\"step\">{}{} {}{}</span> ", e(text_of(s, "step")),
                          int_of(s, "attempt", 1) > 1 ? fmt::format(" (try {})", int_of(s, "attempt")) : "",
                          badge(text_of(s, "outcome")), rows);
        }
        body += fmt::format(
            "<tr data-run=\"{0}\"><td class=\"num\">{0}</td><td>{1}</td><td>{2}</td><td "
            "class=\"num\">{3:.1f} s"
            "</td><td>{4}</td><td>{5}</td><td class=\"detail\">{6}</td></tr>\n",
            int_of(run, "run_id"), e(text_of(run, "trigger")), e(text_of(run, "started_at")),
            run.value("seconds", 0.0), badge(text_of(run, "outcome")), steps, e(text_of(run, "error")));
      }
      body += kTableClose;
    }
    if (r.contains("next_before") && r["next_before"].is_number_integer())
      body += fmt::format("<p class=\"pager\"><a href=\"/batch?before={}#history\">Older runs →</a></p>\n",
                          r["next_before"].get<int64_t>());
  }
  body += "</section>\n";
  return page("Batch & warehouse", "/batch", body);
}

std::string message(std::string_view title, std::string_view text, std::string_view back) {
  return page(title, "",
              fmt::format("<section class=\"card notice\"><h1>{}</h1><p>{}</p><p><a href=\"{}\">Back</a></p>"
                          "</section>\n",
                          e(title), e(text), e(back)));
}

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
