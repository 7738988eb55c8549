// `fleetpipe scheduler`: runs the pipeline DAG (export -> load -> dbt build beside verify) on a schedule, or
// once.
//
// One run at a time across every scheduler on every machine: a run happens only on a warehouse connection
// that got pg_try_advisory_lock(hashtext('fleetpipe.scheduler')); a scheduler that does not get it skips the
// tick and says so. The lock holder first marks runs left 'running' by a dead scheduler as 'abandoned'.
// Manual runs: rows in ops.run_requests, noticed on NOTIFY fleetpipe_run_request and at every tick, claimed
// by the run that serves them. SIGINT/SIGTERM end the current step (dbt's process group is killed), mark
// the run failed and exit. /healthz and /metrics on --listen.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "common/retry.h"
#include "scheduler/schedule.h"
#include "scheduler/steps.h"

namespace fp::sched {

struct SchedulerOptions {
  std::optional<Schedule> schedule;  // nullopt with once
  bool once = false;
  std::string bind_address = "127.0.0.1";
  uint16_t port = 18070;
  bool serve_http = true;
  PipelineOptions pipeline;
  // Whole-table dbt tests at most this often (a dbt_full_tests step in the first run after; 0: only on
  // request from the console).
  std::chrono::seconds full_tests_every{std::chrono::hours(24)};
  Backoff retry{std::chrono::milliseconds(2000), std::chrono::milliseconds(30000), 3};
};

// What a finished (or refused) run came to; --once turns it into the exit code.
enum class RunOutcome { kSuccess, kFailed, kLocked, kError };

class Scheduler {
 public:
  Scheduler(Config cfg, SchedulerOptions opts);
  ~Scheduler();
  // Runs until shutdown (or one run with once); returns the process exit code: 0 success, 1 run failed,
  // 2 could not run (configuration, warehouse unreachable), 3 another scheduler holds the lock (once).
  int run();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace fp::sched
