// The Kafka value is the seed's JSON object field for field and type for type; the CSV and COPY lines are
// the seed's (generator/csv_parse_test.cpp reads the CSV line back).
#include "common/trip/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fp::trip {
namespace {

Measurement sample() {
  Measurement m;
  m.vehicle_id = 4;
  m.trip_id = 1;
  m.measurement_sequence = 86;
  m.measurement_time = *parse_time("2024-04-15 17:55:03");
  m.latitude = 49.72224;
  m.longitude = -97.1384;
  m.fuel_capacity = 30;
  m.distance_traveled = 1075;
  m.fuel_remaining_percent = 64;
  m.fuel_remaining_gallon = 19.2;
  m.color = "yellow";
  return m;
}

TEST(Json, ExactlyTheSeedsObject) {
  EXPECT_EQ(
      to_json(sample()),
      R"({"vehicle_id": 4, "trip_id": 1, "measurement_sequence": 86, "measurement_time": "2024-04-15 17:55:03", )"
      R"("latitude": 49.72224, "longitude": -97.1384, "fuel_capacity": 30.0, "distance_traveled": 1075.0, )"
      R"("fuel_remaining_percent": 64.0, "fuel_remaining_gallon": 19.2, "color": "yellow"})");
}

TEST(Json, FieldTypes) {
  auto j = nlohmann::json::parse(to_json(sample()));
  ASSERT_EQ(j.size(), 11u);
  for (const char* k : {"vehicle_id", "trip_id", "measurement_sequence"})
    EXPECT_TRUE(j[k].is_number_integer()) << k;
  for (const char* k : {"latitude", "longitude", "fuel_capacity", "distance_traveled",
                        "fuel_remaining_percent", "fuel_remaining_gallon"})
    EXPECT_TRUE(j[k].is_number_float()) << k;
  EXPECT_TRUE(j["measurement_time"].is_string());
  EXPECT_TRUE(j["color"].is_string());
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(j["fuel_remaining_gallon"].get<double>(), 19.2);
}

TEST(Json, FloatsArePythonRepr) {
  auto f = [](double v) {
    std::string s;
    append_float(s, v);
    return s;
  };
  EXPECT_EQ(f(0), "0.0");
  EXPECT_EQ(f(30), "30.0");
  EXPECT_EQ(f(0.1), "0.1");
  EXPECT_EQ(f(-74.006), "-74.006");
  EXPECT_EQ(f(1e-05), "1e-05");
  EXPECT_EQ(f(1e16), "1e+16");
  EXPECT_EQ(f(123456.789012), "123456.789012");
  // Shortest text that reads back exactly.
  for (double v : {0.1 + 0.2, 40.712776, -122.419416, 1.0 / 3}) EXPECT_EQ(std::stod(f(v)), v);
}

TEST(Json, EscapesStrings) {
  Measurement m = sample();
  m.color = "a\"b\\c\n";
  auto j = nlohmann::json::parse(to_json(m));
  EXPECT_EQ(j["color"], "a\"b\\c\n");
}

TEST(Lines, CsvAndCopyText) {
  std::string line;
  append_csv(line, sample());
  EXPECT_EQ(line, "4,1,86,2024-04-15 17:55:03,49.72224,-97.1384,30.0,1075.0,64.0,19.2,yellow\n");
  std::string copy;
  append_copy_text(copy, sample());
  EXPECT_EQ(copy, "4\t1\t86\t2024-04-15 17:55:03\t49.72224\t-97.1384\t30.0\t1075.0\t64.0\t19.2\tyellow\n");
}

TEST(Lines, CsvHeaderAndColumnNames) {
  EXPECT_EQ(kCsvHeader,
            "vehicle_id,trip_id,measurement_sequence,measurement_time,latitude,longitude,fuel_capacity,"
            "distance_traveled,fuel_remaining_percent,fuel_remaining_gallon,color");
  EXPECT_EQ(kColumnCount, 11u);
  EXPECT_EQ(column_index("measurement_time"), 3u);
  EXPECT_EQ(column_index("nope"), kColumnCount);
  EXPECT_EQ(kind_of("trip_id"), Kind::kInt32);
  EXPECT_EQ(kind_of("measurement_time"), Kind::kTimestamp);
  EXPECT_EQ(kind_of("fuel_capacity"), Kind::kFloat64);
  EXPECT_EQ(kind_of("color"), Kind::kText);
}

TEST(Time, ParseAndFormat) {
  auto t = parse_time("2024-04-15 17:55:03");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1713203703);
  EXPECT_EQ(format_time(*t), "2024-04-15 17:55:03");
  EXPECT_EQ(format_time(-1), "1969-12-31 23:59:59");
  EXPECT_FALSE(parse_time("2024-04-15T17:55:03").ok());
}

}  // namespace
}  // namespace fp::trip
