// Native processes of the stack: spawning detached from our session, identifying them across runs by
// (pid, start time) so a recycled pid is never mistaken for ours, and stopping them gracefully.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace fp::stack {

struct ProcessId {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;  // field 22 of /proc/<pid>/stat: distinguishes a reused pid
};

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path or looked up on PATH
  std::filesystem::path cwd;
  std::filesystem::path log_file;              // stdout and stderr are appended here
  std::map<std::string, std::string> env_add;  // added to (or replacing in) our environment
  std::vector<std::string> env_remove;
  std::optional<std::string> run_as_user;  // drop privileges to this user (when we are root)
};

// Starts the process in its own session (so Ctrl-C in our terminal does not reach it) and returns its id.
Result<ProcessId> spawn(const SpawnSpec& spec);

// Runs a command to completion (for one-shot preparation such as initdb), output appended to the log file.
// Returns the exit code; an error if it could not start or exceeded the timeout (it is then killed).
Result<int> run_to_completion(const SpawnSpec& spec, std::chrono::seconds timeout);

// The contents of a /proc file, or nullopt when it cannot be read. Never throws: a process can exit between
// open() and read(), which fails with ESRCH (and made std::istreambuf_iterator throw out of the reader).
std::optional<std::string> read_proc_file(const std::string& path);

// The process's start time in clock ticks since boot, or nullopt when no such process exists.
std::optional<unsigned long long> process_start_ticks(pid_t pid);
// The wait status of a child of ours that died and was reaped by process_start_ticks or is_running while they
// looked at it (a zombie must not look alive), kept for whoever wants to say how it died; taken once.
std::optional<int> take_reaped_status(pid_t pid);
bool is_running(const ProcessId& id);
// Resident set size in bytes of the process and all its descendants (JVMs fork nothing, postgres does), but
// not of a descendant that leads a session of its own (a part the supervisor restarted) or its tree.
long long tree_rss_bytes(pid_t pid);

// SIGTERM (or `signal`), then wait up to `grace`, then SIGKILL. Returns true if it exited within grace.
bool terminate(const ProcessId& id, std::chrono::milliseconds grace, int signal = 15);

// Sends `sig` to every process still in the group `leader` led (spawn() makes each part a group leader, so
// the group's id is its pid; Linux does not reuse a pid that is still a group's id). True when the group
// had a live member; false, touching nothing, when another process now holds the leader's pid. For what a
// part leaves behind when it dies: PostgreSQL's backends, a server's workers.
bool signal_group(const ProcessId& leader, int sig);

// Sends `sig` to every process whose working directory is `dir` (a server's data directory); how many.
int signal_by_cwd(const std::filesystem::path& dir, int sig);

// Pid files hold "<pid> <start_ticks>".
Status write_pid_file(const std::filesystem::path& path, const ProcessId& id);
std::optional<ProcessId> read_pid_file(const std::filesystem::path& path);

// The uid/gid of a user name, or an error if there is no such user.
Result<std::pair<uid_t, gid_t>> lookup_user(const std::string& name);

}  // namespace fp::stack
