#include "generator/routes.h"

#include <algorithm>
#include <cmath>

#include "generator/fleet.h"

namespace fp::gen {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEarthMiles = 3958.8;
constexpr double kPointSpacingMiles = 4.0;

struct CorridorSpec {
  std::string_view name;
  std::vector<GeoPoint> cities;
};

// City coordinates along each highway, in driving order.
const std::vector<CorridorSpec>& specs() {
  static const std::vector<CorridorSpec> s = {
      {"I-95",
       {{25.7617, -80.1918},
        {30.3322, -81.6557},
        {32.0809, -81.0912},
        {34.1954, -79.7626},
        {37.5407, -77.4360},
        {38.9072, -77.0369},
        {39.2904, -76.6122},
        {39.9526, -75.1652},
        {40.7128, -74.0060},
        {41.7658, -72.6734},
        {42.3601, -71.0589}}},
      {"I-5",
       {{32.7157, -117.1611},
        {34.0522, -118.2437},
        {35.3733, -119.0187},
        {38.5816, -121.4944},
        {40.5865, -122.3917},
        {44.0521, -123.0868},
        {45.5152, -122.6784},
        {47.6062, -122.3321},
        {49.2827, -123.1207}}},
      {"I-80",
       {{37.7749, -122.4194},
        {38.5816, -121.4944},
        {39.5296, -119.8138},
        {40.7608, -111.8910},
        {41.1400, -104.8202},
        {41.2565, -95.9345},
        {41.5868, -93.6250},
        {41.8781, -87.6298},
        {41.4993, -81.6944},
        {40.7128, -74.0060}}},
      {"I-10",
       {{34.0522, -118.2437},
        {33.4484, -112.0740},
        {32.2226, -110.9747},
        {31.7619, -106.4850},
        {29.4241, -98.4936},
        {29.7604, -95.3698},
        {29.9511, -90.0715},
        {30.6954, -88.0399},
        {30.3322, -81.6557}}},
      {"I-35",
       {{27.5306, -99.4803},
        {29.4241, -98.4936},
        {30.2672, -97.7431},
        {32.7767, -96.7970},
        {35.4676, -97.5164},
        {37.6872, -97.3301},
        {39.0997, -94.5786},
        {41.5868, -93.6250},
        {44.9778, -93.2650},
        {46.7867, -92.1005}}},
      {"Hwy 401 / A-20",
       {{42.3149, -83.0364},
        {42.9849, -81.2453},
        {43.6532, -79.3832},
        {44.2312, -76.4860},
        {45.5017, -73.5673},
        {46.8139, -71.2080}}},
  };
  return s;
}

Corridor build(const CorridorSpec& spec, size_t corridor_no) {
  Corridor c;
  c.name = spec.name;
  for (size_t i = 0; i + 1 < spec.cities.size(); ++i) {
    const GeoPoint a = spec.cities[i], b = spec.cities[i + 1];
    c.city_index.push_back(c.points.size());
    const double straight = haversine_miles(a, b);
    const int n = std::max(2, static_cast<int>(straight / kPointSpacingMiles));
    // Perpendicular (in degrees, roughly) and a per-segment phase: the road's bends.
    const double dlat = b.lat - a.lat, dlon = b.lon - a.lon;
    const double len = std::hypot(dlat, dlon);
    const double px = -dlon / len, py = dlat / len;
    const uint64_t h = mix64(corridor_no * 1000 + i);
    const double phase = static_cast<double>(h % 6283) / 1000.0;
    const double amp = 0.04 * len;
    for (int k = 0; k < n; ++k) {
      const double f = static_cast<double>(k) / n;
      const double off = amp * std::sin(kPi * f) * std::sin(3 * kPi * f + phase);
      c.points.push_back({a.lat + dlat * f + py * off, a.lon + dlon * f + px * off});
    }
  }
  c.city_index.push_back(c.points.size());
  c.points.push_back(spec.cities.back());
  c.miles.resize(c.points.size());
  for (size_t i = 1; i < c.points.size(); ++i)
    c.miles[i] = c.miles[i - 1] + haversine_miles(c.points[i - 1], c.points[i]);
  return c;
}

}  // namespace

double haversine_miles(GeoPoint a, GeoPoint b) {
  const double r = kPi / 180;
  const double dlat = (b.lat - a.lat) * r, dlon = (b.lon - a.lon) * r;
  const double s = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(a.lat * r) * std::cos(b.lat * r) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthMiles * std::asin(std::min(1.0, std::sqrt(s)));
}

const std::vector<Corridor>& corridors() {
  static const std::vector<Corridor> all = [] {
    std::vector<Corridor> v;
    for (size_t i = 0; i < specs().size(); ++i) v.push_back(build(specs()[i], i));
    return v;
  }();
  return all;
}

GeoPoint Route::position(double at) const {
  if (points.empty()) return {};
  if (at <= 0) return points.front();
  if (at >= miles.back()) return points.back();
  const size_t i = static_cast<size_t>(std::upper_bound(miles.begin(), miles.end(), at) - miles.begin());
  const double seg = miles[i] - miles[i - 1];
  const double f = seg > 0 ? (at - miles[i - 1]) / seg : 0;
  return {points[i - 1].lat + (points[i].lat - points[i - 1].lat) * f,
          points[i - 1].lon + (points[i].lon - points[i - 1].lon) * f};
}

Route route_between(const Corridor& c, size_t from_city, size_t to_city) {
  Route r;
  const size_t a = c.city_index.at(from_city), b = c.city_index.at(to_city);
  if (a <= b) {
    r.points.assign(c.points.begin() + static_cast<long>(a), c.points.begin() + static_cast<long>(b) + 1);
  } else {
    r.points.assign(c.points.begin() + static_cast<long>(b), c.points.begin() + static_cast<long>(a) + 1);
    std::reverse(r.points.begin(), r.points.end());
  }
  r.miles.resize(r.points.size());
  for (size_t i = 1; i < r.points.size(); ++i)
    r.miles[i] = r.miles[i - 1] + haversine_miles(r.points[i - 1], r.points[i]);
  return r;
}

}  // namespace fp::gen
