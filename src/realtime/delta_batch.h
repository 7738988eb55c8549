// The changes of one fan-out tick, coalesced per vehicle and rendered once for every viewer. With 2 000
// changes/s and hundreds of viewers, one write per change per viewer is what made delivery slow; a tick of
// ~50 ms turns that into one shared frame per tick.
//
// Coalescing keeps the page's result the same as replaying every change in order:
//   - a redraw (the track changed elsewhere) supersedes the vehicle's earlier entries in the batch and is
//     rendered from the state at take() time, so later appended points of that vehicle are already in it;
//   - a removal supersedes the vehicle's earlier entries; a point after it starts the vehicle afresh.
// Beyond max_entries the batch gives up (overflowed()): the viewers then get a snapshot instead, which
// bounds memory while the consumer replays a long topic.
//
// Not thread-safe: the service guards it with the state's mutex.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "realtime/state.h"

namespace fp::realtime {

class DeltaBatch {
 public:
  explicit DeltaBatch(size_t max_entries = 20'000) : max_entries_(max_entries == 0 ? 1 : max_entries) {}

  // Records what FleetState::apply() returned for one event; `state` is the state after it. `live` is false
  // for snapshot reads and replays whose delay says nothing about delivery.
  void add(const FleetState& state, const std::vector<FleetState::Change>& changes, int64_t source_ts_ms,
           int64_t record_ts_ms, bool live);

  bool empty() const { return entries_.empty() && !overflowed_; }
  size_t size() const { return entries_.size(); }
  bool overflowed() const { return overflowed_; }

  struct Rendered {
    // {"sent_ms":N,
    //  "removed":[{"id","source_ts_ms","record_ts_ms"}],          vehicles that left the page
    //  "vehicles":[VEHICLE + "source_ts_ms","record_ts_ms"],       vehicles to redraw whole
    //  "points":TRACK + "vehicle","source_age_ms","record_age_ms"  appended points, in order
    //  "colors":{"<id>":"<colour>"}}                              of vehicles new to the page
    // (VEHICLE and TRACK as in realtime/wire.h; an age is sent_ms minus the timestamp, null when unknown.)
    // Applied in that order it gives what replaying every change would: a vehicle is in at most one of
    // removed and vehicles, and a redrawn vehicle has no points after its redraw.
    std::string json;
    std::vector<int64_t> live_source_ts_ms;  // of the live entries, for the delivery-latency histogram
  };
  // Renders the batch (redraws from `state` as it is now) and empties it. Empty json when nothing is
  // pending or the batch overflowed.
  Rendered take(const FleetState& state, int64_t now_ms);
  void clear();

 private:
  struct Entry {
    int64_t vehicle_id = 0;
    FleetState::ChangeKind kind = FleetState::ChangeKind::kAppended;
    TrackPoint point;   // kAppended: the appended point
    std::string color;  // kAppended: set when the point is its vehicle's first
    int64_t source_ts_ms = 0;
    int64_t record_ts_ms = 0;
    bool live = false;
  };
  void drop_vehicle(int64_t vehicle_id);

  size_t max_entries_;
  bool overflowed_ = false;
  std::vector<Entry> entries_;
  std::unordered_set<int64_t> redraws_;  // vehicles with a pending redraw entry
};

}  // namespace fp::realtime
