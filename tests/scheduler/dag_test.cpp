#include "scheduler/dag.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "scheduler/schedule.h"

namespace fp::sched {
namespace {

// Records what the DAG tells the history, as "step#attempt:event".
struct FakeRecorder : StepRecorder {
  std::vector<std::string> events;
  Status attempt_started(const std::string& s, int a) override {
    events.push_back(fmt::format("{}#{}:start", s, a));
    return ok_status();
  }
  Status attempt_finished(const std::string& s, int a, const StepResult& r) override {
    events.push_back(fmt::format("{}#{}:{}", s, a, r.ok ? "success" : "failed"));
    return ok_status();
  }
  Status skipped(const std::string& s, const std::string&) override {
    events.push_back(s + ":skipped");
    return ok_status();
  }
};

// A step that fails `failures` times (retryable or not) and then succeeds.
StepDef step(std::string name, std::vector<std::string> deps, int failures, bool retryable = true,
             int* calls = nullptr) {
  return {std::move(name), std::move(deps), [failures, retryable, calls](int attempt) {
            if (calls) ++*calls;
            if (attempt <= failures) return StepResult::failure("boom", retryable);
            return StepResult::success(attempt * 10);
          }};
}

DagOptions quick(int attempts, std::vector<std::chrono::milliseconds>* waits = nullptr) {
  DagOptions o;
  o.retry.max_attempts = attempts;
  o.retry.base = std::chrono::milliseconds(100);
  o.retry.cap = std::chrono::milliseconds(1000);
  o.sleep = [waits](std::chrono::milliseconds d) {
    if (waits) waits->push_back(d);
    return true;
  };
  o.stop_requested = [] { return false; };
  o.seed = 1;
  return o;
}

std::vector<StepDef> pipeline(int export_failures, int dbt_failures, bool dbt_retryable = true) {
  return {step("export", {}, export_failures), step("load", {"export"}, 0),
          step("dbt_build", {"load"}, dbt_failures, dbt_retryable), step("verify", {"dbt_build"}, 0)};
}

TEST(Dag, AllStepsSucceedInOrder) {
  FakeRecorder rec;
  auto r = run_dag(pipeline(0, 0), rec, quick(3));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(rec.events,
            (std::vector<std::string>{"export#1:start", "export#1:success", "load#1:start", "load#1:success",
                                      "dbt_build#1:start", "dbt_build#1:success", "verify#1:start",
                                      "verify#1:success"}));
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].rows, 10);
}

TEST(Dag, RetriesUntilSuccessRecordingEveryAttempt) {
  FakeRecorder rec;
  std::vector<std::chrono::milliseconds> waits;
  auto r = run_dag(pipeline(2, 0), rec, quick(3, &waits));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.steps[0].attempts, 3);
  EXPECT_EQ(r.steps[0].rows, 30);
  EXPECT_EQ(std::count(rec.events.begin(), rec.events.end(), "export#1:failed"), 1);
  EXPECT_EQ(std::count(rec.events.begin(), rec.events.end(), "export#2:failed"), 1);
  EXPECT_EQ(std::count(rec.events.begin(), rec.events.end(), "export#3:success"), 1);
  // Two backoffs, each within its full-jitter bound (base * 2^n, capped).
  ASSERT_EQ(waits.size(), 2u);
  EXPECT_LE(waits[0], std::chrono::milliseconds(100));
  EXPECT_LE(waits[1], std::chrono::milliseconds(200));
}

TEST(Dag, GivesUpAfterMaxAttemptsAndSkipsDownstream) {
  FakeRecorder rec;
  int calls = 0;
  std::vector<StepDef> steps = {step("export", {}, 99, true, &calls), step("load", {"export"}, 0),
                                step("dbt_build", {"load"}, 0), step("verify", {"dbt_build"}, 0)};
  auto r = run_dag(steps, rec, quick(4));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(r.steps[0].outcome, StepOutcome::kFailed);
  EXPECT_EQ(r.steps[0].attempts, 4);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(r.steps[i].outcome, StepOutcome::kSkipped) << r.steps[i].name;
  EXPECT_EQ(r.steps[1].error, "upstream step export failed");
  EXPECT_EQ(r.steps[2].error, "upstream step load skipped");
  EXPECT_EQ(rec.events.back(), "verify:skipped");
  EXPECT_EQ(r.error, "export: boom");
}

TEST(Dag, DeterministicFailureIsNotRetried) {
  FakeRecorder rec;
  std::vector<std::chrono::milliseconds> waits;
  auto r = run_dag(pipeline(0, 1, /*dbt_retryable=*/false), rec, quick(3, &waits));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(waits.empty());
  EXPECT_EQ(r.steps[2].outcome, StepOutcome::kFailed);
  EXPECT_EQ(r.steps[2].attempts, 1);
  EXPECT_EQ(r.steps[3].outcome, StepOutcome::kSkipped);
  EXPECT_EQ(rec.events.back(), "verify:skipped");
}

