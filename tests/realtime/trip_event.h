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
  t.m.vehicle_id = static_cast<int32_t>(vehicle);
  t.m.trip_id = 1;
  t.m.measurement_sequence = static_cast<int32_t>(seq);
  t.set_time_ms(time_ms);
  t.m.latitude = lat;
  t.m.longitude = lon;
  t.m.fuel_remaining_percent = fuel;
  t.m.fuel_remaining_gallon = fuel / 5;
  t.m.distance_traveled = static_cast<double>(seq);
  t.m.color = "blue";
  ev.trip = t;
  return ev;
}

}  // namespace fp::realtime
