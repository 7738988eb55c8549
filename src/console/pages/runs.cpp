// The batch page's run history (/batch#history, /api/runs, paged with ?before=): the scheduler's runs and
// their steps from the warehouse's ops schema, newest first. A section of its own, with its own API and
// pager, so it has its own file beside pages/batch.cpp: the view and its HTML (console/pages/markup.h says
// why the two share a file).
#include "common/pg/connection.h"
#include "console/format.h"
#include "console/html.h"
#include "console/pages/markup.h"
#include "console/pages/warehouse_sql.h"
#include "console/views.h"

namespace fp::console {

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

}  // namespace fp::console

namespace fp::console::html {

using nlohmann::json;

std::string run_history(const json& r) {
  std::string body;
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
  return body;
}

}  // namespace fp::console::html
