#include "realtime/wire.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "realtime/trip_event.h"

namespace fp::realtime {
namespace {

using nlohmann::json;

TEST(RealtimeWire, SnapshotHasEveryVehicleWithItsTrackAsColumns) {
  FleetState s;
  s.apply(trip_event(Op::kCreate, 7, 1, 0, 49.25, -123.0, 80));
  s.apply(trip_event(Op::kCreate, 7, 2, 3'600'000, 50.25, -123.0, 12.5));
  s.apply(trip_event(Op::kCreate, 8, 1, 1000, 1.1e-6, 2.0, 50));
  const auto j = json::parse(wire::snapshot(s));
  EXPECT_EQ(j["low_fuel_percent"], 15);
  ASSERT_EQ(j["vehicles"].size(), 2u);
  const auto& v = j["vehicles"][0];
  EXPECT_EQ(v["id"], 7);
  EXPECT_EQ(v["color"], "blue");
  const auto& t = v["track"];
  EXPECT_EQ(t["t"], (json{0, 3'600'000}));
  EXPECT_EQ(t["lat"], (json{49.25, 50.25}));
  EXPECT_EQ(t["lon"], (json{-123.0, -123.0}));
  EXPECT_EQ(t["fuel"], (json{80, 12.5}));
  EXPECT_EQ(t["gal"], (json{16, 2.5}));
  EXPECT_EQ(t["dist"], (json{1, 2}));
  EXPECT_EQ(t["trip"], (json{1, 1}));
  EXPECT_EQ(t["seq"], (json{1, 2}));
  ASSERT_EQ(t["speed"].size(), 2u);
  EXPECT_EQ(t["speed"][0], 0);
  EXPECT_NEAR(t["speed"][1].get<double>(), 69.09, 0.005);  // rounded to 0.01 mph
  EXPECT_EQ(t.size(), 9u);
  // Coordinates go out rounded to 1e-6 degrees.
  EXPECT_EQ(j["vehicles"][1]["track"]["lat"], (json{1e-6}));
}

TEST(RealtimeWire, EmptyStateIsAnEmptyList) {
  FleetState s;
  EXPECT_EQ(json::parse(wire::snapshot(s))["vehicles"], json::array());
}

TEST(RealtimeWire, NonFiniteNumbersBecomeNull) {
  FleetState s;
  auto ev = trip_event(Op::kCreate, 7, 1, 1000, 49.0, -123.0, 50);
  ev.trip->m.fuel_remaining_gallon = std::numeric_limits<double>::quiet_NaN();
  ev.trip->m.distance_traveled = std::numeric_limits<double>::infinity();
  s.apply(ev);
  const auto t = json::parse(wire::snapshot(s))["vehicles"][0]["track"];
  EXPECT_TRUE(t["gal"][0].is_null());
  EXPECT_TRUE(t["dist"][0].is_null());
}

TEST(RealtimeWire, ColourIsEscapedAndInvalidUtf8Replaced) {
  FleetState s;
  auto ev = trip_event(Op::kCreate, 7, 1, 1000, 49.0, -123.0, 50);
  ev.trip->m.color = "we\"ird\\\n\xff";
  s.apply(ev);
  const auto j = json::parse(wire::snapshot(s));
  EXPECT_EQ(j["vehicles"][0]["color"], "we\"ird\\\n\xEF\xBF\xBD");
}

TEST(RealtimeWire, PointListInTheGivenOrder) {
  TrackPoint a;
  a.time_ms = 5;
  a.latitude = 1.0000004;  // rounds down at 1e-6
  TrackPoint b;
  b.time_ms = 3;
  b.latitude = -2.5;
  std::string out;
  wire::append_track(out, std::vector<const TrackPoint*>{&a, &b});
  const auto t = json::parse(out);
  EXPECT_EQ(t["t"], (json{5, 3}));
  EXPECT_EQ(t["lat"], (json{1.0, -2.5}));
  out.clear();
  wire::append_track(out, std::vector<const TrackPoint*>{});
  EXPECT_EQ(json::parse(out)["seq"], json::array());
}

}  // namespace
}  // namespace fp::realtime
