#include "webapp/store.h"

#include <charconv>

#include "common/log.h"
#include "common/metrics.h"

namespace fp::webapp {

namespace {

constexpr const char* kComponent = "webapp";

constexpr const char* kColumns =
    "id, vehicle_id, trip_id, measurement_sequence, "
    "to_char(measurement_time, 'YYYY-MM-DD HH24:MI:SS') AS measurement_time, latitude, longitude, "
    "fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color";

// The statements, prepared on every (re)connect.
const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> kStatements = {
      {"health", "SELECT 1"},
      {"latest_per_vehicle",
       fmt::format("SELECT {} FROM vehicle_latest_locations ORDER BY measurement_time DESC, vehicle_id",
                   kColumns)},
      // One statement, so one transaction: the row goes in only if the vehicle exists and its tank holds the
      // gallons; the outer SELECT always returns one row saying which (vehicle_capacity NULL: no vehicle;
      // id NULL: over capacity). A duplicate natural key fails the whole statement with 23505.
      {"insert_trip",
       fmt::format("WITH v AS (SELECT fuel_capacity FROM vehicles WHERE id = $1), "
                   "ins AS (INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, "
                   "latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, "
                   "fuel_remaining_gallon, color) "
                   "SELECT $1, $2, $3, $4::timestamp, $5, $6, $7, $8, $9, $10, $11 FROM v "
                   "WHERE $10::float8 <= v.fuel_capacity RETURNING {}) "
                   "SELECT (SELECT fuel_capacity FROM v) AS vehicle_capacity, ins.* "
                   "FROM (SELECT 1) AS one LEFT JOIN ins ON true",
                   kColumns)},
      {"vehicle_exists", "SELECT 1 FROM vehicles WHERE id = $1"},
      // Keyset pagination on the natural key: a backward scan of trips_natural_key, whatever the table size.
      {"vehicle_trips",
       fmt::format(
           "SELECT {} FROM trips WHERE vehicle_id = $1 AND (trip_id, measurement_sequence) < ($2, $3) "
           "ORDER BY trip_id DESC, measurement_sequence DESC LIMIT $4",
           kColumns)},
  };
  return kStatements;
}

Result<TripRow> read_row(const pg::Rows& rows, int r, int first_col) {
  TripRow row;
  int c = first_col;
  row.id = FP_TRY(rows.get<int64_t>(r, c++), "id");
  auto& t = row.trip;
  t.vehicle_id = FP_TRY(rows.get<int32_t>(r, c++), "vehicle_id");
  t.trip_id = FP_TRY(rows.get<int32_t>(r, c++), "trip_id");
  t.measurement_sequence = FP_TRY(rows.get<int32_t>(r, c++), "measurement_sequence");
  t.measurement_time = FP_TRY(rows.get<std::string>(r, c++), "measurement_time");
  t.latitude = FP_TRY(rows.get<double>(r, c++), "latitude");
  t.longitude = FP_TRY(rows.get<double>(r, c++), "longitude");
  t.fuel_capacity = FP_TRY(rows.get<double>(r, c++), "fuel_capacity");
  t.distance_traveled = FP_TRY(rows.get<double>(r, c++), "distance_traveled");
  t.fuel_remaining_percent = FP_TRY(rows.get<double>(r, c++), "fuel_remaining_percent");
  t.fuel_remaining_gallon = FP_TRY(rows.get<double>(r, c++), "fuel_remaining_gallon");
  t.color = FP_TRY(rows.get<std::string>(r, c++), "color");
  return row;
}

Result<std::vector<TripRow>> read_rows(const pg::Rows& rows) {
  std::vector<TripRow> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) out.push_back(FP_TRY(read_row(rows, r, 0), fmt::format("row {}", r)));
  return out;
}

}  // namespace

std::optional<Cursor> parse_cursor(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  Cursor c;
  auto parse = [](std::string_view s, int* out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty() && *out >= 1;
  };
  if (!parse(text.substr(0, dot), &c.trip_id) || !parse(text.substr(dot + 1), &c.measurement_sequence)) {
    return std::nullopt;
  }
  return c;
}

struct Store::Slot {
  std::optional<pg::Client> client;
};

Store::Store(PgConfig cfg, StoreOptions options, metrics::Registry& registry)
    : cfg_(std::move(cfg)), options_(std::move(options)), registry_(registry) {
  for (int i = 0; i < std::max(1, options_.pool_size); ++i) {
    slots_.push_back(std::make_unique<Slot>());
    free_.push_back(slots_.back().get());
  }
}

Store::~Store() = default;

