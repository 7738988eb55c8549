// raw.trips partitioned by day (sql/warehouse/011_raw_trips_partitioned.sql, load/trips_apply.h) against the
// real servers, on scratch databases: the loader keeps one row per id across partitions (a row version
// that changes day moves, a tombstone finds its row wherever it is or stands in for an unseen id, loading
// twice changes nothing), and `fleetpipe retain` drops a raw day (retain/raw_days.h) only once the source
// has dropped it and the marts have consumed it, the marts keeping its figures and verify still passing.
#include <gtest/gtest.h>

#include <cstdlib>

#include "integration/batch_lane_fixture.h"

namespace fp::integration {
namespace {

// Every raw row and map entry, as text: equal before and after means nothing changed.
constexpr const char* kRawState =
    "SELECT count(*) || ':' || coalesce(sum(hashtext(concat_ws('|', t.id, t.measurement_time, t.vehicle_id, "
    "t.latitude, t._source_xid, t._source_epoch, t._deleted_xid, t.tableoid::regclass, m.measurement_time, "
    "m._source_xid))), 0) FROM raw.trips t FULL JOIN raw.trip_ids m ON m.id = t.id";

class RawPartitionsTest : public BatchLaneTest {
 protected:
  static constexpr int kBase = 975000;
  RawPartitionsTest() : BatchLaneTest(kBase, "test-rawpart") {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(insert_fleet());
    ASSERT_EQ(scalar(*web_,
                     "SELECT trip_partitions_ensure(ARRAY['2024-04-15', '2024-04-16', "
                     "'2024-04-17', '2024-04-18']::timestamp[])"),
              4);
    ASSERT_NO_FATAL_FAILURE(insert_trips(3000, 1));
  }

  std::string text(pg::Connection& c, const std::string& sql) {
    auto r = c.query(sql);
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    if (!r) return "";
    auto v = r->get<std::string>(0, 0);
    return v ? *v : "";
  }
  // Ids the map and the table disagree on (missing on one side, or another time or version).
  int64_t map_mismatches() {
    return scalar(
        *dw_,
        "SELECT count(*) FROM raw.trips t FULL JOIN raw.trip_ids m ON m.id = t.id WHERE t.id IS NULL "
        "OR m.id IS NULL OR (t.measurement_time, t._source_epoch, t._source_xid) IS DISTINCT FROM "
        "(m.measurement_time, m._source_epoch, m._source_xid)");
  }
  int64_t duplicate_ids() {
    return scalar(*dw_, "SELECT count(*) FROM (SELECT id FROM raw.trips GROUP BY id HAVING count(*) > 1) d");
  }
};

TEST_F(RawPartitionsTest, EachDayHasItsPartitionAndARowVersionThatChangesDayMoves) {
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips"), 3000);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trip_partitions WHERE dropped_at IS NULL"), 3);
  EXPECT_EQ(scalar(*dw_, "SELECT count(DISTINCT tableoid) FROM raw.trips"), 3);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips_default"), 0);
  EXPECT_EQ(map_mismatches(), 0);

  // A correction moves a measurement of the 17th to the 19th, a day the warehouse has no partition for, and
  // another one within its day; a new row comes with them (the object now mixes new and known ids).
  const int64_t moved = scalar(*web_, "SELECT min(id) FROM trips WHERE measurement_time >= '2024-04-17'");
  const int64_t kept = moved + 1;
  ASSERT_TRUE(web_->exec(fmt::format("SELECT trip_partitions_ensure(ARRAY['2024-04-19']::timestamp[]); "
                                     "UPDATE trips SET measurement_time = '2024-04-19 12:00' WHERE id = {0}; "
                                     "UPDATE trips SET latitude = 41.5 WHERE id = {1}",
                                     moved, kept))
                  .ok());
  ASSERT_NO_FATAL_FAILURE(insert_trips(1, 9000));
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0) << "see " << kLog;
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips"), 3001);
  EXPECT_EQ(duplicate_ids(), 0);
  EXPECT_EQ(text(*dw_, fmt::format("SELECT tableoid::regclass || ' ' || measurement_time FROM raw.trips "
                                   "WHERE id = {}",
                                   moved)),
            "raw.trips_p20240419 2024-04-19 12:00:00");
  EXPECT_EQ(
      text(*dw_,
           fmt::format("SELECT tableoid::regclass || ' ' || latitude FROM raw.trips WHERE id = {}", kept)),
      "raw.trips_p20240417 41.5");
  // Nothing is left in trips_default (a row staged onto a day without a partition gets one after its commit).
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips_default"), 0);
  EXPECT_EQ(map_mismatches(), 0);
  EXPECT_EQ(verify(), 0) << "see " << kLog;
}

