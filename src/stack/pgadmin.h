// pgAdmin 4 (PyPI, pinned in stack/pgadmin/requirements.txt) as an optional part of the stack
// (`up --with-pgadmin`, `demo`): server mode with a real login, both fleetpipe databases registered for
// its admin user, their passwords in a pgpass file so opening a server needs no typing. Everything it
// writes lives under <state>/pgadmin/; the venv itself is never written to.
#pragma once

#include "stack/component.h"

namespace fp::stack {

class PgAdmin : public Component {
 public:
  explicit PgAdmin(const Context& ctx);
  std::string name() const override { return "pgadmin"; }
  std::string address() const override { return fmt::format("http://127.0.0.1:{}/", port_); }
  std::vector<int> ports() const override { return {port_}; }
  bool optional() const override { return true; }
  // Resolves (building if needed) the venv, writes config_local.py, servers.json and the pgpass file,
  // and - only when the login or the servers changed since the last time - sets up pgAdmin's own
  // database, its admin user and the registered servers through pgAdmin's CLI (setup.py).
  Status prepare(Context& ctx) override;
  Result<SpawnSpec> spawn_spec(Context& ctx) override;
  // GET /misc/ping answers 200 "PING" once the application is loaded.
  Status health(Context& ctx) override;
  // A cold start imports a large Flask application on a shared 2-core machine.
  std::chrono::seconds start_timeout() const override { return std::chrono::seconds(180); }
  std::chrono::milliseconds stop_grace() const override { return std::chrono::milliseconds(15000); }

 private:
  std::filesystem::path dir(const Context& ctx) const { return ctx.state() / "pgadmin"; }
  std::filesystem::path data_dir(const Context& ctx) const { return dir(ctx) / "data"; }
  Result<SpawnSpec> cli(const Context& ctx, std::vector<std::string> args) const;
  Status run_cli(const Context& ctx, std::vector<std::string> args,
                 std::map<std::string, std::string> env = {}) const;
  Status register_login_and_servers(Context& ctx, const std::string& servers_json);

  int port_;
  std::filesystem::path venv_;     // the pinned venv (resolved in prepare)
  std::filesystem::path package_;  // <venv>/lib/python3.X/site-packages/pgadmin4
};

// pgAdmin's per-user storage directory name for a login (server mode): '@' becomes '_', '/' and '\'
// become "slash", and a name starting with a digit gets the prefix "pga_user_" (pgadmin/utils/paths.py).
// File paths in a server's connection parameters (PassFile) are relative to that directory.
std::string pgadmin_storage_name(const std::string& email);

// One pgpass line: host:port:*:user:password with ':' and '\' escaped as libpq requires.
std::string pgpass_line(const PgConfig& pg);

// A Python string literal for a value we write into config_local.py; an error for control characters.
Result<std::string> python_string_literal(const std::string& value);

// The servers.json pgAdmin's `load-servers` reads: the webapp and warehouse databases in group
// "Servers", each connecting with the pgpass file "/pgpass" of the user's storage directory.
std::string pgadmin_servers_json(const Config& cfg);

// The name of the first server of `wanted_json` (servers.json) that pgAdmin's dump-servers output does not
// hold with the same name, host, port and user; empty when all are there.
Result<std::string> pgadmin_missing_servers(const std::string& wanted_json, const std::string& dumped_json);

}  // namespace fp::stack
