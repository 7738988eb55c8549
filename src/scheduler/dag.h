// The pipeline as a DAG of steps, run with retries, independent of what the steps do and where the history
// goes (both injected), so the ordering, skip and retry rules are unit-tested without a database.
//
// Rules: a step runs once every step it depends on succeeded; otherwise it is recorded 'skipped' with the
// upstream step that failed. Steps with no dependency path between them run at the same time (each on its
// own thread; the recorder and the attempt observer are called one at a time); results keep the listed
// order. A failed attempt is retried after a backoff with full jitter while the step
// says the failure is retryable and attempts remain; every attempt is recorded. A stop request (shutdown)
// ends the run after the current attempt: nothing further starts and the rest is recorded 'skipped'.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/retry.h"

namespace fp::sched {

// What one attempt of a step produced.
struct StepResult {
  bool ok = false;
  std::optional<int64_t> rows;  // rows exported / loaded / built; nullopt when not counted
  nlohmann::json detail;        // step-specific, stored as ops.pipeline_steps.detail (null for none)
  std::string error;            // why it failed (empty on success)
  bool retryable = true;        // false for deterministic failures (a failed dbt test, a verify mismatch)

  static StepResult success(std::optional<int64_t> rows, nlohmann::json detail = nullptr);
  static StepResult failure(std::string error, bool retryable, nlohmann::json detail = nullptr);
};

struct StepDef {
  std::string name;
  std::vector<std::string> depends_on;
  std::function<StepResult(int attempt)> run;  // attempt counts from 1
};

enum class StepOutcome { kSuccess, kFailed, kSkipped };
const char* to_string(StepOutcome o);

// Where attempts are recorded (ops.pipeline_steps in production). A recording error does not stop the
// pipeline; it is logged and reported in the run's result.
class StepRecorder {
 public:
  virtual ~StepRecorder() = default;
  virtual Status attempt_started(const std::string& step, int attempt) = 0;
  virtual Status attempt_finished(const std::string& step, int attempt, const StepResult& result) = 0;
  virtual Status skipped(const std::string& step, const std::string& reason) = 0;
};

struct StepSummary {
  std::string name;
  StepOutcome outcome = StepOutcome::kSkipped;
  int attempts = 0;
  std::chrono::milliseconds duration{0};  // all attempts, backoff waits excluded
  std::optional<int64_t> rows;
  std::string error;
};

struct DagResult {
  bool ok = false;
  bool interrupted = false;  // a stop request cut the run short
  std::vector<StepSummary> steps;
  std::vector<std::string> record_errors;
  std::string error;  // the first failure, "step: message"
};

struct DagOptions {
  Backoff retry{std::chrono::milliseconds(2000), std::chrono::milliseconds(30000), 3};
  // Waits for a backoff delay; returns false when interrupted (then the run stops). Default: interruptible
  // sleep on the process's shutdown flag.
  std::function<bool(std::chrono::milliseconds)> sleep;
  // Polled before each attempt; true ends the run. Default: fp::shutdown::requested().
  std::function<bool()> stop_requested;
  // Observes each finished attempt (metrics).
  std::function<void(const std::string& step, const StepResult&, std::chrono::milliseconds)> on_attempt;
  uint64_t seed = std::random_device{}();
};

// Validates the DAG (unique names, known dependencies, dependencies listed before their dependents).
Status validate_dag(const std::vector<StepDef>& steps);

DagResult run_dag(const std::vector<StepDef>& steps, StepRecorder& recorder, const DagOptions& opts);

}  // namespace fp::sched
