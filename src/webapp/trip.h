// The validation both the HTML form and the JSON API go through, into the one trip record
// (common/trip/measurement.h). Validation is pure (no database): it checks types, ranges and formats and
// reports every bad field with a reason, so the caller can show all of them at once. What needs the database
// (the vehicle exists, the gallons fit its tank, the natural key is new) is checked by the insert itself (see
// store.h).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/trip/measurement.h"

namespace fp::webapp {

struct FieldError {
  std::string field;
  std::string reason;
};

struct Validation {
  std::optional<trip::Measurement> trip;  // set when errors is empty
  std::vector<FieldError> errors;
};

// The form/JSON field names, in display order (the trip's column order).
const std::vector<std::string>& trip_field_names();
// Human labels for the fields ("Fuel Remaining (%)").
std::string_view trip_field_label(std::string_view field);

// Longest accepted text of any field; longer values are rejected before parsing.
inline constexpr size_t kMaxFieldChars = 64;

// Validates text values (the HTML form: every value is a string). Missing, empty, malformed or out-of-range
// fields are each reported once; unknown fields are ignored (the form carries the CSRF token).
Validation validate_form(const std::multimap<std::string, std::string>& fields);

// Validates a JSON object: numbers must be JSON numbers (integers where the column is an integer), the time
// and colour strings. Unknown fields are errors (a typo must not silently drop a value).
Validation validate_json(const nlohmann::json& body);

// "YYYY-MM-DD HH:MM:SS", "YYYY-MM-DDTHH:MM:SS" or "YYYY-MM-DDTHH:MM" (what <input type=datetime-local>
// sends), with a real calendar date, normalised to "YYYY-MM-DD HH:MM:SS"; nullopt otherwise.
std::optional<std::string> parse_measurement_time(std::string_view text);

}  // namespace fp::webapp
