#!/usr/bin/env bash
# What loading into the day-partitioned raw.trips costs (sql/warehouse/011_raw_trips_partitioned.sql,
# src/load/trips_apply.h) with 30 and with 300 day partitions present, beside the unpartitioned table of
# migrations 001-010, on the same history and the same objects. It runs the statements `fleetpipe load`
# runs per object (the database's side of a load; download, gunzip and parsing are the same either way):
#   direct   (two objects a day) unpartitioned: COPY into raw.trips in one transaction with the object's manifest row;
#            partitioned:   raw.trip_partitions_ensure(dt) first, then COPY into the day's partition and the
#                           ids into raw.trip_ids, in one transaction with the manifest row
#   staged   corrections of rows spread over 10 days: the unpartitioned upsert (ON CONFLICT (id)) against
#            the partitioned path (lock the map rows, one UPDATE per day)
# Usage: bench/raw_partitions.sh [history rows] [objects] [rows per object]
# Needs a PostgreSQL superuser session through the PG* environment variables (PGHOST, PGPORT, PGUSER), on a
# server of its own: it creates and drops databases rawbench_*.
set -euo pipefail
cd "$(dirname "$0")/.."
HISTORY=${1:-1000000}
OBJECTS=${2:-10}
ROWS=${3:-50000}
OUT=$(mktemp -d /tmp/raw-partitions-bench.XXXXXX)
# One line: psql's \copy ends at the end of its line.
COLS="id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color, _source_xid"

q() { psql -X -q -v ON_ERROR_STOP=1 -d "$@"; }

# The objects: ids above the history, two per new day of 2025 (its dt; the first makes the day's partition),
# written once as COPY text.
for k in $(seq 1 "$OBJECTS"); do
  q postgres -c "\\copy (SELECT $HISTORY * 10 + $k * $ROWS + g, 1 + g % 2000, g / 500, g % 500,
      timestamp '2025-06-01' + (($k - 1) / 2) * interval '1 day' + (($k - 1) % 2 * $ROWS + g) * interval '1 second' * (43000.0 / $ROWS),
      40.1, -73.2, 15, g * 0.01, 50, 7.5, 'blue', 1000 + $k, 'bench/object-$k', 1
      FROM generate_series(0, $ROWS - 1) g)
      TO '$OUT/object-$k.tsv'"
done
# Corrections: 10 000 rows of the history, 1 000 on each of 10 days, as new versions.
q postgres -c "\\copy (SELECT id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude + 0.5,
    longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color, 999999
    FROM (SELECT g AS id, 1 + g % 2000 AS vehicle_id, g / 500 AS trip_id, g % 500 AS measurement_sequence,
          timestamp '2025-05-20' - (g % 10) * interval '1 day' + (g / 10 % 86000) * interval '1 second'
          AS measurement_time, 40.1 AS latitude, -73.2 AS longitude, 15 AS fuel_capacity, 0.0 AS
          distance_traveled, 50 AS fuel_remaining_percent, 7.5 AS fuel_remaining_gallon, 'blue' AS color
          FROM generate_series(1, 10000) g) c) TO '$OUT/corrections.tsv'"

# A warehouse of migrations up to $2 with $HISTORY rows over the $3 days before 2025-05-21.
make_db() {
  local db=$1 upto=$2 days=$3
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  for f in sql/warehouse/0*.sql; do
    n=$(basename "$f")
    [[ ${n:0:3} > "$upto" ]] && break
    q "$db" -f "$f" >/dev/null 2>&1
  done
  q "$db" -c "INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count) VALUES ('history', 'e', 'trips', 0)"
  # Rows land where the ids would: history ids 1..HISTORY, the first 10 000 on the corrections' days.
  if [[ $upto > 010 ]]; then
    q "$db" -c "SELECT count(*) FROM raw.trip_partitions_ensure(ARRAY(SELECT date '2025-05-21' - g
                FROM generate_series(1, $days) g))" >/dev/null
  fi
  q "$db" -c "INSERT INTO raw.trips ($COLS, _object_key)
      SELECT g, 1 + g % 2000, g / 500, g % 500,
             CASE WHEN g <= 10000 THEN timestamp '2025-05-20' - (g % 10) * interval '1 day' + (g / 10 % 86000) * interval '1 second'
                  ELSE timestamp '2025-05-21' - (1 + g % $days) * interval '1 day' + (g / $days % 86000) * interval '1 second' END,
             40.1, -73.2, 15, 0.0, 50, 7.5, 'blue', 1, 'history'
      FROM generate_series(1, $HISTORY) g" >/dev/null
  q "$db" -c "VACUUM ANALYZE" >/dev/null
  # The history's WAL is flushed now, not by a checkpoint in the middle of the timed loads.
  q "$db" -c "CHECKPOINT" >/dev/null
}

