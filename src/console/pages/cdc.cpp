// The CDC page (/cdc, /api/cdc, and the connector restart action): Kafka Connect's REST API (connectors,
// tasks, restart) and the webapp database's replication slots. The view and its HTML;
// console/pages/markup.h says why the two share a file.
#include <algorithm>

#include "common/http/client.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/views.h"

namespace fp::console {

namespace {

std::string str_or(const nlohmann::json& j, const char* key, std::string fallback = "") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace

Result<nlohmann::json> parse_connectors(const nlohmann::json& expanded) {
  if (!expanded.is_object()) return invalid_input("connectors: expected an object keyed by connector name");
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [name, entry] : expanded.items()) {
    if (!entry.is_object()) return invalid_input("connector {}: expected an object", name);
    const auto status = entry.value("status", nlohmann::json::object());
    const auto info = entry.value("info", nlohmann::json::object());
    const auto connector = status.value("connector", nlohmann::json::object());
    if (!connector.is_object() || !connector.contains("state"))
      return invalid_input("connector {}: status.connector.state missing", name);
    nlohmann::json c = {{"name", name},
                        {"type", str_or(status, "type", str_or(info, "type"))},
                        {"class", str_or(info.value("config", nlohmann::json::object()), "connector.class")},
                        {"state", str_or(connector, "state")},
                        {"worker_id", str_or(connector, "worker_id")},
                        {"trace", str_or(connector, "trace")}};
    nlohmann::json tasks = nlohmann::json::array();
    const auto raw_tasks = status.value("tasks", nlohmann::json::array());
    if (!raw_tasks.is_array()) return invalid_input("connector {}: status.tasks is not an array", name);
    for (const auto& t : raw_tasks) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer())
        return invalid_input("connector {}: a task without an integer id", name);
      tasks.push_back({{"id", t["id"].get<int>()},
                       {"state", str_or(t, "state")},
                       {"worker_id", str_or(t, "worker_id")},
                       {"trace", str_or(t, "trace")}});
    }
    std::sort(tasks.begin(), tasks.end(),
              [](const nlohmann::json& a, const nlohmann::json& b) { return a["id"] < b["id"]; });
    c["tasks"] = std::move(tasks);
    arr.push_back(std::move(c));
  }
  // items() of an object iterates in key order already; sorted by name either way.
  return arr;
}

namespace {

nlohmann::json connectors_panel(Sources& src) {
  const std::string url = src.config().connect_url + "/connectors?expand=status&expand=info";
  auto r = http::get(url, src.timeouts().http);
  if (!r) return failed_panel("connectors", r.error());
  if (r->status != 200)
    return failed_panel("connectors", make_error("GET {} answered {}: {}", url, r->status, r->body));
  auto body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return failed_panel("connectors", make_error("GET {}: not JSON", url));
  auto parsed = parse_connectors(body);
  if (!parsed) return failed_panel("connectors", parsed.error().context("GET " + url));
  return {{"connectors", std::move(*parsed)}, {"connect_url", src.config().connect_url}};
}

Result<nlohmann::json> read_slots(Sources& src) {
  auto db = FP_TRY(src.webapp_db(), "webapp database");
  auto rows = FP_TRY(db.query("SELECT slot_name, coalesce(plugin, ''), slot_type, active, "
                              "coalesce(active_pid, 0), "
                              "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, "
                              "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, "
                              "coalesce(wal_status, ''), coalesce(confirmed_flush_lsn::text, '') "
                              "FROM pg_replication_slots WHERE database = current_database() "
                              "ORDER BY slot_name"),
                     "replication slots");
  nlohmann::json arr = nlohmann::json::array();
  for (int i = 0; i < rows.size(); ++i) {
    const auto lag = FP_TRY(rows.get<std::optional<int64_t>>(i, 5), "slot lag");
    const auto retained = FP_TRY(rows.get<std::optional<int64_t>>(i, 6), "slot retained");
    arr.push_back({{"slot_name", FP_TRY(rows.get<std::string>(i, 0), "slot")},
                   {"plugin", FP_TRY(rows.get<std::string>(i, 1), "slot")},
                   {"slot_type", FP_TRY(rows.get<std::string>(i, 2), "slot")},
                   {"active", FP_TRY(rows.get<bool>(i, 3), "slot")},
                   {"active_pid", FP_TRY(rows.get<int64_t>(i, 4), "slot")},
                   // NULL for a slot that has never confirmed anything (e.g. physical slots).
                   {"lag_bytes", lag ? nlohmann::json(*lag) : nlohmann::json(nullptr)},
                   {"retained_bytes", retained ? nlohmann::json(*retained) : nlohmann::json(nullptr)},
                   {"wal_status", FP_TRY(rows.get<std::string>(i, 7), "slot")},
                   {"confirmed_flush_lsn", FP_TRY(rows.get<std::string>(i, 8), "slot")}});
  }
  return nlohmann::json{{"slots", std::move(arr)}};
}

}  // namespace

nlohmann::json cdc(Sources& src) {
  nlohmann::json out;
  out["connect"] = connectors_panel(src);
  auto slots = read_slots(src);
  out["slots"] = slots ? std::move(*slots) : failed_panel("slots", slots.error());
  return out;
}

Result<nlohmann::json> restart_connector(Sources& src, const std::string& name) {
  if (name.empty() || name.size() > 200) return invalid_input("connector name must be 1-200 characters");
  const std::string url = fmt::format("{}/connectors/{}/restart?includeTasks=true", src.config().connect_url,
                                      http::url_encode(name));
  auto r = FP_TRY(http::send("POST", url, "", "application/json", src.timeouts().http),
                  "restart connector " + name);
  if (r.status == 404) return Error{fmt::format("connector {} does not exist", name), Error::Kind::kNotFound};
  if (r.status != 200 && r.status != 202 && r.status != 204)
    return make_error("POST {} answered {}: {}", url, r.status, r.body);
  nlohmann::json out = {{"connector", name}, {"status", r.status}};
  // 202 carries the connector's state after the restart was accepted.
  if (auto body = nlohmann::json::parse(r.body, nullptr, false); !body.is_discarded()) out["result"] = body;
  return out;
}

}  // namespace fp::console

namespace fp::console::html {

using nlohmann::json;

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

}  // namespace fp::console::html
