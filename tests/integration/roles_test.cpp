// Least privilege (sql/grants/): each service's role may do what the service does and nothing more. Run
// against scratch databases with the same migrations and grants as the stack's, and against the stack's own
// roles (created by `up`).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/config.h"
#include "common/pg/connection.h"
#include "integration/scratch_db.h"

namespace fp {
namespace {

constexpr const char* kDenied = "42501";  // insufficient_privilege

class RolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = Config::load();
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    ASSERT_NO_FATAL_FAILURE(scratch_.create(*cfg, "roles"));
    cfg_ = scratch_.apply(*cfg);
    // A row to read, change and delete, written as the administrator.
    auto admin = pg::Connection::connect(cfg_.webapp);
    ASSERT_TRUE(admin.ok()) << admin.error().message;
    ASSERT_TRUE(admin
                    ->exec("INSERT INTO drivers (id, name, license_number) VALUES (1, 'Ada', 'L-1'); "
                           "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                           "VALUES (1, 1, 'Ford', 'Transit', 20, 'white')")
                    .ok());
  }

  pg::Connection as(const PgConfig& pg) {
    auto c = pg::Connection::connect(pg);
    EXPECT_TRUE(c.ok()) << pg.user << ": " << c.error().message;
    return std::move(*c);
  }

  // `sql` fails for `who` with insufficient_privilege, by SQLSTATE.
  static void denied(pg::Connection& c, const std::string& who, const std::string& sql) {
    auto r = c.exec(sql);
    ASSERT_FALSE(r.ok()) << who << " may run: " << sql;
    EXPECT_EQ(r.error().code, kDenied) << who << ": " << sql << ": " << r.error().message;
  }
  static void allowed(pg::Connection& c, const std::string& who, const std::string& sql) {
    auto r = c.exec(sql);
    EXPECT_TRUE(r.ok()) << who << " may not run: " << sql << ": " << (r.ok() ? "" : r.error().message);
  }

  integration::ScratchStack scratch_;
  Config cfg_;
};

TEST_F(RolesTest, NoServiceRoleIsPrivileged) {
  auto admin = as(cfg_.webapp);
  for (auto s : kDbServices) {
    const auto user = cfg_.webapp_as(s).user;
    ASSERT_NE(user, cfg_.webapp.user) << db_service_name(s) << " logs in as the administrator";
    auto r = admin.query(
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls "
        "FROM pg_roles WHERE rolname = $1",
        user);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 1u) << user << " does not exist";
    EXPECT_FALSE(*r->get<bool>(0, 0)) << user << " holds a privileged attribute";
  }
}

TEST_F(RolesTest, TheWebAppEditsTheFleetButCannotDropOrReachTheServer) {
  auto app = as(cfg_.webapp_as(DbService::kApp));
  const std::string who = "the web app";
  allowed(
      app, who,
      "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, "
      "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) VALUES "
      "(1, 1, 1, '2026-01-01 00:00', 1, 1, 20, 0, 100, 20, 'white')");
  allowed(app, who, "UPDATE vehicles SET color = 'red' WHERE id = 1");
  allowed(app, who, "SELECT count(*) FROM vehicle_latest_locations");
  allowed(app, who, "DELETE FROM trips");
  denied(app, who, "DROP TABLE trips");
  denied(app, who, "TRUNCATE trips");
  denied(app, who, "COPY (SELECT 1) TO PROGRAM 'true'");
  denied(app, who, "COPY trips FROM PROGRAM 'true'");
  denied(app, who, "SELECT pg_read_file('/etc/hostname')");
  denied(app, who, "CREATE TABLE public.mine (x int)");
  denied(app, who, "DELETE FROM export_deletes");
  denied(app, who, "INSERT INTO trip_latest VALUES (1, 1, 1, 1, now())");
  denied(app, who, "UPDATE generator_checkpoints SET run_id = run_id");
  denied(app, who, "CREATE ROLE intruder");
}

