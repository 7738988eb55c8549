// `fleetpipe up | down | status`: the native stack brought up in dependency order with health checks and
// timeouts, every part logging to <state>/log/<part>.log and identified by <state>/run/<part>.pid. The last
// part `up` starts is the supervisor (stack/supervisor.h), which restarts the others when they die.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "stack/component.h"

namespace fp::stack {

// One `up`, `down` or supervisor action at a time per state directory (flock on <state>/run/supervisor.lock).
class StateLock {
 public:
  // Waits up to a minute for another holder.
  static Result<StateLock> acquire(const std::filesystem::path& state);
  // nullopt when another process holds it now.
  static Result<std::optional<StateLock>> try_acquire(const std::filesystem::path& state);
  StateLock(StateLock&& o) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  StateLock& operator=(StateLock&&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

// Engines, pgAdmin, fleetpipe's services, then the supervisor: the order to start in (the reverse to stop).
std::vector<std::unique_ptr<Component>> all_parts(const Context& ctx);

// Prepares the part, spawns it and writes its pid file; does not wait for it to be healthy.
Result<ProcessId> launch(Context& ctx, Component& c);

struct UpOptions {
  bool provision = true;       // databases, migrations, topics, connectors, bucket
  bool with_services = false;  // also fleetpipe's own services (web app, live generator, ...)
  bool with_pgadmin = false;   // also pgAdmin with both databases registered
};

// Starts what is not running (a part whose pid file is stale is restarted; a port held by a foreign
// process is an error naming it), waits for each to be healthy, then provisions. Idempotent.
Status up(Context& ctx, const UpOptions& opts = {});

// Stops, in reverse order, every part this state directory started (services first), and nothing else.
Status down(Context& ctx);

struct PartStatus {
  std::string name;
  std::string address;
  // "healthy", "warning" (works, but a condition needs attention: see warnings), "unhealthy", "stopped",
  // "crashed" (pid file left, process gone, nobody restarting it),
  // "restarting" (the supervisor will start it again), "failed" (it kept dying: the supervisor gave up),
  // "foreign"
  std::string state;
  std::string detail;
  int pid = 0;
  long long rss_bytes = 0;
  int restarts = 0;       // by the supervisor since the stack came up (`down` starts the count again)
  bool optional = false;  // a fleetpipe service: stopped is fine
  std::vector<std::string> warnings;  // from its condition(); also in detail
};

// True when every required part is healthy (or warning) and every optional one is too or stopped.
bool all_healthy(const std::vector<PartStatus>& parts);

std::vector<PartStatus> status(Context& ctx);
nlohmann::json to_json(const std::vector<PartStatus>& parts);

}  // namespace fp::stack
