// Batch lane and warehouse: the export watermark (kept with the data in the bucket, read through the
// exporter's own layout code), the source rows it has not reached yet, the last load, and the scheduler's
// run history in the warehouse's ops schema (sql/warehouse/004_pipeline_runs.sql).
#include "common/batch/layout.h"
#include "common/pg/connection.h"
#include "console/views.h"

namespace fp::console {

namespace {

// Timestamps as text in UTC, the same whatever the server's settings.
#define FP_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"')"

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
    for (const auto& o : m.objects) rows += o.rows;
    watermark = std::to_string(m.range.xid_to);
    out["last_run"] = {{"run", run},
                       {"xid_from", m.range.xid_from},
                       {"xid_to", m.range.xid_to},
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
      FP_TRY(db.query("SELECT count(*), coalesce(sum(row_count), 0)::bigint FROM raw.load_manifest"),
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

Result<nlohmann::json> requests_panel(pg::Connection& db) {
  auto rows = FP_TRY(db.query("SELECT count(*), coalesce(" FP_TS(
                         "min(requested_at)") ", '') "
                                              "FROM ops.run_requests WHERE run_id IS NULL"),
                     "open run requests");
  return nlohmann::json{{"open", FP_TRY(rows.get<int64_t>(0, 0), "requests")},
                        {"oldest", FP_TRY(rows.get<std::string>(0, 1), "requests")}};
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
    return out;
  }
  out["load"] = panel("load", [&] { return load_panel(*db); });
  out["dbt"] = panel("dbt", [&] { return last_step(*db, "dbt_build", parse_dbt_detail); });
  out["verify"] = panel("verify", [&] { return last_step(*db, "verify", parse_verify_detail); });
  out["requests"] = panel("requests", [&] { return requests_panel(*db); });
  return out;
}

nlohmann::json runs(Sources& src, std::optional<int64_t> before, int limit) {
  auto db = src.warehouse_db();
  if (!db) return failed_panel("runs", db.error());
  auto rows = db->query(
      "SELECT r.run_id, r.scheduler, r.trigger, " FP_TS("r.started_at") ", coalesce(" FP_TS(
          "r.finished_at") ", ''), r.outcome, coalesce(r.error, ''), "
                           "extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at)::float8, "
                           "coalesce((SELECT json_agg(json_build_object('step', s.step, 'attempt', s.attempt, "
                           "'outcome', s.outcome, 'rows', s.rows, 'error', s.error, 'detail', s.detail, "
                           "'seconds', extract(epoch FROM coalesce(s.finished_at, now()) - s.started_at)) "
                           "ORDER BY s.started_at, s.attempt) FROM ops.pipeline_steps s "
                           "WHERE s.run_id = r.run_id), '[]')::text "
                           "FROM ops.pipeline_runs r WHERE $1::bigint IS NULL OR r.run_id < $1 "
                           "ORDER BY r.run_id DESC LIMIT $2",
      before, limit + 1);
  if (!rows) return failed_panel("runs", rows.error());
  nlohmann::json arr = nlohmann::json::array();
  auto read = [&](int i) -> Result<nlohmann::json> {
    nlohmann::json r = {{"run_id", FP_TRY(rows->get<int64_t>(i, 0), "run")},
                        {"scheduler", FP_TRY(rows->get<std::string>(i, 1), "run")},
                        {"trigger", FP_TRY(rows->get<std::string>(i, 2), "run")},
                        {"started_at", FP_TRY(rows->get<std::string>(i, 3), "run")},
                        {"finished_at", FP_TRY(rows->get<std::string>(i, 4), "run")},
                        {"outcome", FP_TRY(rows->get<std::string>(i, 5), "run")},
                        {"error", FP_TRY(rows->get<std::string>(i, 6), "run")},
                        {"seconds", FP_TRY(rows->get<double>(i, 7), "run")}};
    auto steps = nlohmann::json::parse(FP_TRY(rows->get<std::string>(i, 8), "run"), nullptr, false);
    r["steps"] = steps.is_discarded() ? nlohmann::json::array() : steps;
    return r;
  };
  const int n = std::min(rows->size(), limit);
  for (int i = 0; i < n; ++i) {
    auto r = read(i);
    if (!r) return failed_panel("runs", r.error());
    arr.push_back(std::move(*r));
  }
  nlohmann::json out = {{"runs", std::move(arr)}, {"limit", limit}};
  out["next_before"] = rows->size() > limit ? nlohmann::json(out["runs"].back()["run_id"]) : nullptr;
  return out;
}

Result<nlohmann::json> request_run(Sources& src, const std::string& requested_by) {
  auto db = FP_TRY(src.warehouse_db(), "warehouse database");
  // One statement: the request and its notification commit together or not at all.
  auto rows =
      FP_TRY(db.query("WITH r AS (INSERT INTO ops.run_requests (requested_by) VALUES ($1) "
                      "RETURNING request_id, requested_at) "
                      "SELECT request_id, " FP_TS(
                          "requested_at") ", "
                                          "pg_notify('fleetpipe_run_request', request_id::text)::text FROM r",
                      requested_by),
             "request a run");
  return nlohmann::json{{"request_id", FP_TRY(rows.get<int64_t>(0, 0), "request")},
                        {"requested_at", FP_TRY(rows.get<std::string>(0, 1), "request")},
                        {"requested_by", requested_by}};
}

}  // namespace fp::console
