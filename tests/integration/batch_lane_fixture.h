// What the end-to-end tests of the batch lane (batch_test, batch_trust_test, scheduler_test) share: they
// drive the real `build/fleetpipe` as a child process against the running stack's servers, each test with a
// webapp and a warehouse database of its own (integration/scratch_db.h: a running demo's data is never
// touched), a bucket prefix of its own, and vehicle and driver ids above its own base.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/pg/connection.h"
#include "common/s3/client.h"
#include "integration/scratch_db.h"

extern char** environ;

namespace fp::integration {

// Starts `args` (argv[0] a path) with stdout and stderr appended to the given files.
inline pid_t spawn_logged(const std::vector<std::string>& args, const char* out_path, const char* err_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// The exit code, or 128 + the signal that ended it; -1 when it cannot be waited for.
inline int wait_exit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class BatchLaneTest : public ::testing::Test {
 public:
  // Where the children's stderr goes (appended): read it when a test fails.
  static constexpr const char* kLog = "/tmp/fleetpipe-batch-test.log";

 protected:
  // `own_state_dir`: the children also get a state directory of their own (for what dbt writes there).
  BatchLaneTest(int base, std::string prefix_stem, bool own_state_dir = false)
      : base_(base), prefix_stem_(std::move(prefix_stem)), own_state_dir_(own_state_dir) {}

  // Subclasses call this first and return if HasFatalFailure().
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    std::string stem = prefix_stem_;
    for (auto& c : stem)
      if (c == '-') c = '_';
    ASSERT_NO_FATAL_FAILURE(scratch_.create(*cfg, stem, own_state_dir_));
    cfg_ = scratch_.apply(*cfg);
    auto w = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(w.ok()) << w.error().message;
    web_.emplace(std::move(*w));
    auto d = pg::Connection::connect(cfg_.warehouse);
    ASSERT_TRUE(d.ok()) << d.error().message;
    dw_.emplace(std::move(*d));
    s3_.emplace(cfg_.s3);
    prefix_ = fmt::format("{}-{}-{}/", prefix_stem_, getpid(), std::random_device{}());
  }

  void TearDown() override {
    web_.reset();
    dw_.reset();
    scratch_.release();
    if (s3_) {
      auto objs = s3_->list_all(prefix_);
      if (objs)
        for (const auto& o : *objs) (void)s3_->delete_object(o.key);
    }
  }

  // Drivers and vehicles base+1..base+10 (subclasses that need them call this from SetUp).
  void insert_fleet() {
    auto st = web_->exec(fmt::format(
        "INSERT INTO drivers (id, name, license_number) SELECT {0} + g, 'Driver ' || g, 'BT{0}-' || g "
        "FROM generate_series(1, 10) g;"
        "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
        "SELECT {0} + g, {0} + g, 'Make', 'Model', 15, 'blue' FROM generate_series(1, 10) g",
        base_));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  // Inserts `n` trips spread over the 10 test vehicles and 3 days, trip numbers from `trip_base`.
  void insert_trips(int n, int trip_base) {
    auto st = web_->exec(fmt::format(
        "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
        "longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
        "SELECT {0} + 1 + g % 10, {1} + g / 1000, 1 + g % 1000, "
        "timestamp '2024-04-15 00:00:00' + (g * interval '1 second') * (259200.0 / {2}), "
        "40 + (g % 1000) / 1000.0, -73 - (g % 777) / 777.0, 15, g * 0.001, 50 + (g % 50) / 3.0, 7.5, 'red' "
        "FROM generate_series(0, {2} - 1) g",
        base_, trip_base, n));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  int64_t scalar(pg::Connection& c, const std::string& sql) {
    auto r = c.query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    if (!r) return -1;
    auto v = r->get<int64_t>(0, 0);
    return v ? *v : -1;
  }

  // Runs build/fleetpipe with args, its stderr appended to the test log; returns the exit code.
  int run(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = spawn_logged(argv, "/dev/null", kLog);
    return pid < 0 ? -1 : wait_exit(pid);
  }
  std::string bin() const { return "build/fleetpipe"; }
  int export_() { return run({"export", "--prefix", prefix_, "--max-rows-per-object", "5000"}); }
  int load() { return run({"load", "--prefix", prefix_}); }
  int verify() { return run({"verify", "--prefix", prefix_}); }

  const int base_;
  const std::string prefix_stem_;
  const bool own_state_dir_;
  ScratchStack scratch_;
  Config cfg_;
  std::optional<pg::Connection> web_, dw_;
  std::optional<s3::Client> s3_;
  std::string prefix_;
};

}  // namespace fp::integration
