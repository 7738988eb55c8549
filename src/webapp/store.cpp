#include "webapp/store.h"

#include <charconv>
#include <deque>
#include <future>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "common/pg/error.h"
#include "common/trip/partitions.h"
#include "common/trip/sql.h"

namespace fp::webapp {

namespace {

constexpr const char* kComponent = "webapp";

// What the pages and the API read of a trip: its id and the record, the time in whole seconds as the record
// keeps it (the seconds a to_char(..., 'HH24:MI:SS') shows).
const std::string& returned_columns() {
  static const std::string kColumns = "id, " + trip::select_list("", "floor(extract(epoch FROM {}))::bigint");
  return kColumns;
}

// The statements, prepared on every (re)connect.
const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> kStatements = {
      {"health", "SELECT 1"},
      {"latest_per_vehicle",
       fmt::format("SELECT {} FROM vehicle_latest_locations ORDER BY measurement_time DESC, vehicle_id",
                   returned_columns())},
      // One statement, so one transaction: the row goes in only if the vehicle exists and its tank holds the
      // gallons; the outer SELECT always returns one row saying which (vehicle_capacity NULL: no vehicle;
      // id NULL: over capacity). A duplicate natural key fails the whole statement with 23505.
      {"insert_trip", fmt::format("WITH v AS (SELECT fuel_capacity FROM vehicles WHERE id = ${}), "
                                  "ins AS (INSERT INTO trips ({}) SELECT {} FROM v "
                                  "WHERE ${}::float8 <= v.fuel_capacity RETURNING {}) "
                                  "SELECT (SELECT fuel_capacity FROM v) AS vehicle_capacity, ins.* "
                                  "FROM (SELECT 1) AS one LEFT JOIN ins ON true",
                                  trip::param_number("vehicle_id"), trip::kSqlColumns, trip::placeholders(),
                                  trip::param_number("fuel_remaining_gallon"), returned_columns())},
      // The group-commit form of insert_trip: rows arrive as parallel arrays, row n of the answer belongs to
      // input n. Rows whose vehicle is missing or whose gallons exceed its tank are not inserted; a natural
      // key that exists already (or earlier in the same batch) is skipped by ON CONFLICT, and only the first
      // input row of a key in the batch is matched to the inserted row, so the others read as duplicates.
      {"insert_batch",
       fmt::format(
           "WITH input AS (SELECT * FROM unnest({0}) WITH ORDINALITY AS i({1}, n)), "
           "checked AS (SELECT i.*, v.fuel_capacity AS vehicle_capacity, row_number() OVER "
           "(PARTITION BY i.vehicle_id, i.trip_id, i.measurement_sequence ORDER BY i.n) = 1 AS first "
           "FROM input i LEFT JOIN vehicles v ON v.id = i.vehicle_id), "
           "ins AS (INSERT INTO trips ({1}) SELECT {1} FROM checked "
           "WHERE vehicle_capacity IS NOT NULL AND fuel_remaining_gallon <= vehicle_capacity ORDER BY n "
           "ON CONFLICT ON CONSTRAINT trips_natural_key DO NOTHING RETURNING {2}) "
           "SELECT c.vehicle_capacity, ins.* FROM checked c LEFT JOIN ins ON c.first AND "
           "ins.vehicle_id = c.vehicle_id AND ins.trip_id = c.trip_id AND "
           "ins.measurement_sequence = c.measurement_sequence ORDER BY c.n",
           trip::array_placeholders(), trip::kSqlColumns, returned_columns())},
      {"vehicle_exists", "SELECT 1 FROM vehicles WHERE id = $1"},
      // Keyset pagination on the natural key: a backward scan of trips_natural_key, whatever the table size.
      {"vehicle_trips",
       fmt::format(
           "SELECT {} FROM trips WHERE vehicle_id = $1 AND (trip_id, measurement_sequence) < ($2, $3) "
           "ORDER BY trip_id DESC, measurement_sequence DESC LIMIT $4",
           returned_columns())},
  };
  return kStatements;
}

Result<TripRow> read_row(const pg::Rows& rows, int r, int first_col) {
  TripRow row;
  row.id = FP_TRY(rows.get<int64_t>(r, first_col), "id");
  auto st = trip::read_row(rows, r, first_col + 1, row.trip, row.trip.measurement_time);
  if (!st.ok()) return std::move(st).error();
  return row;
}

Result<std::vector<TripRow>> read_rows(const pg::Rows& rows) {
  std::vector<TripRow> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) out.push_back(FP_TRY(read_row(rows, r, 0), fmt::format("row {}", r)));
  return out;
}

// Row r of insert_trip / insert_batch: (vehicle_capacity, trip columns...) with NULLs saying what failed.
InsertOutcome decode_insert(const pg::Rows& rows, int r, const trip::Measurement& t) {
  InsertOutcome out;
  auto capacity = rows.get<std::optional<double>>(r, 0);
  auto id = rows.get<std::optional<int64_t>>(r, 1);
  if (!capacity || !id) {
    out.failure = (!capacity ? capacity.error() : id.error()).context("insert trip");
  } else if (!*capacity) {
    out.errors.push_back({"vehicle_id", fmt::format("vehicle {} does not exist", t.vehicle_id)});
  } else if (!*id && t.fuel_remaining_gallon > **capacity) {
    out.errors.push_back({"fuel_remaining_gallon",
                          fmt::format("must not exceed the vehicle's fuel capacity ({})", **capacity)});
  } else if (!*id) {
    out.conflict = true;  // skipped by ON CONFLICT: the natural key exists
  } else if (auto row = read_row(rows, r, 1); row) {
    out.row = std::move(*row);
  } else {
    out.failure = std::move(row).error().context("insert trip");
  }
  return out;
}

