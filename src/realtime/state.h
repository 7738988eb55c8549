// The dashboard's model of the fleet: per vehicle a bounded recent track, ordered by measurement time,
// and the figures the page shows (position, fuel, distance, speed derived from consecutive points,
// low-fuel alert). Change events are applied idempotently: a point is identified by its natural key
// (trip_id, measurement_sequence), so re-reading events the database rebuild already loaded is harmless.
//
// Not thread-safe: the service guards it with one mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "realtime/event.h"

namespace fp::realtime {

inline constexpr double kLowFuelPercent = 15.0;

// Great-circle distance in miles (the seed's distances and gallons are US units).
double haversine_miles(double lat1, double lon1, double lat2, double lon2);

// One point of a vehicle's track: what the map draws of a TripRow (point_of in state.cpp), and the speed. A
// projection rather than the whole row, and packed: a track keeps up to track_limit points of every
// vehicle, so with 10 000 vehicles every byte here is 2 MB of the service's memory. 64 bytes, eight to a
// std::deque block. trip_id and sequence are the source's integer columns.
struct TrackPoint {
  int64_t time_ms = 0;
  double latitude = 0;
  double longitude = 0;
  double fuel_percent = 0;
  double fuel_gallons = 0;
  double distance = 0;
  int32_t trip_id = 0;
  int32_t sequence = 0;
  float speed_mph = 0;  // from the previous point of the track; 0 for the first one (the wire keeps 0.01)
};
static_assert(sizeof(TrackPoint) <= 64);

struct VehicleTrack {
  int64_t id = 0;
  std::string color;
  std::deque<TrackPoint> points;  // oldest first
};

class FleetState {
 public:
  explicit FleetState(size_t track_limit = 200) : track_limit_(track_limit == 0 ? 1 : track_limit) {}

  enum class ChangeKind {
    kAppended,  // a newer point at the end of the track: the page adds one point
    kReplaced,  // the track changed elsewhere (update, delete, late point): the page redraws the vehicle
    kRemoved,   // no points left: the vehicle leaves the page
  };
  struct Change {
    int64_t vehicle_id = 0;
    ChangeKind kind = ChangeKind::kAppended;
  };
  // Applies one event; returns what changed (empty when nothing did).
  std::vector<Change> apply(const ChangeEvent& event);

  const VehicleTrack* find(int64_t vehicle_id) const;
  size_t vehicle_count() const { return vehicles_.size(); }

  const std::map<int64_t, VehicleTrack>& vehicles() const { return vehicles_; }

  // Bumped by every apply() that changed something: a cached rendering of the state is current while it
  // matches.
  uint64_t version() const { return version_; }

 private:
  std::vector<Change> apply_change(const ChangeEvent& event);
  std::vector<Change> upsert(const TripRow& row);
  std::vector<Change> remove(int64_t vehicle_id, int64_t trip_id, int64_t sequence);
  static void recompute_speeds(VehicleTrack& v);

  size_t track_limit_;
  uint64_t version_ = 0;
  std::map<int64_t, VehicleTrack> vehicles_;
  std::map<int64_t, std::string> colors_;  // from the vehicles table, for vehicles without points yet
};

}  // namespace fp::realtime
