#include "common/config.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/byte_size.h"

namespace fp {
namespace {

std::string quote_conninfo(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<int> parse_port(const std::string& name, const std::string& v) {
  try {
    size_t used = 0;
    int p = std::stoi(v, &used);
    if (used != v.size() || p < 1 || p > 65535) throw std::out_of_range(v);
    return p;
  } catch (const std::exception&) {
    return invalid_input("{}={:?} is not a port number (1-65535)", name, v);
  }
}

std::string random_secret(size_t bytes = 18) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  std::string out;
  for (unsigned char c : raw) out += alphabet[c % 64];
  return out;
}

}  // namespace

std::string PgConfig::conninfo(int connect_timeout_s) const {
  return fmt::format(
      "host={} port={} dbname={} user={} password={} connect_timeout={} application_name=fleetpipe",
      quote_conninfo(host), port, quote_conninfo(dbname), quote_conninfo(user), quote_conninfo(password),
      connect_timeout_s);
}

const char* db_service_name(DbService s) {
  switch (s) {
    case DbService::kApp:
      return "app";
    case DbService::kGenerator:
      return "generator";
    case DbService::kRealtime:
      return "realtime";
    case DbService::kConsole:
      return "console";
    case DbService::kPipeline:
      return "pipeline";
  }
  return "unknown";
}

namespace {

// FLEETPIPE_<SERVICE>_DB_<what>
std::string login_variable(DbService s, const char* what) {
  std::string name = db_service_name(s);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return fmt::format("FLEETPIPE_{}_DB_{}", name, what);
}

PgConfig with_login(PgConfig pg, const std::map<DbService, DbLogin>& logins, DbService s) {
  if (auto it = logins.find(s); it != logins.end()) {
    pg.user = it->second.user;
    pg.password = it->second.password;
  }
  return pg;
}

}  // namespace

PgConfig Config::webapp_as(DbService s) const {
  return with_login(webapp, logins, s);
}
PgConfig Config::warehouse_as(DbService s) const {
  return with_login(warehouse, logins, s);
}

const std::vector<std::string>& generated_secret_names() {
  // Spelled out, as tests/compose/check.sh reads this list; the last five are the services' logins.
  static const std::vector<std::string> names = {"POSTGRES_PASSWORD",
                                                 "DW_POSTGRES_PASSWORD",
                                                 "CDC_POSTGRES_PASSWORD",
                                                 "AWS_ACCESS_KEY_ID",
                                                 "AWS_SECRET_ACCESS_KEY",
                                                 "PGADMIN_DEFAULT_PASSWORD",
                                                 "FLEETPIPE_CONSOLE_TOKEN",
                                                 "FLEETPIPE_APP_DB_PASSWORD",
                                                 "FLEETPIPE_GENERATOR_DB_PASSWORD",
                                                 "FLEETPIPE_REALTIME_DB_PASSWORD",
                                                 "FLEETPIPE_CONSOLE_DB_PASSWORD",
                                                 "FLEETPIPE_PIPELINE_DB_PASSWORD"};
  return names;
}

std::filesystem::path default_state_dir() {
  const char* env = std::getenv("FLEETPIPE_STATE_DIR");
  return std::filesystem::absolute(env && *env ? env : "var").lexically_normal();
}

Result<std::map<std::string, std::string>> read_env_file(const std::filesystem::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  if (!in) return Error{fmt::format("cannot read {}", path.string()), Error::Kind::kNotFound};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0)
      return invalid_input("{}:{}: expected KEY=VALUE", path.string(), lineno);
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    out[key] = value;
  }
  return out;
}

Status ensure_credentials_file(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return make_error("create state directory {}: {}", state_dir.string(), ec.message());
  const auto path = state_dir / "credentials.env";
  std::map<std::string, std::string> existing;
  if (std::filesystem::exists(path)) existing = FP_TRY(read_env_file(path), "credentials file");
  std::string appended;
  for (const auto& name : generated_secret_names()) {
    const char* env = std::getenv(name.c_str());
    if ((env && *env) || existing.count(name)) continue;
    // Access key ids are conventionally upper-case alphanumerics; the rest are free-form.
    std::string v = random_secret(name == "AWS_ACCESS_KEY_ID" ? 15 : 24);
    if (name == "AWS_ACCESS_KEY_ID") {
      for (auto& c : v) c = std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : 'X';
      v = "FP" + v;
    }
    appended += fmt::format("{}={}\n", name, v);
  }
  if (appended.empty()) return ok_status();
  const auto old_mask = umask(077);
  std::ofstream out(path, std::ios::app);
  umask(old_mask);
  if (!out) return make_error("cannot write {}", path.string());
  if (existing.empty())
    out << "# Generated by fleetpipe on first start. Environment variables override these.\n";
  out << appended;
  out.close();
  if (!out) return make_error("write {} failed", path.string());
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               ec);
  return ok_status();
}

