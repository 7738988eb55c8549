// A deterministic fleet simulator: N vehicles drive trips between cities along highway corridors at
// highway speeds (with traffic slow-downs), burn fuel according to their model's economy, stop to refuel
// when the tank runs low, and rest between trips. The same options give the same measurements, row for row,
// on every run; the stream is endless and ordered by measurement time.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "common/trip/measurement.h"
#include "generator/fleet.h"
#include "generator/routes.h"

namespace fp::gen {

struct SimOptions {
  uint64_t seed = 1;
  int vehicles = 5;
  int32_t first_vehicle_id = 1;
  int64_t start_time = 0;  // seconds since the epoch (wall clock without zone) of the first measurement
  int step_seconds = 60;   // time between two measurements of one vehicle while driving
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);

  // The next measurement in time order (ties broken by vehicle id).
  void next(trip::Measurement& out);
  const std::vector<Vehicle>& vehicles() const { return vehicles_; }

  // Below this share of the tank a vehicle stops at the next station and fills up.
  static constexpr double kRefuelBelow = 0.12;

 private:
  struct Rng {
    uint64_t state;
    uint64_t next() { return mix64(state++); }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double normal();
  };
  struct State {
    Vehicle vehicle;
    Rng rng;
    size_t corridor = 0;
    size_t city = 0;  // where the current trip started, then where it ends
    Route route;
    double position = 0;  // miles along the route
    int32_t trip_id = 0;
    int32_t sequence = 0;
    double gallons = 0;
    int64_t next_time = 0;
    bool refuel_now = false;
    bool trip_over = false;
  };

  void start_trip(State& s);
  void advance(State& s);

  SimOptions options_;
  std::vector<Vehicle> vehicles_;
  std::vector<State> states_;
  using Entry = std::pair<int64_t, size_t>;  // (next_time, state index)
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
};

}  // namespace fp::gen
