#include "scheduler/dag.h"

#include <map>
#include <set>

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
class DagRun {
 public:
  DagRun(StepRecorder& recorder, const DagOptions& opts)
      : recorder_(recorder),
        opts_(opts),
        sleep_(opts.sleep ? opts.sleep : [](std::chrono::milliseconds d) { return interruptible_sleep(d); }),
        stop_(opts.stop_requested ? opts.stop_requested : [] { return shutdown::requested(); }),
        rng_(opts.seed) {}

  void run(const std::vector<StepDef>& steps) {
    for (const auto& step : steps) {
      const std::string blocked_by = first_unsuccessful_dependency(step);
      if (!blocked_by.empty() || out_.interrupted) {
        skip(step, blocked_by);
        continue;
      }
      StepSummary sum = run_attempts(step);
      if (stop_()) out_.interrupted = true;
      outcome_[step.name] = sum.outcome;
      if (sum.outcome == StepOutcome::kFailed && out_.error.empty())
        out_.error = fmt::format("{}: {}", step.name, sum.error.empty() ? "interrupted" : sum.error);
      out_.steps.push_back(std::move(sum));
    }
  }

  DagResult finish() && {
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

  // A recording error does not stop the pipeline: it is logged and kept in the result.
  void record(const Status& st, const std::string& what) {
    if (st) return;
    log::error("scheduler", "recording {}: {}", what, st.error().message);
    out_.record_errors.push_back(fmt::format("{}: {}", what, st.error().message));
  }

  // The first dependency that failed or was skipped; empty when all succeeded.
  std::string first_unsuccessful_dependency(const StepDef& step) {
    for (const auto& d : step.depends_on)
      if (outcome_[d] != StepOutcome::kSuccess) return d;
    return "";
  }

  // Upstream failed or skipped (naming the first one), or the run was interrupted: the step is skipped.
  void skip(const StepDef& step, const std::string& blocked_by) {
    const std::string reason =
        out_.interrupted ? kInterrupted
                         : fmt::format("upstream step {} {}", blocked_by, to_string(outcome_[blocked_by]));
    record(recorder_.skipped(step.name, reason), step.name + " skipped");
    StepSummary sum;
    sum.name = step.name;
    sum.outcome = StepOutcome::kSkipped;
    sum.error = reason;
    outcome_[step.name] = StepOutcome::kSkipped;
    out_.steps.push_back(std::move(sum));
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
    out_.interrupted = true;
    if (attempt == 1) {
      record(recorder_.skipped(step.name, kInterrupted), step.name + " skipped");
      sum.outcome = StepOutcome::kSkipped;
      sum.error = kInterrupted;
    } else {
      sum.outcome = StepOutcome::kFailed;
    }
  }

  // Runs and records one attempt, adding its time to the step's.
  Attempt attempt_once(const StepDef& step, int attempt, StepSummary& sum) {
    record(recorder_.attempt_started(step.name, attempt),
           fmt::format("{} attempt {} start", step.name, attempt));
    const auto t0 = std::chrono::steady_clock::now();
    StepResult result = step.run(attempt);
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    sum.duration += took;
    sum.attempts = attempt;
    record(recorder_.attempt_finished(step.name, attempt, result),
           fmt::format("{} attempt {} end", step.name, attempt));
    if (opts_.on_attempt) opts_.on_attempt(step.name, result, took);
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
    const auto d = opts_.retry.delay(attempt - 1, rng_);
    log::warn("scheduler", "step {} failed (attempt {}/{}): {}; retrying in {} ms", step.name, attempt,
              opts_.retry.max_attempts, last.error, d.count());
    if (!sleep_(d)) {
      out_.interrupted = true;
      return false;
    }
    return true;
  }

  StepRecorder& recorder_;
  const DagOptions& opts_;
  const std::function<bool(std::chrono::milliseconds)> sleep_;
  const std::function<bool()> stop_;
  std::mt19937_64 rng_;
  std::map<std::string, StepOutcome> outcome_;
  DagResult out_;
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