Result<Config> Config::load() {
  const auto state = default_state_dir();
  std::map<std::string, std::string> file;
  const auto cred = state / "credentials.env";
  if (std::filesystem::exists(cred)) file = FP_TRY(read_env_file(cred), "load configuration");
  return load([&](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str()); v && *v) return std::string(v);
    if (auto it = file.find(name); it != file.end()) return it->second;
    return std::nullopt;
  });
}

Result<std::chrono::minutes> parse_minutes(const std::string& variable, std::string_view text) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  const std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  int64_t per = 0;
  if (unit == "m") per = 1;
  if (unit == "h") per = 60;
  if (unit == "d") per = 24 * 60;
  if (ec != std::errc() || p == text.data() || per == 0 || n < 1 || n > 100L * 365 * 24 * 60 / per)
    return invalid_input("{}={:?}: expected a positive number and a unit m, h or d (30m, 12h, 7d)", variable,
                         text);
  return std::chrono::minutes(n * per);
}

Result<std::optional<std::chrono::minutes>> parse_raw_retention(std::string_view text,
                                                                const LifecycleConfig& lc) {
  constexpr const char* kName = "FLEETPIPE_WAREHOUSE_RAW_RETENTION";
  if (text.empty() || text == "all") return std::optional<std::chrono::minutes>();
  const auto keep = FP_TRY(parse_minutes(kName, text), "configuration");
  // A raw day may go only after the source dropped its last rows: its last partition ends with the day and
  // goes a hot window later.
  const auto least = lc.trips_hot_window + lc.trips_partition_interval;
  if (keep < least)
    return invalid_input(
        "{}={} is shorter than FLEETPIPE_TRIPS_HOT_WINDOW + FLEETPIPE_TRIPS_PARTITION_INTERVAL ({} min): the "
        "raw "
        "detail of a day must outlive the source's copy of it; use at least {}m, or unset it to keep all",
        kName, text, least.count(), least.count());
  return std::optional<std::chrono::minutes>(keep);
}