TEST_F(RawPartitionsTest, TombstonesFindTheirRowOrStandInForAnUnseenId) {
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  const int64_t gone = scalar(*web_, "SELECT min(id) FROM trips WHERE measurement_time >= '2024-04-16'");
  // Deleted after its load; and a row inserted and deleted between two exports: only its tombstone travels.
  ASSERT_TRUE(web_->exec(fmt::format("DELETE FROM trips WHERE id = {}", gone)).ok());
  ASSERT_NO_FATAL_FAILURE(insert_trips(1, 9100));
  const int64_t unseen = scalar(*web_, "SELECT max(id) FROM trips");
  ASSERT_TRUE(web_->exec(fmt::format("DELETE FROM trips WHERE id = {}", unseen)).ok());
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0) << "see " << kLog;
  EXPECT_EQ(
      text(*dw_, fmt::format("SELECT tableoid::regclass || ' ' || (_deleted_xid IS NOT NULL) FROM raw.trips "
                             "WHERE id = {}",
                             gone)),
      "raw.trips_p20240416 true");
  EXPECT_EQ(text(*dw_, fmt::format("SELECT tableoid::regclass || ' ' || (_deleted_xid IS NOT NULL) || ' ' || "
                                   "(measurement_time IS NULL) FROM raw.trips WHERE id = {}",
                                   unseen)),
            "raw.trips_default true true");
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE _deleted_xid IS NULL"), 2999);
  EXPECT_EQ(duplicate_ids(), 0);
  EXPECT_EQ(map_mismatches(), 0);
  EXPECT_EQ(verify(), 0) << "see " << kLog;
}

TEST_F(RawPartitionsTest, LoadingEveryObjectAgainChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(insert_trips(1000, 5000));  // more ids per day: several objects, two workers
  ASSERT_TRUE(web_->exec("DELETE FROM trips WHERE id % 97 = 0").ok());
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  ASSERT_TRUE(web_->exec("UPDATE trips SET measurement_time = measurement_time + interval '1 day' "
                         "WHERE id % 89 = 0")
                  .ok());
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  const std::string before = text(*dw_, kRawState);
  ASSERT_FALSE(before.empty());
  // The warehouse forgets it loaded anything: every object loads again, onto ids it holds (staged).
  ASSERT_TRUE(dw_->exec("DELETE FROM raw.load_manifest; DELETE FROM raw.load_runs").ok());
  ASSERT_EQ(load(), 0) << "see " << kLog;
  EXPECT_EQ(text(*dw_, kRawState), before);
  EXPECT_EQ(duplicate_ids(), 0);
  EXPECT_EQ(map_mismatches(), 0);
  EXPECT_EQ(verify(), 0) << "see " << kLog;
}

// With dbt: the raw detail's retention against the marts.
class RawRetentionTest : public BatchLaneTest {
 protected:
  static constexpr int kBase = 976000;
  RawRetentionTest() : BatchLaneTest(kBase, "test-rawretain", /*own_state_dir=*/true) {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    // Children read these: 2024's days are far past both.
    setenv("FLEETPIPE_TRIPS_HOT_WINDOW", "1d", 1);
    setenv("FLEETPIPE_WAREHOUSE_RAW_RETENTION", "2d", 1);
    ASSERT_TRUE(
        web_->exec(fmt::format(
                       "INSERT INTO drivers (id, name, license_number) SELECT {0} + g, 'Driver ' || g, "
                       "'RR{0}-' || g FROM generate_series(1, 3) g;"
                       "INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                       "SELECT {0} + g, {0} + g, 'Make', 'Model', 60, 'blue' FROM generate_series(1, 3) g;"
                       "SELECT trip_partitions_ensure(ARRAY['2024-04-15', '2024-04-16', '2024-04-17', "
                       "'2024-04-18']::timestamp[])",
                       kBase))
            .ok());
    // Three vehicles, a 60-point trip each starting at 23:30 on the 15th, 16th and 17th (crossing midnight).
    for (int v = 1; v <= 3; ++v) ASSERT_NO_FATAL_FAILURE(add_points(v, v, 14 + v));
  }
  void TearDown() override {
    unsetenv("FLEETPIPE_TRIPS_HOT_WINDOW");
    unsetenv("FLEETPIPE_WAREHOUSE_RAW_RETENTION");
    BatchLaneTest::TearDown();
  }

