// The incremental marts (dbt/models/staging/stg_trip_changes.sql) against a full refresh. One bucket
// prefix feeds two warehouses: in the first, every round is an incremental `dbt build`; in the second,
// every round is a `dbt build --full-refresh`. After each round of source changes — new trips, new points
// at trips' ends, late points in the middle of old trips, corrected values, a driver reassigned, points
// deleted at a trip's start, middle and end, a whole trip deleted, a point moved to another trip, a point
// deleted and inserted again — every model of the trips lane holds the same rows in both. A round with
// nothing new writes no row in any model. Needs the running stack and the dbt venv.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/batch_lane_fixture.h"

namespace fp::integration {
namespace {

// The lane's models and the key each is compared in (the columns only the loader or the build sets —
// load times, object keys, transaction ids, batch ids — differ between the warehouses by nature).
struct Model {
  const char* relation;
  const char* key;
};
constexpr Model kModels[] = {
    {"staging.stg_trips", "measurement_key"},       {"staging.int_fuel_changes", "measurement_key"},
    {"staging.int_trip_days", "trip_day_key"},      {"marts.fct_trips", "trip_key"},
    {"marts.fct_vehicle_daily", "vehicle_day_key"}, {"marts.fct_refuels", "refuel_key"},
    {"marts.fct_fuel_anomalies", "anomaly_key"},    {"marts.dim_vehicles", "vehicle_id"},
};

class DbtIncrementalTest : public BatchLaneTest {
 protected:
  static constexpr int kBase = 9300;
  DbtIncrementalTest() : BatchLaneTest(kBase, "dbt-incremental", /*own_state_dir=*/true) {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(full_.create(cfg_.warehouse, cfg_.warehouse.dbname + "_full", "warehouse"));
    auto f = pg::Connection::connect(full_.config());
    ASSERT_TRUE(f.ok()) << f.error().message;
    full_dw_.emplace(std::move(*f));
    ASSERT_TRUE(
        web_->exec(fmt::format(
                       "INSERT INTO drivers (id, name, license_number) SELECT {0} + g, 'Driver ' || g, "
                       "'DI{0}-' || g FROM generate_series(1, 5) g;"
                       "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                       "SELECT {0} + g, {0} + g, 'Make', 'Model', 60, 'blue' FROM generate_series(1, 4) g",
                       kBase))
            .ok());
  }

  void TearDown() override {
    full_dw_.reset();
    full_.drop();
    BatchLaneTest::TearDown();
  }

