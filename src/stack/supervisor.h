// `fleetpipe supervise`: the stack's supervisor. Started last by every `up` (and so by `demo`), stopped first
// by `down`, it watches every part this state directory started (those with a pid file) and restarts one
// that died, after a backoff with jitter (stack/restarts.h); a part that keeps dying is marked failed with
// the last lines of its log and left down until `up` starts it again. Before a restart, what is left of the
// dead part's process group is killed. It acts only while no `up` or `down` holds the state directory's
// lock, so it never races them. Its view of each part goes to <state>/run/supervision.json (for `status`
// and the console) and to /metrics (restarts, failed and running parts); /healthz says the loop turns.
//
// A process supervisor of our own rather than supervisord, runit or s6: the parts already have start
// commands, health checks and pid files with start times in the stack library (component.h), which the
// restarts reuse, and none of those three offers exponential backoff with a crash-loop limit.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "common/http/server.h"
#include "stack/component.h"
#include "stack/restarts.h"

namespace fp::stack {

inline constexpr const char* kSupervisorName = "supervisor";
inline constexpr uint16_t kSupervisorPort = 18090;

std::filesystem::path supervision_path(const Context& ctx);

// The supervisor as a part of the stack: required, started by `up` after everything else.
std::unique_ptr<Component> make_supervisor_part(const Context& ctx);

struct SuperviseOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = kSupervisorPort;
  bool serve_http = true;
  RestartPolicy policy;
  std::chrono::milliseconds tick{500};  // how often each part is looked at
};

// The watch over a given set of parts (all_parts() but itself, for `fleetpipe supervise`).
class Supervisor {
 public:
  Supervisor(Context& ctx, SuperviseOptions opts, std::vector<std::unique_ptr<Component>> parts);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // One look at every part (reaping, restarting, publishing); false when an `up` or `down` held the state
  // directory, which then has it to itself.
  bool tick();
  // The loop turns (ticked within 30 s); the detail is the supervision file's content.
  httpd::Health health() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs until SIGINT/SIGTERM; the process exit code.
int supervise(Context& ctx, const SuperviseOptions& opts);

}  // namespace fp::stack
