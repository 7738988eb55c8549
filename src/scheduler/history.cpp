#include "scheduler/history.h"

namespace fp::sched {
namespace {
constexpr const char* kLockSql = "SELECT pg_try_advisory_lock(hashtext('fleetpipe.scheduler'))";
constexpr const char* kUnlockSql = "SELECT pg_advisory_unlock(hashtext('fleetpipe.scheduler'))";
// Error texts are stored whole up to this size (a dbt failure list can be long).
constexpr size_t kMaxErrorChars = 4000;

std::optional<std::string> error_text(const std::string& e) {
  if (e.empty()) return std::nullopt;
  if (e.size() <= kMaxErrorChars) return e;
  size_t cut = kMaxErrorChars;
  while (cut > 0 && (static_cast<unsigned char>(e[cut]) & 0xC0) == 0x80)
    --cut;  // not inside a UTF-8 character
  return e.substr(0, cut) + "…";
}
}  // namespace

Result<bool> RunHistory::try_lock() {
  auto r = FP_TRY(conn_.query(kLockSql), "scheduler lock");
  return FP_TRY(r.get<bool>(0, 0), "scheduler lock");
}

Status RunHistory::unlock() {
  FP_CHECK(conn_.query(kUnlockSql), "scheduler unlock");
  return ok_status();
}

Result<int64_t> RunHistory::mark_abandoned(const std::string& by) {
  auto r = FP_TRY(conn_.query("WITH runs AS ("
                              "  UPDATE ops.pipeline_runs SET outcome = 'abandoned', finished_at = now(),"
                              "    error = coalesce(error || '; ', '') || 'left running by ' || scheduler ||"
                              "            '; found by ' || $1"
                              "  WHERE outcome = 'running' RETURNING run_id),"
                              " steps AS ("
                              "  UPDATE ops.pipeline_steps s SET outcome = 'failed', finished_at = now(),"
                              "    error = 'abandoned: the scheduler stopped during this attempt'"
                              "  FROM runs WHERE s.run_id = runs.run_id AND s.outcome = 'running')"
                              "SELECT count(*) FROM runs",
                              by),
                  "mark abandoned runs");
  return FP_TRY(r.get<int64_t>(0, 0), "mark abandoned runs");
}

Result<int64_t> RunHistory::open_requests() {
  auto r =
      FP_TRY(conn_.query("SELECT count(*) FROM ops.run_requests WHERE run_id IS NULL"), "open run requests");
  return FP_TRY(r.get<int64_t>(0, 0), "open run requests");
}

Result<int64_t> RunHistory::start_run(const std::string& scheduler, const std::string& trigger) {
  auto r = FP_TRY(
      conn_.query("INSERT INTO ops.pipeline_runs (scheduler, trigger) VALUES ($1, $2) RETURNING run_id",
                  scheduler, trigger),
      "insert run");
  return FP_TRY(r.get<int64_t>(0, 0), "insert run");
}

Result<RunHistory::Claimed> RunHistory::claim_requests(int64_t run_id) {
  auto r = FP_TRY(conn_.query("UPDATE ops.run_requests SET run_id = $1 WHERE run_id IS NULL "
                              "RETURNING request_id, full_tests",
                              run_id),
                  "claim run requests");
  Claimed c;
  for (int i = 0; i < r.size(); ++i) {
    c.ids.push_back(FP_TRY(r.get<int64_t>(i, 0), "claim run requests"));
    c.full_tests = FP_TRY(r.get<bool>(i, 1), "claim run requests") || c.full_tests;
  }
  return c;
}

Result<bool> RunHistory::full_tests_due(std::chrono::seconds every) {
  if (every.count() <= 0) return false;
  auto r =
      FP_TRY(conn_.query("SELECT NOT EXISTS (SELECT 1 FROM ops.pipeline_steps WHERE step = 'dbt_full_tests' "
                         "AND outcome = 'success' AND finished_at > now() - $1 * interval '1 second')",
                         static_cast<int64_t>(every.count())),
             "full tests due");
  return FP_TRY(r.get<bool>(0, 0), "full tests due");
}

Status RunHistory::finish_run(int64_t run_id, bool success, const std::string& error) {
  FP_CHECK(conn_.query("UPDATE ops.pipeline_runs SET outcome = $2, finished_at = now(), error = $3 "
                       "WHERE run_id = $1",
                       run_id, success ? "success" : "failed", error_text(error)),
           fmt::format("finish run {}", run_id));
  return ok_status();
}

Status PgStepRecorder::attempt_started(const std::string& step, int attempt) {
  FP_CHECK(conn_.query("INSERT INTO ops.pipeline_steps (run_id, step, attempt) VALUES ($1, $2, $3)", run_id_,
                       step, attempt),
           fmt::format("record {} attempt {}", step, attempt));
  return ok_status();
}

Status PgStepRecorder::attempt_finished(const std::string& step, int attempt, const StepResult& result) {
  std::optional<std::string> detail;
  if (!result.detail.is_null()) detail = result.detail.dump();
  FP_CHECK(
      conn_.query("UPDATE ops.pipeline_steps SET finished_at = now(), outcome = $4, rows = $5, error = $6, "
                  "detail = $7::jsonb WHERE run_id = $1 AND step = $2 AND attempt = $3",
                  run_id_, step, attempt, result.ok ? "success" : "failed", result.rows,
                  error_text(result.error), detail),
      fmt::format("record {} attempt {} result", step, attempt));
  return ok_status();
}

Status PgStepRecorder::skipped(const std::string& step, const std::string& reason) {
  FP_CHECK(conn_.query("INSERT INTO ops.pipeline_steps (run_id, step, attempt, finished_at, outcome, error) "
                       "VALUES ($1, $2, 1, now(), 'skipped', $3)",
                       run_id_, step, reason),
           fmt::format("record {} skipped", step));
  return ok_status();
}

}  // namespace fp::sched
