#include "realtime/delta_batch.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "realtime/trip_event.h"

namespace fp::realtime {
namespace {

using nlohmann::json;

// The batch tests' events all lie on longitude -123.5.
ChangeEvent trip(Op op, int64_t vehicle, int64_t seq, int64_t time_ms, double lat, double fuel = 50) {
  return trip_event(op, vehicle, seq, time_ms, lat, -123.5, fuel);
}

// Applies an event to the state and records it in the batch, as the service does.
void apply(FleetState& s, DeltaBatch& b, const ChangeEvent& ev, int64_t source_ts) {
  b.add(s, s.apply(ev), source_ts, source_ts + 5, ev.op != Op::kRead);
}

json frame_of(DeltaBatch& b, const FleetState& s) {
  auto r = b.take(s, 1000);
  EXPECT_FALSE(r.json.empty());
  auto j = json::parse(r.json);
  EXPECT_EQ(j["sent_ms"], 1000);
  return j;
}

TEST(RealtimeDeltaBatch, PointsGoOutAsColumnsInOrderWithTheirAges) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 100);
  apply(s, b, trip(Op::kCreate, 8, 1, 1000, 48.0, 10), 101);
  apply(s, b, trip(Op::kCreate, 7, 2, 2000, 49.5), 102);
  auto r = b.take(s, 1000);
  EXPECT_EQ(r.live_source_ts_ms, (std::vector<int64_t>{100, 101, 102}));
  auto j = json::parse(r.json);
  EXPECT_EQ(j["removed"], json::array());
  EXPECT_EQ(j["vehicles"], json::array());
  const auto& p = j["points"];
  EXPECT_EQ(p["vehicle"], (json{7, 8, 7}));
  // Each point is the one appended by its own event, not the vehicle's latest at take() time.
  EXPECT_EQ(p["lat"], (json{49.0, 48.0, 49.5}));
  EXPECT_EQ(p["seq"], (json{1, 1, 2}));
  EXPECT_EQ(p["t"], (json{1000, 1000, 2000}));
  EXPECT_EQ(p["fuel"], (json{50, 10, 50}));
  EXPECT_EQ(p["source_age_ms"], (json{900, 899, 898}));  // sent_ms 1000 minus source_ts_ms
  EXPECT_EQ(p["record_age_ms"], (json{895, 894, 893}));
  for (const char* col : {"lon", "gal", "dist", "speed", "trip"}) EXPECT_EQ(p[col].size(), 3u) << col;
  // Colours only of vehicles new to the page: both are, once each.
  EXPECT_EQ(j["colors"], (json{{"7", "blue"}, {"8", "blue"}}));
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.take(s, 1001).json.empty());

  apply(s, b, trip(Op::kCreate, 7, 3, 3000, 50.0), 200);
  j = frame_of(b, s);
  EXPECT_EQ(j["points"]["vehicle"], (json{7}));
  EXPECT_EQ(j["colors"], json::object());  // a known vehicle: no colour
}

TEST(RealtimeDeltaBatch, AnUnknownTimestampHasNoAge) {
  FleetState s;
  DeltaBatch b;
  b.add(s, s.apply(trip(Op::kCreate, 7, 1, 1000, 49.0)), 0, 0, true);
  auto r = b.take(s, 1000);
  EXPECT_TRUE(r.live_source_ts_ms.empty());
  auto p = json::parse(r.json)["points"];
  EXPECT_TRUE(p["source_age_ms"][0].is_null());
  EXPECT_TRUE(p["record_age_ms"][0].is_null());
}

TEST(RealtimeDeltaBatch, RedrawSupersedesEarlierEntriesAndLaterPointsOfTheVehicle) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 100);
  apply(s, b, trip(Op::kCreate, 9, 1, 1000, 40.0), 101);
  apply(s, b, trip(Op::kCreate, 7, 2, 2000, 49.5), 102);
  apply(s, b, trip(Op::kUpdate, 7, 1, 1000, 48.0, 5), 103);  // not the last point: a redraw
  apply(s, b, trip(Op::kCreate, 7, 3, 3000, 50.0), 104);     // after the redraw: already in it
  auto j = frame_of(b, s);
  EXPECT_EQ(j["points"]["vehicle"], (json{9})) << j.dump();
  EXPECT_EQ(j["colors"], (json{{"9", "blue"}}));
  ASSERT_EQ(j["vehicles"].size(), 1u);
  const auto& v = j["vehicles"][0];
  EXPECT_EQ(v["id"], 7);
  EXPECT_EQ(v["color"], "blue");
  EXPECT_EQ(v["track"]["lat"], (json{48.0, 49.5, 50.0}));  // rendered from the state at take() time
  EXPECT_EQ(v["track"]["seq"], (json{1, 2, 3}));
  EXPECT_EQ(v["source_ts_ms"], 103);
  EXPECT_EQ(v["record_ts_ms"], 108);
  EXPECT_EQ(j["removed"], json::array());
}

TEST(RealtimeDeltaBatch, RemovalSupersedesAndAPointAfterItStartsAfresh) {
  FleetState s;
  DeltaBatch b;
  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 100);
  apply(s, b, trip(Op::kDelete, 7, 1, 1000, 49.0), 101);
  auto j = frame_of(b, s);
  EXPECT_EQ(j["removed"], (json::array({{{"id", 7}, {"source_ts_ms", 101}, {"record_ts_ms", 106}}})));
  EXPECT_EQ(j["points"]["vehicle"], json::array());

  apply(s, b, trip(Op::kCreate, 7, 1, 1000, 49.0), 102);
  apply(s, b, trip(Op::kDelete, 7, 1, 1000, 49.0), 103);
  apply(s, b, trip(Op::kCreate, 7, 5, 5000, 47.0), 104);
  j = frame_of(b, s);
  ASSERT_EQ(j["removed"].size(), 1u) << j.dump();
  EXPECT_EQ(j["removed"][0]["id"], 7);
  EXPECT_EQ(j["points"]["seq"], (json{5}));
  EXPECT_EQ(j["colors"], (json{{"7", "blue"}}));  // applied after the removal: a new vehicle again
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

}  // namespace
}  // namespace fp::realtime
