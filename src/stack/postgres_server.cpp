#include "stack/postgres_server.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/files.h"
#include "common/log.h"
#include "stack/provision.h"

namespace fp::stack {

PostgresServer::PostgresServer(std::string role, PgConfig pg, std::map<std::string, std::string> settings)
    : role_(std::move(role)), pg_(std::move(pg)), settings_(std::move(settings)) {}

std::string PostgresServer::address() const {
  return fmt::format("postgresql://{}@{}:{}/{}", pg_.user, pg_.host, pg_.port, pg_.dbname);
}

namespace {

// Ownership of the directories the server writes: when we run as root, the server runs as ctx.pg_os_user.
Status chown_for_server(const Context& ctx, const std::filesystem::path& dir) {
  if (geteuid() != 0) return ok_status();
  auto ids = FP_TRY(lookup_user(ctx.pg_os_user), "PostgreSQL runs as a non-root user");
  if (chown(dir.c_str(), ids.first, ids.second) != 0)
    return make_error("chown {} to {}: {}", dir.string(), ctx.pg_os_user, std::strerror(errno));
  return ok_status();
}

// The server user must be able to reach the state directory: every parent needs search permission.
Status check_reachable(const Context& ctx, const std::filesystem::path& dir) {
  if (geteuid() != 0) return ok_status();
  auto ids = FP_TRY(lookup_user(ctx.pg_os_user), "PostgreSQL runs as a non-root user");
  for (auto p = dir.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) continue;
    const bool can = st.st_uid == ids.first    ? (st.st_mode & S_IXUSR)
                     : st.st_gid == ids.second ? (st.st_mode & S_IXGRP)
                                               : (st.st_mode & S_IXOTH);
    if (!can)
      return make_error(
          "PostgreSQL cannot run as root, and user {:?} cannot enter {} (mode {:o}); put the state directory "
          "where it can (FLEETPIPE_STATE_DIR=/var/tmp/fleetpipe) or grant search permission (chmod o+x {})",
          ctx.pg_os_user, p.string(), st.st_mode & 0777, p.string());
  }
  return ok_status();
}

}  // namespace

Status PostgresServer::prepare(Context& ctx) {
  const auto data = data_dir(ctx);
  std::error_code ec;
  std::filesystem::create_directories(data.parent_path(), ec);
  std::filesystem::create_directories(socket_dir(ctx), ec);
  FP_CHECK(check_reachable(ctx, data), name());
  FP_CHECK(chown_for_server(ctx, socket_dir(ctx)), name());
  if (std::filesystem::exists(data / "PG_VERSION")) return ok_status();
  if (pg_.password.empty())
    return make_error("{}: no password configured for {} (run `fleetpipe up`, which generates one)", name(),
                      pg_.user);
  log::info("stack", "initialising {} data directory {}", name(), data.string());
  std::filesystem::create_directories(data, ec);
  FP_CHECK(chown_for_server(ctx, data), name());
  // initdb reads the superuser password from a file; it lives only for this call.
  const auto pwfile = ctx.state() / "run" / (name() + ".pw");
  FP_CHECK(write_file_atomic(pwfile, pg_.password + "\n", /*private_mode=*/true), name());
  FP_CHECK(chown_for_server(ctx, pwfile), name());
  SpawnSpec init;
  init.argv = {ctx.pg_bin + "/initdb",
               "-D",
               data.string(),
               "-U",
               pg_.user,
               "--pwfile=" + pwfile.string(),
               "--auth-host=scram-sha-256",
               "--auth-local=scram-sha-256",
               "-E",
               "UTF8",
               "--locale=C.UTF-8"};
  init.log_file = ctx.log_file(name());
  init.cwd = data.parent_path();
  init.run_as_user = ctx.pg_os_user;
  auto rc = run_to_completion(init, std::chrono::seconds(120));
  std::filesystem::remove(pwfile, ec);
  if (!rc) return rc.error().context(name() + ": initdb");
  if (*rc != 0) {
    std::filesystem::remove_all(data, ec);  // never leave half a cluster behind: the next up starts clean
    return make_error("{}: initdb exited with {} (see {})", name(), *rc, ctx.log_file(name()).string());
  }
  return ok_status();
}

Result<SpawnSpec> PostgresServer::spawn_spec(Context& ctx) {
  SpawnSpec s;
  s.argv = {ctx.pg_bin + "/postgres", "-D", data_dir(ctx).string()};
  std::map<std::string, std::string> opts = {
      {"port", std::to_string(pg_.port)},
      {"listen_addresses", "127.0.0.1"},
      {"unix_socket_directories", socket_dir(ctx).string()},
      {"logging_collector", "off"},
      {"log_line_prefix", "%m [%p] %q%u@%d "},
      {"password_encryption", "scram-sha-256"},
  };
  for (const auto& [k, v] : settings_) opts[k] = v;
  for (const auto& [k, v] : opts) {
    s.argv.push_back("-c");
    s.argv.push_back(k + "=" + v);
  }
  s.log_file = ctx.log_file(name());
  s.cwd = data_dir(ctx);
  s.run_as_user = ctx.pg_os_user;
  s.env_remove = {"PGPASSWORD", "PGUSER", "PGDATABASE", "PGHOST", "PGPORT"};
  return s;
}

Status PostgresServer::health(Context&) {
  // PQping needs no credentials: it reports whether the server accepts connections at all.
  const std::string conninfo =
      fmt::format("host={} port={} dbname=postgres connect_timeout=2", pg_.host, pg_.port);
  switch (PQping(conninfo.c_str())) {
    case PQPING_OK:
      return ok_status();
    case PQPING_REJECT:
      return transient_error("{} rejects connections (starting up or shutting down)", name());
    case PQPING_NO_RESPONSE:
      return transient_error("{} does not answer on {}:{}", name(), pg_.host, pg_.port);
    default:
      return make_error("{}: bad connection parameters", name());
  }
}

Status PostgresServer::condition(Context& ctx, std::vector<std::string>*) {
  // The webapp server carries the CDC slot: a lost slot means changes were skipped; one holding back most of
  // max_slot_wal_keep_size (components.cpp) is about to be.
  if (role_ != "webapp") return ok_status();
  // Read as the console's role (pg_replication_slots is readable by any role): `status` runs inside the
  // console too, and no service connects as the administrator.
  PgConfig reader = ctx.cfg.webapp_as(DbService::kConsole);
  reader.host = pg_.host;
  reader.port = pg_.port;
  reader.dbname = pg_.dbname;
  return replication_slots_ok(ctx, reader, int64_t{3} << 30);
}

Status PostgresServer::provision(Context& ctx) {
  return provision_database(ctx, role_, pg_);
}

void PostgresServer::kill_leftovers(Context& ctx, const ProcessId& leader) {
  Component::kill_leftovers(ctx, leader);
  if (is_running(leader)) return;  // a live postmaster's backends are its own business
  if (const int n = signal_by_cwd(data_dir(ctx), SIGKILL); n > 0)
    log::warn("stack", "{}: killed {} process(es) left in {} by its dead postmaster", name(), n,
              data_dir(ctx).string());
}

}  // namespace fp::stack