TEST_F(RolesTest, ReadersOnlyRead) {
  for (auto s : {DbService::kRealtime, DbService::kConsole}) {
    auto c = as(cfg_.webapp_as(s));
    const std::string who = db_service_name(s);
    allowed(c, who, "SELECT count(*) FROM trips");
    allowed(c, who, "SELECT count(*) FROM vehicle_latest_locations");
    denied(c, who, "UPDATE vehicles SET color = 'red'");
    denied(c, who, "DELETE FROM drivers");
    denied(c, who, "CREATE TEMP TABLE t (x int)");
  }
  // The pipeline reads the source and may restamp the export watermark's column, nothing else of it.
  auto p = as(cfg_.webapp_as(DbService::kPipeline));
  allowed(p, "the pipeline", "UPDATE vehicles SET _export_xid = pg_current_xact_id() WHERE id = 1");
  denied(p, "the pipeline", "UPDATE vehicles SET color = 'red'");
  denied(p, "the pipeline", "DELETE FROM vehicles");
  // The simulated fleet adds; it deletes nothing.
  auto g = as(cfg_.webapp_as(DbService::kGenerator));
  allowed(g, "the generator", "CREATE TEMP TABLE stage (x int)");
  denied(g, "the generator", "DELETE FROM trips");
  denied(g, "the generator", "DROP TABLE trips");
}

TEST_F(RolesTest, OnTheWarehouseThePipelineLoadsAndOwnsModelsTheConsoleReads) {
  auto p = as(cfg_.warehouse_as(DbService::kPipeline));
  allowed(p, "the pipeline", "DELETE FROM raw.trips WHERE false");
  allowed(p, "the pipeline", "CREATE TABLE marts.scratch_model AS SELECT 1 AS x");
  allowed(p, "the pipeline", "ALTER TABLE marts.scratch_model RENAME TO scratch_model_old");
  denied(p, "the pipeline", "DROP TABLE raw.trips");
  denied(p, "the pipeline", "CREATE SCHEMA elsewhere");
  denied(p, "the pipeline", "COPY (SELECT 1) TO PROGRAM 'true'");
  // raw.trips' day partitions: made and dropped through the owner's functions only; a new one carries the
  // parent's grants, so the loader may COPY into it and the console read it.
  allowed(p, "the pipeline", "SELECT count(*) FROM raw.trip_partitions_ensure(ARRAY['2031-01-02'::date])");
  allowed(p, "the pipeline",
          "BEGIN; INSERT INTO raw.trips_p20310102 (id, _object_key, _deleted_xid, "
          "_deleted_at) SELECT 1, 'x', 1, now() WHERE false; ROLLBACK");
  denied(p, "the pipeline", "DROP TABLE raw.trips_p20310102");
  denied(p, "the pipeline", "CREATE TABLE raw.trips_p20310103 (LIKE raw.trips)");

  auto c = as(cfg_.warehouse_as(DbService::kConsole));
  // A model built after provisioning is readable by the console (default privileges).
  allowed(c, "the console", "SELECT x FROM marts.scratch_model_old");
  allowed(c, "the console", "SELECT count(*) FROM raw.load_manifest");
  allowed(c, "the console", "BEGIN; INSERT INTO ops.run_requests (requested_by) VALUES ('test'); ROLLBACK");
  denied(c, "the console", "DELETE FROM raw.trips");
  allowed(c, "the console", "SELECT count(*) FROM raw.trips_p20310102");
  denied(c, "the console", "SELECT count(*) FROM raw.trip_partitions_ensure(ARRAY['2031-01-03'::date])");
  denied(c, "the console", "SELECT raw.trip_partition_drop('trips_p20310102', '1', '1', '{}', '{}', '{}')");
  denied(c, "the console", "UPDATE ops.run_requests SET full_tests = true");
  denied(c, "the console", "DROP TABLE marts.scratch_model_old");
}

}  // namespace
}  // namespace fp
