// The database rebuild (rebuild.h): one query for the latest points of every vehicle, applied as reads.
#include "realtime/rebuild.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/pg/client.h"
#include "common/trip/sql.h"

namespace fp::realtime {

Result<size_t> rebuild_from_database(const PgConfig& db, const std::string& schema, size_t track_limit,
                                     std::mutex& mu, FleetState& state) {
  pg::ConnectOptions co;
  co.statement_timeout = std::chrono::milliseconds(30000);
  co.settings = {{"search_path", schema}};
  auto client = FP_TRY(pg::Client::connect(db, co), "webapp database");
  // The time to the millisecond, as the change events carry it.
  static const std::string kSql = fmt::format(
      "SELECT t.id, {} "
      "FROM vehicles v CROSS JOIN LATERAL ("
      "  SELECT * FROM trips WHERE trips.vehicle_id = v.id "
      "  ORDER BY measurement_time DESC, trip_id DESC, measurement_sequence DESC LIMIT $1) t",
      trip::select_list("t.", "(extract(epoch FROM {}) * 1000)::bigint"));
  auto rows = FP_TRY(client.query(kSql, static_cast<int64_t>(track_limit)), "latest points per vehicle");
  std::lock_guard lock(mu);
  for (int i = 0; i < rows.size(); ++i) {
    ChangeEvent ev;
    ev.table = Table::kTrips;
    ev.op = Op::kRead;
    TripRow t;
    t.row_id = FP_TRY(rows.get<int64_t>(i, 0), "id");
    int64_t time_ms = 0;
    if (auto st = trip::read_row(rows, i, 1, t.m, time_ms); !st.ok()) return std::move(st).error();
    t.set_time_ms(time_ms);
    ev.trip = std::move(t);
    state.apply(ev);
  }
  log::info("realtime", "rebuilt {} vehicles from {} database rows", state.vehicle_count(), rows.size());
  return static_cast<size_t>(rows.size());
}

}  // namespace fp::realtime
