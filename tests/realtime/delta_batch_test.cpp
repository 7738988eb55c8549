#include "realtime/delta_batch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace fp::realtime {
namespace {

using nlohmann::json;

ChangeEvent trip(Op op, int64_t vehicle, int64_t seq, int64_t time_ms, double lat, double fuel = 50) {
  ChangeEvent ev;
  ev.table = Table::kTrips;
  ev.op = op;
  TripRow t;
  t.row_id = seq;
  t.vehicle_id = vehicle;
  t.trip_id = 1;
  t.measurement_sequence = seq;
  t.measurement_time_ms = time_ms;
  t.latitude = lat;
  t.longitude = -123.5;
  t.fuel_remaining_percent = fuel;
  t.fuel_remaining_gallon = fuel / 5;
  t.distance_traveled = static_cast<double>(seq);
  t.color = "blue";
  ev.trip = t;
  return ev;
}

// Applies an event to the state and records it in the batch, as the service does.
void apply(FleetState& s, DeltaBatch& b, const ChangeEvent& ev, int64_t source_ts) {
  b.add(s, s.apply(ev), source_ts, source_ts + 5, ev.op != Op::kRead);
}

json changes_of(DeltaBatch& b, const FleetState& s) {
  auto r = b.take(s, 123);
  EXPECT_FALSE(r.json.empty());
  auto j = json::parse(r.json);
  EXPECT_EQ(j["sent_ms"], 123);
  return j["changes"];
}

TEST(RealtimeDeltaBatch, PointsKeepTheirOrderAndTimestamps) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 100);
  apply(s, b, trip(Op::kCreate, 8, 1, 1000, 48.0, 10), 101);
  apply(s, b, trip(Op::kCreate, 7, 2, 2000, 49.5), 102);
  auto r = b.take(s, 123);
  EXPECT_EQ(r.live_source_ts_ms, (std::vector<int64_t>{100, 101, 102}));
  auto c = json::parse(r.json)["changes"];
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0]["kind"], "point");
  EXPECT_EQ(c[0]["vehicle"]["id"], 7);
  EXPECT_EQ(c[0]["vehicle"]["color"], "blue");
  EXPECT_EQ(c[0]["vehicle"]["low_fuel"], false);
  EXPECT_DOUBLE_EQ(c[0]["point"]["lat"].get<double>(), 49.0);
  EXPECT_EQ(c[0]["source_ts_ms"], 100);
  EXPECT_EQ(c[0]["record_ts_ms"], 105);
  EXPECT_EQ(c[1]["vehicle"]["id"], 8);
  EXPECT_EQ(c[1]["vehicle"]["low_fuel"], true);
  // Each point is the one appended by its own event, not the vehicle's latest at take() time.
  EXPECT_DOUBLE_EQ(c[2]["point"]["lat"].get<double>(), 49.5);
  EXPECT_EQ(c[2]["point"]["seq"], 2);
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.take(s, 124).json.empty());
}

TEST(RealtimeDeltaBatch, RedrawSupersedesEarlierEntriesAndLaterPointsOfTheVehicle) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 100);
  apply(s, b, trip(Op::kCreate, 9, 1, 1000, 40.0), 101);
  apply(s, b, trip(Op::kCreate, 7, 2, 2000, 49.5), 102);
  apply(s, b, trip(Op::kUpdate, 7, 1, 1000, 48.0, 5), 103);  // not the last point: a redraw
  apply(s, b, trip(Op::kCreate, 7, 3, 3000, 50.0), 104);     // after the redraw: already in it
  auto c = changes_of(b, s);
  ASSERT_EQ(c.size(), 2u) << c.dump();
  EXPECT_EQ(c[0]["kind"], "point");
  EXPECT_EQ(c[0]["vehicle"]["id"], 9);
  EXPECT_EQ(c[1]["kind"], "vehicle");
  EXPECT_EQ(c[1]["vehicle"]["id"], 7);
  ASSERT_EQ(c[1]["vehicle"]["track"].size(), 3u);  // rendered from the state at take() time
  EXPECT_DOUBLE_EQ(c[1]["vehicle"]["track"][0]["lat"].get<double>(), 48.0);
  EXPECT_EQ(c[1]["vehicle"]["latest"]["seq"], 3);
  EXPECT_EQ(c[1]["source_ts_ms"], 103);
}

