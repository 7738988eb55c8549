// The web app's database access: a small pool of reconnecting pg::Clients (one per worker thread at most),
// the three queries the pages and the API need, as prepared statements, and their latency metrics.
//
// A pool slot connects lazily and heals itself (pg::Client), so the service starts and keeps answering (503)
// while the database is down and recovers by itself when it returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "common/http/server.h"
#include "common/pg/client.h"
#include "webapp/trip.h"

namespace fp::metrics {
class Registry;
class Histogram;
class Counter;
}  // namespace fp::metrics

namespace fp::webapp {

// A stored trip row, as read back.
struct TripRow {
  int64_t id = 0;
  trip::Measurement trip;
};

struct StoreOptions {
  int pool_size = 4;
  std::string schema = "public";  // search_path: lets a benchmark run against a scratch copy of the schema
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds checkout_timeout{5000};
  int connect_timeout_s = 2;
  // Inserts are group-committed: concurrent submissions wait together and go in as one multi-row statement
  // (one transaction, one WAL flush) on one of `writers` dedicated connections, up to max_batch rows each.
  int writers = 2;
  size_t max_batch = 256;
};

// What an insert came to. Exactly one of row, errors (bad input only the database can see: the vehicle does
// not exist, the gallons exceed its tank), conflict (the natural key exists) or failure (database trouble).
struct InsertOutcome {
  std::optional<TripRow> row;
  std::vector<FieldError> errors;
  bool conflict = false;
  std::optional<Error> failure;
};

// A keyset page of one vehicle's trips, newest (trip, sequence) first.
struct TripPage {
  std::vector<TripRow> rows;
  std::optional<std::string> next;  // cursor for the following page: "<trip_id>.<sequence>"
};
struct Cursor {
  int trip_id = 0;
  int measurement_sequence = 0;
};
// "12.40" -> {12, 40}; nullopt when malformed.
std::optional<Cursor> parse_cursor(std::string_view text);

class Store {
 public:
  Store(PgConfig cfg, StoreOptions options, metrics::Registry& registry);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Each vehicle's latest measurement, newest first (vehicle_latest_locations: one index probe per vehicle).
  Result<std::vector<TripRow>> latest_per_vehicle();
  // Inserts one trip in one statement (one transaction): the vehicle check, its capacity check and the
  // insert.
  InsertOutcome insert(const trip::Measurement& trip);
  // Up to `limit` trips of a vehicle before the cursor; a not-found error when the vehicle does not exist.
  Result<TripPage> vehicle_trips(int vehicle_id, int limit, std::optional<Cursor> before);
  // SELECT 1 on a pooled connection.
  httpd::Health health();

 private:
  struct Slot;
  class BatchWriter;
  // A new connection with the session settings and the prepared statements.
  Result<pg::Client> connect();
  void observe(const std::string& name, std::chrono::steady_clock::time_point started, bool ok);
  // Runs one prepared statement on a pooled connection (connecting the slot first if needed) and records
  // its latency under the statement's name.
  Result<pg::Rows> run(const std::string& name, const pg::Params& params);

  PgConfig cfg_;
  StoreOptions options_;
  metrics::Registry& registry_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
  std::unique_ptr<BatchWriter> writer_;  // last: its threads stop first
};

}  // namespace fp::webapp
