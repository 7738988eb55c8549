#include "scheduler/child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
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

// In the forked child, before exec: only async-signal-safe calls. Own process group (pgid = its pid), so
// the whole tree can be signalled at once; SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG:
// that thread waits for the child, so only a scheduler that dies, SIGKILL included, ends it first): a dbt
// never outlives its scheduler. Default signal dispositions and mask; stdin from /dev/null; stdout and
// stderr into the pipe. A failure is written to err_fd as an errno.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, const char* cwd, int out_fd, int err_fd,
                             pid_t parent) {
  auto fail = [err_fd]() {
    const int e = errno;
    [[maybe_unused]] auto n = write(err_fd, &e, sizeof e);
    _exit(127);
  };
  setpgid(0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail();
  if (getppid() != parent) _exit(127);  // the scheduler died before the line above
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  const int devnull = open("/dev/null", O_RDONLY);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) fail();
  // Nothing of the scheduler's beyond stdio reaches dbt (its HTTP listener, database sockets).
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) fail();
  if (cwd && chdir(cwd) != 0) fail();
  execve(argv[0], argv, envp);
  fail();
  _exit(127);  // fail() does not return; this tells the compiler so
}

// Starts the program with its output into out_fd; the errno of what failed (0 when it started).
int spawn(const ChildOptions& opts, int out_fd, pid_t& pid) {
  std::vector<std::string> env = build_env(opts.env_override);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = opts.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return errno;
  const pid_t parent = getpid();
  pid = fork();
  if (pid < 0) {
    const int e = errno;
    close(err[0]);
    close(err[1]);
    return e;
  }
  if (pid == 0)
    exec_child(argv.data(), envp.data(), opts.cwd.empty() ? nullptr : opts.cwd.c_str(), out_fd, err[1],
               parent);
  setpgid(pid, pid);  // also here, so a signal to the group cannot precede the child's own setpgid
  close(err[1]);
  int e = 0;
  ssize_t n;
  do {
    n = read(err[0], &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  close(err[0]);
  if (n != static_cast<ssize_t>(sizeof e)) return 0;  // the pipe closed on exec
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return e;
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
