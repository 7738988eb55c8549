#include "realtime/wire.h"

#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>

namespace fp::realtime::wire {

namespace {

void append_number(std::string& out, double x, double scale) {
  if (std::isfinite(x)) {
    fmt::format_to(std::back_inserter(out), "{}", std::abs(x) < 1e9 ? std::round(x * scale) / scale : x);
  } else {
    out += "null";
  }
}

// A column of the track's JSON: its key (with its quotes and colon), the member it reads and, for real
// numbers, the precision kept (values are rounded to 1/scale).
template <class T>
struct Column {
  const char* key;
  T TrackPoint::*field;
  double scale = 0;
};

constexpr Column<int64_t> kTime{"\"t\":", &TrackPoint::time_ms};
constexpr Column<double> kRealColumns[] = {
    {"\"lat\":", &TrackPoint::latitude, 1e6},      {"\"lon\":", &TrackPoint::longitude, 1e6},
    {"\"fuel\":", &TrackPoint::fuel_percent, 1e3}, {"\"gal\":", &TrackPoint::fuel_gallons, 1e3},
    {"\"dist\":", &TrackPoint::distance, 1e3},
};
constexpr Column<float> kSpeed{"\"speed\":", &TrackPoint::speed_mph, 1e2};
constexpr Column<int32_t> kIntColumns[] = {{"\"trip\":", &TrackPoint::trip_id},
                                           {"\"seq\":", &TrackPoint::sequence}};

const TrackPoint& deref(const TrackPoint& p) {
  return p;
}
const TrackPoint& deref(const TrackPoint* p) {
  return *p;
}

template <class Points>
void append_columns(std::string& out, const Points& points) {
  auto ints = [&](const auto& c) {
    out += c.key;
    append_array(out, points,
                 [&](const auto& p) { fmt::format_to(std::back_inserter(out), "{}", deref(p).*c.field); });
  };
  auto reals = [&](const auto& c) {
    out += ',';
    out += c.key;
    append_array(out, points,
                 [&](const auto& p) { append_number(out, static_cast<double>(deref(p).*c.field), c.scale); });
  };
  out += '{';
  ints(kTime);
  for (const auto& c : kRealColumns) reals(c);
  reals(kSpeed);
  for (const auto& c : kIntColumns) {
    out += ',';
    ints(c);
  }
  out += '}';
}

}  // namespace

void append_string(std::string& out, const std::string& s) {
  out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_track(std::string& out, const std::deque<TrackPoint>& points) {
  append_columns(out, points);
}

void append_track(std::string& out, const std::vector<const TrackPoint*>& points) {
  append_columns(out, points);
}

void append_vehicle_open(std::string& out, const VehicleTrack& v) {
  fmt::format_to(std::back_inserter(out), "{{\"id\":{},\"color\":", v.id);
  append_string(out, v.color);
  out += ",\"track\":";
  append_track(out, v.points);
}

std::string snapshot(const FleetState& state) {
  std::string out;
  size_t points = 0;
  for (const auto& [id, v] : state.vehicles()) points += v.points.size();
  out.reserve(64 + state.vehicle_count() * 160 + points * 72);
  fmt::format_to(std::back_inserter(out), "{{\"low_fuel_percent\":{},\"vehicles\":[", kLowFuelPercent);
  bool first = true;
  for (const auto& [id, v] : state.vehicles()) {
    if (!first) out += ',';
    first = false;
    append_vehicle_open(out, v);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace fp::realtime::wire
