#include "realtime/event.h"

#include <gtest/gtest.h>

namespace fp::realtime {
namespace {

// A Debezium trips change as the JSON converter writes it with schemas enabled (schema abbreviated), with
// the _export_xid column the dashboard does not model.
std::string trips_change(std::string_view op, std::string_view before, std::string_view after) {
  return fmt::format(
      R"({{"schema":{{"type":"struct","fields":[]}},"payload":{{"before":{},"after":{},"op":"{}",)"
      R"("source":{{"connector":"postgresql","ts_ms":1700000000123,"table":"trips"}},"ts_ms":1700000000200}}}})",
      before, after, op);
}

constexpr const char* kRow =
    R"({"id":42,"vehicle_id":7,"trip_id":3,"measurement_sequence":11,"measurement_time":1700000000500000,)"
    R"("latitude":49.5,"longitude":-123.25,"fuel_capacity":20.0,"distance_traveled":12.5,)"
    R"("fuel_remaining_percent":80.0,"fuel_remaining_gallon":16.0,"color":"blue","_export_xid":991})";

TEST(RealtimeEvent, CreateParsesEveryField) {
  auto ev = parse_cdc_event("webapp.public.trips", trips_change("c", "null", kRow));
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->op, Op::kCreate);
  EXPECT_EQ(ev->table, Table::kTrips);
  EXPECT_EQ(ev->source_ts_ms, 1700000000123);
  ASSERT_TRUE(ev->trip.has_value());
  EXPECT_EQ(ev->trip->row_id, 42);
  EXPECT_EQ(ev->trip->m.vehicle_id, 7);
  EXPECT_EQ(ev->trip->m.trip_id, 3);
  EXPECT_EQ(ev->trip->m.measurement_sequence, 11);
  EXPECT_EQ(ev->trip->time_ms, 1700000000500);          // microseconds -> milliseconds
  EXPECT_EQ(ev->trip->m.measurement_time, 1700000000);  // the record's whole seconds
  EXPECT_DOUBLE_EQ(ev->trip->m.latitude, 49.5);
  EXPECT_DOUBLE_EQ(ev->trip->m.longitude, -123.25);
  EXPECT_DOUBLE_EQ(ev->trip->m.fuel_remaining_percent, 80.0);
  EXPECT_DOUBLE_EQ(ev->trip->m.fuel_remaining_gallon, 16.0);
  EXPECT_DOUBLE_EQ(ev->trip->m.distance_traveled, 12.5);
  EXPECT_EQ(ev->trip->m.color, "blue");
}

TEST(RealtimeEvent, SnapshotReadUpdateAndDelete) {
  auto r = parse_cdc_event("webapp.public.trips", trips_change("r", "null", kRow));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Op::kRead);

  auto u = parse_cdc_event("webapp.public.trips", trips_change("u", kRow, kRow));
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->op, Op::kUpdate);
  ASSERT_TRUE(u->trip_before.has_value());
  EXPECT_EQ(u->trip_before->m.measurement_sequence, 11);

  // A delete carries the old row in "before" and null "after".
  auto d = parse_cdc_event("webapp.public.trips", trips_change("d", kRow, "null"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->op, Op::kDelete);
  ASSERT_TRUE(d->trip.has_value());
  EXPECT_EQ(d->trip->m.vehicle_id, 7);
}

TEST(RealtimeEvent, WithoutSchemaWrapper) {
  std::string v = std::string(R"({"before":null,"after":)") + kRow + R"(,"op":"c","source":{"ts_ms":5}})";
  auto ev = parse_cdc_event("webapp.public.trips", v);
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->trip->m.vehicle_id, 7);
  EXPECT_EQ(ev->source_ts_ms, 5);
}

TEST(RealtimeEvent, TombstoneIsAnEventNotAnError) {
  auto ev = parse_cdc_event("webapp.public.trips", std::nullopt);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->op, Op::kTombstone);
  EXPECT_FALSE(ev->trip.has_value());
  auto direct = parse_direct_trip(std::nullopt);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->op, Op::kTombstone);
}

