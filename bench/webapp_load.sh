#!/usr/bin/env bash
# Loads a scratch copy of the webapp schema (schema "bench" in its own database "webapp_bench" on the webapp
# server: the real tables stay untouched, and Debezium's decoder, which reads every WAL record of its own
# database, skips this load's gigabytes of WAL cheaply) with
# VEHICLES vehicles x TRIPS trips x SEQS measurements (default 100 x 1000 x 100 = 10 M trip rows), through the
# real migrations and the real triggers, with set-based INSERT ... SELECT generate_series.
# Usage: bench/webapp_load.sh   (env: POSTGRES_* as for fleetpipe; VEHICLES, TRIPS, SEQS)
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${FLEETPIPE_STATE_DIR:-$PWD/var}"
if [[ -z "${POSTGRES_PASSWORD:-}" && -f "$STATE/credentials.env" ]]; then
  POSTGRES_PASSWORD="$(grep '^POSTGRES_PASSWORD=' "$STATE/credentials.env" | cut -d= -f2-)"
fi
BENCH_DB="${BENCH_DB:-webapp_bench}"
export PGHOST="${POSTGRES_HOST:-localhost}" PGPORT="${POSTGRES_PORT:-5433}" PGDATABASE="${POSTGRES_DB:-webapp}"
export PGUSER="${POSTGRES_USER:-fleetpipe}" PGPASSWORD="$POSTGRES_PASSWORD"
VEHICLES="${VEHICLES:-100}" TRIPS="${TRIPS:-1000}" SEQS="${SEQS:-100}"
SCHEMA="${BENCH_SCHEMA:-bench}"

if [[ -z "$(psql -At -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")" ]]; then
  psql -q -c "CREATE DATABASE $BENCH_DB"
fi
export PGDATABASE="$BENCH_DB"
psql -v ON_ERROR_STOP=1 -q <<SQL
DROP SCHEMA IF EXISTS $SCHEMA CASCADE;
CREATE SCHEMA $SCHEMA;
SET search_path = $SCHEMA;
\i sql/webapp/001_core_tables.sql
\i sql/webapp/002_latest_locations.sql
\i sql/webapp/005_vehicle_latest_index.sql
INSERT INTO drivers SELECT g, 'Driver ' || g, 'B' || g FROM generate_series(1, $VEHICLES) g;
INSERT INTO vehicles SELECT g, g, 'Ford', 'Transit', 50,
    (ARRAY['red','green','blue','yellow','orange','black'])[1 + g % 6] FROM generate_series(1, $VEHICLES) g;
SQL
start=$(date +%s)
# One statement per block of vehicles keeps each trigger's transition table (and its sort) moderate.
for ((v = 1; v <= VEHICLES; v += 10)); do
  last=$((v + 9 > VEHICLES ? VEHICLES : v + 9))
  psql -v ON_ERROR_STOP=1 -q -c "SET search_path = $SCHEMA;
    INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude,
                       fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
    SELECT v, t, s, timestamp '2024-01-01' + (t * $SEQS + s) * interval '10 s' + v * interval '1 s',
           (v % 170) - 85 + s * 0.001, (t % 350) - 175 + s * 0.001, 50, s * 10.0,
           100 - s * 100.0 / $SEQS, 50 - s * 50.0 / $SEQS, 'red'
    FROM generate_series($v, $last) v, generate_series(1, $TRIPS) t, generate_series(1, $SEQS) s"
  printf '\r  vehicles %d-%d loaded (%ds)' "$v" "$last" $(( $(date +%s) - start ))
done
echo
# The web app logs in as its own role (sql/grants/webapp.sql); here it also keeps trip_latest, whose triggers
# in this copy run as the caller.
APP_ROLE="${FLEETPIPE_APP_DB_USER:-fleetpipe_app}"
psql -v ON_ERROR_STOP=1 -q -c "GRANT CONNECT ON DATABASE $BENCH_DB TO $APP_ROLE" \
  -c "GRANT USAGE ON SCHEMA $SCHEMA TO $APP_ROLE" \
  -c "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA $SCHEMA TO $APP_ROLE" \
  -c "GRANT USAGE ON ALL SEQUENCES IN SCHEMA $SCHEMA TO $APP_ROLE"
psql -q -c "VACUUM ANALYZE $SCHEMA.trips" -c "VACUUM ANALYZE $SCHEMA.trip_latest" -c "ANALYZE $SCHEMA.vehicles"
psql -At -c "SELECT 'trips: ' || count(*) FROM $SCHEMA.trips" -c "SELECT 'trip_latest: ' || count(*) FROM $SCHEMA.trip_latest"
