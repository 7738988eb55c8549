#include "realtime/delta_batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "realtime/wire.h"

namespace fp::realtime {

void DeltaBatch::drop_vehicle(int64_t vehicle_id) {
  std::erase_if(entries_, [&](const Entry& e) { return e.vehicle_id == vehicle_id; });
  redraws_.erase(vehicle_id);
}

void DeltaBatch::add(const FleetState& state, const std::vector<FleetState::Change>& changes,
                     int64_t source_ts_ms, int64_t record_ts_ms, bool live) {
  if (overflowed_) return;
  for (const auto& c : changes) {
    Entry e;
    e.vehicle_id = c.vehicle_id;
    e.kind = c.kind;
    e.source_ts_ms = source_ts_ms;
    e.record_ts_ms = record_ts_ms;
    e.live = live;
    switch (c.kind) {
      case FleetState::ChangeKind::kAppended: {
        if (redraws_.contains(c.vehicle_id)) continue;  // the pending redraw will show this point
        const VehicleTrack* v = state.find(c.vehicle_id);
        if (!v || v->points.empty()) continue;
        e.point = v->points.back();
        // A viewer knows the colour of every vehicle it has seen; a track of one point is a vehicle it has
        // not.
        if (v->points.size() == 1) e.color = v->color;
        break;
      }
      case FleetState::ChangeKind::kReplaced:
        drop_vehicle(c.vehicle_id);
        redraws_.insert(c.vehicle_id);
        break;
      case FleetState::ChangeKind::kRemoved:
        drop_vehicle(c.vehicle_id);
        break;
    }
    entries_.push_back(std::move(e));
    if (entries_.size() >= max_entries_) {
      overflowed_ = true;
      entries_.clear();
      redraws_.clear();
      return;
    }
  }
}

void DeltaBatch::clear() {
  entries_.clear();
  redraws_.clear();
  overflowed_ = false;
}

DeltaBatch::Rendered DeltaBatch::take(const FleetState& state, int64_t now_ms) {
  Rendered r;
  if (overflowed_ || entries_.empty()) {
    clear();
    return r;
  }
  std::vector<const Entry*> removed;
  std::vector<const Entry*> redrawn;
  std::vector<const Entry*> appended;
  for (const auto& e : entries_) {
    if (e.live && e.source_ts_ms > 0) r.live_source_ts_ms.push_back(e.source_ts_ms);
    if (e.kind == FleetState::ChangeKind::kAppended) {
      appended.push_back(&e);
    } else if (e.kind == FleetState::ChangeKind::kReplaced && state.find(e.vehicle_id)) {
      redrawn.push_back(&e);
    } else {
      removed.push_back(&e);  // removed, or a redraw of a vehicle that has no points left by now
    }
  }

  std::string& out = r.json;
  out.reserve(128 + appended.size() * 96 + redrawn.size() * 4096);
  fmt::format_to(std::back_inserter(out), "{{\"sent_ms\":{},\"removed\":", now_ms);
  wire::append_array(out, removed, [&](const Entry* e) {
    fmt::format_to(std::back_inserter(out), "{{\"id\":{},\"source_ts_ms\":{},\"record_ts_ms\":{}}}",
                   e->vehicle_id, e->source_ts_ms, e->record_ts_ms);
  });
  out += ",\"vehicles\":";
  wire::append_array(out, redrawn, [&](const Entry* e) {
    wire::append_vehicle_open(out, *state.find(e->vehicle_id));
    fmt::format_to(std::back_inserter(out), ",\"source_ts_ms\":{},\"record_ts_ms\":{}}}", e->source_ts_ms,
                   e->record_ts_ms);
  });
  out += ",\"points\":";
  std::vector<const TrackPoint*> points;
  points.reserve(appended.size());
  for (const Entry* e : appended) points.push_back(&e->point);
  wire::append_track(out, points);
  out.pop_back();  // the track's closing brace: the points' own columns follow
  // Ages against sent_ms rather than epoch milliseconds: 2-3 digits instead of 13 per point.
  auto age = [&](int64_t ts_ms) {
    if (ts_ms > 0) {
      fmt::format_to(std::back_inserter(out), "{}", now_ms - ts_ms);
    } else {
      out += "null";
    }
  };
  out += ",\"vehicle\":";
  wire::append_array(out, appended,
                     [&](const Entry* e) { fmt::format_to(std::back_inserter(out), "{}", e->vehicle_id); });
  out += ",\"source_age_ms\":";
  wire::append_array(out, appended, [&](const Entry* e) { age(e->source_ts_ms); });
  out += ",\"record_age_ms\":";
  wire::append_array(out, appended, [&](const Entry* e) { age(e->record_ts_ms); });
  out += "},\"colors\":{";
  const char* sep = "";
  for (const Entry* e : appended) {
    if (e->color.empty()) continue;
    fmt::format_to(std::back_inserter(out), "{}\"{}\":", sep, e->vehicle_id);
    wire::append_string(out, e->color);
    sep = ",";
  }
  out += "}}";
  clear();
  return r;
}

}  // namespace fp::realtime