Result<pg::Rows> Store::run(const std::string& name, const pg::Params& params) {
  Slot* slot = nullptr;
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, options_.checkout_timeout, [this] { return !free_.empty(); })) {
      return transient_error("no database connection free within {} ms", options_.checkout_timeout.count());
    }
    slot = free_.back();
    free_.pop_back();
  }
  struct GiveBack {
    Store* store;
    Slot* slot;
    ~GiveBack() {
      {
        std::lock_guard lock(store->mu_);
        store->free_.push_back(slot);
      }
      store->cv_.notify_one();
    }
  } give_back{this, slot};

  const auto started = std::chrono::steady_clock::now();
  if (!slot->client) {
    pg::ConnectOptions opts;
    opts.connect_timeout_s = options_.connect_timeout_s;
    opts.statement_timeout = options_.statement_timeout;
    // A request must fail fast while the database is down; the next request tries again.
    opts.backoff = Backoff{std::chrono::milliseconds(50), std::chrono::milliseconds(200), 2};
    // The application name lets operators (and tests) tell the web app's sessions apart.
    std::string app_name = "fleetpipe-webapp";
    if (options_.schema != "public") {
      opts.settings.emplace_back("search_path", options_.schema);
      app_name = (app_name + "/" + options_.schema).substr(0, 63);
    }
    opts.settings.emplace_back("application_name", app_name);
    auto client = pg::Client::connect(cfg_, opts);
    if (!client) return std::move(client).error().context("connect to the webapp database");
    for (const auto& [n, sql] : statements()) {
      FP_CHECK(client->prepare(n, sql), fmt::format("prepare {}", n));
    }
    slot->client.emplace(std::move(*client));
    log::info(kComponent, "database connection ready ({})", cfg_.host + ":" + std::to_string(cfg_.port));
  }
  auto rows = slot->client->exec_prepared_params(name, params);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  registry_
      .histogram("webapp_db_query_duration_seconds", "Database statement latency, by statement.",
                 {{"query", name}}, metrics::exponential_buckets(0.0001, 2, 16))
      .observe(seconds);
  if (!rows) {
    registry_
        .counter("webapp_db_errors_total", "Failed database statements, by statement.", {{"query", name}})
        .inc();
  }
  return rows;
}

Result<std::vector<TripRow>> Store::latest_per_vehicle() {
  auto rows = FP_TRY(run("latest_per_vehicle", {}), "latest trip per vehicle");
  return read_rows(rows);
}

InsertOutcome Store::insert(const TripInput& t) {
  InsertOutcome out;
  auto rows =
      run("insert_trip", pg::make_params(t.vehicle_id, t.trip_id, t.measurement_sequence, t.measurement_time,
                                         t.latitude, t.longitude, t.fuel_capacity, t.distance_traveled,
                                         t.fuel_remaining_percent, t.fuel_remaining_gallon, t.color));
  if (!rows) {
    const Error& e = rows.error();
    if (e.message.find("23505") != std::string::npos) {
      out.conflict = true;
    } else if (e.kind == Error::Kind::kInvalidInput) {
      // A CHECK the validation missed (or a stricter one added later): the input's fault, said plainly.
      out.errors.push_back({"trip", "was refused by the database: " + e.message});
    } else {
      out.failure = e;
    }
    return out;
  }
  if (rows->size() != 1) {
    out.failure = make_error("insert trip: expected one result row, got {}", rows->size());
    return out;
  }
  auto capacity = rows->get<std::optional<double>>(0, 0);
  auto id = rows->get<std::optional<int64_t>>(0, 1);
  if (!capacity || !id) {
    out.failure = (!capacity ? capacity.error() : id.error()).context("insert trip");
  } else if (!*capacity) {
    out.errors.push_back({"vehicle_id", fmt::format("vehicle {} does not exist", t.vehicle_id)});
  } else if (!*id) {
    out.errors.push_back({"fuel_remaining_gallon",
                          fmt::format("must not exceed the vehicle's fuel capacity ({})", **capacity)});
  } else if (auto row = read_row(*rows, 0, 1); row) {
    out.row = std::move(*row);
  } else {
    out.failure = std::move(row).error().context("insert trip");
  }
  return out;
}

Result<TripPage> Store::vehicle_trips(int vehicle_id, int limit, std::optional<Cursor> before) {
  auto exists = FP_TRY(run("vehicle_exists", pg::make_params(vehicle_id)), "vehicle lookup");
  if (exists.empty())
    return Error{fmt::format("vehicle {} does not exist", vehicle_id), Error::Kind::kNotFound};
  const Cursor c = before.value_or(Cursor{INT32_MAX, INT32_MAX});
  auto rows =
      FP_TRY(run("vehicle_trips", pg::make_params(vehicle_id, c.trip_id, c.measurement_sequence, limit)),
             "vehicle trips");
  TripPage page;
  page.rows = FP_TRY(read_rows(rows), "vehicle trips");
  if (static_cast<int>(page.rows.size()) == limit && !page.rows.empty()) {
    const auto& last = page.rows.back().trip;
    page.next = fmt::format("{}.{}", last.trip_id, last.measurement_sequence);
  }
  return page;
}

httpd::Health Store::health() {
  auto rows = run("health", {});
  if (!rows) return httpd::Health{false, {{"database", "unreachable"}, {"error", rows.error().message}}};
  return httpd::Health{true, {{"database", "ok"}}};
}

}  // namespace fp::webapp
