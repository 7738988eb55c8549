#include "generator/csv_parse.h"

#include <array>
#include <charconv>
#include <cmath>

namespace fp::gen {

namespace {

constexpr std::array<std::string_view, kCsvColumns> kNames = {
    "vehicle_id", "trip_id",       "measurement_sequence", "measurement_time",       "latitude",
    "longitude",  "fuel_capacity", "distance_traveled",    "fuel_remaining_percent", "fuel_remaining_gallon",
    "color"};

std::string_view strip_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

Status parse_int(std::string_view text, int col, int32_t& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  if (ec == std::errc::result_out_of_range)
    return invalid_input("{} '{}' is out of range", kNames[col], text);
  if (ec != std::errc() || p != end || text.empty())
    return invalid_input("{} '{}' is not an integer", kNames[col], text);
  return ok_status();
}

Status parse_double(std::string_view text, int col, double& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  if (ec != std::errc() || p != end || text.empty())
    return invalid_input("{} '{}' is not a number", kNames[col], text);
  if (!std::isfinite(out)) return invalid_input("{} '{}' is not a finite number", kNames[col], text);
  return ok_status();
}

}  // namespace

Status check_csv_header(std::string_view line) {
  line = strip_cr(line);
  if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
  if (line != kCsvHeader) return invalid_input("header is '{}', expected '{}'", line, kCsvHeader);
  return ok_status();
}

Status parse_csv_line(std::string_view line, Measurement& m) {
  line = strip_cr(line);
  std::array<std::string_view, kCsvColumns> f;
  size_t count = 0, start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    const std::string_view field =
        line.substr(start, comma == std::string_view::npos ? line.npos : comma - start);
    if (count < f.size()) f[count] = field;
    ++count;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (count != kCsvColumns) return invalid_input("expected {} columns, found {}", kCsvColumns, count);
  if (auto st = parse_int(f[0], 0, m.vehicle_id); !st.ok()) return st;
  if (auto st = parse_int(f[1], 1, m.trip_id); !st.ok()) return st;
  if (auto st = parse_int(f[2], 2, m.measurement_sequence); !st.ok()) return st;
  auto t = parse_time(f[3]);
  if (!t.ok()) return invalid_input("measurement_time: {}", t.error().message);
  m.measurement_time = *t;
  double* doubles[] = {&m.latitude,
                       &m.longitude,
                       &m.fuel_capacity,
                       &m.distance_traveled,
                       &m.fuel_remaining_percent,
                       &m.fuel_remaining_gallon};
  for (int i = 0; i < 6; ++i)
    if (auto st = parse_double(f[4 + i], 4 + i, *doubles[i]); !st.ok()) return st;
  m.color.assign(f[10]);
  return validate(m);
}

Status validate(const Measurement& m) {
  if (m.vehicle_id < 1) return invalid_input("vehicle_id {} must be at least 1", m.vehicle_id);
  if (m.trip_id < 1) return invalid_input("trip_id {} must be at least 1", m.trip_id);
  if (m.measurement_sequence < 1)
    return invalid_input("measurement_sequence {} must be at least 1", m.measurement_sequence);
  if (!(m.latitude >= -90 && m.latitude <= 90))
    return invalid_input("latitude {} outside [-90, 90]", m.latitude);
  if (!(m.longitude >= -180 && m.longitude <= 180))
    return invalid_input("longitude {} outside [-180, 180]", m.longitude);
  if (!(m.fuel_capacity > 0 && m.fuel_capacity <= 1000))
    return invalid_input("fuel_capacity {} outside (0, 1000]", m.fuel_capacity);
  if (!(m.distance_traveled >= 0))
    return invalid_input("distance_traveled {} is negative", m.distance_traveled);
  if (!(m.fuel_remaining_percent >= 0 && m.fuel_remaining_percent <= 100))
    return invalid_input("fuel_remaining_percent {} outside [0, 100]", m.fuel_remaining_percent);
  if (!(m.fuel_remaining_gallon >= 0))
    return invalid_input("fuel_remaining_gallon {} is negative", m.fuel_remaining_gallon);
  if (m.fuel_remaining_gallon > m.fuel_capacity)
    return invalid_input("fuel_remaining_gallon {} above fuel_capacity {}", m.fuel_remaining_gallon,
                         m.fuel_capacity);
  bool word = !m.color.empty() && m.color.size() <= 20;
  for (char c : m.color) word = word && c >= 'a' && c <= 'z';
  if (!word) return invalid_input("color '{}' is not a lowercase word of 1-20 letters", m.color);
  return ok_status();
}

}  // namespace fp::gen
