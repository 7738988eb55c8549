// The scheduler against the running stack, driving the real `build/fleetpipe scheduler --once` as a child
// process: two clean runs in the history with every step recorded and dbt's test counts; a broken row in
// the warehouse failing a dbt test (dbt_build failed; verify, which runs beside it, unaffected); a held lock
// making a scheduler skip; two schedulers at once running only one pipeline; a run left 'running' marked
// abandoned; a run request claimed; dbt held at the load gate until load has finished, and cancelled when
// load fails. Each test has databases, a state directory (dbt's target/) and a bucket
// prefix of its own (integration/batch_lane_fixture.h), so a running demo and its scheduler are left alone.
// Needs the dbt venv (scripts/setup.sh builds it): without it the scheduler exits 2 and the test fails.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/batch_lane_fixture.h"

namespace fp::sched {
namespace {

constexpr int kBase = 900000;
constexpr const char* kLog = "/tmp/fleetpipe-scheduler-test.log";

class SchedulerTest : public integration::BatchLaneTest {
 protected:
  SchedulerTest() : BatchLaneTest(kBase, "test-sched", /*own_state_dir=*/true) {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    base_run_ = scalar("SELECT coalesce(max(run_id), 0) FROM ops.pipeline_runs");
    insert_fleet();
  }

  // Three vehicles, one trip of 20 measurements each, 5 minutes apart, ~5 miles and ~0.25 gallons a step.
  // Vehicle 1 refuels at a stop before measurement 11 (odometer unchanged, tank full); vehicle 3 loses 3
  // gallons more than usual on the 5 miles before measurement 15 (3.25 > 5 x 0.5 + 0.5: a suspicious drop).
  void insert_fleet() {
    auto st = web_->exec(fmt::format(
        "INSERT INTO drivers (id, name, license_number) SELECT {0} + g, 'Driver ' || g, 'ST-' || g "
        "FROM generate_series(1, 3) g;"
        "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
        "SELECT {0} + g, {0} + g, 'Make', 'Model', 20, 'blue' FROM generate_series(1, 3) g;"
        "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
        "longitude, "
        "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
        "SELECT {0} + v, 1, s, timestamp '2024-04-15 08:00:00' + (s - 1) * interval '5 minutes', 40 + s / "
        "100.0, "
        "-73, 20, miles, round((gal / 20 * 100)::numeric, 1), gal, 'blue' "
        "FROM generate_series(1, 3) v, generate_series(1, 20) s, "
        "LATERAL (SELECT CASE WHEN v = 1 AND s >= 11 THEN (s - 2) * 5.0 ELSE (s - 1) * 5.0 END AS miles) m, "
        "LATERAL (SELECT round((CASE WHEN v = 1 AND s >= 11 THEN 20 - (s - 11) * 0.25 "
        "                            WHEN v = 3 AND s >= 15 THEN 18 - (s - 1) * 0.25 - 3 "
        "                            ELSE 18 - (s - 1) * 0.25 END)::numeric, 2)::float8 AS gal) f",
        kBase));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  int64_t scalar(const std::string& sql) {
    auto r = dw_->query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message) << "\n" << sql;
    if (!r) return -1;
    auto v = r->get<int64_t>(0, 0);
    EXPECT_TRUE(v.ok()) << sql;
    return v ? *v : -1;
  }
  std::string text(const std::string& sql) {
    auto r = dw_->query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message) << "\n" << sql;
    if (!r || r->empty()) return "";
    auto v = r->get<std::optional<std::string>>(0, 0);
    return v && *v ? **v : "";
  }

  std::vector<std::string> scheduler_args(int port, bool docs) {
    std::vector<std::string> a = {"build/fleetpipe",
                                  "scheduler",
                                  "--once",
                                  "--prefix",
                                  prefix_,
                                  "--listen",
                                  fmt::format("127.0.0.1:{}", port),
                                  "--attempts",
                                  "2",
                                  "--retry-base",
                                  "0.2"};
    if (!docs) a.push_back("--no-docs");
    return a;
  }
  int run_once(bool docs = false, int port = 25071) {
    const pid_t pid = integration::spawn_logged(scheduler_args(port, docs), kLog, kLog);
    return pid < 0 ? -1 : integration::wait_exit(pid);
  }

