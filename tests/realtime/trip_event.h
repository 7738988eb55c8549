// A trips change event for the realtime tests: trip 1 of `vehicle`, row id = measurement sequence = `seq`,
// distance `seq` miles, gallons fuel / 5, colour "blue".
#pragma once

#include <cstdint>

#include "realtime/event.h"

namespace fp::realtime {

inline ChangeEvent trip_event(Op op, int64_t vehicle, int64_t seq, int64_t time_ms, double lat, double lon,
                              double fuel = 50) {
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
  t.longitude = lon;
  t.fuel_remaining_percent = fuel;
  t.fuel_remaining_gallon = fuel / 5;
  t.distance_traveled = static_cast<double>(seq);
  t.color = "blue";
  ev.trip = t;
  return ev;
}

}  // namespace fp::realtime
