#include "generator/pg_sink.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/pg/error.h"
#include "common/trip/sql.h"

namespace fp::gen {

namespace {}  // namespace

std::string PgSink::endpoint() const {
  return fmt::format("postgresql://{}@{}:{}/{}", cfg_.user, cfg_.host, cfg_.port, cfg_.dbname);
}

Result<std::unique_ptr<PgSink>> PgSink::connect(const PgConfig& cfg) {
  std::unique_ptr<PgSink> s(new PgSink());
  s->cfg_ = cfg;
  FP_CHECK(s->ensure_connected(), "postgres sink");
  return s;
}

Status PgSink::ensure_connected() {
  if (conn_ && !conn_->broken() && conn_->probe_alive()) return ok_status();
  tx_.reset();
  conn_.reset();
  pg::ConnectOptions o;
  o.statement_timeout = std::chrono::milliseconds(120000);  // a COPY of a large batch on a busy server
  o.backoff = Backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(3000), 6};
  auto c = pg::Connection::connect(cfg_, o);
  if (!c.ok()) return std::move(c).error().context(fmt::format("connect to {}", endpoint()));
  conn_ = std::make_unique<pg::Connection>(std::move(*c));
  partitioned_.reset();  // another server may answer after a reconnect
  return ok_status();
}

Result<std::optional<Checkpoint>> PgSink::load_checkpoint(const std::string& run_id) {
  FP_CHECK(ensure_connected(), "load checkpoint");
  auto rows = FP_TRY(conn_->query("SELECT source, position, rows_delivered, rows_rejected, finished "
                                  "FROM generator_checkpoints WHERE run_id = $1",
                                  run_id),
                     "load checkpoint");
  if (rows.empty()) return std::optional<Checkpoint>{};
  Checkpoint cp;
  cp.run_id = run_id;
  cp.source = FP_TRY(rows.get<std::string>(0, 0), "checkpoint");
  cp.position = static_cast<uint64_t>(FP_TRY(rows.get<int64_t>(0, 1), "checkpoint"));
  cp.delivered = static_cast<uint64_t>(FP_TRY(rows.get<int64_t>(0, 2), "checkpoint"));
  cp.rejected = static_cast<uint64_t>(FP_TRY(rows.get<int64_t>(0, 3), "checkpoint"));
  cp.finished = FP_TRY(rows.get<bool>(0, 4), "checkpoint");
  return std::optional<Checkpoint>(cp);
}

Status PgSink::copy_rows(std::string_view copy_sql, const std::string& data) {
  auto copy = FP_TRY(conn_->copy_in(copy_sql), "COPY");
  FP_CHECK(copy.write(data), "COPY");
  FP_TRY(copy.finish(), "COPY");
  return ok_status();
}

Result<PgWrite> PgSink::stage(const Batch& batch, const Checkpoint& cp, bool rows_too) {
  FP_CHECK(ensure_connected(), "write batch");
  if (rows_too && batch.rows > 0)
    FP_CHECK(trip::ensure_partitions(*conn_, partition_minutes_, partitioned_, batch.times), "write batch");
  PgWrite w;
  for (int attempt = 0; attempt < 2; ++attempt) {
    tx_.reset();
    tx_.emplace(FP_TRY(conn_->begin(), "begin"));
    for (const Vehicle& v : rows_too ? batch.new_vehicles : std::vector<Vehicle>{}) {
      const Driver d = driver_for(v.driver_id);
      FP_TRY(conn_->query("INSERT INTO drivers (id, name, license_number) VALUES ($1, $2, $3) "
                          "ON CONFLICT DO NOTHING",
                          d.id, d.name, d.license_number),
             fmt::format("upsert driver {}", d.id));
      FP_TRY(conn_->query("INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) "
                          "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                          v.id, v.driver_id, v.make, v.model, v.fuel_capacity, v.color),
             fmt::format("upsert vehicle {}", v.id));
    }
    w = PgWrite{};
    if (rows_too && batch.rows > 0) {
      if (!staged_mode_) {
        auto st = copy_rows(fmt::format("COPY trips ({}) FROM STDIN", trip::kSqlColumns), batch.copy_text);
        if (!st.ok() && pg::is_unique_violation(st.error())) {
          // Rows of this input are already there (a re-run): from now on, skip duplicates row by row.
          log::info("generate",
                    "rows already present in trips; switching to staged COPY with ON CONFLICT DO NOTHING");
          staged_mode_ = true;
          tx_.reset();
          continue;
        }
        FP_CHECK(std::move(st), "load rows into trips");
        w.inserted = batch.rows;
      } else {
        FP_CHECK(
            conn_->exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS trips_stage AS SELECT {} FROM trips "
                                    "WITH NO DATA",
                                    trip::kSqlColumns)),
            "create staging table");
        FP_CHECK(conn_->exec("TRUNCATE trips_stage"), "clear staging table");
        FP_CHECK(
            copy_rows(fmt::format("COPY trips_stage ({}) FROM STDIN", trip::kSqlColumns), batch.copy_text),
            "load rows into staging table");
        auto r = FP_TRY(conn_->query(fmt::format("INSERT INTO trips ({0}) SELECT {0} FROM trips_stage "
                                                 "ON CONFLICT ON CONSTRAINT trips_natural_key DO NOTHING",
                                                 trip::kSqlColumns)),
                        "insert staged rows");
        w.inserted = static_cast<uint64_t>(r.affected());
      }
      w.duplicates = batch.rows - w.inserted;
    }
    FP_TRY(conn_->query(
               "INSERT INTO generator_checkpoints AS c (run_id, source, position, rows_delivered, "
               "rows_rejected, finished, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now()) "
               "ON CONFLICT (run_id) DO UPDATE SET source = EXCLUDED.source, position = EXCLUDED.position, "
               "rows_delivered = EXCLUDED.rows_delivered, rows_rejected = EXCLUDED.rows_rejected, "
               "finished = EXCLUDED.finished, updated_at = now()",
               cp.run_id, cp.source, static_cast<int64_t>(cp.position), static_cast<int64_t>(cp.delivered),
               static_cast<int64_t>(cp.rejected), cp.finished),
           "move checkpoint");
    return w;
  }
  return make_error("write batch: unreachable");
}

Status PgSink::commit() {
  if (!tx_) return make_error("commit: no open batch transaction");
  Status s = tx_->commit();
  tx_.reset();
  if (!s.ok()) return std::move(s).error().context(fmt::format("commit batch to {}", endpoint()));
  return ok_status();
}

void PgSink::rollback() {
  if (!tx_) return;
  if (auto s = tx_->rollback(); !s.ok()) log::warn("generate", "rollback: {}", s.error().message);
  tx_.reset();
}

}  // namespace fp::gen
