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

DagResult run_dag(const std::vector<StepDef>& steps, StepRecorder& recorder, const DagOptions& opts) {
  DagResult out;
  if (auto st = validate_dag(steps); !st) {
    out.error = st.error().message;
    return out;
  }
  auto sleep = opts.sleep ? opts.sleep : [](std::chrono::milliseconds d) { return interruptible_sleep(d); };
  auto stop = opts.stop_requested ? opts.stop_requested : [] { return shutdown::requested(); };
  std::mt19937_64 rng(opts.seed);
  auto record = [&](const Status& st, const std::string& what) {
    if (st) return;
    log::error("scheduler", "recording {}: {}", what, st.error().message);
    out.record_errors.push_back(fmt::format("{}: {}", what, st.error().message));
  };

  std::map<std::string, StepOutcome> outcome;
  for (const auto& step : steps) {
    StepSummary sum;
    sum.name = step.name;
    // Upstream failed or skipped: skip, naming the first one.
    std::string blocked_by;
    for (const auto& d : step.depends_on)
      if (outcome[d] != StepOutcome::kSuccess) {
        blocked_by = d;
        break;
      }
    if (!blocked_by.empty() || out.interrupted) {
      const std::string reason =
          out.interrupted ? "run interrupted by shutdown"
                          : fmt::format("upstream step {} {}", blocked_by, to_string(outcome[blocked_by]));
      record(recorder.skipped(step.name, reason), step.name + " skipped");
      sum.outcome = StepOutcome::kSkipped;
      sum.error = reason;
      outcome[step.name] = StepOutcome::kSkipped;
      out.steps.push_back(std::move(sum));
      continue;
    }

    StepResult last;
    for (int attempt = 1;; ++attempt) {
      if (stop()) {
        out.interrupted = true;
        if (attempt == 1) {
          // Never started: skipped like the rest.
          record(recorder.skipped(step.name, "run interrupted by shutdown"), step.name + " skipped");
          sum.outcome = StepOutcome::kSkipped;
          sum.error = "run interrupted by shutdown";
        } else {
          sum.outcome = StepOutcome::kFailed;
        }
        break;
      }
      record(recorder.attempt_started(step.name, attempt),
             fmt::format("{} attempt {} start", step.name, attempt));
      const auto t0 = std::chrono::steady_clock::now();
      last = step.run(attempt);
      const auto took =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      sum.duration += took;
      sum.attempts = attempt;
      record(recorder.attempt_finished(step.name, attempt, last),
             fmt::format("{} attempt {} end", step.name, attempt));
      if (opts.on_attempt) opts.on_attempt(step.name, last, took);
      if (last.ok) {
        sum.outcome = StepOutcome::kSuccess;
        sum.rows = last.rows;
        sum.error.clear();
        log::info("scheduler", "step {} succeeded (attempt {}, {} ms{})", step.name, attempt, took.count(),
                  last.rows ? fmt::format(", {} rows", *last.rows) : "");
        break;
      }
      sum.outcome = StepOutcome::kFailed;
      sum.error = last.error;
      if (!last.retryable || attempt >= opts.retry.max_attempts) {
        log::error("scheduler", "step {} failed (attempt {}/{}{}): {}", step.name, attempt,
                   opts.retry.max_attempts, last.retryable ? "" : ", not retryable", last.error);
        break;
      }
      const auto d = opts.retry.delay(attempt - 1, rng);
      log::warn("scheduler", "step {} failed (attempt {}/{}): {}; retrying in {} ms", step.name, attempt,
                opts.retry.max_attempts, last.error, d.count());
      if (!sleep(d)) {
        out.interrupted = true;
        break;
      }
    }
    if (stop()) out.interrupted = true;
    outcome[step.name] = sum.outcome;
    if (sum.outcome == StepOutcome::kFailed && out.error.empty())
      out.error = fmt::format("{}: {}", step.name, sum.error.empty() ? "interrupted" : sum.error);
    out.steps.push_back(std::move(sum));
  }
  out.ok = !out.interrupted && out.error.empty();
  for (const auto& s : out.steps)
    if (s.outcome != StepOutcome::kSuccess) out.ok = false;
  if (out.interrupted && out.error.empty()) out.error = "interrupted by shutdown";
  return out;
}

}  // namespace fp::sched
