#include "realtime/event.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/json_bounded.h"

namespace fp::realtime {

namespace {

using json = nlohmann::json;

// A change event of these tables is a few kilobytes and five levels deep (with its schema); anything on
// the topics past these bounds is not one, whoever produced it.
constexpr JsonLimits kEventLimits{.max_bytes = size_t{1} << 20, .max_depth = 32};

// Required number field; Debezium sends double precision columns as JSON numbers.
Result<double> number_field(const json& row, const char* name) {
  auto it = row.find(name);
  if (it == row.end() || !it->is_number()) return invalid_input("field {}: missing or not a number", name);
  return it->get<double>();
}

Result<int64_t> integer_field(const json& row, const char* name) {
  auto it = row.find(name);
  if (it == row.end() || !it->is_number_integer()) {
    return invalid_input("field {}: missing or not an integer", name);
  }
  return it->get<int64_t>();
}

// measurement_time: microseconds since the epoch from Debezium (MicroTimestamp), or the seed's text form.
Result<int64_t> time_ms_field(const json& row, const char* name) {
  auto it = row.find(name);
  if (it == row.end()) return invalid_input("field {}: missing", name);
  if (it->is_number_integer()) return it->get<int64_t>() / 1000;
  if (it->is_string()) {
    if (auto ms = parse_timestamp_ms(it->get_ref<const std::string&>())) return *ms;
  }
  return invalid_input("field {}: not a timestamp", name);
}

// The integer columns are PostgreSQL integers: a value beyond int32 is no row of the table.
Result<int32_t> int32_field(const json& row, const char* name) {
  auto v = integer_field(row, name);
  if (!v.ok()) return std::move(v).error();
  if (*v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max())
    return invalid_input("field {}: out of range", name);
  return static_cast<int32_t>(*v);
}

// One column of a trips row into t: integers, the time and numbers are required, the colour is not.
template <typename F>
Status read_column(const json& row, const F& f, TripRow& t) {
  const std::string name(f.name);
  if constexpr (trip::kIsText<F>) {
    if (auto it = row.find(name); it != row.end() && it->is_string()) t.m.*f.member = it->get<std::string>();
  } else if constexpr (trip::kIsTime<F>) {
    t.set_time_ms(FP_TRY(time_ms_field(row, name.c_str()), "trip"));
  } else if constexpr (std::is_same_v<F, trip::Field<int32_t>>) {
    t.m.*f.member = FP_TRY(int32_field(row, name.c_str()), "trip");
  } else {
    t.m.*f.member = FP_TRY(number_field(row, name.c_str()), "trip");
  }
  return ok_status();
}

Result<TripRow> trip_from_json(const json& row) {
  if (!row.is_object()) return invalid_input("trip row: not an object");
  TripRow t;
  if (auto it = row.find("id"); it != row.end() && it->is_number_integer()) t.row_id = it->get<int64_t>();
  Status st = ok_status();
  trip::for_each_field([&](const auto& f) {
    if (st.ok()) st = read_column(row, f, t);
  });
  if (!st.ok()) return std::move(st).error();
  if (t.m.latitude < -90 || t.m.latitude > 90) return invalid_input("field latitude: out of range");
  if (t.m.longitude < -180 || t.m.longitude > 180) return invalid_input("field longitude: out of range");
  return t;
}

Result<VehicleRow> vehicle_from_json(const json& row) {
  if (!row.is_object()) return invalid_input("vehicle row: not an object");
  VehicleRow v;
  v.id = FP_TRY(integer_field(row, "id"), "vehicle");
  if (auto it = row.find("color"); it != row.end() && it->is_string()) v.color = it->get<std::string>();
  if (auto it = row.find("fuel_capacity"); it != row.end() && it->is_number())
    v.fuel_capacity = it->get<double>();
  return v;
}

Result<Op> parse_op(const json& payload) {
  auto it = payload.find("op");
  if (it == payload.end() || !it->is_string()) return invalid_input("field op: missing");
  const auto& s = it->get_ref<const std::string&>();
  if (s == "c") return Op::kCreate;
  if (s == "u") return Op::kUpdate;
  if (s == "d") return Op::kDelete;
  if (s == "r") return Op::kRead;
  return invalid_input("field op: unknown value '{}'", s.substr(0, 8));
}

}  // namespace

void TripRow::set_time_ms(int64_t ms) {
  time_ms = ms;
  m.measurement_time = ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}

Table table_of_topic(std::string_view topic) {
  if (topic.ends_with(".trips")) return Table::kTrips;
  if (topic.ends_with(".vehicles")) return Table::kVehicles;
  if (topic.ends_with(".drivers")) return Table::kDrivers;
  return Table::kOther;
}

std::optional<int64_t> parse_timestamp_ms(std::string_view text) {
  // Strict "YYYY-MM-DD HH:MM:SS" (a 'T' separator is accepted), optional fraction.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') ||
      text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    int v = 0;
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, v);
    if (ec != std::errc() || p != text.data() + pos + len) return std::nullopt;
    return v;
  };
  auto y = num(0, 4), mo = num(5, 2), d = num(8, 2), h = num(11, 2), mi = num(14, 2), s = num(17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31 || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  int64_t ms = 0;
  if (text.size() > 19) {
    if (text[19] != '.') return std::nullopt;
    std::string_view frac = text.substr(20);
    if (frac.empty() || frac.size() > 9) return std::nullopt;
    int64_t scale = 100;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      ms += (c - '0') * scale;
      scale /= 10;
    }
  }
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