TEST(RealtimeEvent, VehiclesAndDrivers) {
  auto v = parse_cdc_event(
      "webapp.public.vehicles",
      R"({"payload":{"before":null,"after":{"id":7,"driver_id":1,"fuel_capacity":20.0,"color":"red"},"op":"c"}})");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->table, Table::kVehicles);
  ASSERT_TRUE(v->vehicle.has_value());
  EXPECT_EQ(v->vehicle->id, 7);
  EXPECT_EQ(v->vehicle->color, "red");
  auto d = parse_cdc_event("webapp.public.drivers",
                           R"({"payload":{"before":null,"after":{"id":1,"name":"Ann"},"op":"r"}})");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->table, Table::kDrivers);
  EXPECT_FALSE(d->trip.has_value());
}

TEST(RealtimeEvent, MalformedEventsAreErrorsWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"payload":{"op":"x","after":{}}})", "op"},
      {R"({"payload":{"after":{}}})", "op"},
      {R"({"payload":{"op":"c","after":null}})", "after"},
      {R"({"payload":{"op":"d","before":null,"after":null}})", "before"},
      {R"({"payload":{"op":"c","after":{"vehicle_id":"seven"}}})", "vehicle_id"},
      {R"({"payload":{"op":"c","after":{"vehicle_id":5000000000}}})", "vehicle_id: out of range"},
      {trips_change("c", "null",
                    R"({"vehicle_id":1,"trip_id":1,"measurement_sequence":1,)"
                    R"("measurement_time":"yesterday","latitude":1,"longitude":1,)"
                    R"("fuel_capacity":1,"distance_traveled":1,"fuel_remaining_percent":1,)"
                    R"("fuel_remaining_gallon":1})"),
       "measurement_time"},
      {trips_change("c", "null",
                    R"({"vehicle_id":1,"trip_id":1,"measurement_sequence":1,)"
                    R"("measurement_time":0,"latitude":91,"longitude":1,"fuel_capacity":1,)"
                    R"("distance_traveled":1,"fuel_remaining_percent":1,"fuel_remaining_gallon":1})"),
       "latitude"},
  };
  for (const auto& [value, reason] : cases) {
    auto ev = parse_cdc_event("webapp.public.trips", value);
    ASSERT_FALSE(ev.ok()) << value;
    EXPECT_NE(ev.error().message.find(reason), std::string::npos) << value << " -> " << ev.error().message;
  }
}

TEST(RealtimeEvent, DirectTopicSeedObject) {
  auto ev = parse_direct_trip(
      R"({"vehicle_id":2,"trip_id":5,"measurement_sequence":1,"measurement_time":"2024-01-02 03:04:05",)"
      R"("latitude":40.0,"longitude":-100.0,"fuel_capacity":15,"distance_traveled":0,)"
      R"("fuel_remaining_percent":10,"fuel_remaining_gallon":1.5,"color":"green"})");
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_EQ(ev->op, Op::kCreate);
  EXPECT_EQ(ev->trip->time_ms, 1704164645000);
  EXPECT_EQ(ev->trip->m.color, "green");
  EXPECT_FALSE(parse_direct_trip(std::string("{}")).ok());
}

TEST(RealtimeEvent, Timestamps) {
  EXPECT_EQ(parse_timestamp_ms("1970-01-01 00:00:01"), 1000);
  EXPECT_EQ(parse_timestamp_ms("1970-01-01T00:00:01.250"), 1250);
  EXPECT_FALSE(parse_timestamp_ms("1970-13-01 00:00:01").has_value());
  EXPECT_FALSE(parse_timestamp_ms("1970-01-01").has_value());
  EXPECT_FALSE(parse_timestamp_ms("1970-01-01 00:00:01x").has_value());
}

TEST(RealtimeEvent, RowTimeKeepsMillisecondsAndTheRecordWholeSeconds) {
  TripRow t;
  t.set_time_ms(1250);
  EXPECT_EQ(t.time_ms, 1250);
  EXPECT_EQ(t.m.measurement_time, 1);
  t.set_time_ms(-1);  // before the epoch: rounded down, not toward zero
  EXPECT_EQ(t.m.measurement_time, -1);
  t.set_time_ms(-1000);
  EXPECT_EQ(t.m.measurement_time, -1);
}

}  // namespace
}  // namespace fp::realtime
