// The database session the batch lane reads the source through. Values travel as PostgreSQL's text, and
// verify compares the text export wrote: both sides must print every value the same way whatever the
// server's or the client's defaults, so the settings are part of the contract.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"
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

// Takes the session advisory lock that keeps a second export (or load) off the database, waiting up to
// `wait` for it: the lock of a process that was just killed is released only once its backend notices the
// closed socket, so a rerun right after a crash must not fail for it. Still held after `wait` (another run
// is really going): a transient error saying `what` is running. The wait is the server's (lock_timeout),
// woken the moment the lock is released.
Status take_run_lock(pg::Connection& conn, int64_t key, std::chrono::milliseconds wait,
                     std::string_view what);

}  // namespace fp::batch
