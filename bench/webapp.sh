#!/usr/bin/env bash
# Web app benchmark: wrk against "/", "/api/trips/latest" and "/submit" (valid, distinct trips with a valid
# CSRF token), beside a static file served by the same server in the same run (the server's ceiling), with
# 10 M trip rows in a scratch copy of the schema in its own database (bench/webapp_load.sh loads it when
# missing).
# Usage: bench/webapp.sh   (env: POSTGRES_* as for fleetpipe; DURATION=10s THREADS=2, READ_CONNECTIONS=16 for
# the GETs, WRITE_CONNECTIONS=64 for /submit: submissions are group-committed, so throughput grows with
# concurrency while each one still waits for its own commit; BUILD=dir of the fleetpipe serving, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}" THREADS="${THREADS:-2}"
READ_CONNECTIONS="${READ_CONNECTIONS:-16}" WRITE_CONNECTIONS="${WRITE_CONNECTIONS:-64}"
SCHEMA="${BENCH_SCHEMA:-bench}" ROWS="${ROWS:-10000000}" BENCH_DB="${BENCH_DB:-webapp_bench}" BUILD="${BUILD:-build}"
STATE="${FLEETPIPE_STATE_DIR:-$PWD/var}"
if [[ -z "${POSTGRES_PASSWORD:-}" && -f "$STATE/credentials.env" ]]; then
  POSTGRES_PASSWORD="$(grep '^POSTGRES_PASSWORD=' "$STATE/credentials.env" | cut -d= -f2-)"
fi
export PGHOST="${POSTGRES_HOST:-localhost}" PGPORT="${POSTGRES_PORT:-5433}" PGDATABASE="$BENCH_DB"
export PGUSER="${POSTGRES_USER:-fleetpipe}" PGPASSWORD="$POSTGRES_PASSWORD"

have=$(psql -d "${POSTGRES_DB:-webapp}" -At -c "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM pg_database
  WHERE datname = '$BENCH_DB')" 2>/dev/null)
[[ -z "$have" ]] && have=$(psql -At -c "SELECT CASE WHEN to_regclass('$SCHEMA.trips') IS NULL THEN 0
                     ELSE (SELECT reltuples::bigint FROM pg_class WHERE oid = '$SCHEMA.trips'::regclass) END")
if (( have < ROWS * 9 / 10 )); then bench/webapp_load.sh; fi
echo "trip rows in $SCHEMA: $(psql -At -c "SELECT count(*) FROM $SCHEMA.trips")," \
     "trip_latest rows: $(psql -At -c "SELECT count(*) FROM $SCHEMA.trip_latest")," \
     "vehicles: $(psql -At -c "SELECT count(*) FROM $SCHEMA.vehicles")"
echo "--- plan of the / query"
psql -At -c "SET search_path = $SCHEMA; EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)
  SELECT * FROM vehicle_latest_locations ORDER BY measurement_time DESC, vehicle_id" | sed 's/^/  /'

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) nocache_port=$(free_port)
base="http://127.0.0.1:$port" nocache="http://127.0.0.1:$nocache_port"
POSTGRES_DB="$BENCH_DB" FLEETPIPE_LOG_LEVEL=warn "$BUILD/fleetpipe" webapp --port "$port" --schema "$SCHEMA" ${WEBAPP_ARGS:-} \
  >/tmp/fleetpipe-webapp-bench.log 2>&1 &
pid=$!
# The same server without the cache of the latest rows: every "/" runs the query (what the cache saves).
POSTGRES_DB="$BENCH_DB" FLEETPIPE_LOG_LEVEL=warn "$BUILD/fleetpipe" webapp --port "$nocache_port" --schema "$SCHEMA" --cache-ms 0 \
  >/tmp/fleetpipe-webapp-bench-nocache.log 2>&1 &
pid2=$!
trap 'kill $pid $pid2 2>/dev/null; wait $pid $pid2 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && curl -sf "$nocache/healthz" >/dev/null && break; sleep 0.1; done

run() {  # name, connections, wrk args...
  local name=$1 connections=$2; shift 2
  local out
  out=$(wrk -t"$THREADS" -c"$connections" -d"$DURATION" --latency "$@")
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$out")
  printf '%-28s %10s req/s   p50 %-9s p99 %-9s non-2xx/3xx %s\n' "$name" "$rps" "$p50" "$p99" "${bad:-0}"
}

echo "--- wrk -t$THREADS -d$DURATION, -c$READ_CONNECTIONS for reads, -c$WRITE_CONNECTIONS for /submit"
run "static file (ceiling)" "$READ_CONNECTIONS" "$base/static/webapp.css"
run "GET /" "$READ_CONNECTIONS" "$base/"
run "GET /api/trips/latest" "$READ_CONNECTIONS" "$base/api/trips/latest"
run "GET / (no cache, DB each)" "$READ_CONNECTIONS" "$nocache/"
cookie=$(curl -s -D - -o /dev/null "$base/" | sed -n 's/^Set-Cookie: fp_csrf=\([^;]*\).*/\1/Ip' | tr -d '\r')
before=$(psql -At -c "SELECT count(*) FROM $SCHEMA.trips")
trip_base=$(psql -At -c "SELECT coalesce(max(trip_id), 0) + 100 FROM $SCHEMA.trips")
CSRF_TOKEN="$cookie" TRIP_BASE="$trip_base" VEHICLES="$(psql -At -c "SELECT count(*) FROM $SCHEMA.vehicles")" \
  run "POST /submit (valid, 303)" "$WRITE_CONNECTIONS" -s bench/webapp_submit.lua "$base"
after=$(psql -At -c "SELECT count(*) FROM $SCHEMA.trips")
echo "rows stored by /submit: $((after - before))"
# Correctness after the write load: the newest submission is the top row of the very next "/".
top=$(curl -s "$base/" | grep -A1 '<tbody>' | tail -1 |
  sed -E 's#^<tr><td class="num">[0-9]+</td><td class="num">([0-9]+)</td>.*#\1#')
echo "top row's trip id on the next GET /: $top (submissions used trip ids > $trip_base)"
