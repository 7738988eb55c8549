// The database session the batch lane reads the source through. Values travel as PostgreSQL's text, and
// verify compares the text export wrote: both sides must print every value the same way whatever the
// server's or the client's defaults, so the settings are part of the contract.
#pragma once

#include <chrono>
#include <string>

#include "common/pg/connection.h"

namespace fp::batch {

// UTC, ISO dates and shortest round-trip floats, named `application_name` in pg_stat_activity.
inline pg::ConnectOptions text_stable_session(std::string application_name,
                                              std::chrono::milliseconds statement_timeout) {
  pg::ConnectOptions o;
  o.statement_timeout = statement_timeout;
  o.settings = {{"TimeZone", "UTC"},
                {"DateStyle", "ISO, YMD"},
                {"extra_float_digits", "1"},
                {"application_name", std::move(application_name)}};
  return o;
}

}  // namespace fp::batch
