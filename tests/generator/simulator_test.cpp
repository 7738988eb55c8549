// The simulator is deterministic and physically plausible: highway speeds, fuel that only falls except at
// refuels (to a full tank), positions on the continent, times moving forward.
#include "generator/simulator.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "generator/csv_parse.h"
#include "generator/routes.h"

namespace fp::gen {
namespace {

using trip::Measurement;
using trip::parse_time;

std::vector<Measurement> run(SimOptions o, int n) {
  Simulator s(o);
  std::vector<Measurement> out(static_cast<size_t>(n));
  for (auto& m : out) s.next(m);
  return out;
}

SimOptions opts(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.vehicles = 8;
  o.first_vehicle_id = 100;
  o.start_time = *parse_time("2024-04-15 08:00:00");
  o.step_seconds = 60;
  return o;
}

TEST(Simulator, SameSeedSameRows) {
  EXPECT_EQ(run(opts(7), 5000), run(opts(7), 5000));
  EXPECT_NE(run(opts(7), 500), run(opts(8), 500));
}

TEST(Simulator, RowsAreValidAndInTimeOrder) {
  auto rows = run(opts(3), 20000);
  int64_t last = 0;
  for (const auto& m : rows) {
    ASSERT_TRUE(validate(m).ok()) << validate(m).error().message;
    EXPECT_GE(m.measurement_time, last);
    last = m.measurement_time;
    EXPECT_GE(m.vehicle_id, 100);
    EXPECT_LT(m.vehicle_id, 108);
    // North America, roughly: the corridors run from Laredo to Vancouver and Quebec.
    EXPECT_GT(m.latitude, 24);
    EXPECT_LT(m.latitude, 50);
    EXPECT_GT(m.longitude, -125);
    EXPECT_LT(m.longitude, -70);
  }
}

TEST(Simulator, PhysicallyPlausible) {
  auto rows = run(opts(11), 60000);
  std::map<int32_t, std::vector<Measurement>> by_vehicle;
  for (const auto& m : rows) by_vehicle[m.vehicle_id].push_back(m);
  int refuels = 0, trips = 0;
  double max_mph = 0, sum_mph = 0;
  int moving = 0;
  for (const auto& [id, ms] : by_vehicle) {
    for (size_t i = 1; i < ms.size(); ++i) {
      const Measurement &a = ms[i - 1], &b = ms[i];
      if (b.trip_id != a.trip_id) {
        ++trips;
        EXPECT_EQ(b.trip_id, a.trip_id + 1);
        EXPECT_EQ(b.measurement_sequence, 1);
        EXPECT_EQ(b.distance_traveled, 0);
        EXPECT_GE(b.measurement_time - a.measurement_time, 1800);  // rests between trips
        continue;
      }
      EXPECT_EQ(b.measurement_sequence, a.measurement_sequence + 1);
      const double hours = static_cast<double>(b.measurement_time - a.measurement_time) / 3600;
      ASSERT_GT(hours, 0);
      // Odometer speed and the speed implied by the positions (straight line <= road).
      const double mph = (b.distance_traveled - a.distance_traveled) / hours;
      const double crow = haversine_miles({a.latitude, a.longitude}, {b.latitude, b.longitude}) / hours;
      EXPECT_GE(mph, 0);
      EXPECT_LE(mph, 80.5);
      EXPECT_LE(crow, mph + 1.0);
      max_mph = std::max(max_mph, mph);
      if (mph > 0) {
        sum_mph += mph;
        ++moving;
      }
      if (b.fuel_remaining_gallon > a.fuel_remaining_gallon) {
        // The only way up is a refuel, to a full tank, while standing still.
        ++refuels;
        EXPECT_EQ(b.fuel_remaining_gallon, b.fuel_capacity);
        EXPECT_EQ(b.fuel_remaining_percent, 100);
        EXPECT_EQ(b.distance_traveled, a.distance_traveled);
      } else {
        EXPECT_LE(b.fuel_remaining_percent, a.fuel_remaining_percent);
      }
    }
  }
  EXPECT_GT(trips, 5);
  EXPECT_GT(refuels, 3);
  EXPECT_GT(max_mph, 65);
  const double mean = sum_mph / moving;
  EXPECT_GT(mean, 50);  // highway driving with some traffic
  EXPECT_LT(mean, 70);
}

TEST(Routes, CorridorsFollowRealDistances) {
  // I-95 Miami -> Boston is about 1,500 road miles; our bent polyline must be longer than the straight line
  // (1,260 miles) and not absurdly so.
  const auto& c = corridors().at(0);
  ASSERT_EQ(c.name, "I-95");
  const double miles = c.miles.back();
  EXPECT_GT(miles, 1300);
  EXPECT_LT(miles, 1700);
  Route r = route_between(c, 3, 1);
  Route back = route_between(c, 1, 3);
  EXPECT_NEAR(r.length(), back.length(), 1e-6);
  EXPECT_EQ(r.points.front().lat, back.points.back().lat);
}

}  // namespace
}  // namespace fp::gen
