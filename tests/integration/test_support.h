// Small things several integration suites need: a loopback port nothing listens on, a child's exit code with
// its peak RSS, and topics of a test's own that are deleted when it ends.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/kafka/admin.h"

namespace fp::integration {

// A loopback port nothing listens on now (bound, read back, closed); -1 when none could be bound.
inline int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  const bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0;
  if (fd >= 0) close(fd);
  return ok ? ntohs(sa.sin_port) : -1;
}

// A process's peak resident set (VmHWM, kB) since its last exec; -1 once it cannot be read.
inline long peak_rss_kb(pid_t pid) {
  std::ifstream f(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Waits for a child and returns its exit code (128 + signal when killed, -1 when it cannot be waited for)
// and its peak RSS in kB. The peak is VmHWM read every 10 ms while it runs, not wait4's ru_maxrss: Linux
// carries the parent's high-water mark into a spawned child's ru_maxrss at exec, so a test process that had
// grown large reported a small child as large.
inline std::pair<int, long> wait_exit_with_peak_rss(pid_t pid) {
  long peak = 0;
  int status = 0;
  for (;;) {
    peak = std::max(peak, peak_rss_kb(pid));  // a zombie has no VmHWM: the last read before the exit counts
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return {-1, peak};
    usleep(10000);
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), peak};
}

// Topics named <stem>_<pid>_<n>, 3 partitions, created on demand and deleted with this object.
class ScratchTopics {
 public:
  ScratchTopics(std::string bootstrap, std::string stem)
      : bootstrap_(std::move(bootstrap)), stem_(std::move(stem)) {}
  ScratchTopics(const ScratchTopics&) = delete;
  ScratchTopics& operator=(const ScratchTopics&) = delete;
  ~ScratchTopics() {
    if (!admin_) return;
    for (const auto& t : topics_) {
      EXPECT_TRUE(admin_->delete_topic(t).ok()) << t;
    }
  }

  std::string make(kafka::ConfigMap configs = {}) {
    if (!admin_) {
      kafka::AdminOptions o;
      o.bootstrap = bootstrap_;
      auto a = kafka::Admin::create(o);
      EXPECT_TRUE(a.ok()) << a.error().message;
      if (!a) return "";
      admin_ = std::move(*a);
    }
    std::string t = fmt::format("{}_{}_{}", stem_, getpid(), topics_.size());
    auto c = admin_->create_topic(kafka::TopicSpec{t, 3, 1, std::move(configs)});
    EXPECT_TRUE(c.ok()) << c.error().message;
    topics_.push_back(t);
    return t;
  }

 private:
  std::string bootstrap_, stem_;
  std::unique_ptr<kafka::Admin> admin_;
  std::vector<std::string> topics_;
};

}  // namespace fp::integration
