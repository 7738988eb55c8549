#!/usr/bin/env bash
# What one minute's `dbt build` costs on a large history, beside `dbt build --full-refresh` on the same
# history in the same run: the warehouse models alone, without export and load in the way.
#
#   1. A scratch warehouse database (BENCH_DB, default warehouse_dbt_scale; dropped and created with
#      sql/warehouse/*.sql) gets BENCH_HISTORY rows (default 10 000 000) straight into raw.trips: 500
#      vehicles, trips of 180 points a minute apart; then a first build and a full refresh (timed).
#   2. BENCH_INCREMENTS times (default 5): one minute of BENCH_LIVE_VEHICLES vehicles (default 2 000)
#      reporting once a second appended to their current trips (120 000 rows), then an incremental build.
#   Prints each build's wall time and its models' times; medians of the increments at the end.
#
#   bench/dbt_scale.sh        # with the stack up (its warehouse server); leaves BENCH_DB in place
set -euo pipefail
cd "$(dirname "$0")/.."
HISTORY=${BENCH_HISTORY:-10000000}
INCREMENTS=${BENCH_INCREMENTS:-5}
LIVE=${BENCH_LIVE_VEHICLES:-2000}
DB=${BENCH_DB:-warehouse_dbt_scale}
BIN=build/fleetpipe
OUT=$(mktemp -d)
cfg=$($BIN config --reveal-secrets)
url() { jq -r --arg db "$1" '.warehouse | "postgresql://\(.user):\(.password)@\(.host):\(.port)/\($db)"' <<<"$cfg"; }
q() { psql "$(url "$1")" -XAtq -v ON_ERROR_STOP=1 "${@:2}"; }
now() { date +%s.%N; }
build() {  # $1: label, rest: dbt args; prints the wall time and the models' times
  local t0 t
  t0=$(now)
  DW_POSTGRES_DB=$DB scripts/dbt.sh build "${@:2}" >"$OUT/$1.log" 2>&1 || { echo "$1: dbt failed, see $OUT/$1.log"; exit 1; }
  t=$(echo "$(now) - $t0" | bc)
  echo "$t" >>"$OUT/$1.time"
  printf '%-14s %7.1f s  ' "$1" "$t"
  grep -E 'OK created sql incremental' "$OUT/$1.log" | sed -E 's/.*model [a-z]+\.([a-z_]+) .* in ([0-9.]+)s.*/\1 \2/' |
    tr '\n' ' '
  echo
}

q postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
# The migrations and the roles' grants, as `up` applies them: dbt logs in as the pipeline's role.
DW_POSTGRES_DB=$DB build/fleetpipe db apply >/dev/null
echo "history: $HISTORY rows into $DB.raw.trips"
q "$DB" <<SQL
INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count) VALUES ('bench/history', 'x', 'trips', 0);
INSERT INTO raw.drivers (id, name, license_number, created_at, _object_key)
SELECT v, 'D' || v, 'L' || v, now(), 'bench/history' FROM generate_series(1, 500 + $LIVE) v;
INSERT INTO raw.vehicles (id, driver_id, make, model, fuel_capacity, color, created_at, _object_key)
SELECT v, v, 'Make', 'Model', 60, 'blue', now(), 'bench/history' FROM generate_series(1, 500 + $LIVE) v;
INSERT INTO raw.trips (id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
  fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color, _object_key, _source_xid)
SELECT g, 1 + (g / 180) % 500, 1 + g / 90000, 1 + g % 180,
  timestamp '2026-11-01' + ((g / 90000) * 4 * 3600 + (g % 180) * 60) * interval '1 second',
  40, -73, 60, (g % 180) * 1.0, 50, 50 - (g % 180) * 0.1, 'blue', 'bench/history', 1
FROM generate_series(0, $HISTORY - 1) g;
ANALYZE raw.trips;
SQL
build first
build full-refresh --full-refresh --vars "{full_refresh_from_raw: true}"  # the lane is full_refresh: false otherwise
for k in $(seq 1 "$INCREMENTS"); do
  q "$DB" -c "INSERT INTO raw.trips (id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude,
      longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color,
      _object_key, _source_xid)
    SELECT 1000000000 + v * 100000 + s, v, 1, s, timestamp '2026-12-01' + s * interval '1 second', 40, -73, 60,
      s * 0.01, 50, 50 - s * 0.001, 'blue', 'bench/history', 2
    FROM generate_series(501, 500 + $LIVE) v, generate_series(($k - 1) * 60 + 1, $k * 60) s"
  build increment
done
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
inc=$(median <"$OUT/increment.time")
full=$(cat "$OUT/full-refresh.time")
echo "incremental build median $inc s over $INCREMENTS increments of $((LIVE * 60)) rows;" \
  "full refresh $full s; ratio $(echo "scale=3; $inc / $full" | bc) (target <= 0.1). Logs: $OUT"
