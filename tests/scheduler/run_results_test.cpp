#include "scheduler/run_results.h"

#include <gtest/gtest.h>

#include "scheduler/steps.h"

namespace fp::sched {
namespace {

// The shape of dbt 1.11's target/run_results.json, trimmed to the fields we read.
constexpr const char* kBuild = R"({
  "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"},
  "elapsed_time": 9.5,
  "results": [
    {"unique_id": "operation.fleetpipe.fleetpipe-on-run-start-0", "status": "success",
     "adapter_response": {"_message": "SELECT 1", "code": "SELECT", "rows_affected": 1}},
    {"unique_id": "model.fleetpipe.stg_trips", "status": "success",
     "adapter_response": {"_message": "CREATE VIEW", "code": "CREATE VIEW", "rows_affected": -1}},
    {"unique_id": "model.fleetpipe.fct_trips", "status": "success",
     "adapter_response": {"_message": "SELECT 42", "code": "SELECT", "rows_affected": 42}},
    {"unique_id": "model.fleetpipe.fct_refuels", "status": "skipped", "adapter_response": {}},
    {"unique_id": "test.fleetpipe.unique_fct_trips_trip_key.abc", "status": "pass"},
    {"unique_id": "test.fleetpipe.rises_only_when_x.def", "status": "fail",
     "message": "Got 1 result, configured to fail if != 0"},
    {"unique_id": "test.fleetpipe.accepted_values_y.123", "status": "warn"},
    {"unique_id": "test.fleetpipe.not_null_z.456", "status": "error", "message": "relation does not exist"},
    {"unique_id": "test.fleetpipe.relationships_q.789", "status": "skipped"}
  ]
})";

TEST(RunResults, CountsNodesByStatusModelsAndTestsApart) {
  auto r = parse_run_results(kBuild);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->all.pass, 4);  // the project hook too, which is neither a model nor a test
  EXPECT_EQ(r->all.fail, 1);
  EXPECT_EQ(r->all.error, 1);
  EXPECT_EQ(r->all.skip, 2);
  EXPECT_EQ(r->all.warn, 1);
  EXPECT_EQ(r->models.pass, 2);
  EXPECT_EQ(r->models.skip, 1);
  EXPECT_EQ(r->tests.pass, 1);
  EXPECT_EQ(r->tests.fail, 1);
  EXPECT_EQ(r->tests.error, 1);
  EXPECT_EQ(r->tests.skip, 1);
  EXPECT_EQ(r->tests.warn, 1);
  EXPECT_EQ(r->rows, 42);  // -1 (unknown) is not counted
  EXPECT_DOUBLE_EQ(r->elapsed_s, 9.5);
  ASSERT_EQ(r->failures.size(), 2u);
  EXPECT_EQ(r->failures[0].unique_id, "test.fleetpipe.rises_only_when_x.def");
  EXPECT_EQ(r->failures[1].message, "relation does not exist");
  EXPECT_FALSE(r->ok());
  const auto j = r->to_json();
  EXPECT_EQ(j["pass"], 4);
  EXPECT_EQ(j["fail"], 1);
  EXPECT_EQ(j["tests"]["fail"], 1);
}

TEST(RunResults, AFailedProjectHookFailsTheBuild) {
  auto r = parse_run_results(R"({"results": [
    {"unique_id": "operation.fleetpipe.fleetpipe-on-run-start-0", "status": "error",
     "message": "canceling statement due to lock timeout"},
    {"unique_id": "model.fleetpipe.stg_trips", "status": "skipped"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->all.error, 1);
  EXPECT_EQ(r->models.error, 0);
  EXPECT_EQ(r->models.skip, 1);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].unique_id, "operation.fleetpipe.fleetpipe-on-run-start-0");
}

TEST(RunResults, RejectsWhatIsNotRunResults) {
  EXPECT_FALSE(parse_run_results("not json").ok());
  EXPECT_FALSE(parse_run_results(R"({"results": 3})").ok());
  EXPECT_FALSE(parse_run_results(R"({"results": [{"status": "pass"}]})").ok());
  EXPECT_FALSE(parse_run_results(R"({"results": [{"unique_id": "test.a", "status": "bogus"}]})").ok());
}

TEST(RunResults, EmptyProjectIsOk) {
  auto r = parse_run_results(R"({"results": []})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->all.total(), 0);
}

TEST(DbtStepResult, CleanBuildSucceedsWithCountsAsDetail) {
  ChildResult child;
  child.exit_code = 0;
  auto r = parse_run_results(R"({"results": [{"unique_id": "test.a", "status": "pass"},
      {"unique_id": "model.b", "status": "success", "adapter_response": {"rows_affected": 7}}]})");
  auto s = dbt_step_result(child, r);
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.rows, 7);
  EXPECT_EQ(s.detail["pass"], 2);
  EXPECT_EQ(s.detail["tests"]["pass"], 1);
}

TEST(DbtStepResult, FailingTestFailsAndIsNotRetried) {
  ChildResult child;
  child.exit_code = 1;
  auto s = dbt_step_result(child, parse_run_results(kBuild));
  EXPECT_FALSE(s.ok);
  EXPECT_FALSE(s.retryable);
  EXPECT_NE(s.error.find("rises_only_when_x"), std::string::npos) << s.error;
  EXPECT_EQ(s.detail["fail"], 1);
}

TEST(DbtStepResult, NoResultsIsRetryable) {
  ChildResult child;
  child.exit_code = 2;
  child.tail.push_back("Could not connect");
  auto s = dbt_step_result(child, Result<DbtResults>(make_error("cannot read run_results.json")));
  EXPECT_FALSE(s.ok);
  EXPECT_TRUE(s.retryable);
  EXPECT_NE(s.error.find("Could not connect"), std::string::npos);
}

TEST(VerifyStepResult, StagesInDetailAnyFailFails) {
  std::vector<batch::VerifyLine> lines = {{true, "source->bucket", "trips", "10 = 10"},
                                          {false, "source->warehouse", "trips", "day 2024-04-15 differs"}};
  auto s = verify_step_result(lines);
  EXPECT_FALSE(s.ok);
  EXPECT_FALSE(s.retryable);
  ASSERT_EQ(s.detail["stages"].size(), 2u);
  EXPECT_EQ(s.detail["stages"][0]["result"], "PASS");
  EXPECT_EQ(s.detail["stages"][1]["result"], "FAIL");
  EXPECT_EQ(s.detail["stages"][1]["check"], "source->warehouse");
  EXPECT_EQ(s.detail["stages"][1]["table"], "trips");
  lines.pop_back();
  EXPECT_TRUE(verify_step_result(lines).ok);
}

}  // namespace
}  // namespace fp::sched
