// Effective configuration: environment variables (with the seed's names) first, then the state directory's
// generated credentials file, then defaults that point at the native stack. Secrets have no default in code:
// `fleetpipe up` generates random ones into <state>/credentials.env (mode 0600) when the environment has
// none.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp {

struct PgConfig {
  std::string host;
  int port = 0;
  std::string dbname;
  std::string user;
  std::string password;
  // libpq keyword/value connection string with every value quoted; connect_timeout bounds the handshake.
  std::string conninfo(int connect_timeout_s = 5) const;
};

struct S3Config {
  std::string endpoint;  // scheme://host:port, no trailing slash
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string bucket;
  bool path_style = true;  // virtual-host addressing when false
};

// pgAdmin's web UI (`up --with-pgadmin`): its login (the seed's PGADMIN_DEFAULT_* names) and port.
struct PgAdminConfig {
  std::string email;     // PGADMIN_DEFAULT_EMAIL, default admin@fleetpipe.local (not a secret)
  std::string password;  // PGADMIN_DEFAULT_PASSWORD, generated into credentials.env
  int port = 0;          // PGADMIN_PORT, default 5050; always bound to 127.0.0.1
};

// The data lifecycle (docs/ARCHITECTURE.md "Data lifecycle"): how much of the measurements the operational
// database keeps, and in what pieces.
struct LifecycleConfig {
  // FLEETPIPE_TRIPS_HOT_WINDOW: measurements older than this leave the webapp database once the warehouse
  // holds every row of their partition (`fleetpipe retain`).
  std::chrono::minutes trips_hot_window{7 * 24 * 60};
  // FLEETPIPE_TRIPS_PARTITION_INTERVAL: what one partition of trips covers; whole minutes dividing a day.
  std::chrono::minutes trips_partition_interval{24 * 60};
  // FLEETPIPE_WAREHOUSE_RAW_RETENTION: a day partition of raw.trips older than this goes once the source has
  // dropped its rows and the marts have consumed them (`fleetpipe retain`). Unset: the raw detail is kept.
  // At least the hot window plus one partition interval: the source drops a day's last rows only then.
  std::optional<std::chrono::minutes> warehouse_raw_retention;
  // FLEETPIPE_BUCKET_COMPACT_AFTER: how long after a day ends `fleetpipe compact` rewrites the day's small
  // objects into large ones (rows of the day that arrive later are compacted on a later pass).
  std::chrono::minutes bucket_compact_after{60};
  // FLEETPIPE_BUCKET_COMPACT_TARGET: a compacted object's size (compressed) before the next one starts;
  // objects of at least half of it are left as they are.
  int64_t bucket_compact_target_bytes = int64_t{128} << 20;
};

// FLEETPIPE_WAREHOUSE_RAW_RETENTION's value ("" or "all": keep everything), checked against the hot window.
Result<std::optional<std::chrono::minutes>> parse_raw_retention(std::string_view text,
                                                                const LifecycleConfig& lc);

// "<n><unit>", unit m (minutes), h or d: "30m", "12h", "7d". Errors name `variable`.
Result<std::chrono::minutes> parse_minutes(const std::string& variable, std::string_view text);

// fleetpipe's services that log in to PostgreSQL, each as a role of its own with only the grants it needs
// (sql/webapp/grants.sql, sql/warehouse/grants.sql): the administrator (POSTGRES_USER, DW_POSTGRES_USER)
// provisions and is used by no service.
enum class DbService {
  kApp,        // the web app: reads and writes the fleet's data (webapp)
  kGenerator,  // the simulated fleet: adds vehicles, drivers and measurements (webapp)
  kRealtime,   // the realtime view: reads (webapp)
  kConsole,    // the console: reads both databases, queues run requests (warehouse)
  kPipeline,   // export, load, dbt, verify, the scheduler: reads the source, owns the warehouse's models
};
inline constexpr DbService kDbServices[] = {DbService::kApp, DbService::kGenerator, DbService::kRealtime,
                                            DbService::kConsole, DbService::kPipeline};

// A service's login: FLEETPIPE_<SERVICE>_DB_USER (default fleetpipe_<service>) and
// FLEETPIPE_<SERVICE>_DB_PASSWORD (generated into credentials.env).
struct DbLogin {
  std::string user;
  std::string password;
};

// "app", "generator", ...: the service's name in role names and variables.
const char* db_service_name(DbService s);

struct Config {
  std::filesystem::path state_dir;
  PgConfig webapp;
  PgConfig warehouse;
  PgConfig cdc;  // the replication role Debezium connects as (same server as webapp)
  std::string kafka_bootstrap;
  std::string connect_url;
  S3Config s3;
  PgAdminConfig pgadmin;
  // The console's operator token (FLEETPIPE_CONSOLE_TOKEN): required for its actions; empty disables them.
  std::string console_token;
  std::map<DbService, DbLogin> logins;
  LifecycleConfig lifecycle;
  // FLEETPIPE_KAFKA_DISK_BUDGET: what every Kafka topic together may keep on disk ("20GiB", "500MB", bytes).
  // Unset: a share of the state directory's free space, worked out by `up` (stack/kafka_budget.h).
  std::optional<int64_t> kafka_disk_budget;

  // The webapp / warehouse server as `service` logs in to it.
  PgConfig webapp_as(DbService service) const;
  PgConfig warehouse_as(DbService service) const;

  using Lookup = std::function<std::optional<std::string>(const std::string&)>;
  // Loads from the process environment and <state>/credentials.env.
  static Result<Config> load();
  // Loads with an injected environment (tests).
  static Result<Config> load(const Lookup& env);

  // The configuration as JSON, secrets replaced by "****" unless reveal is set.
  nlohmann::json to_json(bool reveal_secrets = false) const;
  // Names of the secrets that are still empty.
  std::vector<std::string> missing_secrets() const;
};

// The secret variables `fleetpipe up` generates when neither the environment nor the file provides them.
const std::vector<std::string>& generated_secret_names();

// Reads KEY=VALUE lines (blank lines and # comments ignored; optional single or double quotes stripped).
Result<std::map<std::string, std::string>> read_env_file(const std::filesystem::path& path);

// Ensures <state>/credentials.env holds a value for every generated secret not set in the environment,
// writing random URL-safe values for the missing ones. Existing values are kept. File mode 0600.
Status ensure_credentials_file(const std::filesystem::path& state_dir);

// The state directory: FLEETPIPE_STATE_DIR or ./var, made absolute.
std::filesystem::path default_state_dir();

}  // namespace fp
