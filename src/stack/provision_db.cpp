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
// configuration, so a changed CDC_POSTGRES_PASSWORD takes effect at the next `up`. The statement carries
// the password's SCRAM verifier, not the password: its error or a statement log shows nothing secret.
Status ensure_cdc_role(pg::Connection& conn, const PgConfig& cdc) {
  const auto role = FP_TRY(conn.quote_identifier(cdc.user), "quote");
  const auto verifier = FP_TRY(conn.password_verifier(cdc.user, cdc.password), "CDC role");
  const auto password = FP_TRY(conn.quote_literal(verifier), "quote");
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

Status replication_slots_ok(const Context& ctx, const PgConfig& pg, int64_t max_retained_bytes) {
  std::vector<std::string> slots;
  for (const auto& doc : FP_TRY(declared_connectors(ctx), "replication slots"))
    if (const auto s = doc["config"].value("slot.name", ""); !s.empty()) slots.push_back(s);
  if (slots.empty()) return ok_status();
  pg::ConnectOptions co;
  co.connect_timeout_s = 2;
  co.statement_timeout = std::chrono::milliseconds(3000);
  co.backoff.max_attempts = 1;
  auto conn = FP_TRY(pg::Connection::connect(pg, co), "replication slots");
  for (const auto& slot : slots) {
    auto rows =
        FP_TRY(conn.query("SELECT coalesce(wal_status, ''), "
                          "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, active "
                          "FROM pg_replication_slots WHERE slot_name = $1",
                          slot),
               "replication slot " + slot);
    if (rows.empty())
      return make_error("replication slot {} is missing: the CDC connector cannot resume where it was", slot);
    const auto wal_status = FP_TRY(rows.get<std::string>(0, 0), "wal_status");
    const auto retained = FP_TRY(rows.get<int64_t>(0, 1), "retained WAL");
    // lost: WAL it needed is gone (changes were skipped); unreserved: past max_slot_wal_keep_size, gone at
    // the next checkpoint.
    if (wal_status == "lost" || wal_status == "unreserved")
      return make_error(
          "replication slot {} is {} ({} MiB of WAL retained): CDC has lost or is about to lose "
          "changes; re-create the connector with a new snapshot",
          slot, wal_status, retained >> 20);
    if (retained > max_retained_bytes)
      return make_error(
          "replication slot {} holds back {} MiB of WAL (limit {} MiB): is its consumer running?", slot,
          retained >> 20, max_retained_bytes >> 20);
  }
  return ok_status();
}

}  // namespace fp::stack
