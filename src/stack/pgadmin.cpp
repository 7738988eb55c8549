#include "stack/pgadmin.h"

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/files.h"
#include "common/http/client.h"
#include "common/log.h"

namespace fp::stack {
namespace {

// Building the venv downloads ~100 packages from PyPI; pgAdmin's CLI loads the whole application.
constexpr auto kVenvBuildTimeout = std::chrono::seconds(1500);
constexpr auto kCliTimeout = std::chrono::seconds(300);
// pgAdmin's default group, which every user has: no second, empty group beside ours.
constexpr const char* kGroup = "Servers";

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// The pinned venv: FLEETPIPE_PGADMIN_VENV, else the one scripts/python-venv.sh keeps in the cache (it
// builds it on first use and otherwise only prints its path, so it stays the one rule for where venvs live).
Result<std::filesystem::path> resolve_venv(const Context& ctx, const std::filesystem::path& scratch) {
  if (const char* v = std::getenv("FLEETPIPE_PGADMIN_VENV"); v && *v) return std::filesystem::path(v);
  std::error_code ec;
  std::filesystem::create_directories(scratch.parent_path(), ec);
  std::filesystem::remove(scratch, ec);
  SpawnSpec s;
  s.argv = {"bash", (ctx.repo / "scripts/python-venv.sh").string(), "pgadmin",
            (ctx.repo / "stack/pgadmin/requirements.txt").string()};
  s.cwd = ctx.repo;
  s.log_file = scratch;
  const auto rc = run_to_completion(s, kVenvBuildTimeout);
  const auto out = read_file(scratch);
  std::filesystem::remove(scratch, ec);
  if (!rc) return rc.error().context("pgadmin venv");
  if (*rc != 0)
    return make_error("pgadmin: scripts/python-venv.sh failed (exit {}): {}", *rc,
                      out ? last_line(*out) : std::string("no output"));
  if (!out) return out.error().context("pgadmin venv");
  return std::filesystem::path(last_line(*out));
}

Result<std::filesystem::path> find_package(const std::filesystem::path& venv) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(venv / "lib", ec)) {
    const auto pkg = e.path() / "site-packages" / "pgadmin4";
    if (std::filesystem::exists(pkg / "pgAdmin4.py")) return pkg;
  }
  return make_error(
      "pgadmin: no pgadmin4 package in the venv {} (rebuild it: scripts/python-venv.sh pgadmin "
      "stack/pgadmin/requirements.txt)",
      venv.string());
}

std::string pgpass_escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string pgadmin_storage_name(const std::string& email) {
  std::string name = email;
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "pga_user_" + name;
  std::string out;
  for (char c : name) {
    if (c == '@')
      out += '_';
    else if (c == '/' || c == '\\')
      out += "slash";
    else
      out += c;
  }
  return out;
}

std::string pgpass_line(const PgConfig& pg) {
  return fmt::format("{}:{}:*:{}:{}\n", pgpass_escape(pg.host), pg.port, pgpass_escape(pg.user),
                     pgpass_escape(pg.password));
}

