#!/usr/bin/env bash
# What one row of `trips` costs: psql \copy of the same ROWS-row CSV into a scratch database on the webapp
# server, built by the real webapp migrations, once as is and once per feature removed. Each variant runs
# REPS times (TRUNCATE + CHECKPOINT before each); the median is reported with its share of the full schema.
#
#   bench/pg_write_profile.sh [ROWS] [REPS]      # with the stack's environment exported
#
# Creates and drops the database fp_write_profile; never touches the webapp database's tables.
# Server-level variants (synchronous_commit, the CDC connector running or paused) run in this session or
# against the real server state; see the comments below.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
REPS=${2:-3}
BIN=./build/fleetpipe
STATE=${FLEETPIPE_STATE_DIR:-$PWD/var}
set -a; . "$STATE/credentials.env"; set +a
export PGPASSWORD=$POSTGRES_PASSWORD
PG=(-X -q -v ON_ERROR_STOP=1 -h "${POSTGRES_HOST:-localhost}" -p "${POSTGRES_PORT:-5433}" -U "${POSTGRES_USER:-fleetpipe}")
DB=fp_write_profile
WORK=$(mktemp -d /tmp/fp-bench-prof.XXXXXX)
trap 'rm -rf "$WORK"; psql "${PG[@]}" postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT
COLS="vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color"

$BIN generate --simulate --vehicles 500 --first-vehicle-id 1 --seed 99 --count "$ROWS" --bulk \
  --csv-out "$WORK/trips.csv" --attributes-out "$WORK" >/dev/null
# The same rows as COPY text and as COPY binary (the formats a client can send instead of CSV).
setup_db() {
  psql "${PG[@]}" postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
  for f in sql/webapp/0*.sql; do psql "${PG[@]}" "$DB" -f "$f" >/dev/null; done
  psql "${PG[@]}" "$DB" >/dev/null <<SQL
\\copy drivers (id, name, license_number) FROM '$WORK/drivers.csv' CSV HEADER
\\copy vehicles (id, driver_id, make, model, fuel_capacity, color) FROM '$WORK/vehicles.csv' CSV HEADER
SQL
}
setup_db
psql "${PG[@]}" "$DB" -c "\\copy trips ($COLS) FROM '$WORK/trips.csv' CSV HEADER" \
  -c "\\copy (SELECT $COLS FROM trips ORDER BY id) TO '$WORK/trips.bin' BINARY" \
  -c "\\copy (SELECT $COLS FROM trips ORDER BY id) TO '$WORK/trips.txt'"

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# The server backend's own CPU time (user + system clock ticks from /proc) around the COPY: robust against a
# busy shared machine, where wall-clock rates swing with other people's builds. Needs the server on this host.
TICK=$(getconf CLK_TCK)
cat >"$WORK/copy.sql" <<SQL
\\pset tuples_only on
\\pset format unaligned
\\o $WORK/pid
SELECT pg_backend_pid();
\\o
\\! awk '{ print \$14 + \$15 }' /proc/\$(cat $WORK/pid)/stat > $WORK/cpu0
SQL
# run NAME SETUP_SQL [COPY_OPTIONS] [FILE]: rebuild the schema, apply SETUP_SQL, time REPS loads.
declare -a NAMES; declare -A RATE CPU
VARIANT=0
run() {
  VARIANT=$((VARIANT + 1))
  if ((VARIANT < ${FROM_VARIANT:-1})); then return; fi  # resume a long profile at variant N
  local name=$1 setup=$2 opts=${3-CSV HEADER} file=${4:-$WORK/trips.csv} rates=() cpus=()
  setup_db
  [[ -n "$setup" ]] && psql "${PG[@]}" "$DB" -c "$setup" >/dev/null
  for _ in $(seq "$REPS"); do
    psql "${PG[@]}" "$DB" -c "SET fleetpipe.allow_truncate = on; TRUNCATE trips, trip_latest" -c "CHECKPOINT" >/dev/null
    local t0 t1; t0=$(date +%s.%N)
    psql "${PG[@]}" "$DB" -c "${SESSION_SQL:-SELECT 1}" -f "$WORK/copy.sql" \
      -c "\\copy trips ($COLS) FROM '$file' $opts" -c "\\! awk '{ print \$14 + \$15 }' /proc/\$(cat $WORK/pid)/stat > $WORK/cpu1" >/dev/null
    t1=$(date +%s.%N)
    rates+=("$(echo "$ROWS / ($t1 - $t0)" | bc -l)")
    cpus+=("$(echo "($(cat "$WORK/cpu1") - $(cat "$WORK/cpu0")) * 1000000 / $TICK / $ROWS" | bc -l)")
  done
  NAMES+=("$name"); RATE[$name]=$(printf '%s\n' "${rates[@]}" | median); CPU[$name]=$(printf '%s\n' "${cpus[@]}" | median)
  printf '%-45s %8.0f rows/s [%s] backend %5.1f us/row [%s] load %s\n' "$name" "${RATE[$name]}" "$(printf '%.0f ' "${rates[@]}")" \
    "${CPU[$name]}" "$(printf '%.1f ' "${cpus[@]}")" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
}

