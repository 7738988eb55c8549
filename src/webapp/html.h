// The web app's HTML: escaping and the pages. Every value that reaches the markup goes through escape(),
// whether it came from the request or the database.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "webapp/store.h"
#include "webapp/trip.h"

namespace fp::webapp::html {

// Escapes & < > " ' for text and double- or single-quoted attribute values.
std::string escape(std::string_view s);

// Shortest round-trip text of a number ("2", "56.9268048001").
std::string number(double v);

// The <table> of latest trips (or an empty-state paragraph).
std::string latest_table(const std::vector<TripRow>& rows);

// What the form shows: the submitted values (kept on error), each field's error, and a banner message.
struct FormState {
  std::multimap<std::string, std::string> values;
  std::vector<FieldError> errors;
  std::string banner;  // e.g. "This measurement already exists."
};

// The whole page: the latest-trips section (table_html, or a notice when empty) and the form.
std::string page(std::string_view table_html, const FormState& form, std::string_view csrf_token);

// A short page for failures (503 when the database is down, 403 on a bad CSRF token).
std::string message_page(std::string_view title, std::string_view message);

}  // namespace fp::webapp::html

namespace fp::webapp {
nlohmann::json to_json(const TripRow& row);
}