Result<Config> Config::load(const Lookup& env) {
  auto get = [&](std::initializer_list<const char*> names, std::string fallback) {
    for (const char* n : names)
      if (auto v = env(n); v && !v->empty()) return *v;
    return fallback;
  };
  Config c;
  c.state_dir = std::filesystem::absolute(get({"FLEETPIPE_STATE_DIR"}, "var")).lexically_normal();

  c.webapp.host = get({"POSTGRES_HOST"}, "localhost");
  c.webapp.port = FP_TRY(parse_port("POSTGRES_PORT", get({"POSTGRES_PORT"}, "5433")), "configuration");
  c.webapp.dbname = get({"POSTGRES_DB"}, "webapp");
  c.webapp.user = get({"POSTGRES_USER"}, "fleetpipe");
  c.webapp.password = get({"POSTGRES_PASSWORD"}, "");

  c.warehouse.host = get({"DW_POSTGRES_HOST"}, "localhost");
  c.warehouse.port =
      FP_TRY(parse_port("DW_POSTGRES_PORT", get({"DW_POSTGRES_PORT"}, "5434")), "configuration");
  c.warehouse.dbname = get({"DW_POSTGRES_DB"}, "warehouse");
  c.warehouse.user = get({"DW_POSTGRES_USER"}, "fleetpipe");
  c.warehouse.password = get({"DW_POSTGRES_PASSWORD"}, "");

  c.cdc = c.webapp;
  c.cdc.user = get({"CDC_POSTGRES_USER"}, "fleetpipe_cdc");
  c.cdc.password = get({"CDC_POSTGRES_PASSWORD"}, "");

  c.kafka_bootstrap = get({"KAFKA_BOOTSTRAP_SERVERS"}, "localhost:9092");
  c.connect_url = get({"KAFKA_CONNECT_URL"}, "http://localhost:8083");
  while (!c.connect_url.empty() && c.connect_url.back() == '/') c.connect_url.pop_back();

  c.s3.endpoint = get({"AWS_ENDPOINT_URL", "AWS_END_POINT"}, "http://localhost:9000");
  while (!c.s3.endpoint.empty() && c.s3.endpoint.back() == '/') c.s3.endpoint.pop_back();
  if (c.s3.endpoint.find("://") == std::string::npos) c.s3.endpoint = "http://" + c.s3.endpoint;
  c.s3.access_key = get({"AWS_ACCESS_KEY_ID"}, "");
  c.s3.secret_key = get({"AWS_SECRET_ACCESS_KEY"}, "");
  c.s3.region = get({"AWS_REGION", "AWS_DEFAULT_REGION"}, "us-east-1");
  c.s3.bucket = get({"S3_BUCKET_NAME"}, "raw");
  const auto style = get({"S3_ADDRESSING_STYLE"}, "path");
  if (style != "path" && style != "virtual")
    return invalid_input("S3_ADDRESSING_STYLE={:?} must be 'path' or 'virtual'", style);
  c.s3.path_style = style == "path";

  c.pgadmin.email = get({"PGADMIN_DEFAULT_EMAIL"}, "admin@fleetpipe.local");
  if (c.pgadmin.email.find('@') == std::string::npos)
    return invalid_input("PGADMIN_DEFAULT_EMAIL={:?} is not an email address", c.pgadmin.email);
  c.pgadmin.password = get({"PGADMIN_DEFAULT_PASSWORD"}, "");
  // pgAdmin refuses passwords shorter than its PASSWORD_LENGTH_MIN (6): say so here, not in its log.
  if (!c.pgadmin.password.empty() && c.pgadmin.password.size() < 6)
    return invalid_input("PGADMIN_DEFAULT_PASSWORD must be at least 6 characters (pgAdmin's minimum)");
  c.pgadmin.port = FP_TRY(parse_port("PGADMIN_PORT", get({"PGADMIN_PORT"}, "5050")), "configuration");
  c.console_token = get({"FLEETPIPE_CONSOLE_TOKEN"}, "");
  auto& lc = c.lifecycle;
  lc.trips_hot_window =
      FP_TRY(parse_minutes("FLEETPIPE_TRIPS_HOT_WINDOW", get({"FLEETPIPE_TRIPS_HOT_WINDOW"}, "7d")),
             "configuration");
  lc.trips_partition_interval = FP_TRY(
      parse_minutes("FLEETPIPE_TRIPS_PARTITION_INTERVAL", get({"FLEETPIPE_TRIPS_PARTITION_INTERVAL"}, "1d")),
      "configuration");
  // Partitions never straddle a day (verify counts per day) and the table's settings check says the same.
  if (lc.trips_partition_interval > std::chrono::hours(24) ||
      std::chrono::minutes(std::chrono::hours(24)).count() % lc.trips_partition_interval.count() != 0)
    return invalid_input("FLEETPIPE_TRIPS_PARTITION_INTERVAL must divide a day (e.g. 10m, 1h, 6h, 1d)");
  if (lc.trips_hot_window < lc.trips_partition_interval)
    return invalid_input("FLEETPIPE_TRIPS_HOT_WINDOW must be at least FLEETPIPE_TRIPS_PARTITION_INTERVAL");
  lc.warehouse_raw_retention =
      FP_TRY(parse_raw_retention(get({"FLEETPIPE_WAREHOUSE_RAW_RETENTION"}, ""), lc), "configuration");
  lc.bucket_compact_after =
      FP_TRY(parse_minutes("FLEETPIPE_BUCKET_COMPACT_AFTER", get({"FLEETPIPE_BUCKET_COMPACT_AFTER"}, "1h")),
             "configuration");
  lc.bucket_compact_target_bytes = FP_TRY(parse_byte_size(get({"FLEETPIPE_BUCKET_COMPACT_TARGET"}, "128MiB")),
                                          "FLEETPIPE_BUCKET_COMPACT_TARGET");
  // Below 1 MiB a compacted object is hardly large; above 5 GiB its temporary file grows too large.
  if (lc.bucket_compact_target_bytes < (int64_t{1} << 20) ||
      lc.bucket_compact_target_bytes > (int64_t{5} << 30))
    return invalid_input("FLEETPIPE_BUCKET_COMPACT_TARGET must be between 1 MiB and 5 GiB");
  for (auto s : kDbServices) {
    c.logins[s].user =
        get({login_variable(s, "USER").c_str()}, fmt::format("fleetpipe_{}", db_service_name(s)));
    c.logins[s].password = get({login_variable(s, "PASSWORD").c_str()}, "");
  }
  if (const auto budget = get({"FLEETPIPE_KAFKA_DISK_BUDGET"}, ""); !budget.empty()) {
    c.kafka_disk_budget = FP_TRY(parse_byte_size(budget), "FLEETPIPE_KAFKA_DISK_BUDGET");
    if (*c.kafka_disk_budget <= 0)
      return invalid_input("FLEETPIPE_KAFKA_DISK_BUDGET must be more than 0 bytes");
  }
  return c;
}

