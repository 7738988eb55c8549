// The hot window (retain/hot_window.h) against the real servers, on scratch databases: a partition of trips
// is never dropped before the warehouse holds every one of its rows (a load that lost an object keeps that
// day); once dropped, verify still passes (the source side counts the drop's figures), a new export epoch
// does not sweep the dropped rows from the warehouse, late rows for a dropped day get a partition again, and
// the web app still shows every vehicle's last position and takes new trips.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/metrics.h"
#include "integration/batch_lane_fixture.h"
#include "webapp/store.h"

namespace fp::integration {
namespace {

constexpr int kBase = 970000;

class RetentionTest : public BatchLaneTest {
 protected:
  RetentionTest() : BatchLaneTest(kBase, "test-retain") {}

  void SetUp() override {
    BatchLaneTest::SetUp();
    if (HasFatalFailure()) return;
    // Children read the window from the environment; a day keeps 2024's days out of it.
    setenv("FLEETPIPE_TRIPS_HOT_WINDOW", "1d", 1);
    ASSERT_NO_FATAL_FAILURE(insert_fleet());
    // Three day partitions (the writers' call), then 3 000 rows over 2024-04-15..17 (1 000 a day).
    ASSERT_EQ(scalar(*web_,
                     "SELECT trip_partitions_ensure(ARRAY['2024-04-15', '2024-04-16', "
                     "'2024-04-17']::timestamp[])"),
              3);
    ASSERT_NO_FATAL_FAILURE(insert_trips(3000, 1));
    ASSERT_EQ(scalar(*web_, "SELECT count(*) FROM trips_default"), 0);
  }
  void TearDown() override {
    unsetenv("FLEETPIPE_TRIPS_HOT_WINDOW");
    BatchLaneTest::TearDown();
  }

  int retain() { return run({"retain", "--prefix", prefix_}); }
  int64_t live_partitions() {
    return scalar(*web_,
                  "SELECT count(*) FROM trip_partitions WHERE dropped_at IS NULL AND range_start < "
                  "'2025-01-01'");
  }
  // Lets retain compare again at once what it found different (it otherwise pauses for minutes).
  void forget_checks() { ASSERT_TRUE(dw_->exec("DELETE FROM ops.retention_checks").ok()); }
};

TEST_F(RetentionTest, APartitionStaysUntilTheWarehouseHoldsEveryRowOfIt) {
  ASSERT_EQ(export_(), 0);
  // Exported, not loaded: nothing may go.
  ASSERT_EQ(retain(), 0);
  EXPECT_EQ(live_partitions(), 3);
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM trips"), 3000);
  EXPECT_EQ(scalar(*dw_,
                   "SELECT count(*) FROM ops.retention_checks WHERE warehouse_rows = 0 "
                   "AND source_rows = 1000"),
            3);

  // The load loses the 16th's object (rewritten in the bucket after the export: quarantined).
  auto objects = s3_->list_all(prefix_ + "trips/dt=2024-04-16/");
  ASSERT_TRUE(objects.ok() && !objects->empty());
  ASSERT_TRUE(s3_->put_object(objects->front().key, "not the rows the manifest lists").ok());
  EXPECT_EQ(load(), 3);  // quarantined
  forget_checks();
  ASSERT_EQ(retain(), 0);
  EXPECT_EQ(live_partitions(), 1);
  EXPECT_EQ(scalar(*web_,
                   "SELECT count(*) FROM trip_partitions WHERE dropped_at IS NULL "
                   "AND range_start = '2024-04-16'"),
            1);
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM trips"), 1000);
  EXPECT_EQ(scalar(*web_, "SELECT sum(dropped_rows) FROM trip_partitions WHERE dropped_at IS NOT NULL"),
            2000);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM ops.retention_drops"), 2);
  EXPECT_EQ(scalar(*dw_,
                   "SELECT count(*) FROM ops.retention_checks WHERE range_start = '2024-04-16' "
                   "AND warehouse_rows < source_rows"),
            1);
  // The difference pauses further comparisons: a run right away leaves it alone.
  ASSERT_EQ(retain(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT failures FROM ops.retention_checks"), 1);
}

TEST_F(RetentionTest, DroppedDaysStayVerifiedSweptByNoEpochAndTheWebAppKeepsWorking) {
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  ASSERT_EQ(verify(), 0);
  const int64_t latest_before = scalar(*web_, "SELECT count(*) FROM vehicle_latest_locations");
  ASSERT_EQ(latest_before, 10);
  ASSERT_EQ(retain(), 0);
  EXPECT_EQ(live_partitions(), 0);
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM trips"), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT sum(rows) FROM ops.retention_drops"), 3000);
  // Not a delete: nothing logged for export, nothing taken from the warehouse.
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM export_deletes"), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE _deleted_xid IS NULL"), 3000);
  EXPECT_EQ(verify(), 0) << "verify after the drop; see " << kLog;
  // Each vehicle's last position outlives its partition; older trips of the dropped days are forgotten.
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM vehicle_latest_locations"), 10);
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM latest_locations"), 10);

  // A new epoch re-exports the live rows (none): its sweep must not mark the dropped rows deleted.
  ASSERT_EQ(run({"export", "--prefix", prefix_, "--new-epoch"}), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(scalar(*dw_, "SELECT count(*) FROM raw.trips WHERE _deleted_xid IS NULL"), 3000);

  // The web app, as its own role: last positions, and a late trip on a dropped day gets its partition.
  metrics::Registry registry;
  webapp::Store store(cfg_.webapp_as(DbService::kApp), webapp::StoreOptions{}, registry);
  auto latest = store.latest_per_vehicle();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_EQ(latest->size(), 10u);
  trip::Measurement m;
  m.vehicle_id = kBase + 1;
  m.trip_id = 9999;
  m.measurement_sequence = 1;
  m.measurement_time = 1713225600 + 3600;  // 2024-04-16 01:00:00
  m.latitude = 40.5;
  m.longitude = -73.5;
  m.fuel_capacity = 15;
  m.fuel_remaining_percent = 50;
  m.fuel_remaining_gallon = 7.5;
  m.color = "red";
  auto out = store.insert(m);
  ASSERT_TRUE(out.row) << (out.failure ? out.failure->message : "refused");
  EXPECT_EQ(scalar(*web_, "SELECT count(*) FROM trips_default"), 0);
  EXPECT_EQ(scalar(*web_,
                   "SELECT count(*) FROM trip_partitions WHERE dropped_at IS NULL "
                   "AND range_start = '2024-04-16'"),
            1);
  // Its day now has a live row and the dropped partition's figures: both sides still agree.
  ASSERT_EQ(export_(), 0);
  ASSERT_EQ(load(), 0);
  EXPECT_EQ(verify(), 0) << "verify after a late row on a dropped day; see " << kLog;
}

}  // namespace
}  // namespace fp::integration