// A failed statement's outcome for its row(s).
InsertOutcome decode_failure(const Error& e) {
  InsertOutcome out;
  if (pg::is_unique_violation(e)) {
    out.conflict = true;
  } else if (e.kind == Error::Kind::kInvalidInput) {
    // A CHECK the validation missed (or a stricter one added later): the input's fault, said plainly.
    out.errors.push_back({"trip", "was refused by the database: " + e.message});
  } else {
    out.failure = e;
  }
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
  writer_ = std::make_unique<BatchWriter>(*this, options_.writers, std::max<size_t>(1, options_.max_batch));
}

Store::~Store() = default;

Result<pg::Client> Store::connect() {
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
  log::info(kComponent, "database connection ready ({}:{})", cfg_.host, cfg_.port);
  return client;
}

void Store::observe(const std::string& name, std::chrono::steady_clock::time_point started, bool ok) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  registry_
      .histogram("webapp_db_query_duration_seconds", "Database statement latency, by statement.",
                 {{"query", name}}, metrics::exponential_buckets(0.0001, 2, 16))
      .observe(seconds);
  if (!ok) {
    registry_
        .counter("webapp_db_errors_total", "Failed database statements, by statement.", {{"query", name}})
        .inc();
  }
}

// Group commit: callers queue their trip and wait; each writer thread takes everything queued (up to
// max_batch) and stores it with one insert_batch statement on its own connection.
class Store::BatchWriter {
 public:
  BatchWriter(Store& store, int writers, size_t max_batch) : store_(store), max_batch_(max_batch) {
    for (int i = 0; i < std::max(1, writers); ++i) threads_.emplace_back([this] { loop(); });
  }
  ~BatchWriter() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  InsertOutcome insert(const trip::Measurement& trip) {
    Pending p{&trip, {}};
    auto done = p.done.get_future();
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        InsertOutcome out;
        out.failure = transient_error("the web app is shutting down");
        return out;
      }
      queue_.push_back(&p);
    }
    cv_.notify_one();
    return done.get();
  }

 private:
  struct Pending {
    const trip::Measurement* trip;
    std::promise<InsertOutcome> done;
  };

  void loop() {
    std::optional<pg::Client> client;
    Partitions partitions;
    for (;;) {
      std::vector<Pending*> batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        // Drain what is queued even when stopping: those callers are waiting for an answer.
        if (queue_.empty()) return;
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      auto outcomes = write(client, partitions, batch);
      for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(std::move(outcomes[i]));
    }
  }

  // What this writer knows of trips' partitions (common/trip/partitions.h), for its connection.
  struct Partitions {
    trip::PartitionMinutes minutes;
    std::optional<bool> available;
  };

  std::vector<InsertOutcome> write(std::optional<pg::Client>& client, Partitions& partitions,
                                   const std::vector<Pending*>& batch) {
    std::vector<InsertOutcome> out(batch.size());
    auto fail_all = [&](const Error& e) {
      for (auto& o : out) o = decode_failure(e);
      return out;
    };
    const auto started = std::chrono::steady_clock::now();
    if (!client) {
      auto c = store_.connect();
      if (!c) {
        store_.observe("insert_batch", started, false);
        return fail_all(c.error());
      }
      client.emplace(std::move(*c));
      partitions.minutes = trip::PartitionMinutes();
      partitions.available.reset();
    }
    std::vector<const trip::Measurement*> trips;
    std::vector<int64_t> times;
    for (auto* p : batch) {
      trips.push_back(p->trip);
      times.push_back(p->trip->measurement_time);
    }
    if (auto st = trip::ensure_partitions(*client, partitions.minutes, partitions.available, times); !st) {
      store_.observe("ensure_partitions", started, false);
      return fail_all(st.error());
    }
    store_.registry_
        .histogram("webapp_insert_batch_rows", "Trips stored per group-commit statement.", {},
                   metrics::exponential_buckets(1, 2, 10))
        .observe(static_cast<double>(trips.size()));
    auto rows = client->exec_prepared_params("insert_batch", trip::to_array_params(trips));
    store_.observe("insert_batch", started, rows.ok());
    if (!rows) {
      if (rows.error().kind != Error::Kind::kInvalidInput || batch.size() == 1) return fail_all(rows.error());
      // One row broke a constraint the validation does not know: store the others one by one, so only the
      // bad row fails.
      for (size_t i = 0; i < batch.size(); ++i) {
        const trip::Measurement& t = *batch[i]->trip;
        const auto one_started = std::chrono::steady_clock::now();
        auto one = client->exec_prepared_params("insert_trip", trip::to_params(t));
        store_.observe("insert_trip", one_started, one.ok());
        out[i] = one ? decode_insert(*one, 0, t) : decode_failure(one.error());
      }
      return out;
    }
    if (rows->size() != static_cast<int>(batch.size())) {
      return fail_all(make_error("insert batch: {} result rows for {} trips", rows->size(), batch.size()));
    }
    for (size_t i = 0; i < batch.size(); ++i)
      out[i] = decode_insert(*rows, static_cast<int>(i), *batch[i]->trip);
    return out;
  }

  Store& store_;
  const size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

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
    auto client = connect();
    if (!client) {
      observe(name, started, false);
      return std::move(client).error();
    }
    slot->client.emplace(std::move(*client));
  }
  auto rows = slot->client->exec_prepared_params(name, params);
  observe(name, started, rows.ok());
  return rows;
}

Result<std::vector<TripRow>> Store::latest_per_vehicle() {
  auto rows = FP_TRY(run("latest_per_vehicle", {}), "latest trip per vehicle");
  return read_rows(rows);
}

InsertOutcome Store::insert(const trip::Measurement& t) {
  return writer_->insert(t);
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
