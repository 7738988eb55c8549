// Runs a child process in its own process group with a deadline, forwarding its output line by line to the
// log. On the deadline or a stop request the whole group gets SIGTERM, then SIGKILL after a grace period,
// so nothing the child started (dbt's threads, adapters' helpers) outlives the step; and the child gets
// SIGKILL if the process running it dies, so it never outlives a scheduler killed with SIGKILL either.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace fp::sched {

struct ChildOptions {
  std::vector<std::string> argv;                    // argv[0] is a path
  std::map<std::string, std::string> env_override;  // added to (or replacing in) this process's environment
  std::string cwd;                                  // empty: ours
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds kill_grace{std::chrono::seconds(10)};
  std::function<bool()> stop_requested;                  // polled ~10 times a second; default: shutdown flag
  std::function<void(const std::string& line)> on_line;  // each output line (stdout and stderr)
  size_t tail_lines = 30;                                // last lines kept for error messages
};

struct ChildResult {
  int exit_code = -1;  // the exit status, or 128 + signal
  bool timed_out = false;
  bool stopped = false;  // killed because a stop was requested
  std::deque<std::string> tail;
  std::chrono::milliseconds elapsed{0};
  std::string tail_text(size_t max_lines = 10) const;
};

// An error only when the child could not be started or waited for; its own failure is in the result.
Result<ChildResult> run_child(const ChildOptions& opts);

}  // namespace fp::sched
