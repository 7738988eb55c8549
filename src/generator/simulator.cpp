#include "generator/simulator.h"

#include <algorithm>
#include <cmath>

namespace fp::gen {

namespace {
// Rounds to `digits` decimals; dividing by an exact power of ten gives the double nearest the decimal value.
double round_to(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}
}  // namespace

double Simulator::Rng::normal() {
  // Box-Muller: portable, unlike std::normal_distribution whose output differs between standard libraries.
  const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * 3.14159265358979323846 * u2);
}

Simulator::Simulator(SimOptions options) : options_(options) {
  options_.step_seconds = std::max(1, options_.step_seconds);
  for (int i = 0; i < options_.vehicles; ++i) {
    State s;
    s.vehicle = vehicle_for(options_.first_vehicle_id + i);
    s.rng.state = mix64(options_.seed * 0x100000001b3ULL + static_cast<uint64_t>(s.vehicle.id));
    const auto& all = corridors();
    s.corridor = s.rng.next() % all.size();
    s.city = s.rng.next() % all[s.corridor].city_index.size();
    s.gallons = s.vehicle.fuel_capacity * (0.5 + 0.5 * s.rng.uniform());
    s.next_time = options_.start_time + static_cast<int64_t>(s.rng.next() % options_.step_seconds);
    start_trip(s);
    vehicles_.push_back(s.vehicle);
    states_.push_back(std::move(s));
    queue_.push({states_.back().next_time, states_.size() - 1});
  }
}

void Simulator::start_trip(State& s) {
  const Corridor& c = corridors()[s.corridor];
  const size_t cities = c.city_index.size();
  // One to three cities on, in either direction, staying on the corridor.
  size_t to = s.city;
  while (to == s.city) {
    const long hop = 1 + static_cast<long>(s.rng.next() % 3);
    const long dir = (s.rng.next() & 1) ? 1 : -1;
    to = static_cast<size_t>(
        std::clamp(static_cast<long>(s.city) + dir * hop, 0L, static_cast<long>(cities) - 1));
  }
  s.route = route_between(c, s.city, to);
  s.city = to;
  s.position = 0;
  s.trip_id += 1;
  s.sequence = 0;
  s.trip_over = false;
  // Fill up before setting off on a low tank.
  if (s.gallons < 0.25 * s.vehicle.fuel_capacity) s.gallons = s.vehicle.fuel_capacity;
}

void Simulator::next(trip::Measurement& m) {
  const size_t i = queue_.top().second;
  queue_.pop();
  State& s = states_[i];
  s.sequence += 1;
  const GeoPoint p = s.route.position(s.position);
  const double cap = s.vehicle.fuel_capacity;
  m.vehicle_id = s.vehicle.id;
  m.trip_id = s.trip_id;
  m.measurement_sequence = s.sequence;
  m.measurement_time = s.next_time;
  m.latitude = round_to(p.lat, 6);
  m.longitude = round_to(p.lon, 6);
  m.fuel_capacity = cap;
  m.distance_traveled = round_to(s.position, 2);
  m.fuel_remaining_gallon = std::clamp(round_to(s.gallons, 2), 0.0, cap);
  m.fuel_remaining_percent = std::clamp(round_to(s.gallons / cap * 100, 1), 0.0, 100.0);
  m.color = s.vehicle.color;
  advance(s);
  queue_.push({s.next_time, i});
}

void Simulator::advance(State& s) {
  const double step_h = options_.step_seconds / 3600.0;
  if (s.trip_over) {
    // Rest 30 minutes to 3 hours, then set off from the city we arrived at.
    const int64_t rest = 1800 + static_cast<int64_t>(s.rng.next() % 9000);
    s.next_time += rest;
    start_trip(s);
    return;
  }
  s.next_time += options_.step_seconds;
  if (s.refuel_now) {
    // A stop at a station: no distance this step, a full tank at the next measurement.
    s.gallons = s.vehicle.fuel_capacity;
    s.refuel_now = false;
    return;
  }
  // Cruising around 63 mph (sd 5, within 45..78); one step in twelve slowed by traffic to 15..40 mph.
  double mph = std::clamp(63 + 5 * s.rng.normal(), 45.0, 78.0);
  if (s.rng.uniform() < 1.0 / 12) mph = 15 + 25 * s.rng.uniform();
  const double miles = std::min(mph * step_h, s.route.length() - s.position);
  s.position += miles;
  // Burn: the model's economy, +-10% with driving style; never below empty.
  const double mpg = s.vehicle.miles_per_gallon * (0.9 + 0.2 * s.rng.uniform());
  s.gallons = std::max(0.0, s.gallons - miles / mpg);
  // Stop for fuel while enough is left for the longest possible next step.
  const double reserve =
      std::max(kRefuelBelow * s.vehicle.fuel_capacity, 78 * step_h / (s.vehicle.miles_per_gallon * 0.9));
  if (s.gallons < reserve) s.refuel_now = true;
  if (s.position >= s.route.length()) s.trip_over = true;
}

}  // namespace fp::gen
