// Databases of a test's own on the running stack's PostgreSQL servers, so that a test never truncates or
// rewrites what a running demo uses: created empty with the project's migrations (sql/<role>/) and the
// services' grants (sql/grants/<role>.sql, as `up` runs them) applied, and dropped (WITH (FORCE): a child the
// test killed may still hold a session) when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/pg/connection.h"
#include "common/pg/migrate.h"
#include "stack/provision.h"

namespace fp::integration {

class ScratchDatabase {
 public:
  ScratchDatabase() = default;
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;
  ~ScratchDatabase() { drop(); }

  // Creates `name` on `server`'s PostgreSQL (dropping a leftover of a crashed run first) and applies
  // sql/<migrations>/. Call with ASSERT_NO_FATAL_FAILURE.
  void create(const PgConfig& server, const std::string& name, const std::string& migrations) {
    drop();
    PgConfig admin = server;
    admin.dbname = "postgres";
    auto a = pg::Connection::connect(admin);
    ASSERT_TRUE(a.ok()) << a.error().message;
    admin_.emplace(std::move(*a));
    // Two statements: neither may run inside the implicit transaction of a multi-statement query.
    ASSERT_TRUE(admin_->exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)).ok());
    auto created = admin_->exec(fmt::format("CREATE DATABASE {}", name));
    ASSERT_TRUE(created.ok()) << created.error().message;
    name_ = name;
    config_ = server;
    config_.dbname = name;
    auto c = pg::Connection::connect(config_);
    ASSERT_TRUE(c.ok()) << c.error().message;
    auto applied = migrate::apply(*c, std::filesystem::path("sql") / migrations);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    // The services log in as their own roles (Config::webapp_as): the same grants as the stack's databases.
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto granted = stack::provision_service_roles(*c, *cfg, ".", migrations);
    ASSERT_TRUE(granted.ok()) << granted.error().message;
  }

  void drop() {
    if (admin_ && !name_.empty()) {
      EXPECT_TRUE(admin_->exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_)).ok()) << name_;
    }
    name_.clear();
    admin_.reset();
  }

  const std::string& name() const { return name_; }
  const PgConfig& config() const { return config_; }

 private:
  std::optional<pg::Connection> admin_;
  std::string name_;
  PgConfig config_;
};

// A webapp database and a warehouse database of the test's own, named after `stem` and the process, and
// exported to the test's children as POSTGRES_DB and DW_POSTGRES_DB (the variables `Config::load` reads).
// With `own_state_dir`, also a state directory of its own (FLEETPIPE_STATE_DIR, holding a copy of the
// stack's credentials), so that what a child writes there (dbt's target/ and logs/) is not the demo's.
class ScratchStack {
 public:
  ~ScratchStack() { release(); }

  void create(const Config& cfg, const std::string& stem, bool own_state_dir = false) {
    const std::string tag = fmt::format("fp_it_{}_{}", stem, getpid());
    ASSERT_NO_FATAL_FAILURE(webapp_.create(cfg.webapp, tag + "_web", "webapp"));
    ASSERT_NO_FATAL_FAILURE(warehouse_.create(cfg.warehouse, tag + "_dw", "warehouse"));
    set("POSTGRES_DB", webapp_.name());
    set("DW_POSTGRES_DB", warehouse_.name());
    if (own_state_dir) {
      namespace fs = std::filesystem;
      state_dir_ = fs::temp_directory_path() / (tag + "_state");
      fs::remove_all(state_dir_);
      fs::create_directories(state_dir_);
      std::error_code ec;
      fs::copy_file(cfg.state_dir / "credentials.env", state_dir_ / "credentials.env", ec);
      ASSERT_FALSE(ec) << ec.message();
      fs::permissions(state_dir_ / "credentials.env", fs::perms::owner_read | fs::perms::owner_write);
      set("FLEETPIPE_STATE_DIR", state_dir_.string());
    }
  }

  // Restores the environment as it was and drops the databases.
  void release() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
    saved_.clear();
    webapp_.drop();
    warehouse_.drop();
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
    state_dir_.clear();
  }

  // `cfg` pointed at the scratch databases (and state directory).
  Config apply(Config cfg) const {
    cfg.webapp.dbname = cfg.cdc.dbname = webapp_.name();
    cfg.warehouse.dbname = warehouse_.name();
    if (!state_dir_.empty()) cfg.state_dir = state_dir_;
    return cfg;
  }

 private:
  void set(const std::string& name, const std::string& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(name.c_str(), value.c_str(), 1);
  }

  ScratchDatabase webapp_, warehouse_;
  std::filesystem::path state_dir_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace fp::integration
