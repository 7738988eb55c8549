#include "realtime/state.h"

#include <gtest/gtest.h>

#include "realtime/trip_event.h"

namespace fp::realtime {
namespace {

TEST(RealtimeHaversine, KnownDistances) {
  EXPECT_DOUBLE_EQ(haversine_miles(10, 20, 10, 20), 0.0);
  // One degree of latitude is about 69.09 miles on the mean-radius sphere.
  EXPECT_NEAR(haversine_miles(0, 0, 1, 0), 69.09, 0.01);
  // New York to Los Angeles, about 2445 miles great-circle.
  EXPECT_NEAR(haversine_miles(40.7128, -74.0060, 34.0522, -118.2437), 2445, 5);
}

TEST(RealtimeState, SpeedFromConsecutivePoints) {
  FleetState s;
  auto c1 = s.apply(trip_event(Op::kCreate, 7, 1, 0, 0, 0));
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].kind, FleetState::ChangeKind::kAppended);
  // One degree of latitude (69.09 miles) in one hour.
  auto c2 = s.apply(trip_event(Op::kCreate, 7, 2, 3'600'000, 1, 0));
  ASSERT_EQ(c2.size(), 1u);
  EXPECT_EQ(c2[0].kind, FleetState::ChangeKind::kAppended);
  const auto* v = s.find(7);
  ASSERT_NE(v, nullptr);
  ASSERT_EQ(v->points.size(), 2u);
  EXPECT_DOUBLE_EQ(v->points[0].speed_mph, 0);
  EXPECT_NEAR(v->points[1].speed_mph, 69.09, 0.01);
  // Same instant: no division by zero, speed 0.
  s.apply(trip_event(Op::kCreate, 7, 3, 3'600'000, 2, 0));
  EXPECT_DOUBLE_EQ(s.find(7)->points.back().speed_mph, 0);
}

TEST(RealtimeState, ReplayedEventsAreIdempotent) {
  FleetState s;
  s.apply(trip_event(Op::kRead, 7, 1, 1000, 1, 1));
  s.apply(trip_event(Op::kCreate, 7, 2, 2000, 1.1, 1));
  s.apply(trip_event(Op::kCreate, 7, 1, 1000, 1, 1));  // again, as a replay from the topic
  EXPECT_EQ(s.find(7)->points.size(), 2u);
}

TEST(RealtimeState, UpdateReplacesAndRecomputes) {
  FleetState s;
  s.apply(trip_event(Op::kCreate, 7, 1, 0, 0, 0));
  s.apply(trip_event(Op::kCreate, 7, 2, 3'600'000, 1, 0));
  auto c = s.apply(trip_event(Op::kUpdate, 7, 2, 3'600'000, 2, 0, 10));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, FleetState::ChangeKind::kReplaced);
  const auto* v = s.find(7);
  ASSERT_EQ(v->points.size(), 2u);
  EXPECT_DOUBLE_EQ(v->points[1].latitude, 2);
  EXPECT_NEAR(v->points[1].speed_mph, 138.18, 0.02);
  EXPECT_DOUBLE_EQ(v->points[1].fuel_percent, 10);
}

TEST(RealtimeState, UpdateThatMovesTheRowToAnotherVehicle) {
  FleetState s;
  s.apply(trip_event(Op::kCreate, 7, 1, 0, 0, 0));
  auto ev = trip_event(Op::kUpdate, 8, 1, 0, 0, 0);
  ev.trip_before = trip_event(Op::kCreate, 7, 1, 0, 0, 0).trip;
  auto c = s.apply(ev);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(s.find(7), nullptr);
  ASSERT_NE(s.find(8), nullptr);
}

TEST(RealtimeState, DeleteRemovesPointsThenTheVehicle) {
  FleetState s;
  s.apply(trip_event(Op::kCreate, 7, 1, 0, 0, 0));
  s.apply(trip_event(Op::kCreate, 7, 2, 1000, 0, 0));
  auto c1 = s.apply(trip_event(Op::kDelete, 7, 2, 1000, 0, 0));
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].kind, FleetState::ChangeKind::kReplaced);
  EXPECT_EQ(s.find(7)->points.size(), 1u);
  EXPECT_TRUE(s.apply(trip_event(Op::kDelete, 7, 99, 0, 0, 0)).empty());  // unknown point: no change
  auto c2 = s.apply(trip_event(Op::kDelete, 7, 1, 0, 0, 0));
  ASSERT_EQ(c2.size(), 1u);
  EXPECT_EQ(c2[0].kind, FleetState::ChangeKind::kRemoved);
  EXPECT_EQ(s.find(7), nullptr);
  ChangeEvent tomb;
  tomb.table = Table::kTrips;
  tomb.op = Op::kTombstone;
  EXPECT_TRUE(s.apply(tomb).empty());
}

TEST(RealtimeState, TrackIsBoundedAndLatePointsSorted) {
  FleetState s(3);
  for (int i = 1; i <= 5; ++i) s.apply(trip_event(Op::kCreate, 7, i, i * 1000, 0, i * 0.01));
  const auto* v = s.find(7);
  ASSERT_EQ(v->points.size(), 3u);
  EXPECT_EQ(v->points.front().sequence, 3);
  EXPECT_EQ(v->points.back().sequence, 5);
  // Older than the bounded track: dropped without a change.
  EXPECT_TRUE(s.apply(trip_event(Op::kCreate, 7, 1, 1000, 0, 0)).empty());
  // A late point inside the window is inserted in time order.
  auto c = s.apply(trip_event(Op::kCreate, 7, 10, 4500, 0, 0));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, FleetState::ChangeKind::kReplaced);
  v = s.find(7);
  ASSERT_EQ(v->points.size(), 3u);
  EXPECT_EQ(v->points[0].sequence, 4);
  EXPECT_EQ(v->points[1].sequence, 10);
  EXPECT_EQ(v->points[2].sequence, 5);
}

TEST(RealtimeState, VehicleColourFromTheVehiclesTable) {
  FleetState s;
  ChangeEvent ev;
  ev.table = Table::kVehicles;
  ev.op = Op::kRead;
  ev.vehicle = VehicleRow{.id = 9, .color = "orange", .fuel_capacity = 20};
  EXPECT_TRUE(s.apply(ev).empty());  // no points yet: nothing to draw
  auto t = trip_event(Op::kCreate, 9, 1, 0, 0, 0);
  t.trip->m.color.clear();
  s.apply(t);
  EXPECT_EQ(s.find(9)->color, "orange");
  ev.op = Op::kUpdate;
  ev.vehicle->color = "purple";
  auto c = s.apply(ev);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(s.find(9)->color, "purple");
  ASSERT_EQ(s.vehicle_count(), 1u);
  EXPECT_EQ(s.find(9)->points.size(), 1u);
}

TEST(RealtimeState, VersionChangesOnlyWhenTheStateDoes) {
  FleetState s;
  const auto v0 = s.version();
  s.apply(trip_event(Op::kCreate, 7, 1, 1000, 49.0, -123.5));
  const auto v1 = s.version();
  EXPECT_NE(v0, v1);
  ChangeEvent tomb;
  tomb.op = Op::kTombstone;
  s.apply(tomb);  // nothing changes: the cached snapshot stays valid
  EXPECT_EQ(s.version(), v1);
  ChangeEvent other;
  other.table = Table::kDrivers;
  s.apply(other);
  EXPECT_EQ(s.version(), v1);
}

}  // namespace
}  // namespace fp::realtime
