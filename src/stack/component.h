// A part of the native stack (a database server, the broker, Connect, the object store): how to prepare it
// once, how to start it, how to tell it is healthy, and what to set up inside it once it is.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "stack/process.h"

namespace fp::stack {

// Everything a component needs to know about where things are.
struct Context {
  Config cfg;
  std::filesystem::path repo;               // the fleetpipe checkout: sql/, stack/conf/, config/
  std::map<std::string, std::string> jars;  // FLEETPIPE_KAFKA_LIB, ... (from the jar cache's paths.env)
  std::string java = "java";
  std::string pg_bin = "/usr/lib/postgresql/15/bin";
  std::string pg_os_user = "postgres";  // PostgreSQL refuses to run as root; we drop to this user

  std::filesystem::path state() const { return cfg.state_dir; }
  std::filesystem::path pid_file(const std::string& name) const { return state() / "run" / (name + ".pid"); }
  std::filesystem::path log_file(const std::string& name) const { return state() / "log" / (name + ".log"); }
  // A jar directory by variable name, or an error telling how to fetch it.
  Result<std::string> jar_dir(const std::string& var) const;

  // Builds the context: configuration, repository root, jar paths, tool locations (env overrides).
  static Result<Context> load();
};

class Component {
 public:
  virtual ~Component() = default;
  virtual std::string name() const = 0;
  // The address users and clients reach it at, for `status` and the URL list.
  virtual std::string address() const = 0;
  // Ports it listens on; checked for conflicts before starting.
  virtual std::vector<int> ports() const = 0;
  // One-time and every-start preparation (data directory, configuration files). Must be idempotent.
  virtual Status prepare(Context& ctx) = 0;
  virtual Result<SpawnSpec> spawn_spec(Context& ctx) = 0;
  // A quick check that it serves requests (bounded by a short timeout).
  virtual Status health(Context& ctx) = 0;
  // What `status` checks besides health once the stack is provisioned: whether the part does its job, not
  // only answers (a FAILED connector task, a lost replication slot). Not used while starting: what it
  // checks (a connector, a slot) may not exist yet. What is not wrong yet but will be unless someone acts (a
  // consumer group about to fall off Kafka's retained range) goes to `warnings`: the part is then shown as
  // "warning", which `status` does not count as a failure.
  virtual Status condition(Context&, std::vector<std::string>* /*warnings*/) { return ok_status(); }
  // Runs once it is healthy, on every `up`: databases, roles, migrations, buckets. Idempotent.
  virtual Status provision(Context&) { return ok_status(); }
  virtual std::chrono::seconds start_timeout() const { return std::chrono::seconds(90); }
  // Optional parts (fleetpipe's own services) run only when asked for; stopped, they are not a failure.
  virtual bool optional() const { return false; }
  virtual std::chrono::milliseconds stop_grace() const { return std::chrono::milliseconds(20000); }
  // Kills what a dead instance (led by `leader`) left behind, before the part starts again or `down`
  // forgets it: by default its process group (spawn() makes each part a group leader).
  virtual void kill_leftovers(Context& ctx, const ProcessId& leader);
};

// The stack in dependency order: each component depends only on those before it.
std::vector<std::unique_ptr<Component>> make_components(const Context& ctx);

// Replaces @NAME@ placeholders; an error if one is left unreplaced (a template and its caller disagree).
Result<std::string> render_template(const std::filesystem::path& file,
                                    const std::map<std::string, std::string>& vars);

}  // namespace fp::stack
