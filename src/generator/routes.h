// North American highway corridors as dense polylines: real city waypoints along an interstate (or the
// Trans-Canada / Highway 401), with points every few miles that bend away from the straight line the way a
// road does. The bends are a function of the segment alone, so a road is the same in both directions.
#pragma once

#include <string_view>
#include <vector>

namespace fp::gen {

struct GeoPoint {
  double lat = 0;
  double lon = 0;
};

struct Corridor {
  std::string_view name;
  std::vector<GeoPoint> points;    // dense polyline
  std::vector<double> miles;       // cumulative road miles at each point
  std::vector<size_t> city_index;  // indices into points of the named waypoints
};

// Great-circle distance in statute miles.
double haversine_miles(GeoPoint a, GeoPoint b);

// The corridors, built once.
const std::vector<Corridor>& corridors();

// A path along a corridor from one city to another (either direction), as points with cumulative miles.
struct Route {
  std::vector<GeoPoint> points;
  std::vector<double> miles;
  double length() const { return miles.empty() ? 0 : miles.back(); }
  // The point `at` miles from the start (clamped to the route).
  GeoPoint position(double at) const;
};
Route route_between(const Corridor& c, size_t from_city, size_t to_city);

}  // namespace fp::gen
