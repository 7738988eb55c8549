// Parsing and validating the seed's trips CSV. Every rule names the field and the reason, so a rejected
// line can be reported as "line 17: latitude 95.5 outside [-90, 90]" and skipped (or, with --strict, stop
// the run before anything is written).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/trip/text.h"

namespace fp::gen {

// Checks the header line (a trailing '\r' is tolerated).
Status check_csv_header(std::string_view line);

// Parses one data line (without its '\n'; a trailing '\r' is tolerated) into m. On failure the error is
// kInvalidInput with the reason (no line number; the caller adds it). m is unspecified on failure.
Status parse_csv_line(std::string_view line, trip::Measurement& m);

// The value rules shared by every source (the CSV reader and, as a safety net, the simulator): ranges,
// fuel within capacity, ids positive, colour a lowercase word. The same rules the database's CHECKs enforce.
Status validate(const trip::Measurement& m);

}  // namespace fp::gen
