// One trip measurement: the seed's record, field for field. The same value is written as a CSV line (the
// seed's trips.csv format), a COPY text line (PostgreSQL) and the seed's JSON object (the Kafka topic).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace fp::gen {

struct Measurement {
  int32_t vehicle_id = 0;
  int32_t trip_id = 0;
  int32_t measurement_sequence = 0;
  int64_t measurement_time = 0;  // seconds since 1970-01-01 00:00:00, a wall-clock value without zone
  double latitude = 0;
  double longitude = 0;
  double fuel_capacity = 0;
  double distance_traveled = 0;
  double fuel_remaining_percent = 0;
  double fuel_remaining_gallon = 0;
  std::string color;

  bool operator==(const Measurement&) const = default;
};

// The seed's CSV header, in its column order.
inline constexpr std::string_view kCsvHeader =
    "vehicle_id,trip_id,measurement_sequence,measurement_time,latitude,longitude,fuel_capacity,"
    "distance_traveled,fuel_remaining_percent,fuel_remaining_gallon,color";
inline constexpr int kCsvColumns = 11;

// "YYYY-MM-DD HH:MM:SS" with a real calendar date and time of day; anything else is an invalid-input error.
Result<int64_t> parse_time(std::string_view text);
// Appends "YYYY-MM-DD HH:MM:SS".
void append_time(std::string& out, int64_t seconds);
std::string format_time(int64_t seconds);

// The shortest text that reads back as the same double, always with a '.' or an exponent so a JSON reader
// sees a float (Python's repr: 30.0, 0.1, 1e-05).
void append_float(std::string& out, double v);

// Appends the seed's JSON object (Python json.dumps layout: ", " and ": " separators, the seed's key order).
void append_json(std::string& out, const Measurement& m);
std::string to_json(const Measurement& m);
// Appends one CSV line (with '\n') in the seed's column order.
void append_csv(std::string& out, const Measurement& m);
// Appends one line of COPY text format (tab-separated, '\n') in the seed's column order.
void append_copy_text(std::string& out, const Measurement& m);

}  // namespace fp::gen
