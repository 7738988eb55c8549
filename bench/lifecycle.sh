#!/usr/bin/env bash
# Data lifecycle benchmark: does storage stay bounded while a fleet keeps reporting? A scaled-down day:
# the stack restarted with a short hot window (HOT_WINDOW, default 30m) in short partitions (PARTITION,
# default 10m), the services running (`up --with-services`: the scheduler every minute, the dashboard, the
# web app, the console), and the simulated fleet writing RATE rows/s (default 2000) into the webapp database
# for MINUTES (default 120). Every SAMPLE_S seconds (default 300) it records, per store: each PostgreSQL
# database and its server's WAL, Kafka per topic, the bucket, and the state directory; and the partitions
# live and dropped, the trips rows, the last scheduler run's verify outcome. At the end: each store's slope
# (bytes per hour, least squares) over the samples after the first window, whether any verify failed during
# the run, and whether every row of the partitions dropped during the run is in the warehouse exactly once
# (its count per range equals the ledger's, no id twice).
# Kafka gets a scaled budget too (KAFKA_BUDGET, default 1GiB, FLEETPIPE_KAFKA_DISK_BUDGET): at 2 000 change
# events a second its topics reach their bytes bound within the run. The warehouse and the bucket keep the
# whole history (the default): their slope is the rate the lane lands data, not a leak.
# Usage: bench/lifecycle.sh  (stops the stack of var/ first, runs its own in BENCH_STATE_DIR; env as for fleetpipe; RATE, MINUTES, SAMPLE_S, HOT_WINDOW,
#   PARTITION, KAFKA_BUDGET, VEHICLES=2000). Output: a CSV of samples in $OUT (default /tmp/fleetpipe-lifecycle.csv) and
#   a summary on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-2000} MINUTES=${MINUTES:-120} SAMPLE_S=${SAMPLE_S:-300} VEHICLES=${VEHICLES:-2000}
HOT_WINDOW=${HOT_WINDOW:-30m} PARTITION=${PARTITION:-10m} OUT=${OUT:-/tmp/fleetpipe-lifecycle.csv}
KAFKA_BUDGET=${KAFKA_BUDGET:-1GiB}
BIN=$PWD/build/fleetpipe
# A stack of its own, from nothing (its partitions cut at PARTITION from the first row; your var/ untouched):
# the usual one stops first, as both listen on the same ports.
FLEETPIPE_STATE_DIR=${FLEETPIPE_STATE_DIR:-$PWD/var} $BIN down >/dev/null 2>&1 || true
STATE=${BENCH_STATE_DIR:-/tmp/fleetpipe-lifecycle-state}
export FLEETPIPE_STATE_DIR=$STATE

export FLEETPIPE_TRIPS_HOT_WINDOW=$HOT_WINDOW FLEETPIPE_TRIPS_PARTITION_INTERVAL=$PARTITION
export FLEETPIPE_KAFKA_DISK_BUDGET=$KAFKA_BUDGET
$BIN down >/dev/null 2>&1 || true
rm -rf "$STATE"
$BIN up --with-services >/tmp/fleetpipe-lifecycle-up.log 2>&1
trap '$BIN down >/dev/null 2>&1 || true' EXIT
set -a; . "$STATE/credentials.env"; set +a
web() { PGPASSWORD=$POSTGRES_PASSWORD psql -X -qAt -h "${POSTGRES_HOST:-localhost}" -p "${POSTGRES_PORT:-5433}" \
  -U "${POSTGRES_USER:-fleetpipe}" -d "${POSTGRES_DB:-webapp}" -c "$1"; }
dw() { PGPASSWORD=$DW_POSTGRES_PASSWORD psql -X -qAt -h "${DW_POSTGRES_HOST:-localhost}" -p "${DW_POSTGRES_PORT:-5434}" \
  -U "${DW_POSTGRES_USER:-fleetpipe}" -d "${DW_POSTGRES_DB:-warehouse}" -c "$1"; }