run "full schema (as migrated)" ""
run "- trip_latest statement trigger" "DROP TRIGGER trips_latest_ins ON trips"
run "- FK trips.vehicle_id -> vehicles" "ALTER TABLE trips DROP CONSTRAINT trips_vehicle_id_fkey"
run "- natural key unique index" "ALTER TABLE trips DROP CONSTRAINT trips_natural_key"
run "- measurement_time index" "DROP INDEX trips_measurement_time_idx"
run "- _export_xid index" "DROP INDEX trips_export_xid_idx"
run "- CHECK constraints" "DO \$\$ DECLARE c text; BEGIN FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'trips'::regclass AND contype = 'c' LOOP EXECUTE format('ALTER TABLE trips DROP CONSTRAINT %I', c); END LOOP; END \$\$"
run "- REPLICA IDENTITY FULL (default)" "ALTER TABLE trips REPLICA IDENTITY DEFAULT"
run "- publication" "DROP PUBLICATION webapp_cdc"
run "UNLOGGED table (no WAL at all)" "DROP PUBLICATION webapp_cdc; ALTER TABLE trips SET UNLOGGED"
run "bare heap (no index, constraint, trigger)" "CREATE TABLE t2 (LIKE trips INCLUDING DEFAULTS); ALTER SEQUENCE trips_id_seq OWNED BY t2.id; DROP TABLE trips CASCADE; ALTER TABLE t2 RENAME TO trips"
run "- FK and trip_latest trigger together" "ALTER TABLE trips DROP CONSTRAINT trips_vehicle_id_fkey; DROP TRIGGER trips_latest_ins ON trips"
run "- natural key, time and _export_xid indexes" "ALTER TABLE trips DROP CONSTRAINT trips_natural_key; DROP INDEX trips_measurement_time_idx, trips_export_xid_idx"
run "full schema, COPY text format" "" "" "$WORK/trips.txt"
run "full schema, COPY binary format" "" "BINARY" "$WORK/trips.bin"
SESSION_SQL="SET synchronous_commit = off" run "full schema, synchronous_commit=off" ""

full=${CPU["full schema (as migrated)"]:-${FULL_US_PER_ROW:-13}}
printf '\n%d rows, %d repetitions (medians), %s, load average %s\n\n' "$ROWS" "$REPS" "$(date -u '+%F %H:%M')" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-45s | %10s | %16s | %18s | %16s |\n' variant "wall rows/s" "backend us/row" "us/row vs full" "CPU-bound rows/s"
printf '|%s|%s|%s|%s|%s|\n' "-----------------------------------------------" "------------" "------------------" "--------------------" "------------------"
for n in "${NAMES[@]}"; do
  c=${CPU[$n]}
  printf '| %-45s | %10.0f | %16.2f | %+18.2f | %16.0f |\n' "$n" "${RATE[$n]}" "$c" "$(echo "$c - $full" | bc -l)" "$(echo "1000000 / $c" | bc -l)"
done
