#include "common/shutdown.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace fp::shutdown {
namespace {

std::atomic<bool> g_requested{false};
// A self-pipe: the signal handler may only do async-signal-safe things, so it writes one byte that wakes
// any thread polling the read end.
int g_pipe[2] = {-1, -1};
std::once_flag g_pipe_once;

void make_pipe() {
  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
}

void on_signal(int) {
  g_requested.store(true);
  if (g_pipe[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] auto n = write(g_pipe[1], &b, 1);
  }
}

}  // namespace

void install_signal_handlers() {
  std::call_once(g_pipe_once, make_pipe);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool requested() {
  return g_requested.load();
}

void request() {
  std::call_once(g_pipe_once, make_pipe);
  on_signal(0);
}

bool wait_for(std::chrono::milliseconds d) {
  std::call_once(g_pipe_once, make_pipe);
  if (g_requested.load()) return true;
  if (g_pipe[0] < 0) {
    usleep(static_cast<useconds_t>(d.count()) * 1000);
    return g_requested.load();
  }
  struct pollfd p {
    g_pipe[0], POLLIN, 0
  };
  // The byte is left in the pipe on purpose: every waiter, now and later, must wake.
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(d.count()));
  } while (rc < 0 && errno == EINTR && !g_requested.load());
  return g_requested.load();
}

void reset_for_tests() {
  g_requested.store(false);
  if (g_pipe[0] >= 0) {
    char buf[64];
    while (read(g_pipe[0], buf, sizeof buf) > 0) {
    }
  }
}

}  // namespace fp::shutdown
