#include "scheduler/child.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace fp::sched {
namespace {

ChildOptions sh(std::string script) {
  ChildOptions o;
  o.argv = {"/bin/sh", "-c", std::move(script)};
  o.stop_requested = [] { return false; };
  o.kill_grace = std::chrono::milliseconds(500);
  return o;
}

TEST(Child, ForwardsLinesAndReturnsTheExitCode) {
  auto o = sh("echo one; echo two >&2; printf 'no newline'; exit 7");
  std::vector<std::string> lines;
  o.on_line = [&lines](const std::string& l) { lines.push_back(l); };
  auto r = run_child(o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "no newline"}));
  EXPECT_EQ(r->tail_text(2), "two\nno newline");
}

TEST(Child, StripsColourCodesAndPassesEnvironment) {
  auto o = sh("printf '\\033[32mPASS\\033[0m %s\\n' \"$FP_CHILD_TEST\"");
  o.env_override = {{"FP_CHILD_TEST", "value"}};
  auto r = run_child(o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->tail.size(), 1u);
  EXPECT_EQ(r->tail[0], "PASS value");
}

TEST(Child, TimeoutKillsTheWholeProcessGroup) {
  const std::string pidfile = fmt::format("/tmp/fp-child-test-{}.pid", getpid());
  // The shell starts a grandchild that would outlive it; the group kill must take both.
  auto o = sh(fmt::format("sleep 30 & echo $! > {}; wait", pidfile));
  o.timeout = std::chrono::milliseconds(300);
  auto r = run_child(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
  EXPECT_LT(r->elapsed, std::chrono::seconds(5));
  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  in >> grandchild;
  ASSERT_GT(grandchild, 0);
  // Dead means gone or a zombie (state Z) waiting for whoever adopted it to reap it.
  auto dead = [grandchild] {
    std::ifstream stat(fmt::format("/proc/{}/stat", grandchild));
    std::string pid, comm, state;
    if (!(stat >> pid >> comm >> state)) return true;
    return state == "Z" || state == "X";
  };
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = dead();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived";
  std::remove(pidfile.c_str());
}

TEST(Child, StopRequestEndsTheChild) {
  auto o = sh("sleep 30");
  std::atomic<int> polls{0};
  o.stop_requested = [&polls] { return ++polls > 3; };
  auto r = run_child(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stopped);
  EXPECT_FALSE(r->timed_out);
}

TEST(Child, MissingProgramIsAnError) {
  ChildOptions o;
  o.argv = {"/nonexistent/dbt"};
  auto r = run_child(o);
  // posix_spawn reports exec failure either as an error or as exit code 127, depending on the libc.
  EXPECT_TRUE(!r.ok() || r->exit_code == 127);
}

}  // namespace
}  // namespace fp::sched
