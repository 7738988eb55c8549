// Chaos: with the whole stack and its services running (the live simulated fleet writing), every part is
// killed with SIGKILL in turn. Each must be back and healthy within 30 s (the supervisor restarts it), the
// whole stack healthy again before the next kill, the generator must resume, and at the end a scheduler run
// begun after the last kill must pass verify, with every measurement the generator counted as delivered in
// the webapp database exactly once. Runs among the lifecycle tests, after every other test.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "common/config.h"
#include "common/pg/connection.h"
#include "lifecycle/stack_cli.h"
#include "stack/process.h"

namespace fp {
namespace {

using lifecycle::json;
using lifecycle::run;
using lifecycle::state_of;
using lifecycle::status_json;
using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

// The demo's generator (stack/services.cpp): run demo-live, vehicles 1 to 8.
constexpr const char* kCounts =
    "SELECT (SELECT count(*) FROM trips WHERE vehicle_id BETWEEN 1 AND 8), "
    "(SELECT count(*) FROM (SELECT DISTINCT vehicle_id, trip_id, measurement_sequence FROM trips "
    "WHERE vehicle_id BETWEEN 1 AND 8) d), "
    "(SELECT coalesce(max(rows_delivered), 0) FROM generator_checkpoints WHERE run_id = 'demo-live')";

struct Counts {
  int64_t rows = 0, distinct = 0, delivered = 0;
};

bool every_part_healthy(const json& parts) {
  if (!parts.is_array() || parts.size() < lifecycle::kParts) return false;
  for (const auto& p : parts)
    if (p.value("state", "") != "healthy") return false;
  return true;
}

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = *cfg;
  }

  // One statement: one snapshot, in which the generator's rows and its checkpoint were committed together.
  Counts counts() {
    auto web = pg::Connection::connect(cfg_.webapp);
    EXPECT_TRUE(web.ok()) << (web ? "" : web.error().message);
    if (!web) return {};
    auto r = web->query(kCounts);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    if (!r) return {};
    return {*r->get<int64_t>(0, 0), *r->get<int64_t>(0, 1), *r->get<int64_t>(0, 2)};
  }

  // Waits until `part` runs under another pid than `old` and is healthy; the time it took.
  std::optional<std::chrono::milliseconds> back_healthy(const std::string& part, pid_t old, seconds limit) {
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < limit) {
      auto id = stack::read_pid_file(cfg_.state_dir / "run" / (part + ".pid"));
      if (id && id->pid != old && stack::is_running(*id) && state_of(status_json(), part) == "healthy")
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return std::nullopt;
  }

  bool all_healthy_within(seconds limit) {
    for (const auto t0 = Clock::now(); Clock::now() - t0 < limit;) {
      if (every_part_healthy(status_json())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  Config cfg_;
};

TEST_F(ChaosTest, EveryPartKilledComesBackAndNothingIsLostOrDoubled) {
  auto up = run("up --with-services --with-pgadmin");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  ASSERT_TRUE(all_healthy_within(seconds(60))) << status_json().dump(2);
  const Counts before = counts();
  EXPECT_EQ(before.rows, before.distinct) << "duplicates before the chaos began";

  const char* parts[] = {"postgres-webapp", "postgres-warehouse", "s3proxy", "kafka",    "kafka-connect",
                         "pgadmin",         "generator",          "webapp",  "realtime", "scheduler",
                         "console"};
  for (const char* part : parts) {
    SCOPED_TRACE(part);
    auto id = stack::read_pid_file(cfg_.state_dir / "run" / (std::string(part) + ".pid"));
    ASSERT_TRUE(id && stack::is_running(*id)) << part << " is not running";
    ASSERT_EQ(kill(id->pid, SIGKILL), 0);
    const auto took = back_healthy(part, id->pid, seconds(30));
    EXPECT_TRUE(took) << part << " not back and healthy within 30 s: " << status_json().dump(2);
    if (took) std::cout << "kill -9 " << part << " -> healthy again in " << took->count() << " ms\n";
    // What depended on it (clients of a database, the connector on the broker) settles before the next.
    ASSERT_TRUE(all_healthy_within(seconds(60))) << "after " << part << ": " << status_json().dump(2);
  }
  const auto parts_after = status_json();
  for (const char* part : parts) {
    int restarts = 0;
    for (const auto& p : parts_after)
      if (p.value("name", "") == part) restarts = p.value("restarts", 0);
    EXPECT_GE(restarts, 1) << part;
  }

  // The generator resumed: it delivers again.
  const Counts mid = counts();
  bool resumed = false;
  for (const auto t0 = Clock::now(); !resumed && Clock::now() - t0 < seconds(30);) {
    std::this_thread::sleep_for(seconds(1));
    resumed = counts().delivered > mid.delivered;
  }
  EXPECT_TRUE(resumed) << "the generator delivered nothing after the chaos";

  // A scheduler run begun after the chaos: export, load, dbt and verify all succeed.
  auto dw = pg::Connection::connect(cfg_.warehouse);
  ASSERT_TRUE(dw.ok()) << dw.error().message;
  auto started = dw->query("SELECT now()::text");
  ASSERT_TRUE(started.ok());
  const std::string after = *started->get<std::string>(0, 0);
  std::string outcome;
  for (const auto t0 = Clock::now(); Clock::now() - t0 < seconds(240);) {
    auto r = dw->query(
        "SELECT outcome FROM ops.pipeline_runs WHERE started_at > $1::timestamptz AND outcome <> 'running' "
        "ORDER BY run_id LIMIT 1",
        after);
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (!r->empty()) {
      outcome = *r->get<std::string>(0, 0);
      break;
    }
    std::this_thread::sleep_for(seconds(2));
  }
  EXPECT_EQ(outcome, "success") << "the first scheduler run after the chaos";
  auto verify = dw->query(
      "SELECT s.outcome FROM ops.pipeline_steps s JOIN ops.pipeline_runs r USING (run_id) "
      "WHERE r.started_at > $1::timestamptz AND s.step = 'verify' ORDER BY s.run_id, s.attempt DESC LIMIT 1",
      after);
  ASSERT_TRUE(verify.ok()) << verify.error().message;
  ASSERT_FALSE(verify->empty()) << "no verify step after the chaos";
  EXPECT_EQ(*verify->get<std::string>(0, 0), "success");

  // Exactly once: every row the generator counted as delivered is there once, none twice.
  const Counts end = counts();
  EXPECT_EQ(end.rows, end.distinct) << "duplicate measurements";
  EXPECT_EQ(end.rows - before.rows, end.delivered - before.delivered)
      << "rows written vs rows the generator's checkpoint counts";
  EXPECT_GT(end.delivered, before.delivered);
}

}  // namespace
}  // namespace fp