TEST(Dag, StopRequestSkipsTheRest) {
  FakeRecorder rec;
  int polled = 0;
  auto o = quick(3);
  o.stop_requested = [&polled] { return ++polled > 2; };  // stop after export's checks
  auto r = run_dag(pipeline(0, 0), rec, o);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.steps[0].outcome, StepOutcome::kSuccess);
  for (int i = 1; i < 4; ++i) EXPECT_EQ(r.steps[i].outcome, StepOutcome::kSkipped);
}

TEST(Dag, InterruptedBackoffEndsTheRun) {
  FakeRecorder rec;
  auto o = quick(3);
  o.sleep = [](std::chrono::milliseconds) { return false; };
  auto r = run_dag(pipeline(1, 0), rec, o);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.steps[0].outcome, StepOutcome::kFailed);
  EXPECT_EQ(r.steps[0].attempts, 1);
  EXPECT_EQ(r.steps[1].outcome, StepOutcome::kSkipped);
}

TEST(Dag, RecordingErrorsAreReportedNotFatal) {
  struct Broken : FakeRecorder {
    Status attempt_started(const std::string&, int) override { return make_error("db down"); }
  } rec;
  auto r = run_dag(pipeline(0, 0), rec, quick(1));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.record_errors.size(), 4u);
}

// Two steps with no path between them, each waiting (at most 5 s) for the other to have started: they both
// succeed only if the DAG runs them at the same time. Results keep the listed order.
TEST(Dag, IndependentStepsRunAtTheSameTime) {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> started;
  auto meets = [&](std::string self, std::string other) {
    return [&, self, other](int) {
      std::unique_lock lock(mu);
      started.insert(self);
      cv.notify_all();
      if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return started.count(other) > 0; }))
        return StepResult::failure(other + " never ran beside " + self, false);
      return StepResult::success(1);
    };
  };
  FakeRecorder rec;
  std::vector<StepDef> steps = {step("export", {}, 0),
                                step("load", {"export"}, 0),
                                {"dbt_build", {"load"}, meets("dbt_build", "verify")},
                                {"verify", {"load"}, meets("verify", "dbt_build")}};
  auto r = run_dag(steps, rec, quick(1));
  EXPECT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[2].name, "dbt_build");
  EXPECT_EQ(r.steps[3].name, "verify");
  EXPECT_EQ(rec.events.size(), 8u);
}

// A failure skips what depends on it, not a step beside it; the run fails with the failed step's error.
TEST(Dag, AFailureDoesNotSkipAnIndependentStep) {
  FakeRecorder rec;
  std::vector<StepDef> steps = {step("export", {}, 0), step("load", {"export"}, 0),
                                step("dbt_build", {"load"}, 1, /*retryable=*/false),
                                step("dbt_full_tests", {"dbt_build"}, 0), step("verify", {"load"}, 0)};
  auto r = run_dag(steps, rec, quick(3));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.steps[2].outcome, StepOutcome::kFailed);
  EXPECT_EQ(r.steps[3].outcome, StepOutcome::kSkipped);
  EXPECT_EQ(r.steps[3].error, "upstream step dbt_build failed");
  EXPECT_EQ(r.steps[4].outcome, StepOutcome::kSuccess);
  EXPECT_EQ(r.error, "dbt_build: boom");
}

TEST(Dag, ValidationCatchesBadGraphs) {
  EXPECT_FALSE(validate_dag({step("load", {"export"}, 0), step("export", {}, 0)}).ok());
  EXPECT_FALSE(validate_dag({step("a", {}, 0), step("a", {}, 0)}).ok());
  EXPECT_TRUE(validate_dag(pipeline(0, 0)).ok());
}

TEST(Schedule, IntervalParsing) {
  EXPECT_EQ(*parse_interval("60s"), std::chrono::seconds(60));
  EXPECT_EQ(*parse_interval("5m"), std::chrono::minutes(5));
  EXPECT_EQ(*parse_interval("1h"), std::chrono::hours(1));
  EXPECT_EQ(*parse_interval("1500ms"), std::chrono::milliseconds(1500));
  EXPECT_EQ(*parse_interval("30"), std::chrono::seconds(30));
  for (const char* bad : {"", "s", "10x", "0s", "500ms", "25h", "-5s"})
    EXPECT_FALSE(parse_interval(bad).ok()) << bad;
}

TEST(Schedule, IntervalTicksKeepPhaseAndDropMissedTicks) {
  using namespace std::chrono;
  const auto s = Schedule::every(seconds(60));
  const system_clock::time_point t0{seconds(1000)};
  EXPECT_EQ(*s.first(t0), t0);
  EXPECT_EQ(*s.next(t0, t0 + seconds(5)), t0 + seconds(60));
  // The run took 150 s: ticks at +60 and +120 are gone, the next is +180.
  EXPECT_EQ(*s.next(t0, t0 + seconds(150)), t0 + seconds(180));
  EXPECT_EQ(*s.next(t0, t0 + seconds(60)), t0 + seconds(120));
}

}  // namespace
}  // namespace fp::sched
