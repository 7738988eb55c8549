// `fleetpipe up | down | status`: the native stack brought up in dependency order with health checks and
// timeouts, every part logging to <state>/log/<part>.log and identified by <state>/run/<part>.pid.
#pragma once

#include <nlohmann/json.hpp>

#include "stack/component.h"

namespace fp::stack {

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
  std::string state;  // "healthy", "unhealthy", "stopped", "crashed" (pid file left, process gone), "foreign"
  std::string detail;
  int pid = 0;
  long long rss_bytes = 0;
  bool optional = false;  // a fleetpipe service: stopped is fine
};

// True when every required part is healthy and every optional one is healthy or stopped.
bool all_healthy(const std::vector<PartStatus>& parts);

std::vector<PartStatus> status(Context& ctx);
nlohmann::json to_json(const std::vector<PartStatus>& parts);

}  // namespace fp::stack