Result<ChangeEvent> parse_cdc_event(std::string_view topic, const std::optional<std::string>& value) {
  ChangeEvent ev;
  ev.table = table_of_topic(topic);
  if (!value) {
    ev.op = Op::kTombstone;
    return ev;
  }
  auto parsed = parse_json_bounded(*value, kEventLimits, "value");
  if (!parsed) return std::move(parsed).error();
  const json doc = std::move(*parsed);
  if (!doc.is_object()) return invalid_input("not a JSON object");
  // With the schema wrapper the change is under "payload"; without it the object is the change.
  const json& payload = doc.contains("payload") ? doc["payload"] : doc;
  if (!payload.is_object()) return invalid_input("payload: not an object");
  ev.op = FP_TRY(parse_op(payload), "change event");
  if (auto src = payload.find("source"); src != payload.end() && src->is_object()) {
    if (auto ts = src->find("ts_ms"); ts != src->end() && ts->is_number_integer()) {
      ev.source_ts_ms = ts->get<int64_t>();
    }
  }
  const char* row_key = ev.op == Op::kDelete ? "before" : "after";
  auto row = payload.find(row_key);
  if (row == payload.end() || row->is_null())
    return invalid_input("field {}: missing for op {}", row_key, op_name(ev.op));
  switch (ev.table) {
    case Table::kTrips:
      ev.trip = FP_TRY(trip_from_json(*row), "trips change");
      if (ev.op == Op::kUpdate) {
        if (auto b = payload.find("before"); b != payload.end() && b->is_object()) {
          auto before = trip_from_json(*b);
          if (before) ev.trip_before = std::move(*before);
        }
      }
      break;
    case Table::kVehicles:
      ev.vehicle = FP_TRY(vehicle_from_json(*row), "vehicles change");
      break;
    case Table::kDrivers:
    case Table::kOther:
      break;
  }
  return ev;
}

Result<ChangeEvent> parse_direct_trip(const std::optional<std::string>& value) {
  ChangeEvent ev;
  ev.table = Table::kTrips;
  if (!value) {
    ev.op = Op::kTombstone;
    return ev;
  }
  auto parsed = parse_json_bounded(*value, kEventLimits, "value");
  if (!parsed) return std::move(parsed).error();
  const json doc = std::move(*parsed);
  if (!doc.is_object()) return invalid_input("not a JSON object");
  ev.op = Op::kCreate;
  ev.trip = FP_TRY(trip_from_json(doc), "direct trip");
  return ev;
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::kCreate:
      return "c";
    case Op::kUpdate:
      return "u";
    case Op::kDelete:
      return "d";
    case Op::kRead:
      return "r";
    case Op::kTombstone:
      return "tombstone";
  }
  return "?";
}

}  // namespace fp::realtime