  // "step:outcome:attempt" of the run's steps, in DAG order, last attempt of each.
  std::string steps_of(int64_t run) {
    return text(
        fmt::format("SELECT string_agg(step || ':' || outcome || ':' || attempt, ' ' ORDER BY array_position("
                    "ARRAY['export','load','dbt_build','dbt_full_tests','verify','retain','compact'], step)) "
                    "FROM (SELECT "
                    "DISTINCT ON (step) * FROM "
                    "ops.pipeline_steps WHERE run_id = {} ORDER BY step, attempt DESC) s",
                    run));
  }
  nlohmann::json detail_of(int64_t run, const std::string& step) {
    return nlohmann::json::parse(
        text(fmt::format("SELECT detail::text FROM ops.pipeline_steps WHERE run_id = {} "
                         "AND step = '{}' ORDER BY attempt DESC LIMIT 1",
                         run, step)),
        nullptr, false);
  }

  int64_t base_run_ = 0;
};

TEST_F(SchedulerTest, TwoCleanRunsThenABrokenRowFailsDbtNotVerify) {
  // A run request waiting for the next run, and a run a crashed scheduler left 'running'.
  ASSERT_TRUE(dw_->exec("INSERT INTO ops.run_requests (requested_by) VALUES ('scheduler-test')").ok());
  ASSERT_TRUE(
      dw_->exec("INSERT INTO ops.pipeline_runs (scheduler, trigger) VALUES ('crashed:1', 'schedule')").ok());
  const int64_t crashed = scalar("SELECT max(run_id) FROM ops.pipeline_runs");
  // A fresh prefix exports the whole webapp database: on a fresh stack the fleet alone (3 drivers +
  // 3 vehicles + 60 trips); on a used one, whatever else is in it as well.
  auto source = web_->query(
      "SELECT (SELECT count(*) FROM trips) + (SELECT count(*) FROM vehicles) + (SELECT count(*) FROM "
      "drivers)");
  ASSERT_TRUE(source.ok()) << source.error().message;
  const int64_t source_rows = source->get<int64_t>(0, 0).value();
  ASSERT_GE(source_rows, 66);

  ASSERT_EQ(run_once(/*docs=*/true), 0) << "see " << kLog;
  ASSERT_EQ(run_once(), 0) << "see " << kLog;

  EXPECT_EQ(text(fmt::format("SELECT outcome FROM ops.pipeline_runs WHERE run_id = {}", crashed)),
            "abandoned");
  const int64_t first =
      scalar(fmt::format("SELECT min(run_id) FROM ops.pipeline_runs WHERE run_id > {}", crashed));
  const int64_t second =
      scalar(fmt::format("SELECT max(run_id) FROM ops.pipeline_runs WHERE run_id > {}", crashed));
  ASSERT_EQ(second, first + 1);
  // The first run also tests whole tables (none had been, and the default schedule is daily); the second,
  // minutes later, tests only what its build wrote.
  EXPECT_EQ(steps_of(first),
            "export:success:1 load:success:1 dbt_build:success:1 dbt_full_tests:success:1 verify:success:1 "
            "retain:success:1 compact:success:1");
  EXPECT_EQ(steps_of(second),
            "export:success:1 load:success:1 dbt_build:success:1 verify:success:1 retain:success:1 "
            "compact:success:1");
  // The whole-table step runs every test, the constraint-backed ones too; a build runs the rest (below).
  EXPECT_GE(detail_of(first, "dbt_full_tests")["tests"]["pass"].get<int>(), 70);
  // Keys and flags are NOT NULL in the tables themselves (model contracts), so a build needs no per-column
  // not_null test: a NULL fails the statement that writes it.
  EXPECT_GE(
      scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema IN ('staging', 'marts') "
             "AND is_nullable = 'NO'"),
      35);
  for (int64_t run : {first, second}) {
    EXPECT_EQ(text(fmt::format("SELECT outcome FROM ops.pipeline_runs WHERE run_id = {}", run)), "success");
    // The build records the source snapshot its marts hold: the export's, seconds ago.
    const auto freshness = detail_of(run, "dbt_build")["freshness"];
    ASSERT_TRUE(freshness.contains("as_of")) << freshness.dump();
    const double lag =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
        freshness["as_of"].get<double>();
    EXPECT_GT(lag, 0);
    EXPECT_LT(lag, 300);
    EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM ops.pipeline_steps WHERE run_id = {} AND "
                                 "(finished_at IS NULL OR finished_at < started_at)",
                                 run)),
              0);
    auto dbt = detail_of(run, "dbt_build");
    ASSERT_TRUE(dbt.is_object());
    // dbt was started with the run and waited at the load gate (scheduler/prewarm.h).
    EXPECT_EQ(dbt["prewarmed"], true) << dbt.dump();
    EXPECT_EQ(dbt["fail"], 0);
    EXPECT_EQ(dbt["error"], 0);
    EXPECT_GE(dbt["tests"]["pass"].get<int>(), 15);
    EXPECT_GE(dbt["models"]["pass"].get<int>(), 10);
    auto verify = detail_of(run, "verify");
    ASSERT_TRUE(verify["stages"].is_array());
    EXPECT_FALSE(verify["stages"].empty());
    for (const auto& s : verify["stages"]) EXPECT_EQ(s["result"], "PASS") << s.dump();
  }
  // The first run exported and loaded every source row; the second found nothing new.
  EXPECT_EQ(
      scalar(fmt::format("SELECT rows FROM ops.pipeline_steps WHERE run_id = {} AND step = 'export'", first)),
      source_rows);
  EXPECT_EQ(
      scalar(fmt::format("SELECT rows FROM ops.pipeline_steps WHERE run_id = {} AND step = 'load'", first)),
      source_rows);
  EXPECT_EQ(scalar(fmt::format("SELECT rows FROM ops.pipeline_steps WHERE run_id = {} AND step = 'export'",
                               second)),
            0);
  // The request was served by the first run (a --once run keeps its own trigger).
  EXPECT_EQ(scalar("SELECT run_id FROM ops.run_requests WHERE requested_by = 'scheduler-test' "
                   "ORDER BY request_id DESC LIMIT 1"),
            first);
  EXPECT_EQ(text(fmt::format("SELECT trigger FROM ops.pipeline_runs WHERE run_id = {}", first)), "once");
  EXPECT_EQ(text(fmt::format("SELECT trigger FROM ops.pipeline_runs WHERE run_id = {}", second)), "once");

  // The marts: three trips, vehicle 1's refuel, vehicle 3's drop.
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM marts.fct_trips WHERE vehicle_id > {}", kBase)), 3);
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM marts.fct_refuels WHERE vehicle_id = {}", kBase + 1)),
            1);
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM marts.fct_refuels WHERE vehicle_id <> {}", kBase + 1)),
            0);
  EXPECT_EQ(
      text(fmt::format("SELECT anomaly_kind FROM marts.fct_fuel_anomalies WHERE vehicle_id = {}", kBase + 3)),
      "drop_while_moving");
  EXPECT_EQ(scalar("SELECT count(*) FROM marts.fct_fuel_anomalies"), 1);
  // 19 steps of 5 miles at 0.25 gallons: 95 miles, 4.75 gallons, 20 mpg, 95 miles in 95 minutes.
  EXPECT_EQ(text(fmt::format(
                "SELECT distance_miles || ' ' || fuel_used_gallons || ' ' || miles_per_gallon || ' ' || "
                "average_speed_mph || ' ' || duration_seconds FROM marts.fct_trips WHERE vehicle_id = {}",
                kBase + 2)),
            "95.00 4.750 20.00 60.00 5700");
  // dbt's artifacts where the console serves them.
  const auto target = cfg_.state_dir / "dbt" / "target";
  for (const char* f : {"run_results.json", "manifest.json", "catalog.json", "index.html"})
    EXPECT_TRUE(std::filesystem::exists(target / f)) << (target / f);

  // A trip deleted in the webapp (vehicle 3's, the one with the drop) leaves staging and the marts at the
  // next run, and verify still passes.
  ASSERT_TRUE(web_->exec(fmt::format("DELETE FROM trips WHERE vehicle_id = {}", kBase + 3)).ok());
  ASSERT_EQ(run_once(), 0) << "see " << kLog;
  const int64_t third = second + 1;
  EXPECT_EQ(steps_of(third),
            "export:success:1 load:success:1 dbt_build:success:1 verify:success:1 retain:success:1 "
            "compact:success:1");
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM staging.stg_trips WHERE vehicle_id = {}", kBase + 3)),
            0);
  EXPECT_GT(scalar(fmt::format("SELECT count(*) FROM raw.trips WHERE vehicle_id = {} AND _deleted_xid IS NOT "
                               "NULL",
                               kBase + 3)),
            0);
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM marts.fct_trips WHERE vehicle_id > {}", kBase)), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM marts.fct_fuel_anomalies"), 0);

  // A broken row straight into the warehouse: fuel rises by 2 gallons while driving on.
  ASSERT_TRUE(
      dw_->exec(fmt::format("INSERT INTO raw.trips (id, vehicle_id, trip_id, measurement_sequence, "
                            "measurement_time, latitude, longitude, fuel_capacity, distance_traveled, "
                            "fuel_remaining_percent, fuel_remaining_gallon, color, _object_key) VALUES "
                            "(999999999, {}, 1, 21, '2024-04-15 09:45:00', 40.2, -73, 20, 105, 90, 18, "
                            "'blue', 'test/broken-row')",
                            kBase + 2))
          .ok());
  EXPECT_EQ(run_once(), 1) << "see " << kLog;
  const int64_t broken = scalar("SELECT max(run_id) FROM ops.pipeline_runs");
  EXPECT_EQ(broken, third + 1);
  EXPECT_EQ(text(fmt::format("SELECT outcome FROM ops.pipeline_runs WHERE run_id = {}", broken)), "failed");
  // A failing dbt test is not retried: one attempt. verify (source, bucket and raw.*, which the hand-made
  // row is not part of: it came from no export) runs beside dbt_build and passes.
  EXPECT_EQ(steps_of(broken),
            "export:success:1 load:success:1 dbt_build:failed:1 verify:success:1 retain:success:1 "
            "compact:success:1");
  auto dbt = detail_of(broken, "dbt_build");
  EXPECT_GE(dbt["fail"].get<int>(), 1);
  EXPECT_GE(dbt["tests"]["fail"].get<int>(), 1);
  EXPECT_NE(text(fmt::format("SELECT error FROM ops.pipeline_steps WHERE run_id = {} AND step = 'dbt_build'",
                             broken))
                .find("rises_only_when"),
            std::string::npos);
  // Both started before either finished: verify did not wait for dbt_build.
  EXPECT_EQ(
      text(fmt::format("SELECT (v.started_at < d.finished_at)::text FROM ops.pipeline_steps v "
                       "JOIN ops.pipeline_steps d USING (run_id) WHERE run_id = {} AND v.step = 'verify' "
                       "AND d.step = 'dbt_build'",
                       broken)),
      "true");
}

