// The run history in the warehouse (sql/warehouse/004_pipeline_runs.sql): ops.pipeline_runs, one row per
// attempt in ops.pipeline_steps, and the claiming of ops.run_requests. Everything goes through the
// connection that holds the scheduler's advisory lock, so only the lock holder ever writes a 'running' row.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/pg/connection.h"
#include "scheduler/dag.h"

namespace fp::sched {

class RunHistory {
 public:
  explicit RunHistory(pg::Connection& conn) : conn_(conn) {}

  // pg_try_advisory_lock(hashtext('fleetpipe.scheduler')): true when this session now holds it.
  Result<bool> try_lock();
  Status unlock();

  // Runs (and their steps) still 'running' belong to a scheduler that died holding the lock: since we hold
  // it now, nobody else is running them. Returns how many runs were marked 'abandoned'.
  Result<int64_t> mark_abandoned(const std::string& by);
  Result<int64_t> open_requests();
  Result<int64_t> start_run(const std::string& scheduler, const std::string& trigger);
  // Sets run_id on every open request; returns their ids and whether any asked for the full tests.
  struct Claimed {
    std::vector<int64_t> ids;
    bool full_tests = false;
  };
  Result<Claimed> claim_requests(int64_t run_id);
  // No dbt_full_tests step succeeded within `every` (0: the schedule never asks for one).
  Result<bool> full_tests_due(std::chrono::seconds every);
  Status finish_run(int64_t run_id, bool success, const std::string& error);

 private:
  pg::Connection& conn_;
};

// Records step attempts of one run into ops.pipeline_steps.
class PgStepRecorder : public StepRecorder {
 public:
  PgStepRecorder(pg::Connection& conn, int64_t run_id) : conn_(conn), run_id_(run_id) {}
  Status attempt_started(const std::string& step, int attempt) override;
  Status attempt_finished(const std::string& step, int attempt, const StepResult& result) override;
  Status skipped(const std::string& step, const std::string& reason) override;

 private:
  pg::Connection& conn_;
  int64_t run_id_;
};

}  // namespace fp::sched
