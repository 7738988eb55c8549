// What the end-to-end tests of the batch lane (batch_test, scheduler_test) share: they drive the real
// `build/fleetpipe` as a child process against the running stack, each under a bucket prefix of its own,
// with vehicle and driver ids above its own base, and with the warehouse's raw tables emptied before and
// after (only the loader writes them).
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
 protected:
  BatchLaneTest(int base, std::string prefix_stem) : base_(base), prefix_stem_(std::move(prefix_stem)) {}

  // Subclasses call this first and return if HasFatalFailure().
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg_ = *cfg;
    auto w = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(w.ok()) << w.error().message;
    web_.emplace(std::move(*w));
    auto d = pg::Connection::connect(cfg_.warehouse);
    ASSERT_TRUE(d.ok()) << d.error().message;
    dw_.emplace(std::move(*d));
    s3_.emplace(cfg_.s3);
    prefix_ = fmt::format("{}-{}-{}/", prefix_stem_, getpid(), std::random_device{}());
    cleanup_source();
    ASSERT_TRUE(dw_->exec("TRUNCATE raw.trips, raw.vehicles, raw.drivers, raw.load_manifest").ok());
  }

  void TearDown() override {
    cleanup_source();
    if (dw_) (void)dw_->exec("TRUNCATE raw.trips, raw.vehicles, raw.drivers, raw.load_manifest");
    if (s3_) {
      auto objs = s3_->list_all(prefix_);
      if (objs)
        for (const auto& o : *objs) (void)s3_->delete_object(o.key);
    }
  }

  // The test's rows in the webapp database: every trip, vehicle and driver above the base id.
  void cleanup_source() {
    if (!web_) return;
    auto st = web_->exec(
        fmt::format("DELETE FROM trips WHERE vehicle_id > {0}; DELETE FROM vehicles WHERE id > {0}; "
                    "DELETE FROM drivers WHERE id > {0}",
                    base_));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  const int base_;
  const std::string prefix_stem_;
  Config cfg_;
  std::optional<pg::Connection> web_, dw_;
  std::optional<s3::Client> s3_;
  std::string prefix_;
};

}  // namespace fp::integration