// On a schedule, a run takes its lock and starts dbt a few seconds before its tick: by the time export
// and load are done, dbt has finished starting up.
TEST_F(SchedulerTest, AScheduledRunStartsDbtBeforeItsTick) {
  auto args = scheduler_args(25075, false);
  args[2] = "--every";  // instead of --once
  // Long enough for the first run (it also runs the whole-table tests) to end before the next lead.
  args.insert(args.begin() + 3, "30s");
  const pid_t pid = integration::spawn_logged(args, kLog, kLog);
  ASSERT_GT(pid, 0);
  // The second run: the first may begin at once, with no tick ahead of it.
  const std::string second = fmt::format(
      "SELECT run_id FROM ops.pipeline_runs WHERE run_id > {} AND outcome = 'success' ORDER BY run_id OFFSET "
      "1 "
      "LIMIT 1",
      base_run_);
  int64_t run = 0;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(150);
       run <= 0 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto r = dw_->query(second);
    if (r && !r->empty()) run = *r->get<int64_t>(0, 0);
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(integration::wait_exit(pid), 0) << "see " << kLog;
  ASSERT_GT(run, 0) << "no second successful run; see " << kLog;
  const auto dbt = detail_of(run, "dbt_build");
  ASSERT_EQ(dbt["prewarmed"], true) << dbt.dump();
  const double started =
      std::stod(text(fmt::format("SELECT extract(epoch FROM started_at)::text FROM ops.pipeline_runs "
                                 "WHERE run_id = {}",
                                 run)));
  const double lead = started - dbt["dbt_started_at"].get<double>();
  EXPECT_GT(lead, 4.0) << dbt.dump();  // DbtOptions::prewarm_lead: 5 s
  EXPECT_LT(lead, 6.5) << dbt.dump();
}