TEST(RealtimeDeltaBatch, RemovalSupersedesAndAPointAfterItStartsAfresh) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 100);
  apply(s, b, trip(Op::kDelete, 7, 1, 1000, 49.0), 101);
  auto c = changes_of(b, s);
  ASSERT_EQ(c.size(), 1u) << c.dump();
  EXPECT_EQ(c[0]["kind"], "remove");
  EXPECT_EQ(c[0]["id"], 7);

  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 102);
  apply(s, b, trip(Op::kDelete, 7, 1, 1000, 49.0), 103);
  apply(s, b, trip(Op::kCreate, 7, 5, 5000, 47.0), 104);
  c = changes_of(b, s);
  ASSERT_EQ(c.size(), 2u) << c.dump();
  EXPECT_EQ(c[0]["kind"], "remove");
  EXPECT_EQ(c[1]["kind"], "point");
  EXPECT_EQ(c[1]["point"]["seq"], 5);
}

TEST(RealtimeDeltaBatch, SnapshotReadsAreNotLiveLatencySamples) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kRead, 7, 1, 1000, 49.0), 100);
  auto r = b.take(s, 1);
  EXPECT_FALSE(r.json.empty());
  EXPECT_TRUE(r.live_source_ts_ms.empty());
}

TEST(RealtimeDeltaBatch, OverflowGivesUpSoTheViewersGetASnapshot) {
  FleetState s;
  DeltaBatch b(3);
  for (int i = 1; i <= 5; ++i) apply(s, b, trip(Op::kCreate, 7, i, i * 1000, 49.0), 100 + i);
  EXPECT_TRUE(b.overflowed());
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(b.size(), 0u);  // nothing kept: memory stays bounded during a replay
  EXPECT_TRUE(b.take(s, 1).json.empty());
  EXPECT_FALSE(b.overflowed());
  EXPECT_TRUE(b.empty());
}

// Equal documents, numbers within the wire's rounding (speed to 0.01, the others finer).
bool near_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return std::abs(a.get<double>() - b.get<double>()) <= 0.005;
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key()) || !near_equal(it.value(), b[it.key()])) return false;
    }
    return true;
  }
  if (a.is_array()) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (!near_equal(a[i], b[i])) return false;
    }
    return true;
  }
  return a == b;
}

TEST(RealtimeStateText, SnapshotTextMatchesTheJsonDocument) {
  FleetState s;
  s.apply(trip(Op::kCreate, 7, 1, 1000, 49.25));
  s.apply(trip(Op::kCreate, 7, 2, 3'601'000, 50.125, 12.5));
  auto ev = trip(Op::kCreate, 8, 1, 1000, 1.1e-6);
  ev.trip->color = "we\"ird\\\n";
  s.apply(ev);
  const auto text = json::parse(s.snapshot_text());
  EXPECT_TRUE(near_equal(text, s.snapshot_json())) << text.dump();
  // Coordinates go out rounded to 1e-6 degrees.
  EXPECT_EQ(text["vehicles"][1]["latest"]["lat"], 1e-6);
}

TEST(RealtimeStateText, NonFiniteNumbersBecomeNull) {
  FleetState s;
  auto ev = trip(Op::kCreate, 7, 1, 1000, 49.0);
  ev.trip->fuel_remaining_gallon = std::numeric_limits<double>::quiet_NaN();
  s.apply(ev);
  auto j = json::parse(s.snapshot_text());
  EXPECT_TRUE(j["vehicles"][0]["latest"]["gal"].is_null());
}

TEST(RealtimeStateText, VersionChangesOnlyWhenTheStateDoes) {
  FleetState s;
  const auto v0 = s.version();
  s.apply(trip(Op::kCreate, 7, 1, 1000, 49.0));
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
