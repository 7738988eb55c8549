#include "scheduler/dag.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/shutdown.h"

namespace fp::sched {

StepResult StepResult::success(std::optional<int64_t> rows, nlohmann::json detail) {
  StepResult r;
  r.ok = true;
  r.rows = rows;
  r.detail = std::move(detail);
  return r;
}

StepResult StepResult::failure(std::string error, bool retryable, nlohmann::json detail) {
  StepResult r;
  r.ok = false;
  r.error = std::move(error);
  r.retryable = retryable;
  r.detail = std::move(detail);
  return r;
}

const char* to_string(StepOutcome o) {
  switch (o) {
    case StepOutcome::kSuccess:
      return "success";
    case StepOutcome::kFailed:
      return "failed";
    case StepOutcome::kSkipped:
      return "skipped";
  }
  return "?";
}

Status validate_dag(const std::vector<StepDef>& steps) {
  std::set<std::string> seen;
  for (const auto& s : steps) {
    if (s.name.empty()) return invalid_input("a step without a name");
    if (!s.run) return invalid_input("step {}: nothing to run", s.name);
    for (const auto& d : s.depends_on)
      if (!seen.count(d))
        return invalid_input("step {}: depends on {}, which is not listed before it", s.name, d);
    if (!seen.insert(s.name).second) return invalid_input("step {}: listed twice", s.name);
  }
  return ok_status();
}

namespace {

constexpr const char* kInterrupted = "run interrupted by shutdown";

// One run of the DAG: the steps' outcomes so far, the jitter's random source and the result being built.
// A step starts once every step it depends on has finished, so steps with no path between them run at the
// same time (verify beside dbt_build), each attempt loop on its own thread. Shared state: the outcomes and
// the finished count under state_mu_; the recorder, the attempt observer, the jitter and the recording
// errors under record_mu_ (the production recorder writes through one database connection).
class DagRun {
 public:
  DagRun(StepRecorder& recorder, const DagOptions& opts)
      : recorder_(recorder),
        opts_(opts),
        sleep_(opts.sleep ? opts.sleep : [](std::chrono::milliseconds d) { return interruptible_sleep(d); }),
        stop_(opts.stop_requested ? opts.stop_requested : [] { return shutdown::requested(); }),
        rng_(opts.seed) {}

  void run(const std::vector<StepDef>& steps) {
    summaries_.assign(steps.size(), StepSummary{});
    std::vector<bool> started(steps.size(), false);
    std::vector<std::jthread> workers;
    std::unique_lock lock(state_mu_);
    while (finished_ < steps.size()) {
      bool progressed = false;
      for (size_t i = 0; i < steps.size(); ++i) {
        if (started[i] || !dependencies_finished(steps[i])) continue;
        started[i] = true;
        progressed = true;
        const std::string blocked_by = first_unsuccessful_dependency(steps[i]);
        if (!blocked_by.empty() || interrupted_) {
          finish_step(i, skip(steps[i], blocked_by));
          continue;
        }
        workers.emplace_back([this, &steps, i] {
          StepSummary sum = run_attempts(steps[i]);
          if (stop_()) interrupted_ = true;
          std::lock_guard done(state_mu_);
          finish_step(i, std::move(sum));
          step_done_.notify_all();
        });
      }
      // Every unstarted step waits on a running one (dependencies are listed first): wait for one to end.
      if (!progressed) step_done_.wait(lock);
    }
    lock.unlock();
    workers.clear();  // joins
  }

  DagResult finish() && {
    out_.interrupted = interrupted_;
    for (auto& s : summaries_) {
      if (s.outcome == StepOutcome::kFailed && out_.error.empty())
        out_.error = fmt::format("{}: {}", s.name, s.error.empty() ? "interrupted" : s.error);
      out_.steps.push_back(std::move(s));
    }
    out_.ok = !out_.interrupted && out_.error.empty();
    for (const auto& s : out_.steps)
      if (s.outcome != StepOutcome::kSuccess) out_.ok = false;
    if (out_.interrupted && out_.error.empty()) out_.error = "interrupted by shutdown";
    return std::move(out_);
  }

 private:
  struct Attempt {
    StepResult result;
    std::chrono::milliseconds took;
  };

  // Under state_mu_.
  void finish_step(size_t i, StepSummary sum) {
    outcome_[sum.name] = sum.outcome;
    summaries_[i] = std::move(sum);
    ++finished_;
  }

  // Under state_mu_.
  bool dependencies_finished(const StepDef& step) {
    for (const auto& d : step.depends_on)
      if (!outcome_.count(d)) return false;
    return true;
  }

  // A recording error does not stop the pipeline: it is logged and kept in the result.
  void record(const std::function<Status()>& call, const std::string& what) {
    std::lock_guard lock(record_mu_);
    const Status st = call();
    if (st) return;
    log::error("scheduler", "recording {}: {}", what, st.error().message);
    out_.record_errors.push_back(fmt::format("{}: {}", what, st.error().message));
  }