// The gate that holds a prewarmed build until load has finished, seen from outside: while someone else holds
// it, the scheduler cannot prewarm, and the build it starts after load waits in dbt's on-run-start hook
// without building anything until the gate is free.
TEST_F(SchedulerTest, NoModelRunsWhileTheLoadGateIsClosed) {
  auto holder = pg::Connection::connect(cfg_.warehouse);
  ASSERT_TRUE(holder.ok());
  ASSERT_TRUE(holder->query("SELECT pg_advisory_lock(hashtext('fleetpipe.load_gate'))").ok());
  const std::string built = fmt::format("SELECT count(*) FROM ops.dbt_watermarks WHERE updated_at >= '{}'",
                                        text("SELECT now()::text"));
  const pid_t pid = integration::spawn_logged(scheduler_args(25074, false), kLog, kLog);
  ASSERT_GT(pid, 0);

  // Until dbt_build has started (export and load done) and dbt has reached its hook.
  const auto waiting_at_gate = [&] {
    return scalar(
               "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND wait_event_type = 'Lock' AND wait_event = 'advisory'") > 0;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!waiting_at_gate() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(waiting_at_gate()) << "no dbt session waited at the gate; see " << kLog;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(scalar(built), 0) << "a model ran behind a closed gate";
  EXPECT_TRUE(waiting_at_gate());

  ASSERT_TRUE(holder->query("SELECT pg_advisory_unlock(hashtext('fleetpipe.load_gate'))").ok());
  EXPECT_EQ(integration::wait_exit(pid), 0) << "see " << kLog;
  const int64_t run = scalar("SELECT max(run_id) FROM ops.pipeline_runs");
  EXPECT_EQ(steps_of(run),
            "export:success:1 load:success:1 dbt_build:success:1 dbt_full_tests:success:1 "
            "verify:success:1 retain:success:1 compact:success:1");
  EXPECT_EQ(detail_of(run, "dbt_build")["prewarmed"], false);
  EXPECT_GT(scalar(built), 0);
}

// A load that fails ends the prewarmed build before any model ran, and leaves the gate open.
TEST_F(SchedulerTest, AFailedLoadCancelsThePrewarmedBuild) {
  auto holder = pg::Connection::connect(cfg_.warehouse);
  ASSERT_TRUE(holder.ok());
  // The loader's own lock (load/loader.cpp): a second load gives up after 10 s.
  constexpr int64_t kLoadLockKey = 0x666c65656c6f6164;
  ASSERT_TRUE(holder->query(fmt::format("SELECT pg_advisory_lock({})", kLoadLockKey)).ok());
  const std::string built = fmt::format("SELECT count(*) FROM ops.dbt_watermarks WHERE updated_at >= '{}'",
                                        text("SELECT now()::text"));
  EXPECT_EQ(run_once(), 1) << "see " << kLog;
  const int64_t run = scalar("SELECT max(run_id) FROM ops.pipeline_runs");
  EXPECT_EQ(steps_of(run),
            "export:success:1 load:failed:2 dbt_build:skipped:1 dbt_full_tests:skipped:1 "
            "verify:skipped:1 retain:skipped:1 compact:skipped:1");
  EXPECT_EQ(scalar(built), 0);
  // Nothing of the cancelled build is left waiting, and the next build is not held.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND wait_event_type = 'Lock'"),
            0);
  auto free = holder->query("SELECT pg_try_advisory_lock(hashtext('fleetpipe.load_gate'))");
  ASSERT_TRUE(free.ok());
  EXPECT_TRUE(*free->get<bool>(0, 0));
}

