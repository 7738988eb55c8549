#include "scheduler/steps.h"

#include <unistd.h>

#include <cstdio>

#include "common/files.h"
#include "common/log.h"
#include "compact/compactor.h"
#include "export/exporter.h"
#include "load/loader.h"
#include "retain/hot_window.h"
#include "scheduler/child.h"

namespace fp::sched {
namespace {

ChildOptions dbt_child(const Config& cfg, const DbtOptions& o, std::vector<std::string> args) {
  ChildOptions c;
  c.argv = {o.executable.string(), "--no-use-colors"};
  c.argv.insert(c.argv.end(), args.begin(), args.end());
  c.argv.insert(c.argv.end(),
                {"--project-dir", o.project_dir.string(), "--profiles-dir", o.project_dir.string()});
  c.env_override = dbt_environment(cfg);
  c.timeout = o.timeout;
  c.on_line = [](const std::string& line) {
    if (!line.empty()) log::info("dbt", "{}", line);
  };
  return c;
}

// Turns a finished dbt child (`what` names it) and the run_results.json it wrote into a step result.
std::pair<StepResult, Result<std::string>> dbt_outcome(const Config& cfg, const DbtOptions& o,
                                                       const Result<ChildResult>& child,
                                                       const std::string& what) {
  if (!child) return {StepResult::failure(child.error().message, true), make_error("not run")};
  if (child->stopped)
    return {StepResult::failure(what + " interrupted by shutdown", false), make_error("stopped")};
  if (child->timed_out)
    return {StepResult::failure(fmt::format("{} timed out after {} s", what, o.timeout.count() / 1000), true),
            make_error("timed out")};
  auto text = read_file(dbt_target_dir(cfg) / "run_results.json");
  Result<DbtResults> parsed = text ? parse_run_results(*text) : Result<DbtResults>(text.error());
  return {dbt_step_result(*child, parsed, what), std::move(text)};
}

// A stale run_results.json must not pass for the results of the dbt about to start.
void remove_run_results(const Config& cfg) {
  std::error_code ec;
  std::filesystem::remove(dbt_target_dir(cfg) / "run_results.json", ec);
}

// Runs dbt with `args` and turns its exit and run_results.json into a step result (`what` names it).
std::pair<StepResult, Result<std::string>> run_dbt(const Config& cfg, const DbtOptions& o,
                                                   const std::vector<std::string>& args,
                                                   const std::string& what) {
  remove_run_results(cfg);
  return dbt_outcome(cfg, o, run_child(dbt_child(cfg, o, args)), what);
}

// The newest source snapshot among the runs loaded so far: what the build about to start will hold.
std::optional<double> source_as_of(const Config& cfg) {
  pg::ConnectOptions co;
  co.statement_timeout = std::chrono::seconds(10);
  co.backoff.max_attempts = 1;
  auto dw = pg::Connection::connect(cfg.warehouse_as(DbService::kPipeline), co);
  if (!dw) {
    log::warn("scheduler", "freshness: {}", dw.error().message);
    return std::nullopt;
  }
  auto as_of = loaded_source_as_of(*dw);
  if (!as_of) log::warn("scheduler", "freshness: {}", as_of.error().message);
  return as_of ? *as_of : std::nullopt;
}

StepResult run_dbt_build(const Config& cfg, const PipelineOptions& p) {
  const DbtOptions& o = p.dbt;
  const auto results_path = dbt_target_dir(cfg) / "run_results.json";
  // Read before the build can see the warehouse: a prewarmed build waits at the load gate until take().
  const std::optional<double> as_of = source_as_of(cfg);
  auto prewarmed = p.prewarm ? p.prewarm->take() : std::nullopt;
  auto [step, text] =
      prewarmed ? dbt_outcome(cfg, o, *prewarmed, "dbt build") : run_dbt(cfg, o, {"build"}, "dbt build");
  if (step.detail.is_object()) {
    step.detail["prewarmed"] = prewarmed.has_value();
    if (prewarmed)
      step.detail["dbt_started_at"] =
          std::chrono::duration<double>(p.prewarm->started_at().time_since_epoch()).count();
  }
  if (step.ok && step.detail.is_object()) {
    step.detail["freshness"] = {{"warn_seconds", p.freshness.warn.count()},
                                {"error_seconds", p.freshness.error.count()}};
    if (as_of) step.detail["freshness"]["as_of"] = *as_of;
  }
  const auto due = o.docs ? docs_due(dbt_target_dir(cfg), o.project_dir, o.docs_every) : std::nullopt;
  if (due && text) {
    log::info("scheduler", "dbt docs generate: {}", *due);
    // `docs generate` rewrites run_results.json with its own compile results; the console wants the build's,
    // so they are put back afterwards. A docs failure is noted, not a failed step: the models are built.
    auto docs = run_child(dbt_child(cfg, o, {"docs", "generate"}));
    std::string docs_status = !docs                  ? docs.error().message
                              : docs->exit_code == 0 ? "generated"
                                                     : fmt::format("dbt docs generate exited {}: {}",
                                                                   docs->exit_code, docs->tail_text(3));
    if (auto st = write_file_atomic(results_path, *text); !st) docs_status += "; " + st.error().message;
    if (docs_status != "generated") log::warn("scheduler", "dbt docs: {}", docs_status);
    if (step.detail.is_object()) step.detail["docs"] = docs_status;
  }
  return step;
}

}  // namespace

std::optional<std::string> docs_due(const std::filesystem::path& target_dir,
                                    const std::filesystem::path& project_dir, std::chrono::seconds max_age,
                                    std::filesystem::file_time_type now) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto catalog = fs::last_write_time(target_dir / "catalog.json", ec);
  if (ec) return "no catalog.json yet";
  if (now - catalog >= max_age) return fmt::format("docs older than {} s", max_age.count());
  // Sources of the project only: dbt's own outputs may live under the project too (target/, logs/).
  for (auto it = fs::recursive_directory_iterator(project_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (it->is_directory() &&
        (name == "target" || name == "logs" || name == "dbt_packages" || name.starts_with("."))) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    const auto ext = it->path().extension();
    if (ext != ".sql" && ext != ".yml" && ext != ".yaml" && ext != ".md") continue;
    if (it->last_write_time() > catalog)
      return fmt::format("{} changed", fs::relative(it->path(), project_dir).string());
  }
  return std::nullopt;
}

std::shared_ptr<PrewarmedBuild> prewarm_dbt_build(const Config& cfg, const DbtOptions& o) {
  remove_run_results(cfg);
  return PrewarmedBuild::start(cfg, dbt_child(cfg, o, {"build"}));
}

std::filesystem::path dbt_target_dir(const Config& cfg) {
  return cfg.state_dir / "dbt" / "target";
}
std::filesystem::path dbt_log_dir(const Config& cfg) {
  return cfg.state_dir / "dbt" / "logs";
}

std::map<std::string, std::string> dbt_environment(const Config& cfg) {
  return {{"DW_POSTGRES_HOST", cfg.warehouse.host},
          {"DW_POSTGRES_PORT", std::to_string(cfg.warehouse.port)},
          {"DW_POSTGRES_DB", cfg.warehouse.dbname},
          // dbt logs in as the pipeline's role, which owns what it builds (sql/grants/warehouse.sql).
          {"FLEETPIPE_PIPELINE_DB_USER", cfg.warehouse_as(DbService::kPipeline).user},
          {"FLEETPIPE_PIPELINE_DB_PASSWORD", cfg.warehouse_as(DbService::kPipeline).password},
          {"FLEETPIPE_STATE_DIR", cfg.state_dir.string()},
          {"DBT_TARGET_PATH", dbt_target_dir(cfg).string()},
          {"DBT_LOG_PATH", dbt_log_dir(cfg).string()},
          {"DBT_SEND_ANONYMOUS_USAGE_STATS", "false"}};
}

StepResult dbt_step_result(const ChildResult& child, const Result<DbtResults>& results,
                           const std::string& what) {
  if (!results) {
    // No usable results: dbt did not get as far as running nodes (bad profile, database down, parse error).
    return StepResult::failure(fmt::format("{} exited {} without usable run_results.json ({}): {}", what,
                                           child.exit_code, results.error().message, child.tail_text(5)),
                               true);
  }
  const DbtResults& r = *results;
  nlohmann::json detail = r.to_json();
  if (child.exit_code == 0 && r.ok()) return StepResult::success(r.rows, std::move(detail));
  std::string why;
  for (const auto& f : r.failures) {
    if (!why.empty()) why += "; ";
    why += fmt::format("{} {}", f.unique_id, f.status);
    if (why.size() > 600) break;
  }
  if (why.empty()) why = child.tail_text(5);
  // Failing tests or models fail the same way next time: not retryable. A non-zero exit with clean results
  // (dbt itself crashed afterwards) may be transient.
  const bool deterministic = !r.ok();
  auto step = StepResult::failure(fmt::format("{} exited {}: {} fail, {} error, {} skip; {}", what,
                                              child.exit_code, r.all.fail, r.all.error, r.all.skip, why),
                                  !deterministic, std::move(detail));
  step.rows = r.rows;
  return step;
}

StepResult verify_step_result(const std::vector<batch::VerifyLine>& lines) {
  auto stages = nlohmann::json::array();
  int failed = 0;
  std::string first;
  for (const auto& l : lines) {
    stages.push_back(
        {{"table", l.table}, {"check", l.stage}, {"result", l.pass ? "PASS" : "FAIL"}, {"detail", l.detail}});
    if (!l.pass && failed++ == 0) first = fmt::format("{} {}: {}", l.stage, l.table, l.detail);
  }
  nlohmann::json detail = {{"stages", stages}};
  if (failed == 0) return StepResult::success(std::nullopt, std::move(detail));
  return StepResult::failure(fmt::format("{} of {} checks failed; first: {}", failed, lines.size(), first),
                             false, std::move(detail));
}

namespace {

// The batch lane's options for a step: the pipeline's key prefix, and no progress output.
template <typename Options>
Options lane_options(const PipelineOptions& p) {
  Options o;
  o.prefix = p.prefix;
  if constexpr (requires { o.progress; }) o.progress = false;
  return o;
}

// A batch-lane step's outcome: its report as success, or its error as a failure that may be retried.
template <typename Report, typename Success>
StepResult lane_result(const Result<Report>& r, Success&& success) {
  if (!r) return StepResult::failure(r.error().message, true);
  return success(*r);
}

}  // namespace

std::vector<StepDef> make_pipeline(const Config& cfg, const PipelineOptions& opts) {
  std::vector<StepDef> steps;
  steps.push_back({"export", {}, [cfg, opts](int) {
                     return lane_result(batch::run_export(cfg, lane_options<batch::ExportOptions>(opts)),
                                        [](const batch::ExportReport& r) {
                                          return StepResult::success(r.rows, {{"export_run", r.run},
                                                                              {"epoch", r.epoch},
                                                                              {"deletes", r.deletes},
                                                                              {"objects", r.objects},
                                                                              {"bytes", r.bytes},
                                                                              {"xid_from", r.xid_from},
                                                                              {"xid_to", r.xid_to},
                                                                              {"resumed", r.resumed}});
                                        });
                   }});
  steps.push_back({"load", {"export"}, [cfg, opts](int) {
                     return lane_result(batch::run_load(cfg, lane_options<batch::LoadOptions>(opts)),
                                        [](const batch::LoadReport& r) {
                                          return StepResult::success(r.rows,
                                                                     {{"objects_loaded", r.objects_loaded},
                                                                      {"deletes", r.deletes},
                                                                      {"quarantined", r.quarantined},
                                                                      {"superseded", r.superseded},
                                                                      {"swept", r.swept},
                                                                      {"already_loaded", r.already_loaded}});
                                        });
                   }});
  steps.push_back({"dbt_build", {"load"}, [cfg, opts](int) { return run_dbt_build(cfg, opts); }});
  if (opts.full_tests)
    steps.push_back({"dbt_full_tests", {"dbt_build"}, [cfg, opts](int) {
                       // `everything`: the per-run default selector leaves out the tests a constraint
                       // enforces.
                       return run_dbt(cfg, opts.dbt,
                                      {"test", "--selector", "everything", "--vars", "{full_tests: true}"},
                                      "dbt full tests")
                           .first;
                     }});
  // verify compares the source, the bucket and raw.*, none of which dbt writes: it runs beside dbt_build.
  steps.push_back({"verify", {"load"}, [cfg, opts](int) {
                     // Every run checks what it added; a run with the whole-table tests checks the history.
                     auto vo = lane_options<batch::VerifyOptions>(opts);
                     vo.scope = opts.full_tests ? batch::VerifyScope::kAll : batch::VerifyScope::kNewestRun;
                     return lane_result(batch::run_verify(cfg, vo), verify_step_result);
                   }});
  // The hot window: after verify, so a run whose lane disagrees somewhere drops nothing; each partition is
  // compared with the warehouse again inside the step (retain/hot_window.h) before it goes.
  steps.push_back({"retain", {"verify"}, [cfg, opts](int) {
                     return lane_result(retain::run_retain(cfg, lane_options<retain::RetainOptions>(opts)),
                                        [](const retain::RetainReport& r) {
                                          auto parts = nlohmann::json::array();
                                          for (const auto& p : r.partitions)
                                            parts.push_back({{"partition", p.partition},
                                                             {"range_start", p.range_start},
                                                             {"range_end", p.range_end},
                                                             {"source_rows", p.source_rows},
                                                             {"warehouse_rows", p.warehouse_rows},
                                                             {"dropped", p.dropped},
                                                             {"reason", p.reason}});
                                          auto raw = nlohmann::json::array();
                                          for (const auto& p : r.raw_partitions)
                                            raw.push_back({{"partition", p.partition},
                                                           {"range_start", p.range_start},
                                                           {"range_end", p.range_end},
                                                           {"rows", p.rows},
                                                           {"dropped", p.dropped},
                                                           {"reason", p.reason}});
                                          return StepResult::success(
                                              r.rows_dropped, {{"partitions", parts},
                                                               {"raw_partitions", raw},
                                                               {"raw_rows_dropped", r.raw_rows_dropped},
                                                               {"made", r.partitions_made},
                                                               {"waiting", r.waiting},
                                                               {"default_rows", r.default_rows}});
                                        });
                   }});
  // Compaction rewrites closed days' objects in the bucket: after verify, so a run whose lane disagrees
  // somewhere leaves the bucket as it is, and never beside a load (load precedes verify).
  steps.push_back({"compact", {"verify"}, [cfg, opts](int) {
                     return lane_result(
                         compact::run_compact(cfg, lane_options<compact::CompactOptions>(opts)),
                         [](const compact::CompactReport& r) {
                           auto days = nlohmann::json::array();
                           int64_t lines = 0;
                           for (const auto& d : r.days) {
                             if (d.compaction == 0) continue;
                             lines += d.rows;
                             days.push_back({{"table", d.table},
                                             {"dt", d.dt},
                                             {"compaction", d.compaction},
                                             {"replaced", d.replaced},
                                             {"outputs", d.outputs},
                                             {"bytes_before", d.bytes_before},
                                             {"bytes_after", d.bytes_after}});
                           }
                           return StepResult::success(lines, {{"days", days},
                                                              {"waiting", r.waiting},
                                                              {"finished", r.finished},
                                                              {"aborted", r.aborted}});
                         });
                   }});
  return steps;
}

Result<std::filesystem::path> resolve_dbt(const std::string& explicit_path) {
  std::string path = explicit_path;
  if (path.empty())
    if (const char* e = std::getenv("FLEETPIPE_DBT"); e && *e) path = e;
  if (path.empty()) {
    // The venv script prints the venv's path (building it once if needed); it lives in the repository.
    FILE* p = popen("scripts/python-venv.sh dbt dbt/requirements.txt", "r");
    if (!p) return make_error("cannot run scripts/python-venv.sh");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (rc != 0 || out.empty())
      return make_error(
          "scripts/python-venv.sh dbt dbt/requirements.txt failed (exit {}); run scripts/setup.sh, "
          "or pass --dbt / FLEETPIPE_DBT",
          rc);
    path = out + "/bin/dbt";
  }
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  if (ec || !std::filesystem::exists(abs)) return make_error("dbt executable {} does not exist", path);
  if (access(abs.c_str(), X_OK) != 0) return make_error("dbt executable {} is not executable", abs.string());
  return abs;
}

}  // namespace fp::sched
