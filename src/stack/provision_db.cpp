#include <algorithm>

#include "common/files.h"
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

// Creates or updates a login role. Its password follows the configuration, so a changed variable takes
// effect at the next `up`. The statement carries the password's SCRAM verifier, not the password: its error
// or a statement log shows nothing secret. A login that is the administrator itself is left alone.
Status ensure_login_role(pg::Connection& conn, const PgConfig& admin, const std::string& user,
                         const std::string& password, bool replication) {
  if (user == admin.user) return ok_status();
  if (password.empty())
    return make_error(
        "role {} has no password configured (`fleetpipe up` generates one into credentials.env)", user);
  const auto role = FP_TRY(conn.quote_identifier(user), "quote");
  const auto verifier = FP_TRY(conn.password_verifier(user, password), "role " + user);
  const auto literal = FP_TRY(conn.quote_literal(verifier), "quote");
  auto rows = FP_TRY(conn.query("SELECT 1 FROM pg_roles WHERE rolname = $1", user), "look up role " + user);
  // Everything a role may do comes from sql/grants/; these attributes it never has.
  FP_CHECK(conn.exec(fmt::format("{} ROLE {} LOGIN {}REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE "
                                 "NOBYPASSRLS PASSWORD {}",
                                 rows.empty() ? "CREATE" : "ALTER", role, replication ? "" : "NO", literal)),
           "role " + user);
  return ok_status();
}

// The roles that log in to `db_role`'s database: the webapp's all, with Debezium's; the warehouse's the
// pipeline's and the console's.
std::vector<std::pair<std::string, PgConfig>> logins_for(const Config& cfg, const std::string& db_role) {
  std::vector<std::pair<std::string, PgConfig>> out;
  for (auto s : kDbServices) {
    if (db_role == "warehouse" && s != DbService::kPipeline && s != DbService::kConsole) continue;
    std::string name = db_service_name(s);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    out.emplace_back(name, db_role == "webapp" ? cfg.webapp_as(s) : cfg.warehouse_as(s));
  }
  if (db_role == "webapp") out.emplace_back("CDC", cfg.cdc);
  return out;
}

}  // namespace

Status provision_service_roles(pg::Connection& conn, const Config& cfg, const std::filesystem::path& repo,
                               const std::string& db_role) {
  const PgConfig& admin = db_role == "webapp" ? cfg.webapp : cfg.warehouse;
  std::map<std::string, std::string> names;
  for (const auto& [name, login] : logins_for(cfg, db_role)) {
    FP_CHECK(ensure_login_role(conn, admin, login.user, login.password, name == "CDC"), db_role);
    names[name] = FP_TRY(conn.quote_identifier(login.user), "quote");
    names[name + "_LITERAL"] = FP_TRY(conn.quote_literal(login.user), "quote");
  }
  auto db = FP_TRY(conn.query("SELECT current_database()"), "current database");
  names["DB"] =
      FP_TRY(conn.quote_identifier(std::string(FP_TRY(db.get<std::string>(0, 0), "database"))), "quote");
  const auto file = repo / "sql" / "grants" / (db_role + ".sql");
  const auto text = FP_TRY(read_file(file), "grants");
  // The values are quoted identifiers and literals already.
  const auto sql =
      FP_TRY(fill_template_variables(text, names, TemplateValueEscape::kVerbatim), file.string());
  FP_CHECK(conn.exec(sql), file.string());
  return ok_status();
}

namespace {

// trips' partitions follow the configured interval from the next one made on; the current and the next two
// intervals are made now, so the first writers find them (sql/webapp/010_trips_partitioned.sql).
Status provision_trip_partitions(pg::Connection& conn, const LifecycleConfig& lc) {
  const auto interval = fmt::format("{} minutes", lc.trips_partition_interval.count());
  FP_CHECK(conn.query("UPDATE trip_partition_settings SET interval_length = $1::interval", interval),
           "partition interval");
  FP_CHECK(conn.query("SET TimeZone = 'UTC'"), "session time zone");
  auto made = FP_TRY(conn.query("SELECT trip_partitions_ensure(ARRAY[now()::timestamp, now()::timestamp + "
                                "$1::interval, now()::timestamp + 2 * $1::interval])",
                                interval),
                     "make the next partitions of trips");
  if (FP_TRY(made.get<int>(0, 0), "partitions made") > 0)
    log::info("stack", "trips: partitions made for the next {}", interval);
  return ok_status();
}

}  // namespace

Status provision_database(Context& ctx, const std::string& role, const PgConfig& pg) {
  FP_CHECK(ensure_database(pg), role);
  auto conn = FP_TRY(pg::Connection::connect(pg), role);
  const auto applied = FP_TRY(migrate::apply(conn, ctx.repo / "sql" / role), role + " migrations");
  if (applied > 0) log::info("stack", "{}: applied {} migration(s)", role, applied);
  if (role == "webapp") FP_CHECK(provision_trip_partitions(conn, ctx.cfg.lifecycle), role);
  FP_CHECK(provision_service_roles(conn, ctx.cfg, ctx.repo, role), role + " roles");
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
