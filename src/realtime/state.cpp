#include "realtime/state.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace fp::realtime {

double haversine_miles(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kEarthRadiusMiles = 3958.7613;
  constexpr double kRad = std::numbers::pi / 180.0;
  const double dlat = (lat2 - lat1) * kRad;
  const double dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusMiles * std::asin(std::min(1.0, std::sqrt(a)));
}

namespace {

float speed_between(const TrackPoint& a, const TrackPoint& b) {
  const double hours = static_cast<double>(b.time_ms - a.time_ms) / 3'600'000.0;
  if (hours <= 0) return 0;  // same instant or out of order: no meaningful speed
  return static_cast<float>(haversine_miles(a.latitude, a.longitude, b.latitude, b.longitude) / hours);
}

bool earlier(const TrackPoint& a, const TrackPoint& b) {
  if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
  if (a.trip_id != b.trip_id) return a.trip_id < b.trip_id;
  return a.sequence < b.sequence;
}

TrackPoint point_of(const TripRow& r) {
  TrackPoint p;
  p.trip_id = r.m.trip_id;
  p.sequence = r.m.measurement_sequence;
  p.time_ms = r.time_ms;
  p.latitude = r.m.latitude;
  p.longitude = r.m.longitude;
  p.fuel_percent = r.m.fuel_remaining_percent;
  p.fuel_gallons = r.m.fuel_remaining_gallon;
  p.distance = r.m.distance_traveled;
  return p;
}

}  // namespace

void FleetState::recompute_speeds(VehicleTrack& v) {
  for (size_t i = 0; i < v.points.size(); ++i) {
    v.points[i].speed_mph = i == 0 ? 0 : speed_between(v.points[i - 1], v.points[i]);
  }
}

std::vector<FleetState::Change> FleetState::apply(const ChangeEvent& ev) {
  auto changes = apply_change(ev);
  if (!changes.empty()) ++version_;
  return changes;
}

std::vector<FleetState::Change> FleetState::apply_change(const ChangeEvent& ev) {
  if (ev.op == Op::kTombstone) return {};  // compaction marker: the delete event before it did the work
  if (ev.table == Table::kVehicles && ev.vehicle) {
    const auto& row = *ev.vehicle;
    if (ev.op == Op::kDelete) {
      colors_.erase(row.id);
      return {};
    }
    colors_[row.id] = row.color;
    auto it = vehicles_.find(row.id);
    if (it == vehicles_.end() || it->second.color == row.color || row.color.empty()) return {};
    it->second.color = row.color;
    return {{row.id, ChangeKind::kReplaced}};
  }
  if (ev.table != Table::kTrips || !ev.trip) return {};
  const trip::Measurement& row = ev.trip->m;
  if (ev.op == Op::kDelete) return remove(row.vehicle_id, row.trip_id, row.measurement_sequence);
  std::vector<Change> out;
  if (ev.trip_before) {
    const trip::Measurement& b = ev.trip_before->m;
    // The update moved the row to another vehicle or key: take the old point away first.
    if (b.vehicle_id != row.vehicle_id || b.trip_id != row.trip_id ||
        b.measurement_sequence != row.measurement_sequence) {
      out = remove(b.vehicle_id, b.trip_id, b.measurement_sequence);
    }
  }
  auto up = upsert(*ev.trip);
  for (auto& c : up) {
    // One change per vehicle: a removal then an upsert of the same vehicle is a redraw.
    auto same =
        std::find_if(out.begin(), out.end(), [&](const Change& o) { return o.vehicle_id == c.vehicle_id; });
    if (same != out.end()) {
      same->kind = ChangeKind::kReplaced;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<FleetState::Change> FleetState::upsert(const TripRow& r) {
  const trip::Measurement& row = r.m;
  auto [it, created] = vehicles_.try_emplace(row.vehicle_id);
  VehicleTrack& v = it->second;
  v.id = row.vehicle_id;
  if (!row.color.empty()) {
    v.color = row.color;
  } else if (created) {
    if (auto c = colors_.find(row.vehicle_id); c != colors_.end()) v.color = c->second;
  }
  TrackPoint p = point_of(r);
  auto same = std::find_if(v.points.begin(), v.points.end(), [&](const TrackPoint& q) {
    return q.trip_id == p.trip_id && q.sequence == p.sequence;
  });
  if (same != v.points.end()) {
    v.points.erase(same);
  } else if (v.points.empty() || earlier(v.points.back(), p)) {
    p.speed_mph = v.points.empty() ? 0 : speed_between(v.points.back(), p);
    v.points.push_back(p);
    if (v.points.size() > track_limit_) {
      v.points.pop_front();
      v.points.front().speed_mph = 0;
    }
    return {{v.id, ChangeKind::kAppended}};
  }
  // An updated point or a late one: insert in time order.
  if (v.points.size() >= track_limit_ && !v.points.empty() && earlier(p, v.points.front())) {
    if (created) vehicles_.erase(it);
    return {};  // older than everything the bounded track keeps
  }
  v.points.insert(std::upper_bound(v.points.begin(), v.points.end(), p, earlier), p);
  while (v.points.size() > track_limit_) v.points.pop_front();
  recompute_speeds(v);
  return {{v.id, ChangeKind::kReplaced}};
}

std::vector<FleetState::Change> FleetState::remove(int64_t vehicle_id, int64_t trip_id, int64_t sequence) {
  auto it = vehicles_.find(vehicle_id);
  if (it == vehicles_.end()) return {};
  auto& pts = it->second.points;
  auto p = std::find_if(pts.begin(), pts.end(),
                        [&](const TrackPoint& q) { return q.trip_id == trip_id && q.sequence == sequence; });
  if (p == pts.end()) return {};
  pts.erase(p);
  if (pts.empty()) {
    vehicles_.erase(it);
    return {{vehicle_id, ChangeKind::kRemoved}};
  }
  recompute_speeds(it->second);
  return {{vehicle_id, ChangeKind::kReplaced}};
}

const VehicleTrack* FleetState::find(int64_t vehicle_id) const {
  auto it = vehicles_.find(vehicle_id);
  return it == vehicles_.end() ? nullptr : &it->second;
}

}  // namespace fp::realtime
