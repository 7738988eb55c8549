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

}  // namespace

Result<ChildResult> run_child(const ChildOptions& opts) {
  if (opts.argv.empty()) return invalid_input("run_child: no program");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return make_error("pipe: {}", std::strerror(errno));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, opts.cwd.c_str());
  posix_spawnattr_t attr;
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

  std::vector<std::string> env = build_env(opts.env_override);
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = opts.argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    return make_error("start {}: {}", opts.argv[0], std::strerror(rc));
  }

  auto stop = opts.stop_requested ? opts.stop_requested : [] { return shutdown::requested(); };
  ChildResult res;
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + opts.timeout;
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  std::string pending;
  auto emit = [&](std::string line) {
    line = strip_ansi(line);
    if (opts.on_line) opts.on_line(line);
    res.tail.push_back(std::move(line));
    while (res.tail.size() > opts.tail_lines) res.tail.pop_front();
  };
  auto terminate_group = [&](bool timeout) {
    if (kill_at) return;
    (timeout ? res.timed_out : res.stopped) = true;
    ::kill(-pid, SIGTERM);
    kill_at = std::chrono::steady_clock::now() + opts.kill_grace;
  };

  bool eof = false;
  while (!eof) {
    pollfd p{pipefd[0], POLLIN, 0};
    const int n = poll(&p, 1, 100);
    if (n < 0 && errno != EINTR) break;
    if (n > 0) {
      char buf[8192];
      const ssize_t got = read(pipefd[0], buf, sizeof buf);
      if (got <= 0) {
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        eof = true;  // every writer (the child and its descendants) closed the pipe
      } else {
        pending.append(buf, static_cast<size_t>(got));
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
          emit(pending.substr(0, nl));
          pending.erase(0, nl + 1);
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!kill_at && now >= deadline) terminate_group(true);
    if (!kill_at && stop()) terminate_group(false);
    if (kill_at && now >= *kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at = now + std::chrono::hours(24);  // once
    }
  }
  if (!pending.empty()) emit(pending);
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