Result<std::string> python_string_literal(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return invalid_input("value {:?} has a control character; refusing to write it into config_local.py",
                           value);
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string pgadmin_servers_json(const Config& cfg) {
  auto server = [](const std::string& name, const PgConfig& pg, const std::string& comment) {
    return nlohmann::json{
        {"Name", name},
        {"Group", kGroup},
        {"Host", pg.host},
        {"Port", pg.port},
        {"MaintenanceDB", pg.dbname},
        {"Username", pg.user},
        {"Comment", comment},
        {"ConnectionParameters", {{"sslmode", "prefer"}, {"connect_timeout", 10}, {"passfile", "/pgpass"}}}};
  };
  nlohmann::json j{{"Servers",
                    {{"1", server("webapp", cfg.webapp, "fleetpipe's operational database (POSTGRES_*)")},
                     {"2", server("warehouse", cfg.warehouse, "fleetpipe's warehouse (DW_POSTGRES_*)")}}}};
  return j.dump(2) + "\n";
}

Result<std::string> pgadmin_missing_servers(const std::string& wanted_json, const std::string& dumped_json) {
  nlohmann::json wanted, dumped;
  try {
    wanted = nlohmann::json::parse(wanted_json);
    dumped = nlohmann::json::parse(dumped_json);
  } catch (const std::exception& e) {
    return invalid_input("not JSON: {}", e.what());
  }
  if (!dumped.contains("Servers") || !dumped["Servers"].is_object())
    return invalid_input("no \"Servers\" object in the dump");
  const auto& have = dumped["Servers"];
  for (const auto& [_, want] : wanted["Servers"].items()) {
    bool found = false;
    for (const auto& [__, s] : have.items())
      found = found || (s.value("Name", "") == want["Name"] && s.value("Host", "") == want["Host"] &&
                        s.value("Port", 0) == want["Port"] && s.value("Username", "") == want["Username"]);
    if (!found) return want["Name"].get<std::string>();
  }
  return std::string();
}

PgAdmin::PgAdmin(const Context& ctx) : port_(ctx.cfg.pgadmin.port) {}

Result<SpawnSpec> PgAdmin::cli(const Context& ctx, std::vector<std::string> args) const {
  SpawnSpec s;
  s.argv = {(venv_ / "bin" / "python").string(), (package_ / "setup.py").string()};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.cwd = package_;
  s.log_file = ctx.log_file(name());
  // config_local.py is found on the import path: pgAdmin's config imports it by module name.
  s.env_add = {{"PYTHONPATH", dir(ctx).string()}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  return s;
}

Status PgAdmin::run_cli(const Context& ctx, std::vector<std::string> args,
                        std::map<std::string, std::string> env) const {
  auto spec = FP_TRY(cli(ctx, args), "pgadmin");
  for (auto& [k, v] : env) spec.env_add[k] = v;
  const auto rc = FP_TRY(run_to_completion(spec, kCliTimeout), "pgadmin " + args.front());
  if (rc != 0)
    return make_error("pgadmin: setup.py {} exited with {} (see {})", args.front(), rc,
                      ctx.log_file(name()).string());
  return ok_status();
}

Status PgAdmin::prepare(Context& ctx) {
  const auto& pga = ctx.cfg.pgadmin;
  if (pga.password.empty())
    return make_error("pgadmin: PGADMIN_DEFAULT_PASSWORD is not set (fleetpipe up generates it into {})",
                      (ctx.state() / "credentials.env").string());
  log::debug("stack", "pgadmin: resolving its venv (a first build downloads pgAdmin from PyPI, minutes)");
  venv_ = FP_TRY(resolve_venv(ctx, dir(ctx) / "venv-path.txt"), "prepare pgadmin");
  package_ = FP_TRY(find_package(venv_), "prepare pgadmin");

  // config_local.py: every path under the state directory, server mode, loopback only, nothing fetched
  // from the internet (no upgrade check, no Gravatar images).
  const auto data = data_dir(ctx);
  auto lit = [](const std::filesystem::path& p) { return python_string_literal(p.string()); };
  const auto tld = pga.email.substr(pga.email.rfind('.') == std::string::npos ? 0 : pga.email.rfind('.') + 1);
  const auto conf = fmt::format(
      "# Generated by `fleetpipe up --with-pgadmin` on every start (edits are overwritten). pgAdmin imports\n"
      "# it as config_local from PYTHONPATH; see pgAdmin's config.py for the settings.\n"
      "DATA_DIR = {}\nLOG_FILE = {}\nSQLITE_PATH = {}\nSESSION_DB_PATH = {}\nSTORAGE_DIR = {}\n"
      "AZURE_CREDENTIAL_CACHE_DIR = {}\nKERBEROS_CCACHE_DIR = {}\n"
      "SERVER_MODE = True\nDEFAULT_SERVER = '127.0.0.1'\nDEFAULT_SERVER_PORT = {}\n"
      "UPGRADE_CHECK_ENABLED = False\nSHOW_GRAVATAR_IMAGE = False\n"
      "# A login such as admin@fleetpipe.local uses a special-use domain; accept the configured one.\n"
      "ALLOW_SPECIAL_EMAIL_DOMAINS = [{}]\n"
      "DEFAULT_BINARY_PATHS = {{'pg': {}}}\n",
      FP_TRY(lit(data), "pgadmin"), FP_TRY(lit(data / "pgadmin4.log"), "pgadmin"),
      FP_TRY(lit(data / "pgadmin4.db"), "pgadmin"), FP_TRY(lit(data / "sessions"), "pgadmin"),
      FP_TRY(lit(data / "storage"), "pgadmin"), FP_TRY(lit(data / "azurecredentialcache"), "pgadmin"),
      FP_TRY(lit(data / "krbccache"), "pgadmin"), port_, FP_TRY(python_string_literal(tld), "pgadmin"),
      FP_TRY(python_string_literal(ctx.pg_bin), "pgadmin"));
  FP_CHECK(write_file_atomic(dir(ctx) / "config_local.py", conf), "pgadmin");

  // The databases' passwords, for libpq through the server's PassFile: the user's storage directory
  // (created 0700 by us or by pgAdmin), the file 0600 as libpq insists.
  const auto storage = data / "storage" / pgadmin_storage_name(pga.email);
  std::error_code ec;
  std::filesystem::create_directories(storage, ec);
  if (ec) return make_error("pgadmin: create {}: {}", storage.string(), ec.message());
  std::filesystem::permissions(data, std::filesystem::perms::owner_all, ec);
  std::filesystem::permissions(storage, std::filesystem::perms::owner_all, ec);
  FP_CHECK(write_file_atomic(storage / "pgpass", pgpass_line(ctx.cfg.webapp) + pgpass_line(ctx.cfg.warehouse),
                             /*private_mode=*/true),
           "pgadmin pgpass");

  const auto servers = pgadmin_servers_json(ctx.cfg);
  FP_CHECK(write_file_atomic(dir(ctx) / "servers.json", servers), "pgadmin");
  return register_login_and_servers(ctx, servers);
}

// pgAdmin's CLI loads the whole application per call (seconds each, tens of seconds on a loaded machine), so
// each step runs only when what it sets up changed since it last succeeded: a stamp file holds a hash of the
// login and one of the servers file.
Status PgAdmin::register_login_and_servers(Context& ctx, const std::string& servers_json) {
  const auto& pga = ctx.cfg.pgadmin;
  const auto stamp_path = dir(ctx) / "provisioned.sha256";
  std::map<std::string, std::string> stamp;
  if (auto have = read_env_file(stamp_path); have) stamp = *have;
  const auto login_hash = digest::sha256_hex(pga.email + "\n" + pga.password);
  const auto servers_hash = digest::sha256_hex(servers_json);
  auto save_stamp = [&] {
    return write_file_atomic(stamp_path,
                             fmt::format("login={}\nservers={}\n", stamp["login"], stamp["servers"]),
                             /*private_mode=*/true);
  };

  const auto t0 = std::chrono::steady_clock::now();
  const auto db = data_dir(ctx) / "pgadmin4.db";
  const bool exists = std::filesystem::exists(db);
  if (!exists || stamp["login"] != login_hash) {
    // A new configuration database; its first (administrator) user comes from the environment, so the
    // password never appears on a command line. (An existing database is migrated by pgAdmin on start.)
    // A changed PGADMIN_DEFAULT_EMAIL or _PASSWORD makes it anew as well: pgAdmin's CLI changes a password
    // only from its command line, where any local user could read it. Its users and servers are
    // fleetpipe's to provision; preferences saved in pgAdmin's UI start over.
    if (exists) {
      log::info("stack", "pgadmin: login changed; making its configuration database anew for {}", pga.email);
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::error_code rm_ec;
        std::filesystem::remove(db.string() + suffix, rm_ec);
        if (rm_ec) return make_error("pgadmin: remove {}{}: {}", db.string(), suffix, rm_ec.message());
      }
    } else {
      log::info("stack", "pgadmin: creating its configuration database with user {}", pga.email);
    }
    FP_CHECK(run_cli(ctx, {"setup-db"},
                     {{"PGADMIN_SETUP_EMAIL", pga.email}, {"PGADMIN_SETUP_PASSWORD", pga.password}}),
             "pgadmin");
    stamp = {{"login", login_hash}, {"servers", ""}};
    FP_CHECK(save_stamp(), "pgadmin");
  }
  if (stamp["servers"] == servers_hash) return ok_status();

  // --replace: the admin user's servers are exactly fleetpipe's two, however often this runs.
  FP_CHECK(
      run_cli(ctx, {"load-servers", (dir(ctx) / "servers.json").string(), "--user", pga.email, "--replace"}),
      "pgadmin");
  // load-servers reports failures on stdout with exit status 0: read the servers back to be sure.
  const auto dump = dir(ctx) / "servers-registered.json";
  std::error_code ec;
  std::filesystem::remove(dump, ec);
  FP_CHECK(run_cli(ctx, {"dump-servers", dump.string(), "--user", pga.email}), "pgadmin");
  const auto text = FP_TRY(read_file(dump), "pgadmin: dump-servers wrote nothing (see its log)");
  std::filesystem::remove(dump, ec);
  const auto missing = FP_TRY(pgadmin_missing_servers(servers_json, text), "pgadmin: dump-servers");
  if (!missing.empty())
    return make_error("pgadmin: server {} is not registered for {} after load-servers (see {})", missing,
                      pga.email, ctx.log_file(name()).string());
  stamp["servers"] = servers_hash;
  FP_CHECK(save_stamp(), "pgadmin");
  log::info(
      "stack", "pgadmin: user {} and servers webapp, warehouse registered in {} ms", pga.email,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
  return ok_status();
}

Result<SpawnSpec> PgAdmin::spawn_spec(Context& ctx) {
  if (package_.empty()) return make_error("pgadmin: spawn before prepare");
  SpawnSpec s;
  // gunicorn with one worker and threads, as pgAdmin's own container image runs it: pgAdmin keeps
  // per-process state, so more workers would split sessions. No request-line limit (long query URLs);
  // a short graceful timeout so `down` is quick even with open long-poll connections.
  s.argv = {(venv_ / "bin" / "gunicorn").string(),
            "--bind",
            fmt::format("127.0.0.1:{}", port_),
            "--workers",
            "1",
            "--threads",
            "25",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            "--no-control-socket",  // else ~/.gunicorn/gunicorn.ctl, one path for every stack on the machine
            "--limit-request-line",
            "0",
            "--chdir",
            package_.string(),
            "pgAdmin4:app"};
  s.cwd = package_;
  s.log_file = ctx.log_file(name());
  s.env_add = {{"PYTHONPATH", dir(ctx).string()}, {"PYTHONDONTWRITEBYTECODE", "1"}};
  return s;
}

Status PgAdmin::health(Context&) {
  const auto url = fmt::format("http://127.0.0.1:{}/misc/ping", port_);
  auto r = http::get(url, std::chrono::milliseconds(3000));
  if (!r) return transient_error("pgadmin: {}", r.error().message);
  if (r->status != 200) return transient_error("pgadmin: GET /misc/ping answered {}", r->status);
  if (r->body != "PING")
    return transient_error("pgadmin: GET /misc/ping answered {:?}", r->body.substr(0, 80));
  return ok_status();
}

}  // namespace fp::stack
