// The stack's lifecycle, driven through the real `fleetpipe` binary against the running stack:
// `up` is idempotent; data in both databases, on a topic and in the bucket survives down + up; a broker
// killed with SIGKILL is restarted by the supervisor, and with the supervisor killed too it is reported by
// `status` and brought back by `up`, after which change data capture still flows.
// These tests stop and start the shared stack, so they run after every other integration test.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "common/config.h"
#include "common/kafka/admin.h"
#include "common/kafka/consumer.h"
#include "common/kafka/producer.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "lifecycle/stack_cli.h"
#include "stack/process.h"

namespace fp {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using lifecycle::all_parts;
using lifecycle::pids_of;
using lifecycle::run;
using lifecycle::state_of;
using lifecycle::status_json;

int restarts_of(const json& parts, const std::string& name) {
  for (const auto& p : parts)
    if (p.value("name", "") == name) return p.value("restarts", 0);
  return -1;
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = *cfg;
    marker_ = "lifecycle-" + std::to_string(getpid()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  }
  Config cfg_;
  std::string marker_;
};

TEST_F(LifecycleTest, UpTwiceDownUpKeepsEveryStore) {
  // With the services: every part, the web app and the live generator included, comes up healthy.
  auto first = run("up --with-services");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const json up_once = all_parts();
  for (const auto& p : up_once) EXPECT_EQ(p.value("state", ""), "healthy") << p.dump();
  const auto t0 = Clock::now();
  auto second = run("up");
  const auto warm_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // A second `up` is a no-op: every part still healthy, none restarted (same pids).
  const json up_twice = all_parts();
  for (const auto& p : up_twice) EXPECT_EQ(p.value("state", ""), "healthy") << p.dump();
  EXPECT_EQ(pids_of(up_twice), pids_of(up_once));
  std::cout << "warm `up` (everything running): " << warm_ms << " ms\n";

  // Leave a mark in every store.
  {
    auto web = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(web.ok()) << web.error().message;
    ASSERT_TRUE(web->exec("CREATE TABLE IF NOT EXISTS lifecycle_marks (mark text PRIMARY KEY)").ok());
    ASSERT_TRUE(web->query("INSERT INTO lifecycle_marks VALUES ($1)", marker_).ok());
    auto dw = pg::Connection::connect(cfg_.warehouse);
    ASSERT_TRUE(dw.ok()) << dw.error().message;
    ASSERT_TRUE(dw->exec("CREATE TABLE IF NOT EXISTS lifecycle_marks (mark text PRIMARY KEY)").ok());
    ASSERT_TRUE(dw->query("INSERT INTO lifecycle_marks VALUES ($1)", marker_).ok());
  }
  kafka::AdminOptions admin_opts;
  admin_opts.bootstrap = cfg_.kafka_bootstrap;
  auto admin = kafka::Admin::create(admin_opts);
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  ASSERT_TRUE((*admin)
                  ->create_topic({.name = marker_, .partitions = 1, .replication_factor = 1, .configs = {}})
                  .ok());
  {
    kafka::ProducerOptions po;
    po.bootstrap = cfg_.kafka_bootstrap;
    auto producer = kafka::Producer::create(po);
    ASSERT_TRUE(producer.ok()) << producer.error().message;
    ASSERT_TRUE((*producer)->produce(marker_, "k", "survives").ok());
    ASSERT_TRUE((*producer)->flush(std::chrono::seconds(10)).ok());
  }
  s3::Client s3(cfg_.s3);
  ASSERT_TRUE(s3.put_object("lifecycle/" + marker_, "survives", "text/plain", {}).ok());
  admin->reset();

  auto down = run("down");
  ASSERT_EQ(down.exit_code, 0) << down.output;
  for (const auto& p : all_parts()) EXPECT_EQ(p.value("state", ""), "stopped") << p.dump();

  // Without them: the engines are healthy and the services stay stopped (down stopped them too).
  auto again = run("up");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  for (const auto& p : all_parts())
    EXPECT_EQ(p.value("state", ""), p.value("optional", false) ? "stopped" : "healthy") << p.dump();
  EXPECT_EQ(run("status").exit_code, 0);

  auto web = pg::Connection::connect(cfg_.webapp);
  ASSERT_TRUE(web.ok());
  auto rows = web->query("SELECT count(*) FROM lifecycle_marks WHERE mark = $1", marker_);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(*rows->get<int64_t>(0, 0), 1);
  EXPECT_TRUE(web->exec("DROP TABLE lifecycle_marks").ok());
  auto dw = pg::Connection::connect(cfg_.warehouse);
  ASSERT_TRUE(dw.ok());
  auto dw_rows = dw->query("SELECT count(*) FROM lifecycle_marks WHERE mark = $1", marker_);
  ASSERT_TRUE(dw_rows.ok());
  EXPECT_EQ(*dw_rows->get<int64_t>(0, 0), 1);
  EXPECT_TRUE(dw->exec("DROP TABLE lifecycle_marks").ok());

  auto object = s3.get_object("lifecycle/" + marker_);
  ASSERT_TRUE(object.ok()) << object.error().message;
  EXPECT_EQ(*object, "survives");
  EXPECT_TRUE(s3.delete_object("lifecycle/" + marker_).ok());

  kafka::ConsumerOptions co;
  co.bootstrap = cfg_.kafka_bootstrap;
  co.group_id = marker_;
  auto consumer = kafka::Consumer::create(co);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe({marker_}).ok());
  std::optional<std::string> value;
  for (auto deadline = Clock::now() + std::chrono::seconds(20); !value && Clock::now() < deadline;) {
    auto batch = (*consumer)->poll(std::chrono::milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    for (auto& m : *batch) value = m.value;
  }
  EXPECT_EQ(value.value_or("(nothing)"), "survives");
  EXPECT_TRUE((*consumer)->close().ok());
  auto admin2 = kafka::Admin::create(admin_opts);
  ASSERT_TRUE(admin2.ok());
  EXPECT_TRUE((*admin2)->delete_topic(marker_).ok());
}

// The supervisor restarts a killed broker by itself; with the supervisor killed too, `status` reports both
// crashed and `up` brings them back.
TEST_F(LifecycleTest, KilledBrokerIsRestartedAndReported) {
  ASSERT_EQ(run("up").exit_code, 0);
  const auto kafka_pid = cfg_.state_dir / "run" / "kafka.pid";
  auto pid = stack::read_pid_file(kafka_pid);
  ASSERT_TRUE(pid);
  ASSERT_TRUE(stack::is_running(*pid));
  const int restarts_before = restarts_of(status_json(), "kafka");
  ASSERT_EQ(kill(pid->pid, SIGKILL), 0);
  const auto t0 = Clock::now();
  std::optional<stack::ProcessId> back;
  while (Clock::now() - t0 < std::chrono::seconds(30)) {
    back = stack::read_pid_file(kafka_pid);
    if (back && back->pid != pid->pid && state_of(status_json(), "kafka") == "healthy") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(back && back->pid != pid->pid) << "the supervisor did not restart the broker";
  const auto parts = status_json();
  EXPECT_EQ(state_of(parts, "kafka"), "healthy") << parts.dump(2);
  EXPECT_EQ(restarts_of(parts, "kafka"), restarts_before + 1);
  std::cout << "kill -9 of the broker -> healthy again: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() << " ms\n";

  // No supervisor: the dead parts are reported, `status` fails, and `up` restarts them.
  auto sup = stack::read_pid_file(cfg_.state_dir / "run" / "supervisor.pid");
  ASSERT_TRUE(sup);
  ASSERT_EQ(kill(sup->pid, SIGKILL), 0);
  for (int i = 0; i < 100 && stack::is_running(*sup); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  pid = back;
  ASSERT_EQ(kill(pid->pid, SIGKILL), 0);
  for (int i = 0; i < 100 && stack::is_running(*pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto crashed = status_json();
  EXPECT_EQ(state_of(crashed, "kafka"), "crashed") << crashed.dump(2);
  EXPECT_EQ(state_of(crashed, "supervisor"), "crashed") << crashed.dump(2);
  EXPECT_EQ(state_of(crashed, "postgres-webapp"), "healthy");
  EXPECT_NE(run("status").exit_code, 0);  // not all healthy

  const auto t1 = Clock::now();
  auto up = run("up");
  ASSERT_EQ(up.exit_code, 0) << up.output;
  std::cout << "`up` after kill -9 of the broker and the supervisor: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t1).count() << " ms\n";
  for (const auto& p : all_parts())
    if (!p.value("optional", false)) {
      EXPECT_EQ(p.value("state", ""), "healthy") << p.dump();
    }
  auto again = stack::read_pid_file(kafka_pid);
  ASSERT_TRUE(again);
  EXPECT_NE(again->pid, pid->pid);

  // Change data capture recovers with the broker: a row inserted now reaches webapp.public.drivers.
  kafka::ConsumerOptions co;
  co.bootstrap = cfg_.kafka_bootstrap;
  co.group_id = marker_;
  co.start_from = kafka::StartFrom::kBeginning;
  auto consumer = kafka::Consumer::create(co);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe({"webapp.public.drivers"}).ok());
  auto web = pg::Connection::connect(cfg_.webapp);
  ASSERT_TRUE(web.ok());
  ASSERT_TRUE(web->exec("DELETE FROM drivers WHERE id = 990002").ok());
  auto inserted = web->query(
      "INSERT INTO drivers (id, name, license_number) VALUES (990002, $1, 'LIFECYCLE-1')", marker_);
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  bool seen = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(60); !seen && Clock::now() < deadline;) {
    auto batch = (*consumer)->poll(std::chrono::milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    for (auto& m : *batch)
      if (m.value && m.value->find(marker_) != std::string::npos) seen = true;
  }
  EXPECT_TRUE(seen) << "no change event after the broker came back";
  EXPECT_TRUE(web->exec("DELETE FROM drivers WHERE id = 990002").ok());
  EXPECT_TRUE((*consumer)->close().ok());
}

}  // namespace
}  // namespace fp
