// The CSV rules: every rejection names the field and the reason; valid lines parse exactly.
#include "generator/csv_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace fp::gen {
namespace {

using trip::format_time;
using trip::kCsvHeader;
using trip::Measurement;
using trip::parse_time;

constexpr const char* kGood = "4,1,86,2024-04-15 17:55:03,49.72224,-97.1384,30,1075,64,19.2,yellow";

std::string reject(const std::string& line) {
  Measurement m;
  auto s = parse_csv_line(line, m);
  EXPECT_FALSE(s.ok()) << line;
  if (s.ok()) return "";
  EXPECT_EQ(s.error().kind, Error::Kind::kInvalidInput);
  return s.error().message;
}

// The good line with column `col` replaced by `value`.
std::string with(int col, const std::string& value) {
  std::string fields[11] = {
      "4", "1", "86", "2024-04-15 17:55:03", "49.72224", "-97.1384", "30", "1075", "64", "19.2", "yellow"};
  fields[col] = value;
  std::string s;
  for (int i = 0; i < 11; ++i) s += (i ? "," : "") + fields[i];
  return s;
}

TEST(CsvParse, ParsesTheSeedsRow) {
  Measurement m;
  ASSERT_TRUE(parse_csv_line(kGood, m).ok());
  EXPECT_EQ(m.vehicle_id, 4);
  EXPECT_EQ(m.trip_id, 1);
  EXPECT_EQ(m.measurement_sequence, 86);
  EXPECT_EQ(format_time(m.measurement_time), "2024-04-15 17:55:03");
  EXPECT_DOUBLE_EQ(m.latitude, 49.72224);
  EXPECT_DOUBLE_EQ(m.longitude, -97.1384);
  EXPECT_DOUBLE_EQ(m.fuel_capacity, 30);
  EXPECT_DOUBLE_EQ(m.distance_traveled, 1075);
  EXPECT_DOUBLE_EQ(m.fuel_remaining_percent, 64);
  EXPECT_DOUBLE_EQ(m.fuel_remaining_gallon, 19.2);
  EXPECT_EQ(m.color, "yellow");
  Measurement crlf;
  ASSERT_TRUE(parse_csv_line(std::string(kGood) + "\r", crlf).ok());
  EXPECT_EQ(crlf, m);
}

TEST(CsvParse, ReadsBackWhatTheWriterWrote) {
  Measurement m;
  ASSERT_TRUE(parse_csv_line(kGood, m).ok());
  std::string line;
  trip::append_csv(line, m);
  EXPECT_EQ(line, "4,1,86,2024-04-15 17:55:03,49.72224,-97.1384,30.0,1075.0,64.0,19.2,yellow\n");
  Measurement back;
  line.pop_back();
  ASSERT_TRUE(parse_csv_line(line, back).ok());
  EXPECT_EQ(back, m);
}

TEST(CsvParse, Header) {
  EXPECT_TRUE(check_csv_header(kCsvHeader).ok());
  EXPECT_TRUE(check_csv_header(std::string(kCsvHeader) + "\r").ok());
  EXPECT_FALSE(check_csv_header("vehicle_id,trip_id").ok());
}

TEST(CsvParse, WrongColumnCount) {
  EXPECT_EQ(reject("4,1,86"), "expected 11 columns, found 3");
  EXPECT_EQ(reject(std::string(kGood) + ",extra"), "expected 11 columns, found 12");
  EXPECT_EQ(reject(""), "expected 11 columns, found 1");
}

TEST(CsvParse, NonNumbers) {
  EXPECT_EQ(reject(with(0, "four")), "vehicle_id 'four' is not an integer");
  EXPECT_EQ(reject(with(2, "8.5")), "measurement_sequence '8.5' is not an integer");
  EXPECT_EQ(reject(with(1, "")), "trip_id '' is not an integer");
  EXPECT_EQ(reject(with(4, "north")), "latitude 'north' is not a number");
  EXPECT_EQ(reject(with(7, "12km")), "distance_traveled '12km' is not a number");
  EXPECT_EQ(reject(with(8, "nan")), "fuel_remaining_percent 'nan' is not a finite number");
  EXPECT_EQ(reject(with(0, "99999999999")), "vehicle_id '99999999999' is out of range");
}

TEST(CsvParse, Ranges) {
  EXPECT_EQ(reject(with(4, "90.5")), "latitude 90.5 outside [-90, 90]");
  EXPECT_EQ(reject(with(4, "-91")), "latitude -91 outside [-90, 90]");
  EXPECT_EQ(reject(with(5, "180.01")), "longitude 180.01 outside [-180, 180]");
  EXPECT_EQ(reject(with(5, "-200")), "longitude -200 outside [-180, 180]");
  EXPECT_EQ(reject(with(7, "-0.5")), "distance_traveled -0.5 is negative");
  EXPECT_EQ(reject(with(8, "100.1")), "fuel_remaining_percent 100.1 outside [0, 100]");
  EXPECT_EQ(reject(with(8, "-1")), "fuel_remaining_percent -1 outside [0, 100]");
  EXPECT_EQ(reject(with(9, "30.5")), "fuel_remaining_gallon 30.5 above fuel_capacity 30");
  EXPECT_EQ(reject(with(9, "-2")), "fuel_remaining_gallon -2 is negative");
  EXPECT_EQ(reject(with(6, "0")), "fuel_capacity 0 outside (0, 1000]");
  EXPECT_EQ(reject(with(0, "0")), "vehicle_id 0 must be at least 1");
  EXPECT_EQ(reject(with(10, "Yellow")), "color 'Yellow' is not a lowercase word of 1-20 letters");
  // The edges are valid.
  Measurement m;
  EXPECT_TRUE(parse_csv_line(with(4, "-90"), m).ok());
  EXPECT_TRUE(parse_csv_line(with(5, "180"), m).ok());
  EXPECT_TRUE(parse_csv_line(with(9, "30"), m).ok());
  EXPECT_TRUE(parse_csv_line(with(8, "0"), m).ok());
}

TEST(CsvParse, Times) {
  for (const char* bad : {"2024-04-15", "2024-02-30 10:00:00", "2024-13-01 10:00:00", "2024-04-15 24:00:00",
                          "2024-04-15T17:55:03", "2024-04-15 17:55:3", "yesterday", "2024-04-15 17:60:00"}) {
    EXPECT_EQ(reject(with(3, bad)),
              std::string("measurement_time: unparseable time '") + bad + "' (expected YYYY-MM-DD HH:MM:SS)");
  }
  auto leap = parse_time("2024-02-29 23:59:59");
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(format_time(*leap), "2024-02-29 23:59:59");
  EXPECT_EQ(*parse_time("1970-01-01 00:00:10"), 10);
}

}  // namespace
}  // namespace fp::gen
