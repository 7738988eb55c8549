#include "generator/csv_parse.h"

#include <array>
#include <charconv>
#include <cmath>

namespace fp::gen {

namespace {

using trip::kColumnCount;
using trip::kColumnNames;

std::string_view strip_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

Status parse_int(std::string_view text, size_t col, int32_t& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  if (ec == std::errc::result_out_of_range)
    return invalid_input("{} '{}' is out of range", kColumnNames[col], text);
  if (ec != std::errc() || p != end || text.empty())
    return invalid_input("{} '{}' is not an integer", kColumnNames[col], text);
  return ok_status();
}

Status parse_double(std::string_view text, size_t col, double& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  if (ec != std::errc() || p != end || text.empty())
    return invalid_input("{} '{}' is not a number", kColumnNames[col], text);
  if (!std::isfinite(out)) return invalid_input("{} '{}' is not a finite number", kColumnNames[col], text);
  return ok_status();
}

// One field's text into its member, by the column's kind.
template <typename F>
Status parse_field(std::string_view text, size_t col, const F& f, trip::Measurement& m) {
  if constexpr (trip::kIsText<F>) {
    (m.*f.member).assign(text);
  } else if constexpr (trip::kIsTime<F>) {
    auto t = trip::parse_time(text);
    if (!t.ok()) return invalid_input("{}: {}", kColumnNames[col], t.error().message);
    m.*f.member = *t;
  } else if constexpr (std::is_same_v<F, trip::Field<int32_t>>) {
    return parse_int(text, col, m.*f.member);
  } else {
    return parse_double(text, col, m.*f.member);
  }
  return ok_status();
}

}  // namespace

Status check_csv_header(std::string_view line) {
  line = strip_cr(line);
  if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
  if (line != trip::kCsvHeader) return invalid_input("header is '{}', expected '{}'", line, trip::kCsvHeader);
  return ok_status();
}

Status parse_csv_line(std::string_view line, trip::Measurement& m) {
  line = strip_cr(line);
  std::array<std::string_view, kColumnCount> f;
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
  if (count != kColumnCount) return invalid_input("expected {} columns, found {}", kColumnCount, count);
  Status st = ok_status();
  size_t col = 0;
  trip::for_each_field([&](const auto& field) {
    if (st.ok()) st = parse_field(f[col], col, field, m);
    ++col;
  });
  if (!st.ok()) return st;
  return validate(m);
}

Status validate(const trip::Measurement& m) {
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
