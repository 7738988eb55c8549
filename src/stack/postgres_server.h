// A PostgreSQL server of the stack ("webapp" or "warehouse"): its own initdb'ed data directory under the
// state directory, listening on 127.0.0.1 only, password authentication (SCRAM) for every TCP client.
#pragma once

#include "stack/component.h"

namespace fp::stack {

class PostgresServer : public Component {
 public:
  // `role` is "webapp" or "warehouse"; settings are extra `-c name=value` server options.
  PostgresServer(std::string role, PgConfig pg, std::map<std::string, std::string> settings);

  std::string name() const override { return "postgres-" + role_; }
  std::string address() const override;
  std::vector<int> ports() const override { return {pg_.port}; }
  Status prepare(Context& ctx) override;
  Result<SpawnSpec> spawn_spec(Context& ctx) override;
  Status health(Context& ctx) override;
  Status condition(Context& ctx, std::vector<std::string>* warnings) override;
  Status provision(Context& ctx) override;
  std::chrono::seconds start_timeout() const override { return std::chrono::seconds(60); }
  // Its backends lead sessions of their own (PostgreSQL calls setsid() in each), so a killed postmaster's
  // backends are not in its group; they are found by their working directory, the data directory, and
  // killed: until they exit, their shared memory keeps a new postmaster from starting.
  void kill_leftovers(Context& ctx, const ProcessId& leader) override;

 private:
  std::filesystem::path data_dir(const Context& ctx) const { return ctx.state() / "postgres" / role_; }
  std::filesystem::path socket_dir(const Context& ctx) const { return ctx.state() / "run" / ("pg-" + role_); }

  std::string role_;
  PgConfig pg_;
  std::map<std::string, std::string> settings_;
};

}  // namespace fp::stack
