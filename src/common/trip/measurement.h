// The trip measurement: the seed's record, field for field, and the one place its columns are listed. The
// generator, the web app, the realtime dashboard and the batch lane's `trips` layout all build on it.
//
// Adding a column: add the member to Measurement and its entry to kFields, in column order (both below).
// The column names, the CSV header, the SQL column lists and row reader (sql.h), the JSON, CSV and COPY
// writers (text.h), the generator's CSV reader, the web app's form, table and JSON, the realtime event
// reader and the batch layout follow from kFields. What still wants a hand: the value rules
// (generator/csv_parse.cpp, webapp/trip.cpp), the web form's label and hint (webapp/trip.cpp,
// webapp/html.cpp) and the schema (sql/).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

namespace fp::trip {

// One measurement of one vehicle on one trip, as the seed's trips.csv has it and the `trips` table stores it
// (the table adds the row's id). The web app validates a form into it, the generator parses or simulates it.
struct Measurement {
  int32_t vehicle_id = 0;
  int32_t trip_id = 0;
  int32_t measurement_sequence = 0;
  // Seconds since 1970-01-01 00:00:00 of a wall-clock time without zone (the column is a `timestamp`): the
  // seed's times are whole seconds. The realtime service keeps milliseconds beside it (realtime/event.h).
  int64_t measurement_time = 0;
  double latitude = 0;                // degrees, -90 to 90
  double longitude = 0;               // degrees, -180 to 180
  double fuel_capacity = 0;           // gallons the tank holds
  double distance_traveled = 0;       // miles
  double fuel_remaining_percent = 0;  // 0 to 100
  double fuel_remaining_gallon = 0;   // gallons, at most fuel_capacity
  std::string color;                  // one lowercase word

  bool operator==(const Measurement&) const = default;
};

// What a column holds; the member's type follows: int32_t, int64_t seconds, double, std::string. (sql.cpp
// lists the SQL types in this order.)
enum class Kind { kInt32, kTimestamp, kFloat64, kText };

template <typename T>
struct Field {
  std::string_view name;  // the column name, which is also the JSON key and the CSV header's word
  Kind kind;
  T Measurement::*member;
};

// The columns, in column order (the seed's CSV, the COPY text, the JSON keys, the SQL lists).
inline constexpr auto kFields = std::make_tuple(
    Field<int32_t>{"vehicle_id", Kind::kInt32, &Measurement::vehicle_id},
    Field<int32_t>{"trip_id", Kind::kInt32, &Measurement::trip_id},
    Field<int32_t>{"measurement_sequence", Kind::kInt32, &Measurement::measurement_sequence},
    Field<int64_t>{"measurement_time", Kind::kTimestamp, &Measurement::measurement_time},
    Field<double>{"latitude", Kind::kFloat64, &Measurement::latitude},
    Field<double>{"longitude", Kind::kFloat64, &Measurement::longitude},
    Field<double>{"fuel_capacity", Kind::kFloat64, &Measurement::fuel_capacity},
    Field<double>{"distance_traveled", Kind::kFloat64, &Measurement::distance_traveled},
    Field<double>{"fuel_remaining_percent", Kind::kFloat64, &Measurement::fuel_remaining_percent},
    Field<double>{"fuel_remaining_gallon", Kind::kFloat64, &Measurement::fuel_remaining_gallon},
    Field<std::string>{"color", Kind::kText, &Measurement::color});

inline constexpr size_t kColumnCount = std::tuple_size_v<decltype(kFields)>;

// For `if constexpr` on a kFields entry f: kIsTime<decltype(f)> (the one int64_t member), kIsText<...>.
template <typename F>
inline constexpr bool kIsTime = std::is_same_v<std::remove_cvref_t<F>, Field<int64_t>>;
template <typename F>
inline constexpr bool kIsText = std::is_same_v<std::remove_cvref_t<F>, Field<std::string>>;

// Calls f(field) for every entry of kFields, in column order.
template <typename F>
constexpr void for_each_field(F&& f) {
  std::apply([&](const auto&... field) { (f(field), ...); }, kFields);
}

inline constexpr std::array<std::string_view, kColumnCount> kColumnNames = std::apply(
    [](const auto&... f) { return std::array<std::string_view, kColumnCount>{f.name...}; }, kFields);

// The position of a column in column order; kColumnCount for a name that is not a column.
constexpr size_t column_index(std::string_view name) {
  size_t i = 0;
  while (i < kColumnCount && kColumnNames[i] != name) ++i;
  return i;
}

// The kind of a column by name; kText for a name that is not a column (ask column_index first).
constexpr Kind kind_of(std::string_view name) {
  Kind out = Kind::kText;
  for_each_field([&](const auto& f) {
    if (f.name == name) out = f.kind;
  });
  return out;
}

namespace detail {
template <typename T>
constexpr bool fits(const Field<T>& f) {
  switch (f.kind) {
    case Kind::kInt32:
      return std::is_same_v<T, int32_t>;
    case Kind::kTimestamp:
      return std::is_same_v<T, int64_t>;
    case Kind::kFloat64:
      return std::is_same_v<T, double>;
    case Kind::kText:
      return std::is_same_v<T, std::string>;
  }
  return false;
}
static_assert(std::apply([](const auto&... f) { return (fits(f) && ...); }, kFields),
              "a field's kind must match its member's type");

// The characters of the column names joined by Sep (one or more characters).
template <char... Sep>
constexpr size_t joined_size() {
  size_t n = (kColumnCount - 1) * sizeof...(Sep);
  for (auto name : kColumnNames) n += name.size();
  return n;
}
template <char... Sep>
constexpr std::array<char, joined_size<Sep...>()> join() {
  std::array<char, joined_size<Sep...>()> out{};
  size_t at = 0;
  for (size_t i = 0; i < kColumnCount; ++i) {
    if (i > 0) ((out[at++] = Sep), ...);
    for (char c : kColumnNames[i]) out[at++] = c;
  }
  return out;
}
template <char... Sep>
inline constexpr auto kJoined = join<Sep...>();
}  // namespace detail

// The column names joined by Sep, as a constant: names<','>() is "vehicle_id,trip_id,...,color".
template <char... Sep>
constexpr std::string_view names() {
  return {detail::kJoined<Sep...>.data(), detail::kJoined<Sep...>.size()};
}

}  // namespace fp::trip