TEST_F(SchedulerTest, OnlyOneSchedulerRunsAtATime) {
  // The lock held elsewhere: the scheduler skips (exit 3) and records nothing.
  auto holder = pg::Connection::connect(cfg_.warehouse);
  ASSERT_TRUE(holder.ok());
  auto got = holder->query("SELECT pg_try_advisory_lock(hashtext('fleetpipe.scheduler'))");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(*got->get<bool>(0, 0));
  EXPECT_EQ(run_once(), 3) << "see " << kLog;
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM ops.pipeline_runs WHERE run_id > {}", base_run_)), 0);
  ASSERT_TRUE(holder->query("SELECT pg_advisory_unlock(hashtext('fleetpipe.scheduler'))").ok());

  // Two schedulers started together: one runs the pipeline, the other finds the lock taken.
  const pid_t a = integration::spawn_logged(scheduler_args(25072, false), kLog, kLog);
  const pid_t b = integration::spawn_logged(scheduler_args(25073, false), kLog, kLog);
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  const int ea = integration::wait_exit(a), eb = integration::wait_exit(b);
  EXPECT_EQ(std::min(ea, eb), 0) << ea << " " << eb << ", see " << kLog;
  EXPECT_EQ(std::max(ea, eb), 3) << ea << " " << eb << ", see " << kLog;
  EXPECT_EQ(scalar(fmt::format("SELECT count(*) FROM ops.pipeline_runs WHERE run_id > {}", base_run_)), 1);
}

}  // namespace
}  // namespace fp::sched
