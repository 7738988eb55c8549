// The supervisor's loop on parts that are shell scripts in a temporary state directory: a killed part is
// restarted and counted, what its process group left is killed, a part that keeps dying is given up on
// with its last log lines until it is started again, and nothing happens while `up` or `down` holds the
// state directory.
#include "stack/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include "stack/lifecycle.h"
#include "stack/process.h"
#include "stack/supervision_file.h"
#include "temp_dir.h"

namespace fp::stack {
namespace {

using std::chrono::milliseconds;

// A part that is a shell script; healthy while it runs.
class ShellPart : public Component {
 public:
  ShellPart(std::string name, std::string script) : name_(std::move(name)), script_(std::move(script)) {}
  std::string name() const override { return name_; }
  std::string address() const override { return "-"; }
  std::vector<int> ports() const override { return {}; }
  Status prepare(Context&) override { return ok_status(); }
  Result<SpawnSpec> spawn_spec(Context& ctx) override {
    SpawnSpec s;
    s.argv = {"/bin/sh", "-c", script_};
    s.log_file = ctx.log_file(name_);
    return s;
  }
  Status health(Context&) override { return ok_status(); }
  std::chrono::seconds start_timeout() const override { return std::chrono::seconds(5); }
  std::chrono::milliseconds stop_grace() const override { return milliseconds(500); }

 private:
  std::string name_, script_;
};

class SupervisorTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    ctx_.cfg.state_dir = dir_;
    opts_.serve_http = false;
    opts_.policy.base = milliseconds(20);
    opts_.policy.cap = milliseconds(80);
  }
  void TearDown() override {
    for (const auto& name : started_)
      if (auto id = read_pid_file(ctx_.pid_file(name))) {
        terminate(*id, milliseconds(500));
        signal_group(*id, SIGKILL);
      }
    TempDirTest::TearDown();
  }

  std::unique_ptr<Supervisor> supervise(const std::string& name, const std::string& script) {
    ShellPart first(name, script);
    auto id = launch(ctx_, first);  // as `up` would have
    EXPECT_TRUE(id.ok()) << id.error().message;
    started_.push_back(name);
    std::vector<std::unique_ptr<Component>> parts;
    parts.push_back(std::make_unique<ShellPart>(name, script));
    return std::make_unique<Supervisor>(ctx_, opts_, std::move(parts));
  }

  // Ticks until `done` holds or 10 s pass.
  bool tick_until(Supervisor& s, const std::function<bool()>& done) {
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         std::chrono::steady_clock::now() < deadline;) {
      s.tick();
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  PartSupervision view(const std::string& name) {
    auto s = read_supervision(supervision_path(ctx_));
    if (s && s->parts.count(name)) return s->parts.at(name);
    PartSupervision absent;
    absent.phase = "(absent)";
    return absent;
  }

  Context ctx_;
  SuperviseOptions opts_;
  std::vector<std::string> started_;
};

TEST_F(SupervisorTest, RestartsAKilledPartAndKillsWhatItLeftBehind) {
  const auto child_file = dir_ / "child.pid";
  auto sup = supervise("sleeper", fmt::format("sleep 60 & echo $! > {}; exec sleep 60", child_file.string()));
  ASSERT_TRUE(sup->tick());
  const auto first = read_pid_file(ctx_.pid_file("sleeper"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(tick_until(*sup, [&] { return std::filesystem::exists(child_file); }));
  pid_t child = 0;
  std::ifstream(child_file) >> child;
  ASSERT_GT(child, 0);
  const ProcessId child_id{child, process_start_ticks(child).value_or(0)};
  ASSERT_TRUE(is_running(child_id));

  ASSERT_EQ(kill(first->pid, SIGKILL), 0);
  ASSERT_TRUE(tick_until(*sup,
                         [&] {
                           auto now = read_pid_file(ctx_.pid_file("sleeper"));
                           return now && now->pid != first->pid && is_running(*now) &&
                                  view("sleeper").phase == "running";
                         }))
      << "phase " << view("sleeper").phase;
  EXPECT_EQ(view("sleeper").restarts, 1);
  EXPECT_EQ(view("sleeper").last_exit, "killed by signal 9");
  EXPECT_FALSE(is_running(child_id)) << "the dead part's group was left running";
  EXPECT_EQ(sup->health().detail["parts"]["sleeper"]["restarts"], 1);
}

TEST_F(SupervisorTest, GivesUpOnAPartThatKeepsDyingUntilItIsStartedAgain) {
  const auto ok_file = dir_ / "ok";
  const std::string script =
      fmt::format("if [ -f {} ]; then exec sleep 60; fi; sleep 0.2; echo \"cannot start: boom\"; exit 3",
                  ok_file.string());
  auto sup = supervise("crasher", script);
  ASSERT_TRUE(tick_until(*sup, [&] { return view("crasher").phase == "failed"; }))
      << "phase " << view("crasher").phase;
  const auto failed = view("crasher");
  EXPECT_EQ(failed.restarts, opts_.policy.max_deaths - 1);
  EXPECT_EQ(failed.last_exit, "exited with 3");
  ASSERT_FALSE(failed.log_tail.empty());
  EXPECT_EQ(failed.log_tail.back(), "cannot start: boom");
  // Given up: more ticks start nothing.
  const auto pid_before = read_pid_file(ctx_.pid_file("crasher"));
  for (int i = 0; i < 10; ++i) sup->tick();
  const auto pid_after = read_pid_file(ctx_.pid_file("crasher"));
  ASSERT_TRUE(pid_before && pid_after);
  EXPECT_EQ(pid_after->pid, pid_before->pid);
  EXPECT_EQ(view("crasher").phase, "failed");

  // Fixed, and started again as `up` does: watched afresh.
  { std::ofstream(ok_file) << "1"; }
  ShellPart again("crasher", script);
  ASSERT_TRUE(launch(ctx_, again).ok());
  ASSERT_TRUE(tick_until(*sup, [&] { return view("crasher").phase == "running"; }));
  EXPECT_TRUE(view("crasher").log_tail.empty());
}

TEST_F(SupervisorTest, LeavesTheStateDirectoryToUpAndDown) {
  auto sup = supervise("sleeper", "exec sleep 60");
  ASSERT_TRUE(sup->tick());
  const auto first = read_pid_file(ctx_.pid_file("sleeper"));
  ASSERT_TRUE(first);
  auto held = StateLock::try_acquire(dir_);
  ASSERT_TRUE(held.ok() && held->has_value());
  ASSERT_EQ(kill(first->pid, SIGKILL), 0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(sup->tick());
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(read_pid_file(ctx_.pid_file("sleeper"))->pid, first->pid);
  held->reset();
  // `down` removed the pid file while it held the lock: nothing to restart.
  std::filesystem::remove(ctx_.pid_file("sleeper"));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(sup->tick());
  EXPECT_FALSE(std::filesystem::exists(ctx_.pid_file("sleeper")));
  EXPECT_EQ(view("sleeper").phase, "(absent)");
}

}  // namespace
}  // namespace fp::stack
