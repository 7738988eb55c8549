// The dashboard's wire form: what /events and /api/state send. Tracks and appended points go out as columns
// (one array per field, each key written once per document), because with hundreds of viewers the bytes per
// point are what the fan-out costs: a point is ~90 bytes in columns against ~270 as an object with its
// vehicle and timestamps.
//
//   snapshot  {"low_fuel_percent":15,"vehicles":[VEHICLE,...]}
//   VEHICLE   {"id":7,"color":"blue","track":TRACK}            the track oldest first
//   TRACK     {"t":[ms],"lat":[],"lon":[],"fuel":[],"gal":[],"dist":[],"speed":[],"trip":[],"seq":[]}
//
// Numbers are rounded for the wire (coordinates to 1e-6 degrees, ~0.1 m; fuel, gallons and miles to 1e-3;
// speed to 0.01 mph); the state keeps full precision. JSON has no NaN or infinity: they go out as null.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "realtime/state.h"

namespace fp::realtime::wire {

// TRACK of the given points, in order.
void append_track(std::string& out, const std::deque<TrackPoint>& points);
void append_track(std::string& out, const std::vector<const TrackPoint*>& points);

// VEHICLE without its closing brace, so a caller can add fields of its own.
void append_vehicle_open(std::string& out, const VehicleTrack& v);

// The whole state.
std::string snapshot(const FleetState& state);

// [write(x) for x in items], comma-separated: write appends one element's JSON to `out` itself.
template <class Range, class Write>
void append_array(std::string& out, const Range& items, Write write) {
  out += '[';
  bool first = true;
  for (const auto& x : items) {
    if (!first) out += ',';
    first = false;
    write(x);
  }
  out += ']';
}

// A JSON string literal of arbitrary bytes (invalid UTF-8 is replaced).
void append_string(std::string& out, const std::string& s);

}  // namespace fp::realtime::wire