std::vector<std::string> Config::missing_secrets() const {
  std::vector<std::string> out;
  if (webapp.password.empty()) out.push_back("POSTGRES_PASSWORD");
  if (warehouse.password.empty()) out.push_back("DW_POSTGRES_PASSWORD");
  if (cdc.password.empty()) out.push_back("CDC_POSTGRES_PASSWORD");
  if (s3.access_key.empty()) out.push_back("AWS_ACCESS_KEY_ID");
  if (s3.secret_key.empty()) out.push_back("AWS_SECRET_ACCESS_KEY");
  if (pgadmin.password.empty()) out.push_back("PGADMIN_DEFAULT_PASSWORD");
  for (const auto& [s, login] : logins)
    if (login.password.empty()) out.push_back(login_variable(s, "PASSWORD"));
  return out;
}

nlohmann::json Config::to_json(bool reveal) const {
  auto secret = [&](const std::string& v) -> nlohmann::json {
    if (v.empty()) return nullptr;
    return reveal ? v : "****";
  };
  auto pg = [&](const PgConfig& p) {
    return nlohmann::json{{"host", p.host},
                          {"port", p.port},
                          {"dbname", p.dbname},
                          {"user", p.user},
                          {"password", secret(p.password)}};
  };
  nlohmann::json services = nlohmann::json::object();
  for (const auto& [s, login] : logins)
    services[db_service_name(s)] = {{"user", login.user}, {"password", secret(login.password)}};
  return {
      {"state_dir", state_dir.string()},
      {"service_logins", services},
      {"webapp", pg(webapp)},
      {"warehouse", pg(warehouse)},
      {"cdc", pg(cdc)},
      {"kafka_bootstrap_servers", kafka_bootstrap},
      {"kafka_connect_url", connect_url},
      {"s3",
       {{"endpoint", s3.endpoint},
        {"access_key_id", secret(s3.access_key)},
        {"secret_access_key", secret(s3.secret_key)},
        {"region", s3.region},
        {"bucket", s3.bucket},
        {"addressing_style", s3.path_style ? "path" : "virtual"}}},
      {"pgadmin", {{"email", pgadmin.email}, {"password", secret(pgadmin.password)}, {"port", pgadmin.port}}},
      {"console_token", secret(console_token)},
      {"lifecycle",
       {{"trips_hot_window_minutes", lifecycle.trips_hot_window.count()},
        {"trips_partition_interval_minutes", lifecycle.trips_partition_interval.count()},
        // null: the raw detail is kept for ever (the default)
        {"warehouse_raw_retention_minutes", lifecycle.warehouse_raw_retention
                                                ? nlohmann::json(lifecycle.warehouse_raw_retention->count())
                                                : nlohmann::json()},
        {"bucket_compact_after_minutes", lifecycle.bucket_compact_after.count()},
        {"bucket_compact_target_bytes", lifecycle.bucket_compact_target_bytes}}},
      // null: the default, a share of the state directory's free space (`fleetpipe config` shows it worked
      // out).
      {"kafka_disk_budget_bytes", kafka_disk_budget ? nlohmann::json(*kafka_disk_budget) : nlohmann::json()}};
}

}  // namespace fp
