// The Kafka value is the seed's JSON object field for field and type for type; the CSV and COPY lines
// round-trip.
#include "generator/measurement.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "generator/csv_parse.h"

namespace fp::gen {
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

TEST(Lines, CsvRoundTrip) {
  std::string line;
  append_csv(line, sample());
  EXPECT_EQ(line, "4,1,86,2024-04-15 17:55:03,49.72224,-97.1384,30.0,1075.0,64.0,19.2,yellow\n");
  Measurement back;
  line.pop_back();
  ASSERT_TRUE(parse_csv_line(line, back).ok());
  EXPECT_EQ(back, sample());
  std::string copy;
  append_copy_text(copy, sample());
  EXPECT_EQ(copy, "4\t1\t86\t2024-04-15 17:55:03\t49.72224\t-97.1384\t30.0\t1075.0\t64.0\t19.2\tyellow\n");
}

}  // namespace
}  // namespace fp::gen
