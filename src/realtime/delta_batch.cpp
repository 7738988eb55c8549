#include "realtime/delta_batch.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

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
        e.color = v->color;
        e.low_fuel = e.point.fuel_percent < kLowFuelPercent;
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
  std::string& out = r.json;
  out.reserve(64 + entries_.size() * 260);
  fmt::format_to(std::back_inserter(out), "{{\"sent_ms\":{},\"changes\":[", now_ms);
  bool first = true;
  for (const auto& e : entries_) {
    if (!first) out += ',';
    first = false;
    const VehicleTrack* v = state.find(e.vehicle_id);
    if (e.kind == FleetState::ChangeKind::kAppended) {
      VehicleTrack head;  // id and colour only: the point itself follows
      head.id = e.vehicle_id;
      head.color = e.color;
      out += "{\"kind\":\"point\",\"vehicle\":";
      FleetState::append_vehicle(out, head, false);
      out.pop_back();  // the closing brace: low_fuel belongs to the head as well
      out += e.low_fuel ? ",\"low_fuel\":true}" : ",\"low_fuel\":false}";
      out += ",\"point\":";
      FleetState::append_point(out, e.point);
    } else if (e.kind == FleetState::ChangeKind::kReplaced && v) {
      out += "{\"kind\":\"vehicle\",\"vehicle\":";
      FleetState::append_vehicle(out, *v, true);
    } else {
      // Removed, or a redraw of a vehicle that has no points left by now.
      fmt::format_to(std::back_inserter(out), "{{\"kind\":\"remove\",\"id\":{}", e.vehicle_id);
    }
    fmt::format_to(std::back_inserter(out), ",\"source_ts_ms\":{},\"record_ts_ms\":{}}}", e.source_ts_ms,
                   e.record_ts_ms);
    if (e.live && e.source_ts_ms > 0) r.live_source_ts_ms.push_back(e.source_ts_ms);
  }
  out += "]}";
  clear();
  return r;
}

}  // namespace fp::realtime