# One session, as a load worker keeps its connection for the whole run (opening raw.trips the first time
# in a session reads its partition bounds: a cost per session, not per object). Each object's statements
# are stamped with clock_timestamp() on both ends; prints the seconds per object, then the mean and rows/s.
load_objects() {  # $1 db, $2 partitioned (0/1)
  local db=$1 part=$2
  {
    echo "SELECT count(*) FROM raw.trips WHERE false;"
    for k in $(seq 1 "$OBJECTS"); do
      local day target="raw.trips"
      day=$(date -u -d "2025-06-01 + $(((k - 1) / 2)) days" +%F)
      echo "SELECT 'T', extract(epoch FROM clock_timestamp());"
      if [[ $part == 1 ]]; then
        echo "SELECT count(*) FROM raw.trip_partitions_ensure(ARRAY['$day'::date]);"
        target="raw.trips_p${day//-/}"
      fi
      echo "BEGIN;"
      echo "\\copy $target ($COLS, _object_key, _source_epoch) FROM '$OUT/object-$k.tsv'"
      echo "INSERT INTO raw.load_manifest (object_key, etag, table_name, row_count) VALUES ('bench/object-$k', 'e', 'trips', $ROWS);"
      [[ $part == 1 ]] && echo "INSERT INTO raw.trip_ids (id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id, measurement_sequence) SELECT id, measurement_time, _source_epoch, _source_xid, vehicle_id, trip_id, measurement_sequence FROM $target WHERE _load_xid = pg_current_xact_id();"
      echo "COMMIT;"
    done
    echo "SELECT 'T', extract(epoch FROM clock_timestamp());"
  } | q "$db" -At -F ' ' | awk -v rows="$ROWS" '$1 == "T" { if (prev) { d = $2 - prev; total += d; n++; printf "%.3f ", d } prev = $2 }
      END { printf "| %.3f s/object, %.0f rows/s\n", total / n, n * rows / total }'
}

load_corrections() {  # $1 db, $2 partitioned: the staged path's statements for 10 000 corrected rows
  local db=$1 part=$2 set
  set="vehicle_id = s.vehicle_id, trip_id = s.trip_id, measurement_sequence = s.measurement_sequence,
       measurement_time = s.measurement_time, latitude = s.latitude, longitude = s.longitude,
       fuel_capacity = s.fuel_capacity, distance_traveled = s.distance_traveled,
       fuel_remaining_percent = s.fuel_remaining_percent, fuel_remaining_gallon = s.fuel_remaining_gallon,
       color = s.color, _source_xid = s._source_xid, _object_key = 'bench/corrections', _loaded_at = now(),
       _load_xid = pg_current_xact_id()"
  {
    echo "SELECT count(*) FROM raw.trips WHERE false;"
    echo "SELECT 'T', extract(epoch FROM clock_timestamp());"
    echo "BEGIN;"
    echo "CREATE TEMP TABLE stage_trips ON COMMIT DROP AS SELECT $COLS FROM raw.trips WITH NO DATA;"
    echo "\\copy stage_trips FROM '$OUT/corrections.tsv'"
    if [[ $part == 1 ]]; then
      echo "CREATE TEMP TABLE known ON COMMIT DROP AS SELECT m.* FROM (SELECT id FROM stage_trips ORDER BY id) s
            CROSS JOIN LATERAL (SELECT * FROM raw.trip_ids m WHERE m.id = s.id FOR UPDATE) m;"
      for d in $(seq 0 9); do
        day=$(date -u -d "2025-05-20 - $d days" +%F)
        echo "UPDATE raw.trips r SET $set FROM stage_trips s JOIN known k USING (id)
              WHERE r.id = s.id AND (k._source_epoch, k._source_xid) <= (1, s._source_xid)
              AND r.measurement_time >= '$day'::date AND r.measurement_time < '$day'::date + 1
              AND k.measurement_time >= '$day'::date AND k.measurement_time < '$day'::date + 1;"
      done
    else
      echo "INSERT INTO raw.trips AS r ($COLS, _object_key, _source_epoch) SELECT $COLS, 'bench/corrections', 1
            FROM stage_trips ORDER BY id ON CONFLICT (id) DO UPDATE SET ${set//s./EXCLUDED.}
            WHERE (r._source_epoch, r._source_xid) <= (EXCLUDED._source_epoch, EXCLUDED._source_xid);"
    fi
    echo "COMMIT;"
    echo "SELECT 'T', extract(epoch FROM clock_timestamp());"
  } | q "$db" -At -F ' ' | awk '$1 == "T" { if (prev) d = $2 - prev; prev = $2 }
      END { printf "%.3f s for 10 000 corrected rows over 10 days (%.0f rows/s)\n", d, 10000 / d }'
}

echo "history $HISTORY rows; $OBJECTS objects of $ROWS new rows, two a day (the first of a day makes its partition)"
for cfg in "rawbench_flat 010 30 0" "rawbench_p30 011 30 1" "rawbench_p300 011 300 1"; do
  read -r db upto days part <<<"$cfg"
  make_db "$db" "$upto" "$days"
  parts=$(q "$db" -At -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw.trips'::regclass")
  printf '%-14s partitions %-4s direct: ' "$db" "$parts"
  load_objects "$db" "$part"
  printf '%-14s %-15s staged: ' "$db" ""
  load_corrections "$db" "$part"
done
for db in rawbench_flat rawbench_p30 rawbench_p300; do psql -X -q -d postgres -c "DROP DATABASE $db"; done
rm -rf "$OUT"