  // Points `from`..`to` of vehicle v's trip t (sequence s at 23:30 + s minutes on day `day`, so a trip of
  // more than 30 points crosses midnight), skipping the sequences in `gaps`: 0.8 miles and 0.05 gallons
  // a point, and at sequence 50 a refuel (+20 gallons while standing).
  void add_points(int v, int t, int day, int from, int to, const std::string& gaps = "0") {
    auto st = web_->exec(fmt::format(
        "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
        "longitude, "
        "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
        "SELECT {0}, {1}, s, timestamp '2024-04-{2:02d} 23:30' + s * interval '1 minute', 40 + s / 1000.0, "
        "-73, 60, round((least(s, 49) * 0.8 + greatest(s - 50, 0) * 0.8)::numeric, 3), "
        "(35 - s * 0.05 + case when s >= 50 then 20 else 0 end) / 0.6, "
        "round((35 - s * 0.05 + case when s >= 50 then 20 else 0 end)::numeric, 3), 'blue' "
        "FROM generate_series({3}, {4}) s WHERE s <> ALL (ARRAY[{5}])",
        kBase + v, t, day, from, to, gaps));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  void web(const std::string& sql) {
    auto st = web_->exec(sql);
    ASSERT_TRUE(st.ok()) << sql << ": " << st.error().message;
  }

  // scripts/dbt.sh with `args`, against the warehouse `db`; returns the exit code.
  int dbt(const std::string& db, const std::vector<std::string>& args) {
    const std::string saved = std::getenv("DW_POSTGRES_DB");
    setenv("DW_POSTGRES_DB", db.c_str(), 1);
    std::vector<std::string> argv = {"scripts/dbt.sh"};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = spawn_logged(argv, kLog, kLog);
    setenv("DW_POSTGRES_DB", saved.c_str(), 1);
    return pid < 0 ? -1 : wait_exit(pid);
  }
  int load_into(const std::string& db) {
    const std::string saved = std::getenv("DW_POSTGRES_DB");
    setenv("DW_POSTGRES_DB", db.c_str(), 1);
    const int rc = load();
    setenv("DW_POSTGRES_DB", saved.c_str(), 1);
    return rc;
  }

  // Exports the round's changes, loads them into both warehouses, builds one incrementally and the other
  // from scratch, and compares every model. Returns the incremental build's run_results.json.
  nlohmann::json round(const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(export_(), 0) << "see " << kLog;
    EXPECT_EQ(load_into(cfg_.warehouse.dbname), 0) << "see " << kLog;
    EXPECT_EQ(load_into(full_.name()), 0) << "see " << kLog;
    EXPECT_EQ(dbt(cfg_.warehouse.dbname, {"build"}), 0) << "incremental build; see " << kLog;
    std::ifstream in(cfg_.state_dir / "dbt" / "target" / "run_results.json");
    nlohmann::json results = nlohmann::json::parse(in, nullptr, false);
    // The lane's models are `full_refresh: false` unless asked to rebuild from raw
    // (macros/raw_retention.sql).
    EXPECT_EQ(dbt(full_.name(), {"build", "--full-refresh", "--vars", "{full_refresh_from_raw: true}"}), 0)
        << "full refresh; see " << kLog;
    for (const auto& m : kModels) {
      const std::string sql = fmt::format(
          "SELECT coalesce(string_agg((to_jsonb(t) - '_batch_id' - '_load_xid' - 'loaded_at' - "
          "'loaded_from_object')::text, E'\\n' ORDER BY {1}), '') FROM {0} t WHERE {2}",
          m.relation, m.key, fmt::format("vehicle_id > {}", kBase));
      const std::string inc = text(*dw_, sql), full = text(*full_dw_, sql);
      // Every model has rows to compare (the anomalies from round 3 on, checked there).
      if (std::string_view(m.relation) != "marts.fct_fuel_anomalies") {
        EXPECT_FALSE(full.empty()) << m.relation;
      }
      EXPECT_EQ(inc, full) << m.relation << " after " << what;
    }
    return results;
  }

  std::string text(pg::Connection& c, const std::string& sql) {
    auto r = c.query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    if (!r || r->size() == 0) return "";
    auto v = r->get<std::string>(0, 0);
    return v ? *v : "";
  }

  std::string trip(pg::Connection& c, int v, int t) {
    return text(
        c, fmt::format("SELECT measurement_count || ' ' || refuel_count || ' ' || anomaly_count || ' ' || "
                       "fuel_used_gallons FROM marts.fct_trips WHERE trip_key = '{}-{}'",
                       kBase + v, t));
  }

  ScratchDatabase full_;
  std::optional<pg::Connection> full_dw_;
};

TEST_F(DbtIncrementalTest, IncrementalBuildsEqualAFullRefreshThroughEveryKindOfChange) {
  // Round 1: four vehicles, a long trip each over midnight with two points missing (20 and 40, late), and
  // a short second trip two days later.
  for (int v = 1; v <= 4; ++v) {
    ASSERT_NO_FATAL_FAILURE(add_points(v, 1, 15, 1, 60, "20, 40"));
    ASSERT_NO_FATAL_FAILURE(add_points(v, 2, 17, 1, 5));
  }
  round("the first build");
  EXPECT_EQ(trip(*dw_, 1, 1), "58 1 0 2.900");

  // Round 2: new points at the end of every long trip, and a new trip.
  for (int v = 1; v <= 4; ++v) ASSERT_NO_FATAL_FAILURE(add_points(v, 1, 15, 61, 80));
  ASSERT_NO_FATAL_FAILURE(add_points(1, 3, 18, 1, 4));
  round("new points at the trips' ends");
  EXPECT_EQ(trip(*dw_, 1, 1), "78 1 0 3.900");

  // Round 3: the late points reach the middle of vehicle 1's and 2's old trips; from vehicle 2's on, its
  // gauge reads 6 gallons less (a suspicious drop at the late point).
  ASSERT_NO_FATAL_FAILURE(add_points(1, 1, 15, 20, 20));
  ASSERT_NO_FATAL_FAILURE(add_points(2, 1, 15, 40, 40));
  web(
      fmt::format("UPDATE trips SET fuel_remaining_gallon = fuel_remaining_gallon - 6 WHERE vehicle_id = {} "
                  "AND trip_id = 1 AND measurement_sequence >= 40",
                  kBase + 2));
  round("late points in old trips");
  EXPECT_EQ(trip(*dw_, 1, 1), "79 1 0 3.900") << "the late point counts in its trip";
  EXPECT_EQ(trip(*dw_, 2, 1), "79 1 1 9.900") << "the late point's drop counts in its trip";

  // Round 4: a corrected value, a driver reassigned, points deleted at a trip's start, middle and end, a
  // whole trip deleted, a point moved to another trip.
  web(
      fmt::format("UPDATE trips SET distance_traveled = distance_traveled + 3 WHERE vehicle_id = {} AND "
                  "trip_id = 1 AND measurement_sequence = 70",
                  kBase + 1));
  web(fmt::format("UPDATE vehicles SET driver_id = {} WHERE id = {}", kBase + 5, kBase + 2));
  web(fmt::format(
      "DELETE FROM trips WHERE vehicle_id = {} AND trip_id = 1 AND measurement_sequence IN (1, 45, "
      "80)",
      kBase + 3));
  web(fmt::format("DELETE FROM trips WHERE vehicle_id = {} AND trip_id = 2", kBase + 4));
  web(
      fmt::format("UPDATE trips SET trip_id = 3, measurement_time = '2024-04-18 23:40' WHERE vehicle_id = {} "
                  "AND trip_id = 2 AND measurement_sequence = 5",
                  kBase + 1));
  round("updates, deletes and a moved point");
  EXPECT_EQ(
      text(*dw_, fmt::format("SELECT count(*) FROM marts.fct_trips WHERE trip_key = '{}-2'", kBase + 4)),
      "0");
  EXPECT_EQ(text(*dw_, fmt::format("SELECT string_agg(DISTINCT driver_id::text, ',') FROM marts.fct_trips "
                                   "WHERE vehicle_id = {}",
                                   kBase + 2)),
            std::to_string(kBase + 5));

  // Round 5: a deleted point inserted again (a new source id for the same measurement).
  ASSERT_NO_FATAL_FAILURE(add_points(3, 1, 15, 45, 45));
  round("a deleted point inserted again");

  // Round 6: nothing new. Every model of the lane writes no row (the change log its batch header only).
  auto results = round("nothing new");
  ASSERT_TRUE(results.contains("results")) << "run_results.json unreadable";
  int lane_models = 0;
  for (const auto& r : results["results"]) {
    const std::string id = r.value("unique_id", "");
    if (!id.starts_with("model.")) continue;
    const auto rows = r["adapter_response"].value("rows_affected", -1);
    if (id == "model.fleetpipe.stg_trip_changes") {
      EXPECT_EQ(rows, 1) << id;
    } else if (id.find(".stg_trips") != std::string::npos || id.find(".int_") != std::string::npos ||
               id.find(".fct_") != std::string::npos) {
      ++lane_models;
      EXPECT_EQ(rows, 0) << id << " wrote rows although nothing changed";
    }
  }
  EXPECT_EQ(lane_models, 7);

  // A version stg_trips took in the latest build that the log's snapshot of that build did not see (a load
  // that committed while the build ran: here, the row rewritten as that build would have and the batch's
  // snapshot replaced by one that saw nothing) is logged by the next build, so the models downstream
  // recompute its trip.
  const std::string source_id = text(*dw_, fmt::format("SELECT source_id FROM staging.stg_trips WHERE "
                                                       "measurement_key = '{}-1-70'",
                                                       kBase + 1));
  ASSERT_FALSE(source_id.empty());
  ASSERT_TRUE(
      dw_
          ->exec(fmt::format(
              "UPDATE raw.trips SET latitude = latitude + 0.5, _load_xid = "
              "pg_current_xact_id() WHERE id = {0}; "
              "UPDATE staging.stg_trips SET _load_xid = r._load_xid, latitude = r.latitude, _batch_id = "
              "(SELECT max(batch_id) FROM staging.stg_trip_changes) "
              "FROM raw.trips r WHERE r.id = {0} AND stg_trips.source_id = {0}; "
              "UPDATE staging.stg_trip_changes SET batch_snapshot = '1:1:' WHERE "
              "source_id IS NULL AND batch_id = (SELECT max(batch_id) FROM staging.stg_trip_changes)",
              source_id))
          .ok());
  EXPECT_EQ(dbt(cfg_.warehouse.dbname, {"build"}), 0) << "see " << kLog;
  EXPECT_EQ(text(*dw_, fmt::format("SELECT count(*) FROM staging.stg_trip_changes WHERE source_id = {} AND "
                                   "batch_id = (SELECT max(batch_id) FROM staging.stg_trip_changes)",
                                   source_id)),
            "1");
}

}  // namespace
}  // namespace fp::integration
