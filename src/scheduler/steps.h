// The pipeline's steps as StepDefs: export and load and verify call the batch lane's library in process;
// dbt build (and, when due, dbt's whole-table tests) runs the project's pinned dbt as a child process and
// reads its run_results.json.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "load/verify.h"
#include "scheduler/child.h"
#include "scheduler/dag.h"
#include "scheduler/freshness.h"
#include "scheduler/prewarm.h"
#include "scheduler/run_results.h"

namespace fp::sched {

struct DbtOptions {
  std::filesystem::path executable;   // <venv>/bin/dbt
  std::filesystem::path project_dir;  // dbt/ (also its profiles dir)
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};
  bool docs = true;  // also `dbt docs generate` (lineage + dictionary for the console) when due
  // Docs describe the project and the warehouse's columns, which change only with the project: regenerating
  // them (20-30 s here) on every one-minute run would double each run's cost for nothing.
  std::chrono::seconds docs_every{std::chrono::hours(1)};
  // Start the build with the run, held at the load gate until load has finished (prewarm.h); a scheduled
  // run takes its lock and starts dbt this long before its tick, so that dbt is ready when export begins.
  bool prewarm = true;
  std::chrono::seconds prewarm_lead{5};
};

struct PipelineOptions {
  std::string prefix;  // bucket key prefix for export/load/verify
  DbtOptions dbt;
  // This run also tests whole tables (`dbt test --selector everything --vars '{full_tests: true}'`) as the
  // step dbt_full_tests, after dbt_build; the scheduler sets it when the full-test schedule or a request says
  // so.
  bool full_tests = false;
  FreshnessThresholds freshness;  // recorded with each build's as-of, for the console
  // This run's `dbt build`, started with the run and held at the load gate (prewarm.h); the dbt_build step's
  // first attempt follows it. Null: dbt starts when the step does.
  std::shared_ptr<PrewarmedBuild> prewarm;
};

// <state>/dbt/target and <state>/dbt/logs: where dbt writes its artifacts (the console serves target/).
std::filesystem::path dbt_target_dir(const Config& cfg);
std::filesystem::path dbt_log_dir(const Config& cfg);

// The environment the dbt child gets on top of ours: the warehouse connection with the seed's names (read by
// dbt/profiles.yml), the artifact paths and no usage tracking.
std::map<std::string, std::string> dbt_environment(const Config& cfg);

// Turns a finished `dbt build` (exit code + parsed run_results.json, if any) into a step result: success
// only with exit 0 and no failing node; failing tests are not retryable, a crash or a missing result is.
StepResult dbt_step_result(const ChildResult& child, const Result<DbtResults>& results,
                           const std::string& what = "dbt build");

// Turns verify's lines into a step result with detail {"stages":[{"table","check","result","detail"}]}; any
// FAIL fails the step (not retryable: the data disagree, trying again changes nothing).
StepResult verify_step_result(const std::vector<batch::VerifyLine>& lines);

// Why `dbt docs generate` should run now, or nullopt when the docs in target_dir are current: no
// catalog.json yet, a file of the project newer than it (a changed model or description), or a catalog
// older than max_age.
std::optional<std::string> docs_due(
    const std::filesystem::path& target_dir, const std::filesystem::path& project_dir,
    std::chrono::seconds max_age,
    std::filesystem::file_time_type now = std::filesystem::file_time_type::clock::now());

// Starts this run's `dbt build` now, held at the load gate until the dbt_build step opens it (nullptr when
// the gate cannot be closed). The caller cancels it if the step never runs.
std::shared_ptr<PrewarmedBuild> prewarm_dbt_build(const Config& cfg, const DbtOptions& o);

std::vector<StepDef> make_pipeline(const Config& cfg, const PipelineOptions& opts);

// Finds dbt: explicit path, else FLEETPIPE_DBT, else `scripts/python-venv.sh dbt dbt/requirements.txt`.
Result<std::filesystem::path> resolve_dbt(const std::string& explicit_path);

}  // namespace fp::sched