  void add_points(int v, int t, int day) {
    auto st = web_->exec(fmt::format(
        "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, "
        "longitude, "
        "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) "
        "SELECT {0}, {1}, s, timestamp '2024-04-{2:02d} 23:30' + s * interval '1 minute', 40 + s / 1000.0, "
        "-73, "
        "60, round((s * 0.8)::numeric, 3), (35 - s * 0.05) / 0.6, round((35 - s * 0.05)::numeric, 3), 'blue' "
        "FROM generate_series(1, 60) s",
        kBase + v, t, day));
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  // A measurement now: a new export run whose source snapshot follows the source's drops.
  void add_current_point() {
    ASSERT_TRUE(
        web_->exec(
                fmt::format("SELECT trip_partitions_ensure(ARRAY[now()::timestamp]); "
                            "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                            "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                            "fuel_remaining_gallon, color) VALUES ({0} + 1, 77, 1, date_trunc('second', "
                            "now()::timestamp), 40, -73, 60, 0, 50, 30, 'blue')",
                            kBase))
            .ok());
  }
  int dbt(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"scripts/dbt.sh"};
    argv.insert(argv.end(), args.begin(), args.end());
    const pid_t pid = spawn_logged(argv, kLog, kLog);
    return pid < 0 ? -1 : wait_exit(pid);
  }
  int retain() { return run({"retain", "--prefix", prefix_}); }
  int64_t raw_days_dropped() { return scalar(*dw_, "SELECT count(*) FROM ops.raw_trip_drops"); }
  // What the marts say about the test's vehicles: every trip and every vehicle-day, as text.
  std::string marts() {
    auto r = dw_->query(fmt::format(
        "SELECT (SELECT string_agg(concat_ws(',', vehicle_id, trip_id, measurement_count, distance_miles), "
        "';' "
        "ORDER BY vehicle_id, trip_id) FROM marts.fct_trips WHERE vehicle_id > {0}) || ' | ' || "
        "(SELECT string_agg(concat_ws(',', vehicle_id, activity_date, measurement_count), ';' "
        "ORDER BY vehicle_id, activity_date) FROM marts.fct_vehicle_daily WHERE vehicle_id > {0})",
        kBase));
    EXPECT_TRUE(r.ok()) << (r ? "" : r.error().message);
    if (!r) return "";
    auto v = r->get<std::string>(0, 0);
    return v ? *v : "";
  }
};

TEST_F(RawRetentionTest, ARawDayGoesOnlyOnceTheMartsHoldItAndTheyKeepItsFigures) {
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  // The source's days go (the warehouse holds them); the raw days stay: no export run has followed.
  ASSERT_EQ(retain(), 0) << "see " << kLog;
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM trips"), 0);
  EXPECT_EQ(raw_days_dropped(), 0);
  // A run after the drops is loaded, but no dbt build has consumed anything: the raw days still stay.
  ASSERT_NO_FATAL_FAILURE(add_current_point());
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  ASSERT_EQ(retain(), 0) << "see " << kLog;
  EXPECT_EQ(raw_days_dropped(), 0);
  EXPECT_EQ(scalar(*dw_,
                   "SELECT count(*) FROM raw.trip_partitions WHERE dropped_at IS NULL "
                   "AND range_start < '2025-01-01'"),
            4);  // the 15th to the 18th (the last trip ends after midnight)

  ASSERT_EQ(dbt({"build"}), 0) << "see " << kLog;
  const std::string before = marts();
  ASSERT_FALSE(before.empty());
  ASSERT_EQ(retain(), 0) << "see " << kLog;
  EXPECT_EQ(scalar(*dw_,
                   "SELECT count(*) FROM raw.trip_partitions WHERE dropped_at IS NULL "
                   "AND range_start < '2025-01-01'"),
            0);
  EXPECT_EQ(raw_days_dropped(), 4);
  EXPECT_EQ(scalar(*dw_, "SELECT sum(rows) FROM ops.raw_trip_drops"), 180);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE measurement_time < '2025-01-01'"), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trip_ids WHERE measurement_time < '2025-01-01'"), 0);
  // Verify adds the dropped days' figures on the warehouse side, as it adds the source's drops on its own.
  EXPECT_EQ(verify(), 0) << "see " << kLog;
  EXPECT_EQ(run({"verify", "--prefix", prefix_, "--reread-all-days"}), 0) << "see " << kLog;

  // The marts keep the days: a build, a --full-refresh (the lane's models are full_refresh: false) and a
  // new point leave them as they were, and a rebuild from raw is refused.
  ASSERT_EQ(dbt({"build"}), 0) << "see " << kLog;
  EXPECT_EQ(marts(), before);
  ASSERT_EQ(dbt({"build", "--full-refresh"}), 0) << "see " << kLog;
  EXPECT_EQ(marts(), before);
  EXPECT_NE(dbt({"build", "--full-refresh", "--vars", "{full_refresh_from_raw: true}"}), 0);
  EXPECT_EQ(marts(), before);
}

}  // namespace
}  // namespace fp::integration
