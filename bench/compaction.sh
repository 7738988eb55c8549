#!/usr/bin/env bash
# Bucket compaction benchmark: one closed day of ROWS trip rows (default 2 000 000) exported as OBJECTS small
# objects (default 1 440, the scheduler's minute cadence), loaded, then `fleetpipe compact` (time, objects and
# bytes before and after, peak RSS) beside its ceiling measured in the same run on the same objects: each
# fetched with curl, inflated and compressed again by gzip -6 into one stream uploaded with curl (the same
# work with standard tools, sequential as the compactor is). Then the load that follows the compaction (the
# warehouse had loaded the small objects: it records the large ones unread) and verify's whole-history check.
#
#   bench/compaction.sh     # with the stack's environment (ports, FLEETPIPE_STATE_DIR) exported
#   ROWS=500000 OBJECTS=500 bench/compaction.sh
#
# Writes trips of vehicles 990001..990100 on 2024-06-01 into the webapp database (replaced on each run) and
# uses a fresh bucket prefix, removed at the end. To keep the rows away from the CDC connector and the
# scheduler's lane, point POSTGRES_DB at a scratch database (`POSTGRES_DB=<name> build/fleetpipe db apply`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-2000000}
OBJECTS=${OBJECTS:-1440}
BIN=build/fleetpipe
TMP=$(mktemp -d)
PREFIX="bench-compact-$$/"
cfg=$($BIN config --reveal-secrets)
WEB=$(jq -r '.webapp | "postgresql://\(.user):\(.password)@\(.host):\(.port)/\(.dbname)"' <<<"$cfg")
S3_ENDPOINT=$(jq -r '.s3.endpoint' <<<"$cfg"); S3_BUCKET=$(jq -r '.s3.bucket' <<<"$cfg")
# SigV4 by curl, the keys in a config on a file descriptor (never on a command line).
s3curl() {
  curl -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -K <(jq -r '.s3 | "user = \"\(.access_key_id):\(.secret_access_key)\"\naws-sigv4 = \"aws:amz:\(.region):s3\""' <<<"$cfg") "$@"
}
list_keys() {  # keys under a prefix (one page of 1 000 at a time)
  local token="" page
  while :; do
    page=$(s3curl "$S3_ENDPOINT/$S3_BUCKET?list-type=2&prefix=$(jq -rn --arg p "$1" '$p | @uri')${token:+&continuation-token=$(jq -rn --arg t "$token" '$t | @uri')}")
    grep -o '<Key>[^<]*</Key>' <<<"$page" | sed 's/<[^>]*>//g'
    token=$(grep -o '<NextContinuationToken>[^<]*' <<<"$page" | sed 's/.*>//' || true)
    [[ -n "$token" ]] || break
  done
}
cleanup() {
  list_keys "$PREFIX" | while read -r k; do s3curl -X DELETE "$S3_ENDPOINT/$S3_BUCKET/$k" >/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
day_objects() { list_keys "${PREFIX}trips/dt=2024-06-01/"; }

echo "== $ROWS rows of 2024-06-01 as $OBJECTS objects (prefix $PREFIX)"
psql -q "$WEB" -v ON_ERROR_STOP=1 <<SQL
DELETE FROM trips WHERE vehicle_id BETWEEN 990001 AND 990100;
INSERT INTO drivers (id, name, license_number) VALUES (990001, 'Bench', 'BENCH-990001') ON CONFLICT (id) DO NOTHING;
INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color)
  SELECT 990000 + g, 990001, 'Bench', 'Compact', 15, 'grey' FROM generate_series(1, 100) g
  ON CONFLICT (id) DO NOTHING;
SELECT trip_partitions_ensure(ARRAY['2024-06-01']::timestamp[]);
INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity,
                   distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
  SELECT 990001 + g % 100, g / 10000, g % 10000, timestamp '2024-06-01' + g * (interval '86399 seconds' / $ROWS),
         40 + (g % 1000) / 1000.0, -73 - (g % 777) / 777.0, 15, g * 0.01, 100 - (g % 10000) / 100.0, 7.5, 'grey'
  FROM generate_series(0, $ROWS - 1) g;
SQL
$BIN export --prefix "$PREFIX" --max-rows-per-object $(( (ROWS + OBJECTS - 1) / OBJECTS )) >/dev/null
# Compaction never touches the newest run: one more, with a row of today.
psql -q "$WEB" -c "SELECT trip_partitions_ensure(ARRAY[now()::timestamp]); INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color) VALUES (990001, 999999, 1, now(), 40, -73, 15, 0, 50, 7.5, 'grey')"
$BIN export --prefix "$PREFIX" >/dev/null
$BIN load --prefix "$PREFIX" >/dev/null
mapfile -t keys < <(day_objects)
before_bytes=$(for k in "${keys[@]}"; do s3curl -I "$S3_ENDPOINT/$S3_BUCKET/$k" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p'; done |
  awk '{s += $1} END {print s}')

echo "== ceiling: curl GET each object | zcat | gzip -6 | curl PUT"
t0=$(now)
for k in "${keys[@]}"; do s3curl "$S3_ENDPOINT/$S3_BUCKET/$k"; done | zcat | gzip -6 >"$TMP/day.gz"
s3curl -T "$TMP/day.gz" "$S3_ENDPOINT/$S3_BUCKET/${PREFIX}ceiling/day.gz" >/dev/null
t1=$(now)
ceiling_s=$(secs "$t0" "$t1")

echo "== fleetpipe compact"
t0=$(now)
/usr/bin/time -f "%M" -o "$TMP/rss" $BIN compact --prefix "$PREFIX" >"$TMP/compact.out"
t1=$(now)
compact_s=$(secs "$t0" "$t1")
after_keys=$(day_objects | wc -l)
after_bytes=$(day_objects | while read -r k; do s3curl -I "$S3_ENDPOINT/$S3_BUCKET/$k" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p'; done | awk '{s += $1} END {print s}')

t0=$(now); $BIN load --prefix "$PREFIX" >/dev/null; t1=$(now); load_s=$(secs "$t0" "$t1")
t0=$(now); $BIN verify --prefix "$PREFIX" >"$TMP/verify.out" && verified=passed || verified=FAILED; t1=$(now)
verify_s=$(secs "$t0" "$t1")

echo
echo "rows $ROWS on one day, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf "objects of the day     %6d -> %d\n" "${#keys[@]}" "$after_keys"
printf "bytes of the day       %6.1f MiB -> %.1f MiB\n" "$(bc -l <<<"$before_bytes / 1048576")" "$(bc -l <<<"$after_bytes / 1048576")"
printf "compact                %6.2f s (%.0f rows/s), peak RSS %d MiB\n" "$compact_s" "$(bc -l <<<"$ROWS / $compact_s")" $(( $(cat "$TMP/rss") / 1024 ))
printf "ceiling (curl+gzip -6) %6.2f s (%.0f rows/s): compact at %.0f %% of it\n" "$ceiling_s" "$(bc -l <<<"$ROWS / $ceiling_s")" "$(bc -l <<<"100 * $ceiling_s / $compact_s")"
printf "load after compaction  %6.2f s (the compacted objects recorded unread)\n" "$load_s"
printf "verify (whole history) %6.2f s: %s\n" "$verify_s" "$verified"
