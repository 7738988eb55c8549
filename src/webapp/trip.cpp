#include "webapp/trip.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "common/trip/text.h"

namespace fp::webapp {

namespace {

// The form's label of each column, in column order.
constexpr std::array<std::string_view, trip::kColumnCount> kLabels = {
    "Vehicle ID", "Trip ID",       "Measurement Sequence", "Measurement Time",   "Latitude",
    "Longitude",  "Fuel Capacity", "Distance Traveled",    "Fuel Remaining (%)", "Fuel Remaining (gallon)",
    "Color",
};

// Values parsed from either source, before range checks: texts holds the time (normalised) and the colour.
struct Raw {
  std::map<std::string, long long, std::less<>> ints;
  std::map<std::string, double, std::less<>> doubles;
  std::map<std::string, std::string, std::less<>> texts;
};

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::optional<long long> parse_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  // fixed|scientific without hex: "1e3" and "12.5" parse, "0x10", "inf" and "nan" do not.
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool valid_color(std::string_view c) {
  if (c.empty() || c.size() > 20) return false;
  for (char ch : c) {
    if (ch < 'a' || ch > 'z') return false;
  }
  return true;
}

// Range checks shared by both sources; `errors` already holds the parse failures, and a field with a parse
// error is not range-checked again.
void check_ranges(Raw& raw, std::vector<FieldError>& errors) {
  auto failed = [&](std::string_view f) {
    for (const auto& e : errors) {
      if (e.field == f) return true;
    }
    return false;
  };
  auto add = [&](std::string f, std::string reason) {
    if (!failed(f)) errors.push_back({std::move(f), std::move(reason)});
  };
  constexpr long long kIntMax = std::numeric_limits<int32_t>::max();
  for (const auto& [f, v] : raw.ints) {
    if (v < 1) add(f, "must be at least 1");
    if (v > kIntMax) add(f, fmt::format("must be at most {}", kIntMax));
  }
  auto range = [&](const char* f, double lo, double hi, std::string_view what) {
    auto it = raw.doubles.find(f);
    if (it == raw.doubles.end()) return;
    if (it->second < lo || it->second > hi) add(f, std::string(what));
  };
  range("latitude", -90, 90, "must be between -90 and 90");
  range("longitude", -180, 180, "must be between -180 and 180");
  range("fuel_remaining_percent", 0, 100, "must be between 0 and 100");
  range("distance_traveled", 0, std::numeric_limits<double>::max(), "must be 0 or more");
  range("fuel_capacity", std::numeric_limits<double>::min(), 1000, "must be more than 0 and at most 1000");
  if (auto g = raw.doubles.find("fuel_remaining_gallon"); g != raw.doubles.end()) {
    auto cap = raw.doubles.find("fuel_capacity");
    if (g->second < 0) {
      add("fuel_remaining_gallon", "must be 0 or more");
    } else if (cap != raw.doubles.end() && !failed("fuel_capacity") && g->second > cap->second) {
      add("fuel_remaining_gallon", fmt::format("must not exceed the fuel capacity ({})", cap->second));
    }
  }
  if (auto c = raw.texts.find("color"); c != raw.texts.end() && !valid_color(c->second))
    add("color", "must be one lowercase word of 1 to 20 letters a-z");
}

// The errors in form order, then those of fields that are not columns (unknown JSON keys).
std::vector<FieldError> in_form_order(const std::vector<FieldError>& errors) {
  std::vector<FieldError> ordered;
  for (const auto& name : trip_field_names()) {
    for (const auto& e : errors) {
      if (e.field == name) ordered.push_back(e);
    }
  }
  for (const auto& e : errors) {
    if (trip::column_index(e.field) == trip::kColumnCount) ordered.push_back(e);
  }
  return ordered;
}

// The record from values that passed every check.
trip::Measurement record_of(const Raw& raw) {
  trip::Measurement t;
  trip::for_each_field([&](const auto& f) {
    const std::string name(f.name);
    if constexpr (trip::kIsText<decltype(f)>) {
      t.*f.member = raw.texts.at(name);
    } else if constexpr (trip::kIsTime<decltype(f)>) {
      t.*f.member = *trip::parse_time(raw.texts.at(name));  // normalised by parse_measurement_time
    } else if constexpr (std::is_same_v<std::remove_cvref_t<decltype(f)>, trip::Field<int32_t>>) {
      t.*f.member = static_cast<int32_t>(raw.ints.at(name));
    } else {
      t.*f.member = raw.doubles.at(name);
    }
  });
  return t;
}

Validation finish(Raw raw, std::vector<FieldError> errors) {
  check_ranges(raw, errors);
  Validation v;
  v.errors = in_form_order(errors);
  if (v.errors.empty()) v.trip = record_of(raw);
  return v;
}

// A string value of the time or a text column into raw (the time normalised), or its error.
void take_string(const std::string& name, std::string_view s, Raw& raw, std::vector<FieldError>& errors) {
  if (trip::kind_of(name) == trip::Kind::kText) {
    raw.texts[name] = s;
  } else if (auto t = parse_measurement_time(s)) {
    raw.texts[name] = *t;
  } else {
    errors.push_back({name, "must be a date and time like 2024-04-15 17:55:03"});
  }
}

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

const std::vector<std::string>& trip_field_names() {
  static const std::vector<std::string> kNames(trip::kColumnNames.begin(), trip::kColumnNames.end());
  return kNames;
}

std::string_view trip_field_label(std::string_view field) {
  const size_t i = trip::column_index(field);
  return i < kLabels.size() ? kLabels[i] : field;
}

std::optional<std::string> parse_measurement_time(std::string_view s) {
  // YYYY-MM-DD[ T]HH:MM[:SS]
  int y, mo, d, h, mi, sec = 0;
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  if (!digits(s, 0, 4, &y) || s[4] != '-' || !digits(s, 5, 2, &mo) || s[7] != '-' || !digits(s, 8, 2, &d) ||
      (s[10] != ' ' && s[10] != 'T') || !digits(s, 11, 2, &h) || s[13] != ':' || !digits(s, 14, 2, &mi)) {
    return std::nullopt;
  }
  if (s.size() == 19 && (s[16] != ':' || !digits(s, 17, 2, &sec))) return std::nullopt;
  if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int days = kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
  if (d < 1 || d > days) return std::nullopt;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, mo, d, h, mi, sec);
}

Validation validate_form(const std::multimap<std::string, std::string>& fields) {
  Raw raw;
  std::vector<FieldError> errors;
  for (const auto& name : trip_field_names()) {
    auto it = fields.find(name);
    if (it == fields.end()) {
      errors.push_back({name, "is required"});
      continue;
    }
    if (fields.count(name) > 1) {
      errors.push_back({name, "was given more than once"});
      continue;
    }
    if (it->second.size() > kMaxFieldChars) {
      errors.push_back({name, fmt::format("is too long (at most {} characters)", kMaxFieldChars)});
      continue;
    }
    const std::string value = trim(it->second);
    if (value.empty()) {
      errors.push_back({name, "is required"});
      continue;
    }
    if (trip::kind_of(name) == trip::Kind::kInt32) {
      if (auto v = parse_int(value)) {
        raw.ints[name] = *v;
      } else {
        errors.push_back({name, "must be a whole number"});
      }
    } else if (trip::kind_of(name) == trip::Kind::kTimestamp || trip::kind_of(name) == trip::Kind::kText) {
      take_string(name, value, raw, errors);
    } else if (auto v = parse_double(value)) {
      raw.doubles[name] = *v;
    } else {
      errors.push_back({name, "must be a number"});
    }
  }
  return finish(std::move(raw), std::move(errors));
}

Validation validate_json(const nlohmann::json& body) {
  Raw raw;
  std::vector<FieldError> errors;
  if (!body.is_object()) return Validation{std::nullopt, {{"body", "must be a JSON object"}}};
  std::set<std::string, std::less<>> known(trip_field_names().begin(), trip_field_names().end());
  for (const auto& [key, value] : body.items()) {
    if (!known.count(key)) {
      errors.push_back({key.size() > kMaxFieldChars ? key.substr(0, kMaxFieldChars) + "…" : key,
                        "is not a field of a trip"});
    }
  }
  for (const auto& name : trip_field_names()) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
      errors.push_back({name, "is required"});
      continue;
    }
    const auto& v = *it;
    if (trip::kind_of(name) == trip::Kind::kInt32) {
      if (v.is_number_integer()) {
        // Unsigned values beyond int64 are caught by the range check as too large.
        raw.ints[name] = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)
                             ? std::numeric_limits<long long>::max()
                             : v.get<long long>();
      } else {
        errors.push_back({name, "must be an integer"});
      }
    } else if (trip::kind_of(name) == trip::Kind::kTimestamp || trip::kind_of(name) == trip::Kind::kText) {
      if (!v.is_string()) {
        errors.push_back({name, "must be a string"});
        continue;
      }
      const auto& s = v.get_ref<const std::string&>();
      if (s.size() > kMaxFieldChars) {
        errors.push_back({name, fmt::format("is too long (at most {} characters)", kMaxFieldChars)});
      } else {
        take_string(name, s, raw, errors);
      }
    } else if (v.is_number()) {
      const double d = v.get<double>();
      if (std::isfinite(d)) {
        raw.doubles[name] = d;
      } else {
        errors.push_back({name, "must be a finite number"});
      }
    } else {
      errors.push_back({name, "must be a number"});
    }
  }
  return finish(std::move(raw), std::move(errors));
}

}  // namespace fp::webapp
