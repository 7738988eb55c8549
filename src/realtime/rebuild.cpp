// The database rebuild (rebuild.h): one query for every vehicle's newest point and the recent track of the
// vehicles that reported lately, applied as reads in time order.
#include "realtime/rebuild.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/pg/client.h"
#include "common/trip/sql.h"

namespace fp::realtime {

namespace {

// What the query costs is bounded by the fleet's size (one index probe per vehicle for its newest point, on
// trip_latest, sql/webapp/005) plus the tracks: at most $3 vehicles times $1 points, each track one backward
// range of the natural-key index. Reading every vehicle's track instead read tens of millions of rows on a
// large history and ran past the statement timeout.
//  - recent: the vehicles whose newest point is within $2 seconds of the fleet's newest. "Newest" leaves out
//    points dated in the future (a vehicle clock or a typed-in row): one of them would otherwise make every
//    other vehicle look old.
//  - a track is the last points of the vehicle's newest trip, as the live stream draws it.
//  - rows come out per vehicle in time order, so each is an append to the state (a late point costs a sorted
//    insert and a recomputation of the track's speeds).
std::string rebuild_sql() {
  return fmt::format(
      "WITH latest AS MATERIALIZED ("
      "  SELECT id, vehicle_id, trip_id, measurement_time FROM vehicle_latest_locations), "
      "newest AS (SELECT coalesce(max(measurement_time) FILTER ("
      "             WHERE measurement_time <= localtimestamp + interval '5 minutes'), "
      "           max(measurement_time)) AS at FROM latest), "
      "recent AS MATERIALIZED ("
      "  SELECT l.vehicle_id, l.trip_id FROM latest l, newest n "
      "  WHERE l.measurement_time >= n.at - make_interval(secs => $2::double precision) "
      "  ORDER BY l.measurement_time DESC LIMIT $3), "
      "points AS ("
      "  SELECT l.id FROM latest l WHERE NOT EXISTS (SELECT 1 FROM recent r WHERE r.vehicle_id = "
      "l.vehicle_id) "
      "  UNION ALL "
      "  SELECT p.id FROM recent r CROSS JOIN LATERAL ("
      "    SELECT trips.id FROM trips WHERE trips.vehicle_id = r.vehicle_id AND trips.trip_id = r.trip_id "
      "    ORDER BY trips.measurement_sequence DESC LIMIT $1) p) "
      "SELECT t.id, {} FROM points JOIN trips t ON t.id = points.id "
      "ORDER BY t.vehicle_id, t.measurement_time, t.measurement_sequence",
      // The time to the millisecond, as the change events carry it.
      trip::select_list("t.", "(extract(epoch FROM {}) * 1000)::bigint"));
}

}  // namespace

Result<size_t> rebuild_from_database(const PgConfig& db, const RebuildOptions& options, std::mutex& mu,
                                     FleetState& state) {
  pg::ConnectOptions co;
  co.statement_timeout = options.timeout;
  co.settings = {{"search_path", options.schema}};
  auto client = FP_TRY(pg::Client::connect(db, co), "webapp database");
  static const std::string kSql = rebuild_sql();
  auto rows = FP_TRY(client.query(kSql, static_cast<int64_t>(options.track_points),
                                  static_cast<double>(options.track_window.count()),
                                  static_cast<int64_t>(options.track_vehicles)),
                     "latest points per vehicle");
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
