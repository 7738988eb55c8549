#include "scheduler/child.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
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

// Whether the process is gone, or a zombie (state Z) waiting for whoever adopted it to reap it, within
// about two seconds.
bool ends_soon(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string id, comm, state;
    if (!(stat >> id >> comm >> state) || state == "Z" || state == "X") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
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
  EXPECT_TRUE(ends_soon(grandchild)) << "grandchild " << grandchild << " survived";
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
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent/dbt"), std::string::npos) << r.error().message;
}

// A scheduler killed with SIGKILL cannot kill its dbt: the child goes with it (PR_SET_PDEATHSIG).
TEST(Child, DiesWithTheProcessRunningIt) {
  const std::string pidfile = fmt::format("/tmp/fp-child-orphan-test-{}.pid", getpid());
  std::remove(pidfile.c_str());
  const pid_t runner = fork();
  ASSERT_GE(runner, 0);
  if (runner == 0) {  // the "scheduler": runs a long child, then is killed below
    auto o = sh(fmt::format("echo $$ > {}.tmp && mv {}.tmp {}; exec sleep 30", pidfile, pidfile, pidfile));
    [[maybe_unused]] auto r = run_child(o);
    _exit(0);
  }
  pid_t child = 0;
  for (int i = 0; i < 250 && child == 0; ++i) {
    std::ifstream(pidfile) >> child;
    if (child == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(child, 0) << "the child never started";
  ASSERT_EQ(kill(runner, SIGKILL), 0);
  ASSERT_EQ(waitpid(runner, nullptr, 0), runner);
  const bool gone = ends_soon(child);
  EXPECT_TRUE(gone) << "child " << child << " outlived the process that ran it";
  if (!gone) kill(child, SIGKILL);
  std::remove(pidfile.c_str());
}

}  // namespace
}  // namespace fp::sched
