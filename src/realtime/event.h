// Change events the dashboard consumes, parsed from Kafka records: Debezium's envelope on the
// webapp.public.* topics (JSON converter, with or without the schema wrapper) and the seed's plain JSON
// object on the direct "trips" topic. Parsing validates at the boundary: an event that cannot be
// understood is an error value (counted and logged by the caller), never an exception or a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/trip/measurement.h"

namespace fp::realtime {

// One measurement row of the trips table (or of the direct topic): the record, its row id, and its time to
// the millisecond (Debezium sends microseconds; the record keeps whole seconds).
struct TripRow {
  int64_t row_id = 0;   // trips.id; 0 on the direct topic (it has none)
  trip::Measurement m;  // m.measurement_time: time_ms in whole seconds, rounded down (set_time_ms)
  int64_t time_ms = 0;  // since the epoch (the column is a timestamp without time zone: UTC)

  void set_time_ms(int64_t ms);
};

struct VehicleRow {
  int64_t id = 0;
  std::string color;
  double fuel_capacity = 0;
};

enum class Op { kCreate, kUpdate, kDelete, kRead, kTombstone };
enum class Table { kTrips, kVehicles, kDrivers, kOther };

struct ChangeEvent {
  Table table = Table::kOther;
  Op op = Op::kCreate;
  // The row after the change (create/update/read) or before it (delete); empty for tombstones and for
  // tables the dashboard does not model (drivers).
  std::optional<TripRow> trip;
  std::optional<VehicleRow> vehicle;
  std::optional<TripRow> trip_before;  // updates: the old row, so a changed natural key moves the point
  int64_t source_ts_ms = -1;           // payload.source.ts_ms: when the source database committed
};

Table table_of_topic(std::string_view topic);

// A record of a webapp.public.* topic; `value` nullopt is a tombstone.
Result<ChangeEvent> parse_cdc_event(std::string_view topic, const std::optional<std::string>& value);

// A record of the direct topic: the seed's JSON object, measurement_time "YYYY-MM-DD HH:MM:SS" (UTC).
Result<ChangeEvent> parse_direct_trip(const std::optional<std::string>& value);

// "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) -> milliseconds since the epoch.
std::optional<int64_t> parse_timestamp_ms(std::string_view text);

std::string_view op_name(Op op);

}  // namespace fp::realtime
