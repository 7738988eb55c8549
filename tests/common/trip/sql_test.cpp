// The SQL the trip model derives is the SQL the services spelled out by hand before: the same column
// lists, parameters and values, so the statements built from it mean what they meant.
#include "common/trip/sql.h"

#include <gtest/gtest.h>

#include "common/trip/text.h"

namespace fp::trip {
namespace {

Measurement sample() {
  return Measurement{4,  1,    86,      *parse_time("2024-04-15 17:55:03"), 49.72224, -97.1384, 30, 1075,
                     64, 19.2, "yellow"};
}

TEST(TripSql, ColumnLists) {
  EXPECT_EQ(
      kSqlColumns,
      "vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, "
      "distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color");
  EXPECT_EQ(select_list("", "to_char({}, 'YYYY-MM-DD HH24:MI:SS')"),
            "vehicle_id, trip_id, measurement_sequence, "
            "to_char(measurement_time, 'YYYY-MM-DD HH24:MI:SS') AS measurement_time, latitude, longitude, "
            "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color");
  EXPECT_EQ(select_list("t.", "(extract(epoch FROM {}) * 1000)::bigint"),
            "t.vehicle_id, t.trip_id, t.measurement_sequence, "
            "(extract(epoch FROM t.measurement_time) * 1000)::bigint AS measurement_time, t.latitude, "
            "t.longitude, t.fuel_capacity, t.distance_traveled, t.fuel_remaining_percent, "
            "t.fuel_remaining_gallon, t.color");
}

TEST(TripSql, Placeholders) {
  EXPECT_EQ(placeholders(), "$1, $2, $3, $4::timestamp, $5, $6, $7, $8, $9, $10, $11");
  EXPECT_EQ(array_placeholders(),
            "$1::int[], $2::int[], $3::int[], $4::timestamp[], $5::float8[], $6::float8[], $7::float8[], "
            "$8::float8[], $9::float8[], $10::float8[], $11::text[]");
  EXPECT_EQ(param_number("vehicle_id"), 1);
  EXPECT_EQ(param_number("fuel_remaining_gallon"), 10);
}

TEST(TripSql, Params) {
  const Measurement m = sample();
  EXPECT_EQ(to_params(m), pg::make_params(4, 1, 86, "2024-04-15 17:55:03", 49.72224, -97.1384, 30.0, 1075.0,
                                          64.0, 19.2, "yellow"));
  Measurement b = sample();
  b.vehicle_id = 5;
  b.latitude = 0.1 + 0.2;
  b.color = "a\"b\\c";
  const pg::Params arrays = to_array_params({&m, &b});
  ASSERT_EQ(arrays.size(), kColumnCount);
  EXPECT_EQ(arrays[0], R"({"4","5"})");
  EXPECT_EQ(arrays[3], R"({"2024-04-15 17:55:03","2024-04-15 17:55:03"})");
  EXPECT_EQ(arrays[4], R"({"49.72224","0.30000000000000004"})");
  EXPECT_EQ(arrays[6], R"({"30","30"})");
  EXPECT_EQ(arrays[10], R"({"yellow","a\"b\\c"})");
  EXPECT_EQ(to_array_params({})[0], "{}");
}

}  // namespace
}  // namespace fp::trip
