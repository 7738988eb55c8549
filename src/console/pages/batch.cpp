// The batch page (/batch, /api/batch, and the run-now action): the export watermark (kept with the data in
// the bucket, read through the exporter's own layout code), the source rows it has not reached yet, the
// last load, the last dbt build and verify from the scheduler's steps in the warehouse's ops schema
// (sql/warehouse/004_pipeline_runs.sql), and the open run requests. The page's run history is
// pages/runs.cpp. The view and its HTML; console/pages/markup.h says why the two share a file.
#include "common/batch/layout.h"
#include "common/pg/connection.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/pages/warehouse_sql.h"
#include "console/views.h"

namespace fp::console {

namespace {

// Counting pending rows stops here: the number is for a human, the index scan must stay short.
constexpr int64_t kPendingCap = 1000000;

Result<nlohmann::json> export_panel(Sources& src) {
  auto s3 = src.bucket();
  const auto& prefix = src.export_prefix();
  auto state = FP_TRY(batch::read_manifest_state(s3, prefix), "bucket " + s3.bucket());
  nlohmann::json out = {{"bucket", s3.bucket()}, {"prefix", prefix}, {"runs", state.committed_runs.size()}};
  std::string watermark = "0";
  if (!state.committed_runs.empty()) {
    const int64_t run = state.committed_runs.back();
    auto m = FP_TRY(batch::read_manifest(s3, prefix, run), "last manifest");
    int64_t rows = 0;
    for (const auto& o : m.objects)
      if (o.kind == batch::ObjectKind::kRows) rows += o.rows;
    watermark = std::to_string(m.range.xid_to);
    out["last_run"] = {{"run", run},
                       {"xid_from", m.range.xid_from},
                       {"xid_to", m.range.xid_to},
                       {"epoch", m.range.epoch},
                       {"objects", m.objects.size()},
                       {"rows", rows}};
    if (auto head = s3.head_object(batch::manifest_key(prefix, run)); head)
      out["last_run"]["committed_at"] = head->last_modified;
  }
  if (state.pending_intent) out["pending_intent"] = *state.pending_intent;
  out["watermark_xid"] = watermark;

  auto db = FP_TRY(src.webapp_db(), "webapp database");
  nlohmann::json pending = nlohmann::json::object();
  for (const char* table : {"drivers", "vehicles", "trips"}) {
    // Rows whose writing transaction is at or past the watermark: what the next export will carry.
    auto rows = FP_TRY(db.query(fmt::format("SELECT count(*) FROM (SELECT 1 FROM {} WHERE _export_xid >= "
                                            "$1::text::xid8 LIMIT {}) s",
                                            table, kPendingCap + 1),
                                watermark),
                       fmt::format("pending {}", table));
    pending[table] = FP_TRY(rows.get<int64_t>(0, 0), "pending");
  }
  out["pending_rows"] = std::move(pending);
  out["pending_cap"] = kPendingCap;
  auto newest = FP_TRY(db.query("SELECT id, measurement_time::text, _export_xid::text, "
                                "_export_xid < $1::text::xid8 FROM trips ORDER BY id DESC LIMIT 1",
                                watermark),
                       "newest trip");
  if (!newest.empty()) {
    out["source_newest_trip"] = {{"id", FP_TRY(newest.get<int64_t>(0, 0), "newest")},
                                 {"measurement_time", FP_TRY(newest.get<std::string>(0, 1), "newest")},
                                 {"xid", FP_TRY(newest.get<std::string>(0, 2), "newest")},
                                 {"exported", FP_TRY(newest.get<bool>(0, 3), "newest")}};
  }
  auto xmin = FP_TRY(db.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"), "snapshot");
  out["source_xmin"] = FP_TRY(xmin.get<std::string>(0, 0), "snapshot");
  return out;
}

Result<nlohmann::json> load_panel(pg::Connection& db) {
  auto last =
      FP_TRY(db.query("SELECT object_key, table_name, row_count, " FP_TS(
                 "loaded_at") " "
                              "FROM raw.load_manifest ORDER BY loaded_at DESC, object_key DESC LIMIT 1"),
             "last load");
  auto totals =
      FP_TRY(db.query("SELECT count(*), coalesce(sum(row_count) FILTER (WHERE kind = 'rows'), 0)::bigint "
                      "FROM raw.load_manifest"),
             "loaded objects");
  nlohmann::json out = {{"objects", FP_TRY(totals.get<int64_t>(0, 0), "totals")},
                        {"rows", FP_TRY(totals.get<int64_t>(0, 1), "totals")}};
  if (!last.empty()) {
    out["last"] = {{"object_key", FP_TRY(last.get<std::string>(0, 0), "last load")},
                   {"table", FP_TRY(last.get<std::string>(0, 1), "last load")},
                   {"rows", FP_TRY(last.get<int64_t>(0, 2), "last load")},
                   {"loaded_at", FP_TRY(last.get<std::string>(0, 3), "last load")}};
  }
  return out;
}

// The newest attempt of `step`, with its detail parsed by `parse`.
Result<nlohmann::json> last_step(pg::Connection& db, const char* step,
                                 Result<nlohmann::json> (*parse)(const nlohmann::json&)) {
  auto rows = FP_TRY(
      db.query(
          "SELECT run_id, attempt, outcome, " FP_TS(
              "started_at") ", "
                            "coalesce(" FP_TS(
                                "finished_at") ", ''), rows, coalesce(error, ''), "
                                               "detail::text FROM ops.pipeline_steps WHERE step = $1 "
                                               "ORDER BY started_at DESC, run_id DESC, attempt DESC LIMIT 1",
          std::string(step)),
      fmt::format("last {}", step));
  if (rows.empty()) return nlohmann::json(nullptr);
  nlohmann::json out = {{"run_id", FP_TRY(rows.get<int64_t>(0, 0), step)},
                        {"attempt", FP_TRY(rows.get<int64_t>(0, 1), step)},
                        {"outcome", FP_TRY(rows.get<std::string>(0, 2), step)},
                        {"started_at", FP_TRY(rows.get<std::string>(0, 3), step)},
                        {"finished_at", FP_TRY(rows.get<std::string>(0, 4), step)},
                        // Not "error": that key marks a panel whose source failed.
                        {"step_error", FP_TRY(rows.get<std::string>(0, 6), step)}};
  if (auto n = FP_TRY(rows.get<std::optional<int64_t>>(0, 5), step)) out["rows"] = *n;
  if (auto d = FP_TRY(rows.get<std::optional<std::string>>(0, 7), step)) {
    auto j = nlohmann::json::parse(*d, nullptr, false);
    auto parsed = j.is_discarded() ? Result<nlohmann::json>(invalid_input("detail is not JSON")) : parse(j);
    if (parsed)
      out["detail"] = std::move(*parsed);
    else
      out["detail_error"] = parsed.error().message;
  }
  return out;
}

// How far the marts lag behind the source: now minus the source as-of the newest successful dbt build
// recorded (scheduler/freshness.h), judged against the scheduler's thresholds recorded with it.
Result<nlohmann::json> freshness_panel(pg::Connection& db) {
  auto rows =
      FP_TRY(db.query("SELECT f.as_of, extract(epoch FROM now())::float8 - f.as_of, f.warn, f.error FROM ("
                      "SELECT (detail->'freshness'->>'as_of')::float8 AS as_of, "
                      "(detail->'freshness'->>'warn_seconds')::bigint AS warn, "
                      "(detail->'freshness'->>'error_seconds')::bigint AS error FROM ops.pipeline_steps "
                      "WHERE step = 'dbt_build' AND outcome = 'success' AND detail->'freshness' ? 'as_of' "
                      "ORDER BY finished_at DESC LIMIT 1) f"),
             "warehouse freshness");
  if (rows.empty()) return nlohmann::json{{"state", "unknown"}};
  const double lag = FP_TRY(rows.get<double>(0, 1), "freshness");
  const int64_t warn = FP_TRY(rows.get<int64_t>(0, 2), "freshness");
  const int64_t error = FP_TRY(rows.get<int64_t>(0, 3), "freshness");
  return nlohmann::json{{"as_of", FP_TRY(rows.get<double>(0, 0), "freshness")},
                        {"lag_seconds", lag},
                        {"warn_seconds", warn},
                        {"error_seconds", error},
                        {"state", lag >= error  ? "error"
                                  : lag >= warn ? "warn"
                                                : "ok"}};
}

Result<nlohmann::json> requests_panel(pg::Connection& db) {
  auto rows = FP_TRY(db.query("SELECT count(*), coalesce(" FP_TS(
                         "min(requested_at)") ", '') "
                                              "FROM ops.run_requests WHERE run_id IS NULL"),
                     "open run requests");
  return nlohmann::json{{"open", FP_TRY(rows.get<int64_t>(0, 0), "requests")},
                        {"oldest", FP_TRY(rows.get<std::string>(0, 1), "requests")}};
}

// The hot window (retain/hot_window.h): trips' live partitions with their size, rows outside them, the
// drops the warehouse has recorded and the partitions past the window that still differ.
Result<nlohmann::json> retention_panel(Sources& src, pg::Connection& dw) {
  const auto& lc = src.config().lifecycle;
  nlohmann::json out = {{"hot_window_minutes", lc.trips_hot_window.count()},
                        {"partition_interval_minutes", lc.trips_partition_interval.count()}};
  auto web = FP_TRY(src.webapp_db(), "webapp database");
  auto parts = FP_TRY(web.query("SELECT p.partition_name, p.range_start::text, p.range_end::text, "
                                "greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
                                "FROM trip_partitions p JOIN pg_class c ON c.relname = p.partition_name "
                                "AND c.relnamespace = 'public'::regnamespace "
                                "WHERE p.dropped_at IS NULL ORDER BY p.range_start"),
                      "trips partitions");
  out["partitions"] = nlohmann::json::array();
  for (int i = 0; i < parts.size(); ++i)
    out["partitions"].push_back({{"partition", FP_TRY(parts.get<std::string>(i, 0), "name")},
                                 {"range_start", FP_TRY(parts.get<std::string>(i, 1), "start")},
                                 {"range_end", FP_TRY(parts.get<std::string>(i, 2), "end")},
                                 {"rows_estimate", FP_TRY(parts.get<int64_t>(i, 3), "rows")},
                                 {"bytes", FP_TRY(parts.get<int64_t>(i, 4), "bytes")}});
  auto def = FP_TRY(web.query("SELECT count(*) FROM (SELECT 1 FROM trips_default LIMIT $1) d", kPendingCap),
                    "trips_default");
  out["default_rows"] = FP_TRY(def.get<int64_t>(0, 0), "trips_default");
  auto drops = FP_TRY(dw.query("SELECT partition_name, range_start::text, range_end::text, rows, " FP_TS(
                          "dropped_at") " FROM ops.retention_drops WHERE table_name = 'trips' "
                                        "ORDER BY dropped_at DESC LIMIT 20"),
                      "retention drops");
  out["drops"] = nlohmann::json::array();
  for (int i = 0; i < drops.size(); ++i)
    out["drops"].push_back({{"partition", FP_TRY(drops.get<std::string>(i, 0), "name")},
                            {"range_start", FP_TRY(drops.get<std::string>(i, 1), "start")},
                            {"range_end", FP_TRY(drops.get<std::string>(i, 2), "end")},
                            {"rows", FP_TRY(drops.get<int64_t>(i, 3), "rows")},
                            {"dropped_at", FP_TRY(drops.get<std::string>(i, 4), "at")}});
  // The warehouse's raw detail (retain/raw_days.h): its retention (null: kept for ever) and the days dropped.
  out["raw_retention_minutes"] =
      lc.warehouse_raw_retention ? nlohmann::json(lc.warehouse_raw_retention->count()) : nlohmann::json();
  auto raw_drops =
      FP_TRY(dw.query("SELECT day::text, partition_name, rows, " FP_TS(
                 "dropped_at") " FROM ops.raw_trip_drops ORDER BY dropped_at DESC, day DESC LIMIT 20"),
             "raw drops");
  out["raw_drops"] = nlohmann::json::array();
  for (int i = 0; i < raw_drops.size(); ++i)
    out["raw_drops"].push_back({{"day", FP_TRY(raw_drops.get<std::string>(i, 0), "day")},
                                {"partition", FP_TRY(raw_drops.get<std::string>(i, 1), "name")},
                                {"rows", FP_TRY(raw_drops.get<int64_t>(i, 2), "rows")},
                                {"dropped_at", FP_TRY(raw_drops.get<std::string>(i, 3), "at")}});
  auto waiting =
      FP_TRY(dw.query("SELECT partition_name, range_start::text, source_rows, warehouse_rows, "
                      "failures, reason, " FP_TS(
                          "checked_at") " FROM ops.retention_checks "
                                        "WHERE table_name = 'trips' ORDER BY range_start LIMIT 20"),
             "retention checks");
  out["waiting"] = nlohmann::json::array();
  auto count_or_null = [](const std::optional<int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  for (int i = 0; i < waiting.size(); ++i) {
    const auto source = FP_TRY(waiting.get<std::optional<int64_t>>(i, 2), "source rows");
    const auto warehouse = FP_TRY(waiting.get<std::optional<int64_t>>(i, 3), "warehouse rows");
    out["waiting"].push_back({{"partition", FP_TRY(waiting.get<std::string>(i, 0), "name")},
                              {"range_start", FP_TRY(waiting.get<std::string>(i, 1), "start")},
                              {"source_rows", count_or_null(source)},
                              {"warehouse_rows", count_or_null(warehouse)},
                              {"failures", FP_TRY(waiting.get<int64_t>(i, 4), "failures")},
                              {"reason", FP_TRY(waiting.get<std::string>(i, 5), "reason")},
                              {"checked_at", FP_TRY(waiting.get<std::string>(i, 6), "at")}});
  }
  return out;
}

template <typename F>
nlohmann::json panel(const char* name, F&& f) {
  auto r = f();
  return r ? std::move(*r) : failed_panel(name, r.error());
}

}  // namespace

Result<nlohmann::json> parse_dbt_detail(const nlohmann::json& d) {
  if (!d.is_object()) return invalid_input("dbt detail: expected an object");
  nlohmann::json out;
  for (const char* k : {"pass", "fail", "error", "skip", "warn"}) {
    auto it = d.find(k);
    if (it == d.end() || it->is_null()) {
      out[k] = 0;
    } else if (it->is_number_integer() && it->get<int64_t>() >= 0) {
      out[k] = it->get<int64_t>();
    } else {
      return invalid_input("dbt detail: {} must be a count", k);
    }
  }
  return out;
}

Result<nlohmann::json> parse_verify_detail(const nlohmann::json& d) {
  if (!d.is_object() || !d.contains("stages") || !d["stages"].is_array())
    return invalid_input("verify detail: expected {{\"stages\": [...]}}");
  nlohmann::json stages = nlohmann::json::array();
  int failed = 0;
  for (const auto& s : d["stages"]) {
    if (!s.is_object()) return invalid_input("verify detail: a stage is not an object");
    auto text = [&](const char* k) -> std::string {
      auto it = s.find(k);
      if (it == s.end() || it->is_null()) return "";
      return it->is_string() ? it->get<std::string>() : it->dump();
    };
    const std::string result = text("result");
    if (result != "PASS" && result != "FAIL")
      return invalid_input("verify detail: result must be PASS or FAIL, not {:?}", result);
    if (result == "FAIL") ++failed;
    stages.push_back(
        {{"table", text("table")}, {"check", text("check")}, {"result", result}, {"detail", text("detail")}});
  }
  return nlohmann::json{{"stages", std::move(stages)}, {"failed", failed}};
}

nlohmann::json batch(Sources& src) {
  nlohmann::json out;
  out["export"] = panel("export", [&] { return export_panel(src); });
  auto db = src.warehouse_db();
  if (!db) {
    auto e = failed_panel("warehouse", db.error());
    out["load"] = e;
    out["dbt"] = e;
    out["verify"] = e;
    out["requests"] = e;
    out["retention"] = e;
    return out;
  }
  out["load"] = panel("load", [&] { return load_panel(*db); });
  out["dbt"] = panel("dbt", [&] { return last_step(*db, "dbt_build", parse_dbt_detail); });
  out["full_tests"] = panel("full_tests", [&] { return last_step(*db, "dbt_full_tests", parse_dbt_detail); });
  out["freshness"] = panel("freshness", [&] { return freshness_panel(*db); });
  out["verify"] = panel("verify", [&] { return last_step(*db, "verify", parse_verify_detail); });
  out["requests"] = panel("requests", [&] { return requests_panel(*db); });
  out["retention"] = panel("retention", [&] { return retention_panel(src, *db); });
  return out;
}

Result<nlohmann::json> request_run(Sources& src, const std::string& requested_by, bool full_tests) {
  auto db = FP_TRY(src.warehouse_db(), "warehouse database");
  // One statement: the request and its notification commit together or not at all.
  auto rows =
      FP_TRY(db.query("WITH r AS (INSERT INTO ops.run_requests (requested_by, full_tests) VALUES ($1, $2) "
                      "RETURNING request_id, requested_at) "
                      "SELECT request_id, " FP_TS(
                          "requested_at") ", "
                                          "pg_notify('fleetpipe_run_request', request_id::text)::text FROM r",
                      requested_by, full_tests),
             "request a run");
  return nlohmann::json{{"request_id", FP_TRY(rows.get<int64_t>(0, 0), "request")},
                        {"requested_at", FP_TRY(rows.get<std::string>(0, 1), "request")},
                        {"requested_by", requested_by},
                        {"full_tests", full_tests}};
}

}  // namespace fp::console

namespace fp::console::html {

using nlohmann::json;

namespace {

// The export watermark: the last committed run, an unfinished one, and what the next export will carry.
std::string export_section(const json& ex) {
  std::string body;
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
  return body;
}

std::string load_section(const json& load) {
  std::string body;
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
  return body;
}

// The last attempt of a scheduler step, with dbt's test counts or verify's stages from its detail.
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

// Commit -> mart lag: how long ago the newest source snapshot in the marts was taken.
std::string freshness_section(const json& f) {
  std::string body = "<section class=\"card half\" id=\"freshness\"><h2>Warehouse freshness</h2>\n";
  body += error_box(f);
  if (failed(f)) return body + "</section>\n";
  const std::string state = text_of(f, "state");
  if (!f.contains("lag_seconds")) {
    return body +
           "<p class=\"empty\" data-freshness=\"unknown\">No successful dbt build with a source as-of "
           "yet.</p></section>\n";
  }
  const auto lag = static_cast<int64_t>(f["lag_seconds"].get<double>());
  body += fmt::format(
      "<p class=\"meta\">{} the marts hold the source as of <strong data-freshness=\"{}\">{} s</strong> "
      "ago (warn at {} s, error at {} s).</p>\n",
      fmt::format("<span class=\"badge {}\">{}</span>",
                  state == "ok"     ? "good"
                  : state == "warn" ? "idle"
                                    : "bad",
                  e(state)),
      e(state), lag, int_of(f, "warn_seconds"), int_of(f, "error_seconds"));
  return body + "</section>\n";
}

// The warehouse's raw detail: how long it is kept and the day partitions of raw.trips dropped.
std::string raw_retention_block(const json& r) {
  const json keep = r.value("raw_retention_minutes", json());
  std::string body = "<h3>Warehouse raw detail</h3>\n";
  body += keep.is_number()
              ? fmt::format(
                    "<p class=\"meta\" data-raw-retention=\"{0}\">A day of <code>raw.trips</code> is "
                    "dropped {0} min after it ends, once the source has dropped it and the marts hold "
                    "every row; the marts keep it whole.</p>\n",
                    keep.get<int64_t>())
              : "<p class=\"meta\" data-raw-retention=\"all\">Kept for ever "
                "(<code>FLEETPIPE_WAREHOUSE_RAW_RETENTION</code> unset).</p>\n";
  const json drops = r.value("raw_drops", json::array());
  if (drops.empty()) return body + "<p class=\"empty\">No raw day dropped yet.</p>\n";
  body += table_open({{"Day", false}, {"Partition", false}, {"Rows", true}, {"Dropped", false}});
  for (const auto& d : drops)
    body += fmt::format(
        "<tr data-raw-dropped=\"{0}\"><td>{0}</td><td><code>{1}</code></td><td class=\"num\">{2}</td>"
        "<td>{3}</td></tr>\n",
        e(text_of(d, "day")), e(text_of(d, "partition")), grouped(int_of(d, "rows")),
        e(text_of(d, "dropped_at")));
  return body + kTableClose;
}

// The hot window: live partitions, drops and what still waits for the warehouse.
std::string retention_section(const json& r) {
  std::string body = "<section class=\"card\" id=\"retention\"><h2>Hot window</h2>\n";
  body += error_box(r);
  if (failed(r)) return body + "</section>\n";
  body += fmt::format(
      "<p class=\"meta\">The webapp database keeps <strong data-hot-window=\"{0}\">{0} min</strong> of "
      "measurements in partitions of {1} min; older ones are dropped once the warehouse holds every row "
      "(<code>fleetpipe retain</code>, the scheduler's last step).</p>\n",
      int_of(r, "hot_window_minutes"), int_of(r, "partition_interval_minutes"));
  if (int_of(r, "default_rows") > 0)
    body += fmt::format(
        "<div class=\"panel-error\" data-default-rows=\"{0}\">{0} row(s) in <code>trips_default</code>: "
        "written without a partition, never dropped.</div>\n",
        grouped(int_of(r, "default_rows")));
  body += "<h3>Partitions</h3>\n";
  body += table_open(
      {{"Partition", false}, {"From", false}, {"To", false}, {"Rows (est.)", true}, {"Size", true}});
  for (const auto& p : r.value("partitions", json::array()))
    body += fmt::format(
        "<tr data-partition=\"{0}\"><td><code>{0}</code></td><td>{1}</td><td>{2}</td><td class=\"num\">{3}"
        "</td><td class=\"num\">{4}</td></tr>\n",
        e(text_of(p, "partition")), e(text_of(p, "range_start")), e(text_of(p, "range_end")),
        grouped(int_of(p, "rows_estimate")), human_bytes(int_of(p, "bytes")));
  body += kTableClose;
  const json waiting = r.value("waiting", json::array());
  if (!waiting.empty()) {
    body += "<h3>Past the window, not dropped yet</h3>\n";
    body += table_open({{"Partition", false},
                        {"Source rows", true},
                        {"Warehouse rows", true},
                        {"Checks", true},
                        {"Why", false},
                        {"Last check", false}});
    for (const auto& w : waiting)
      body += fmt::format(
          "<tr data-waiting=\"{0}\"><td><code>{0}</code></td><td class=\"num\">{1}</td><td class=\"num\">{2}"
          "</td><td class=\"num\">{3}</td><td class=\"detail\">{4}</td><td>{5}</td></tr>\n",
          e(text_of(w, "partition")), grouped(int_of(w, "source_rows")), grouped(int_of(w, "warehouse_rows")),
          int_of(w, "failures"), e(text_of(w, "reason")), e(text_of(w, "checked_at")));
    body += kTableClose;
  }
  body += "<h3>Dropped</h3>\n";
  const json drops = r.value("drops", json::array());
  if (drops.empty()) body += "<p class=\"empty\">No partition dropped yet.</p>\n";
  if (!drops.empty()) {
    body += table_open(
        {{"Partition", false}, {"From", false}, {"To", false}, {"Rows", true}, {"Dropped", false}});
    for (const auto& d : drops)
      body += fmt::format(
          "<tr data-dropped=\"{0}\"><td><code>{0}</code></td><td>{1}</td><td>{2}</td><td "
          "class=\"num\">{3}</td>"
          "<td>{4}</td></tr>\n",
          e(text_of(d, "partition")), e(text_of(d, "range_start")), e(text_of(d, "range_end")),
          grouped(int_of(d, "rows")), e(text_of(d, "dropped_at")));
    body += kTableClose;
  }
  return body + raw_retention_block(r) + "</section>\n";
}

// The run-now action, with the requests the scheduler has not picked up yet.
std::string run_now_section(const json& req, std::string_view csrf_token) {
  std::string body;
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
  body +=
      "<p>Every build tests the rows it wrote; whole tables are tested on the scheduler's own schedule "
      "(<code>--full-tests-every</code>, daily by default) or by a run that asks for it:</p>\n";
  body += action_form("/batch/run-full-tests", csrf_token, "Run with whole-table tests", "run-full-tests");
  body += "</section>\n";
  return body;
}

}  // namespace

std::string batch(const json& b, const json& r, std::string_view csrf_token, std::string_view notice) {
  std::string body = "<h1>Batch lane and warehouse</h1>\n";
  body += notice_box(notice);
  body += "<div class=\"cols\">\n";
  body += export_section(b.value("export", json::object()));
  body += load_section(b.value("load", json::object()));
  body += step_box("Last dbt build", b.value("dbt", json(nullptr)), true);
  body += step_box("Last verify", b.value("verify", json(nullptr)), false);
  body += freshness_section(b.value("freshness", json::object()));
  body += step_box("Last whole-table tests", b.value("full_tests", json(nullptr)), true);
  body += "</div>\n";
  body += run_now_section(b.value("requests", json::object()), csrf_token);
  body += retention_section(b.value("retention", json::object()));
  body += run_history(r);
  return page("Batch & warehouse", "/batch", body);
}

}  // namespace fp::console::html