# Allocated bytes, not apparent size: Kafka preallocates its index files sparsely.
du_b() { du -s -B1 "$@" 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

t_start=$(date +%s)
started_at=$(web "SELECT now()")
FIRST_VEHICLE=$(( 700000 + (RANDOM % 50) * 2000 ))
# Each vehicle reports every VEHICLES / RATE seconds of simulated time, the same as the wall clock's: the
# rows' times are "now", as a real fleet's are, so the window moves over them.
count=$(( RATE * MINUTES * 60 ))
FLEETPIPE_LOG_LEVEL=warn $BIN generate --simulate --vehicles "$VEHICLES" --first-vehicle-id "$FIRST_VEHICLE" \
  --seed $RANDOM --start-time now --step $(( VEHICLES / RATE > 0 ? VEHICLES / RATE : 1 )) --rate "$RATE" \
  --count "$count" --sink postgres \
  --batch-size $(( RATE / 10 )) --run-id "bench-lifecycle-$$" >/tmp/fleetpipe-lifecycle-gen.log 2>&1 &
gen=$!
trap 'kill $gen 2>/dev/null || true; $BIN down >/dev/null 2>&1 || true' EXIT

stores="webapp_db webapp_wal warehouse_db warehouse_wal kafka bucket state"
echo "minute,$(tr ' ' ',' <<<"$stores"),kafka_topics,trips_rows,partitions_live,partitions_dropped,last_verify" >"$OUT"
sample() {
  local m=$(( ($(date +%s) - t_start) / 60 )) topics
  topics=$(for d in "$STATE"/kafka/data/*-[0-9]*; do
             [[ -d $d ]] && echo "$(basename "${d%-*}") $(du_b "$d")"; done |
           awk '{s[$1] += $2} END {for (t in s) printf "%s=%d;", t, s[t]}')
  echo "$m,$(web "SELECT pg_database_size(current_database())"),$(du_b "$STATE/postgres/webapp/pg_wal")," \
"$(dw "SELECT pg_database_size(current_database())"),$(du_b "$STATE/postgres/warehouse/pg_wal"),$(du_b "$STATE/kafka")," \
"$(du_b "$STATE/s3proxy")," "$(du_b "$STATE"),$topics,$(web "SELECT count(*) FROM trips")," \
"$(web "SELECT count(*) FILTER (WHERE dropped_at IS NULL) || ',' || count(*) FILTER (WHERE dropped_at IS NOT NULL) FROM trip_partitions")," \
"$(dw "SELECT coalesce((SELECT outcome FROM ops.pipeline_steps WHERE step = 'verify' ORDER BY started_at DESC LIMIT 1), 'none')")" |
    tr -d ' ' >>"$OUT"
  tail -1 "$OUT"
}
end=$(( t_start + MINUTES * 60 ))
while (( $(date +%s) < end )); do
  sample
  sleep $(( SAMPLE_S < end - $(date +%s) ? SAMPLE_S : (end - $(date +%s) > 0 ? end - $(date +%s) : 1) ))
done
sample
wait $gen || true
gen_line=$(tail -1 /tmp/fleetpipe-lifecycle-gen.log)

window_min=$(( $($BIN config | jq '.lifecycle.trips_hot_window_minutes') + $($BIN config | jq '.lifecycle.trips_partition_interval_minutes') ))
echo
echo "rate $RATE rows/s for $MINUTES min, hot window $HOT_WINDOW in $PARTITION partitions, Kafka budget $KAFKA_BUDGET"
echo "generator: $gen_line"
echo "slopes over the samples after minute $window_min (MiB per hour; flat is ~0):"
for i in $(seq 2 8); do
  name=$(head -1 "$OUT" | cut -d, -f"$i")
  awk -F, -v c="$i" -v w="$window_min" -v n="$name" 'NR > 1 && $1 >= w {
      x = $1 / 60; y = $c / 1048576; k++; sx += x; sy += y; sxx += x * x; sxy += x * y; last = y }
    END { if (k < 2) { printf "  %-14s too few samples\n", n; exit }
          printf "  %-14s %8.1f MiB/h (last %.0f MiB, %d samples)\n", n, (k * sxy - sx * sy) / (k * sxx - sx * sx), last, k }' "$OUT"
done
failed=$(dw "SELECT count(*) FROM ops.pipeline_steps WHERE step = 'verify' AND outcome = 'failed' AND started_at >= '$started_at'")
passed=$(dw "SELECT count(*) FROM ops.pipeline_steps WHERE step = 'verify' AND outcome = 'success' AND started_at >= '$started_at'")
echo "verify during the run: $passed passed, $failed failed"
# Every row of the partitions dropped during the run, in the warehouse once: per range the live rows equal
# the ledger's count (raw.trips' primary key is the id, so no id can be there twice).
web "SELECT range_start, range_end, dropped_rows FROM trip_partitions WHERE dropped_at >= '$started_at' ORDER BY 1" |
  while IFS='|' read -r lo hi n; do
    got=$(dw "SELECT count(*) FROM raw.trips WHERE _deleted_xid IS NULL AND measurement_time >= '$lo' AND measurement_time < '$hi'")
    [[ "$got" == "$n" ]] && echo "ok $lo $n" || echo "MISMATCH $lo..$hi: ledger $n, warehouse $got"
  done | awk '/^ok/ {ok++; rows += $4} /^MISMATCH/ {print; bad++} END {
    printf "dropped during the run: %d partitions, %d rows, each range in the warehouse exactly: %s\n", ok + bad, rows, bad ? "NO" : "yes" }'
