#include "stack/process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "common/files.h"

extern char** environ;

namespace fp::stack {
namespace {

std::vector<std::string> build_env(const SpawnSpec& spec) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& k : spec.env_remove) env.erase(k);
  for (const auto& [k, v] : spec.env_add) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// Everything the child needs is prepared before fork: after fork only async-signal-safe calls are made.
struct Prepared {
  std::vector<std::string> argv_s, env_s;
  std::vector<char*> argv, env;
  int log_fd = -1;
  uid_t uid = 0;
  gid_t gid = 0;
  bool drop = false;
  std::string user;
};

Result<Prepared> prepare(const SpawnSpec& spec) {
  if (spec.argv.empty()) return make_error("spawn: empty command line");
  Prepared p;
  p.argv_s = spec.argv;
  p.env_s = build_env(spec);
  for (auto& s : p.argv_s) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  for (auto& s : p.env_s) p.env.push_back(s.data());
  p.env.push_back(nullptr);
  if (spec.run_as_user && geteuid() == 0) {
    auto ids = FP_TRY(lookup_user(*spec.run_as_user), "spawn");
    p.uid = ids.first;
    p.gid = ids.second;
    p.drop = true;
    p.user = *spec.run_as_user;
  }
  if (!spec.log_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(spec.log_file.parent_path(), ec);
    p.log_fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (p.log_fd < 0) return make_error("open log {}: {}", spec.log_file.string(), std::strerror(errno));
    if (p.drop && fchown(p.log_fd, p.uid, p.gid) != 0)
      return make_error("chown log {}: {}", spec.log_file.string(), std::strerror(errno));
  }
  return p;
}

[[noreturn]] void exec_child(const SpawnSpec& spec, Prepared& p, int err_pipe) {
  // One write of errno and the failing step: a pipe write below PIPE_BUF is atomic, so the parent reads
  // both or nothing.
  auto fail = [&](const char* what) {
    char buf[64];
    const int e = errno;
    std::memcpy(buf, &e, sizeof e);
    const size_t len = std::min(strlen(what), sizeof buf - sizeof e);
    std::memcpy(buf + sizeof e, what, len);
    [[maybe_unused]] auto n = write(err_pipe, buf, sizeof e + len);
    _exit(127);
  };
  // Restore default signal dispositions: the child must not inherit our SIGPIPE ignore or handlers.
  signal(SIGPIPE, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0) dup2(devnull, STDIN_FILENO);
  if (p.log_fd >= 0) {
    dup2(p.log_fd, STDOUT_FILENO);
    dup2(p.log_fd, STDERR_FILENO);
  }
  // Nothing of ours beyond stdio reaches the part: a listening socket inherited by a part the supervisor
  // restarted would keep the supervisor's port after it stopped. (The error pipe is close-on-exec already.)
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail("close_range");
  if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) != 0) fail("chdir");
  if (p.drop) {
    if (initgroups(p.user.c_str(), p.gid) != 0) fail("initgroups");
    if (setgid(p.gid) != 0) fail("setgid");
    if (setuid(p.uid) != 0) fail("setuid");
  }
  execvpe(p.argv[0], p.argv.data(), p.env.data());
  fail("exec");
  _exit(127);
}

Result<pid_t> fork_exec(const SpawnSpec& spec, bool new_session) {
  auto prepared = prepare(spec);
  if (!prepared) return prepared.error();
  Prepared& p = *prepared;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return make_error("pipe: {}", std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) return make_error("fork: {}", std::strerror(errno));
  if (pid == 0) {
    close(pipefd[0]);
    if (new_session) setsid();
    exec_child(spec, p, pipefd[1]);
  }
  close(pipefd[1]);
  if (p.log_fd >= 0) close(p.log_fd);
  // The pipe closes on a successful exec (O_CLOEXEC); otherwise the child wrote errno and the failing step.
  char buf[128];
  ssize_t n;
  do {
    n = read(pipefd[0], buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  close(pipefd[0]);
  if (n >= static_cast<ssize_t>(sizeof(int))) {
    int e = 0;
    std::memcpy(&e, buf, sizeof e);
    std::string step(buf + sizeof e, static_cast<size_t>(n) - sizeof e);
    waitpid(pid, nullptr, 0);
    return make_error("start {}: {}: {}", spec.argv[0], step, std::strerror(e));
  }
  return pid;
}

// The fields of /proc/<pid>/stat we use.
struct ProcStat {
  char state = 0;  // 'Z' or 'X': dead, not yet reaped
  pid_t ppid = 0, pgrp = 0, session = 0;
  unsigned long long start_ticks = 0;  // field 22
  bool dead() const { return state == 'Z' || state == 'X'; }
};

std::optional<ProcStat> read_stat(pid_t pid) {
  const auto content = read_proc_file("/proc/" + std::to_string(pid) + "/stat");
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const auto close = content ? content->rfind(')') : std::string::npos;
  if (close == std::string::npos || close + 2 > content->size()) return std::nullopt;
  std::istringstream rest(content->substr(close + 2));
  ProcStat st;
  rest >> st.state >> st.ppid >> st.pgrp >> st.session;
  std::string field;
  for (int i = 7; i <= 21; ++i) rest >> field;  // fields 7..21
  if (!(rest >> st.start_ticks)) return std::nullopt;
  return st;
}

// Calls fn with every pid in /proc until it returns false. Processes come and go while /proc is listed:
// what vanished is skipped, nothing throws.
void for_each_pid(const std::function<bool(pid_t)>& fn) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    if (!fn(static_cast<pid_t>(std::stol(name)))) return;
  }
}

}  // namespace

