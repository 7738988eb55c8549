// The trip measurement as text: the seed's CSV line, a PostgreSQL COPY text line, the seed's JSON object
// (the generator's Kafka value), and the time and number formats they share. Each writer goes through
// kFields (measurement.h), so a column added there is written everywhere in its place.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/trip/measurement.h"

namespace fp::trip {

// The seed's CSV header, in column order.
inline constexpr std::string_view kCsvHeader = names<','>();

// "YYYY-MM-DD HH:MM:SS" with a real calendar date and time of day -> seconds (Measurement::measurement_time);
// anything else is an invalid-input error.
Result<int64_t> parse_time(std::string_view text);
// Appends "YYYY-MM-DD HH:MM:SS".
void append_time(std::string& out, int64_t seconds);
std::string format_time(int64_t seconds);

// The shortest text that reads back as the same double, always with a '.' or an exponent so a JSON reader
// sees a float (Python's repr: 30.0, 0.1, 1e-05).
void append_float(std::string& out, double v);

// Appends the seed's JSON object (Python json.dumps layout: ", " and ": " separators, column order).
void append_json(std::string& out, const Measurement& m);
std::string to_json(const Measurement& m);
// Appends one CSV line (with '\n') in column order.
void append_csv(std::string& out, const Measurement& m);
// Appends one line of COPY text format (tab-separated, '\n') in column order.
void append_copy_text(std::string& out, const Measurement& m);

}  // namespace fp::trip
