// JSON text written by hand on hot paths (the exporter's NDJSON, the generator's Kafka values), where
// building a JSON tree per row would cost more than the row: the one string-literal escaper they share.
#pragma once

#include <string>
#include <string_view>

namespace fp {

// Appends s as a JSON string literal, quotes included: ", \ and control characters escaped (RFC 8259);
// other bytes, UTF-8 included, pass through.
void append_json_string(std::string& out, std::string_view s);

}  // namespace fp
