#include "stack/ports.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "stack/process.h"

namespace fp::stack {

bool tcp_accepts(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  for (addrinfo* a = res; a && !ok; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        ok = err == 0;
      }
    }
    close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

namespace {

// Socket inodes in LISTEN state (st == 0A) on the port, from /proc/net/tcp and tcp6.
std::set<std::string> listening_inodes(int port) {
  std::set<std::string> inodes;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || st != "0A") continue;
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  return inodes;
}

}  // namespace

std::optional<PortOwner> find_listener(int port) {
  const auto inodes = listening_inodes(port);
  if (inodes.empty()) return std::nullopt;
  // Processes and their descriptors come and go while /proc is listed: iterate with error codes (a
  // range-for's increment throws) and skip what vanished.
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const auto& proc = *it;
    const auto name = proc.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::error_code fd_ec;
    for (fs::directory_iterator fit(proc.path() / "fd", fd_ec), fend; !fd_ec && fit != fend;
         fit.increment(fd_ec)) {
      const auto& fd = *fit;
      std::error_code link_ec;
      const auto target = fs::read_symlink(fd.path(), link_ec).string();
      if (link_ec || target.rfind("socket:[", 0) != 0) continue;
      if (!inodes.count(target.substr(8, target.size() - 9))) continue;
      PortOwner owner;
      owner.pid = std::stoi(name);
      std::string raw = read_proc_file((proc.path() / "cmdline").string()).value_or("");
      for (auto& c : raw)
        if (c == '\0') c = ' ';
      if (raw.size() > 120) raw = raw.substr(0, 117) + "...";
      while (!raw.empty() && raw.back() == ' ') raw.pop_back();
      owner.command = raw;
      return owner;
    }
  }
  return std::nullopt;
}

std::string describe_port_conflict(int port) {
  if (auto owner = find_listener(port))
    return fmt::format("port {} is in use by pid {} ({})", port, owner->pid, owner->command);
  return fmt::format("port {} is in use by another process", port);
}

}  // namespace fp::stack
