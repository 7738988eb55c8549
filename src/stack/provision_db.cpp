#include "common/log.h"
#include "common/pg/connection.h"
#include "common/pg/migrate.h"
#include "stack/provision.h"

namespace fp::stack {
namespace {

Status ensure_database(const PgConfig& pg) {
  PgConfig admin = pg;
  admin.dbname = "postgres";
  auto conn = FP_TRY(pg::Connection::connect(admin), "connect as " + pg.user);
  auto rows =
      FP_TRY(conn.query("SELECT 1 FROM pg_database WHERE datname = $1", pg.dbname), "look up database");
  if (!rows.empty()) return ok_status();
  const auto ident = FP_TRY(conn.quote_identifier(pg.dbname), "quote");
  FP_CHECK(conn.exec("CREATE DATABASE " + ident + " ENCODING 'UTF8' TEMPLATE template0"), "create database");
  log::info("stack", "created database {} on port {}", pg.dbname, pg.port);
  return ok_status();
}

// The role Debezium connects as: LOGIN REPLICATION and read access, nothing more but its heartbeat's one row
// (sql/webapp/008_cdc_heartbeat.sql). Its password follows the
// configuration, so a changed CDC_POSTGRES_PASSWORD takes effect at the next `up`.
Status ensure_cdc_role(pg::Connection& conn, const PgConfig& cdc) {
  const auto role = FP_TRY(conn.quote_identifier(cdc.user), "quote");
  const auto password = FP_TRY(conn.quote_literal(cdc.password), "quote");
  const auto db = FP_TRY(conn.quote_identifier(cdc.dbname), "quote");
  auto rows = FP_TRY(conn.query("SELECT 1 FROM pg_roles WHERE rolname = $1", cdc.user), "look up CDC role");
  const char* verb = rows.empty() ? "CREATE" : "ALTER";
  FP_CHECK(conn.exec(fmt::format("{} ROLE {} LOGIN REPLICATION PASSWORD {}", verb, role, password)),
           "CDC role");
  FP_CHECK(conn.exec(fmt::format("GRANT CONNECT ON DATABASE {0} TO {1}; GRANT USAGE ON SCHEMA public TO {1}; "
                                 "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {1}; "
                                 "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {1}; "
                                 "GRANT UPDATE ON cdc_heartbeat TO {1}",
                                 db, role)),
           "CDC grants");
  return ok_status();
}

}  // namespace

Status provision_database(Context& ctx, const std::string& role, const PgConfig& pg) {
  FP_CHECK(ensure_database(pg), role);
  auto conn = FP_TRY(pg::Connection::connect(pg), role);
  const auto applied = FP_TRY(migrate::apply(conn, ctx.repo / "sql" / role), role + " migrations");
  if (applied > 0) log::info("stack", "{}: applied {} migration(s)", role, applied);
  if (role == "webapp") FP_CHECK(ensure_cdc_role(conn, ctx.cfg.cdc), role);
  return ok_status();
}

}  // namespace fp::stack
