// Listening-port checks: whether something accepts on host:port, and which process owns a listening port
// (from /proc/net/tcp{,6} and the owning socket inode), so "port in use" errors can name the culprit.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace fp::stack {

// True when a TCP connection to host:port succeeds within the timeout.
bool tcp_accepts(const std::string& host, int port,
                 std::chrono::milliseconds timeout = std::chrono::milliseconds(500));

struct PortOwner {
  int pid = 0;
  std::string command;  // from /proc/<pid>/cmdline, truncated
};

// The process listening on the port (any local address), when it can be found (needs permission to read
// other processes' fd tables, which root has).
std::optional<PortOwner> find_listener(int port);

// "port 9092 is in use by pid 1234 (java -cp ...)" or "port 9092 is in use by another process".
std::string describe_port_conflict(int port);

}  // namespace fp::stack