Result<std::pair<uid_t, gid_t>> lookup_user(const std::string& name) {
  struct passwd pw {};
  struct passwd* result = nullptr;
  std::vector<char> buf(16384);
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &result) != 0 || !result)
    return make_error("no such OS user {:?}", name);
  return std::make_pair(pw.pw_uid, pw.pw_gid);
}

Result<ProcessId> spawn(const SpawnSpec& spec) {
  auto pid = fork_exec(spec, /*new_session=*/true);
  if (!pid) return pid.error();
  // The child is reaped by init once we exit; until then a zombie would look alive, so reap it if it dies
  // while we watch (is_running checks with waitpid WNOHANG for our own children).
  for (int i = 0; i < 50; ++i) {
    if (auto t = process_start_ticks(*pid)) return ProcessId{*pid, *t};
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return make_error("start {}: process {} vanished immediately", spec.argv[0], *pid);
}

Result<int> run_to_completion(const SpawnSpec& spec, std::chrono::seconds timeout) {
  auto pid = fork_exec(spec, /*new_session=*/false);
  if (!pid) return pid.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(*pid, &status, WNOHANG);
    if (r == *pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    if (r < 0 && errno != EINTR) return make_error("waitpid: {}", std::strerror(errno));
    if (std::chrono::steady_clock::now() > deadline) {
      kill(*pid, SIGKILL);
      waitpid(*pid, nullptr, 0);
      return make_error("{} did not finish within {} s (killed)", spec.argv[0], timeout.count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<std::string> read_proc_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      ::close(fd);
      if (n < 0) return std::nullopt;
      return out;
    }
  }
}

namespace {
std::mutex reaped_mu;
std::map<pid_t, int> reaped;  // pid -> wait status, for take_reaped_status
}  // namespace

std::optional<int> take_reaped_status(pid_t pid) {
  std::lock_guard lock(reaped_mu);
  auto it = reaped.find(pid);
  if (it == reaped.end()) return std::nullopt;
  const int status = it->second;
  reaped.erase(it);
  return status;
}

std::optional<unsigned long long> process_start_ticks(pid_t pid) {
  // Reap our own zombie children first so they don't count as running, keeping how they died.
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    std::lock_guard lock(reaped_mu);
    if (reaped.size() >= 1024) reaped.erase(reaped.begin());  // nobody asked about those
    reaped[pid] = status;
  }
  const auto st = read_stat(pid);
  if (!st || st->dead()) return std::nullopt;
  return st->start_ticks;
}

bool is_running(const ProcessId& id) {
  if (id.pid <= 0) return false;
  auto t = process_start_ticks(id.pid);
  return t && *t == id.start_ticks;
}

long long tree_rss_bytes(pid_t root) {
  // Walk /proc once, building parent links, then sum RSS over root's descendants.
  std::map<pid_t, pid_t> parent;
  std::map<pid_t, long long> rss;
  std::set<pid_t> leaders;  // session leaders: other parts (the supervisor's restarts), not counted
  const long page = sysconf(_SC_PAGESIZE);
  for_each_pid([&](pid_t pid) {
    const auto st = read_stat(pid);
    if (!st) return true;
    parent[pid] = st->ppid;
    if (st->session == pid) leaders.insert(pid);
    std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
    long long size = 0, resident = 0;
    if (statm >> size >> resident) rss[pid] = resident * page;
    return true;
  });
  long long total = 0;
  for (const auto& [pid, r] : rss) {
    for (pid_t p = pid; p > 1; p = parent.count(p) ? parent[p] : 0) {
      if (p == root) {
        total += r;
        break;
      }
      if (leaders.count(p)) break;  // a part of its own, started by this one
    }
  }
  return total;
}

bool terminate(const ProcessId& id, std::chrono::milliseconds grace, int sig) {
  if (!is_running(id)) return true;
  kill(id.pid, sig);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!is_running(id)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(id.pid, SIGKILL);
  for (int i = 0; i < 100 && is_running(id); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return false;
}

bool signal_group(const ProcessId& leader, int sig) {
  if (leader.pid <= 1) return false;
  // Another process under the leader's pid means the number was free, so no member of our group was left
  // (it would have kept the number in use), and a group under that id now is someone else's.
  if (auto t = process_start_ticks(leader.pid); t && *t != leader.start_ticks) return false;
  // Only live members count: an unreaped zombie of the leader is a member too, and nothing to kill.
  bool live = false;
  for_each_pid([&](pid_t pid) {
    const auto st = read_stat(pid);
    live = st && st->pgrp == leader.pid && !st->dead();
    return !live;
  });
  return live && ::kill(-leader.pid, sig) == 0;
}

int signal_by_cwd(const std::filesystem::path& dir, int sig) {
  std::error_code ec;
  const auto want = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return 0;
  int signalled = 0;
  for_each_pid([&](pid_t pid) {
    std::error_code link_ec;  // a process may end while it is looked at
    const auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", link_ec);
    if (!link_ec && cwd == want && ::kill(pid, sig) == 0) ++signalled;
    return true;
  });
  return signalled;
}

Status write_pid_file(const std::filesystem::path& path, const ProcessId& id) {
  return write_file_atomic(path, fmt::format("{} {}\n", id.pid, id.start_ticks));
}

std::optional<ProcessId> read_pid_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  ProcessId id;
  if (!(in >> id.pid >> id.start_ticks) || id.pid <= 0) return std::nullopt;
  return id;
}

}  // namespace fp::stack
