#include "scheduler/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/shutdown.h"

extern char** environ;

namespace fp::sched {

std::string ChildResult::tail_text(size_t max_lines) const {
  std::string out;
  size_t start = tail.size() > max_lines ? tail.size() - max_lines : 0;
  for (size_t i = start; i < tail.size(); ++i) {
    if (!out.empty()) out += "\n";
    out += tail[i];
  }
  return out;
}

namespace {

std::vector<std::string> build_env(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string_view::npos && overrides.count(std::string(kv.substr(0, eq)))) continue;
    env.emplace_back(kv);
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  return env;
}

// Strips ANSI colour sequences (ESC [ ... letter) so log lines stay plain text.
std::string strip_ansi(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= '@' && s[i] <= '~')) ++i;
      continue;
    }
    if (s[i] != '\r') out += s[i];
  }
  return out;
}

// stdin from /dev/null, stdout and stderr into the pipe, and the working directory when one is given.
void init_file_actions(posix_spawn_file_actions_t& fa, int out_fd, const std::string& cwd) {
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
}

void init_spawn_attr(posix_spawnattr_t& attr) {
  posix_spawnattr_init(&attr);
  // Own process group (pgid = child's pid), so the whole tree can be signalled at once.
  posix_spawnattr_setpgroup(&attr, 0);
  // The child must not inherit our blocked/ignored signals (SIGTERM handlers are reset by exec anyway).
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

// Starts the program with its output into out_fd; posix_spawn's error number (0 when it started).
int spawn(const ChildOptions& opts, int out_fd, pid_t& pid) {
  posix_spawn_file_actions_t fa;
  init_file_actions(fa, out_fd, opts.cwd);
  posix_spawnattr_t attr;
  init_spawn_attr(attr);
  std::vector<std::string> env = build_env(opts.env_override);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = opts.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc;
}

// Follows a running child: forwards its output line by line (kept in the result's tail) until every writer
// closed the pipe, and on the deadline or a stop request sends the group SIGTERM, then SIGKILL after the
// grace period.
class ChildWatch {
 public:
  ChildWatch(const ChildOptions& opts, pid_t pid, ChildResult& res, std::chrono::steady_clock::time_point t0)
      : opts_(opts),
        pid_(pid),
        res_(res),
        deadline_(t0 + opts.timeout),
        stop_(opts.stop_requested ? opts.stop_requested : [] { return shutdown::requested(); }) {}

  void follow(int fd) {
    bool eof = false;
    while (!eof) {
      pollfd p{fd, POLLIN, 0};
      const int n = poll(&p, 1, 100);
      if (n < 0 && errno != EINTR) break;
      if (n > 0) {
        const Read r = read_output(fd);
        if (r == Read::kAgain) continue;
        eof = r == Read::kEof;
      }
      enforce_limits(std::chrono::steady_clock::now());
    }
    if (!pending_.empty()) emit(pending_);
  }

 private:
  enum class Read { kData, kAgain, kEof };

  Read read_output(int fd) {
    char buf[8192];
    const ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0) {
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) return Read::kAgain;
      return Read::kEof;  // every writer (the child and its descendants) closed the pipe
    }
    pending_.append(buf, static_cast<size_t>(got));
    for (size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      emit(pending_.substr(0, nl));
      pending_.erase(0, nl + 1);
    }
    return Read::kData;
  }

  void emit(std::string line) {
    line = strip_ansi(line);
    if (opts_.on_line) opts_.on_line(line);
    res_.tail.push_back(std::move(line));
    while (res_.tail.size() > opts_.tail_lines) res_.tail.pop_front();
  }

  void enforce_limits(std::chrono::steady_clock::time_point now) {
    if (!kill_at_ && now >= deadline_) terminate_group(true);
    if (!kill_at_ && stop_()) terminate_group(false);
    if (kill_at_ && now >= *kill_at_) {
      ::kill(-pid_, SIGKILL);
      kill_at_ = now + std::chrono::hours(24);  // once
    }
  }

  void terminate_group(bool timeout) {
    if (kill_at_) return;
    (timeout ? res_.timed_out : res_.stopped) = true;
    ::kill(-pid_, SIGTERM);
    kill_at_ = std::chrono::steady_clock::now() + opts_.kill_grace;
  }

  const ChildOptions& opts_;
  const pid_t pid_;
  ChildResult& res_;
  const std::chrono::steady_clock::time_point deadline_;
  const std::function<bool()> stop_;
  std::optional<std::chrono::steady_clock::time_point> kill_at_;
  std::string pending_;  // output after the last newline
};

}  // namespace

Result<ChildResult> run_child(const ChildOptions& opts) {
  if (opts.argv.empty()) return invalid_input("run_child: no program");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return make_error("pipe: {}", std::strerror(errno));
  pid_t pid = -1;
  const int rc = spawn(opts, pipefd[1], pid);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    return make_error("start {}: {}", opts.argv[0], std::strerror(rc));
  }

  ChildResult res;
  const auto t0 = std::chrono::steady_clock::now();
  ChildWatch(opts, pid, res, t0).follow(pipefd[0]);
  close(pipefd[0]);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error("wait for {}: {}", opts.argv[0], std::strerror(errno));
  }
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  return res;
}

}  // namespace fp::sched