  // The first dependency that failed or was skipped; empty when all succeeded. Under state_mu_.
  std::string first_unsuccessful_dependency(const StepDef& step) {
    for (const auto& d : step.depends_on)
      if (outcome_[d] != StepOutcome::kSuccess) return d;
    return "";
  }

  // Upstream failed or skipped (naming the first one), or the run was interrupted: the step is skipped.
  // Under state_mu_.
  StepSummary skip(const StepDef& step, const std::string& blocked_by) {
    const std::string reason =
        interrupted_ ? kInterrupted
                     : fmt::format("upstream step {} {}", blocked_by, to_string(outcome_[blocked_by]));
    record([&] { return recorder_.skipped(step.name, reason); }, step.name + " skipped");
    StepSummary sum;
    sum.name = step.name;
    sum.outcome = StepOutcome::kSkipped;
    sum.error = reason;
    return sum;
  }

  // Attempts until one succeeds, the failure is final, or a stop request or an interrupted backoff ends
  // the run.
  StepSummary run_attempts(const StepDef& step) {
    StepSummary sum;
    sum.name = step.name;
    for (int attempt = 1;; ++attempt) {
      if (stop_()) {
        stopped_before(step, attempt, sum);
        break;
      }
      const Attempt a = attempt_once(step, attempt, sum);
      if (a.result.ok) {
        sum.outcome = StepOutcome::kSuccess;
        sum.rows = a.result.rows;
        sum.error.clear();
        log::info("scheduler", "step {} succeeded (attempt {}, {} ms{})", step.name, attempt, a.took.count(),
                  a.result.rows ? fmt::format(", {} rows", *a.result.rows) : "");
        break;
      }
      sum.outcome = StepOutcome::kFailed;
      sum.error = a.result.error;
      if (!back_off(step, attempt, a.result)) break;
    }
    return sum;
  }

  // A stop request before an attempt: a step never started is skipped like the rest; one that already
  // failed an attempt stays failed.
  void stopped_before(const StepDef& step, int attempt, StepSummary& sum) {
    interrupted_ = true;
    if (attempt == 1) {
      record([&] { return recorder_.skipped(step.name, kInterrupted); }, step.name + " skipped");
      sum.outcome = StepOutcome::kSkipped;
      sum.error = kInterrupted;
    } else {
      sum.outcome = StepOutcome::kFailed;
    }
  }

  // Runs and records one attempt, adding its time to the step's.
  Attempt attempt_once(const StepDef& step, int attempt, StepSummary& sum) {
    record([&] { return recorder_.attempt_started(step.name, attempt); },
           fmt::format("{} attempt {} start", step.name, attempt));
    const auto t0 = std::chrono::steady_clock::now();
    StepResult result = step.run(attempt);
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    sum.duration += took;
    sum.attempts = attempt;
    record([&] { return recorder_.attempt_finished(step.name, attempt, result); },
           fmt::format("{} attempt {} end", step.name, attempt));
    if (opts_.on_attempt) {
      std::lock_guard lock(record_mu_);
      opts_.on_attempt(step.name, result, took);
    }
    return {std::move(result), took};
  }

  // After a failed attempt: true once the backoff delay has passed and another attempt may start; false
  // when the failure is final or the wait was interrupted (which ends the run).
  bool back_off(const StepDef& step, int attempt, const StepResult& last) {
    if (!last.retryable || attempt >= opts_.retry.max_attempts) {
      log::error("scheduler", "step {} failed (attempt {}/{}{}): {}", step.name, attempt,
                 opts_.retry.max_attempts, last.retryable ? "" : ", not retryable", last.error);
      return false;
    }
    const auto d = [&] {
      std::lock_guard lock(record_mu_);
      return opts_.retry.delay(attempt - 1, rng_);
    }();
    log::warn("scheduler", "step {} failed (attempt {}/{}): {}; retrying in {} ms", step.name, attempt,
              opts_.retry.max_attempts, last.error, d.count());
    if (!sleep_(d)) {
      interrupted_ = true;
      return false;
    }
    return true;
  }

  StepRecorder& recorder_;
  const DagOptions& opts_;
  const std::function<bool(std::chrono::milliseconds)> sleep_;
  const std::function<bool()> stop_;
  std::mutex record_mu_;
  std::mt19937_64 rng_;  // under record_mu_
  DagResult out_;        // record_errors under record_mu_; the rest built by finish()
  std::mutex state_mu_;
  std::condition_variable step_done_;
  std::map<std::string, StepOutcome> outcome_;  // finished steps; under state_mu_
  std::vector<StepSummary> summaries_;          // in the steps' listed order; under state_mu_
  size_t finished_ = 0;                         // under state_mu_
  std::atomic<bool> interrupted_ = false;
};

}  // namespace

DagResult run_dag(const std::vector<StepDef>& steps, StepRecorder& recorder, const DagOptions& opts) {
  if (auto st = validate_dag(steps); !st) {
    DagResult out;
    out.error = st.error().message;
    return out;
  }
  DagRun run(recorder, opts);
  run.run(steps);
  return std::move(run).finish();
}

}  // namespace fp::sched
