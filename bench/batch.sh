#!/usr/bin/env bash
# Batch lane benchmark: export (webapp -> bucket) and load (bucket -> warehouse) of BENCH_ROWS trip rows
# (default 10 000 000), each beside its ceiling measured in the same run on the same rows: psql \copy out of
# the webapp (text, to a file) and psql \copy in to a warehouse table shaped like raw.trips (same keys), the
# latter once with one stream and once with as many \copy streams at once as the load uses connections (its
# --parallel: from LOAD_ARGS, else the loader's default); the load's ratio is against the N-stream ceiling.
# Then the day-30 case: 1 % of the rows deleted and 1 % updated, and a second (incremental) export and load
# of just those changes, beside \copy of the same changed rows; and the loader's peak RSS with an oversized
# object in the bucket (a 256 MiB line listed in the manifest as 10 rows: quarantined, exit 3).
#
#   bench/batch.sh            # with the stack's environment (ports, FLEETPIPE_STATE_DIR) exported
#   BENCH_ROWS=2000000 BENCH_REPS=3 bench/batch.sh
#   LOAD_ARGS="--parallel 4" bench/batch.sh   # options for `fleetpipe load` (the N-stream ceiling follows --parallel)
#
# The rows are prepared once; each of BENCH_REPS repetitions (default 1) exports them all under a fresh
# prefix, measures both ceilings, loads into emptied raw tables and verifies. Medians at the end. Peak RSS
# from /usr/bin/time; the load average beside every repetition (the machine is shared).
#
# DESTRUCTIVE for the warehouse's raw tables (truncated) and for webapp trips of vehicles 900001..900100
# (replaced): run it against your own stack, not shared data. BENCH_REUSE=1 keeps rows prepared by an
# earlier run when their count matches. To keep 10 M rows (and their WAL) away from the CDC connector, point
# POSTGRES_DB at a scratch database (`POSTGRES_DB=<name> build/fleetpipe db apply` creates it with the
# migrations and the services' grants): the export reads whatever database the configuration names.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${BENCH_ROWS:-10000000}
REPS=${BENCH_REPS:-1}
BIN=build/fleetpipe
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cfg=$($BIN config --reveal-secrets)
pgurl() { jq -r ".$1 | \"postgresql://\(.user):\(.password)@\(.host):\(.port)/\(.dbname)\"" <<<"$cfg"; }
WEB=$(pgurl webapp)
DW=$(pgurl warehouse)
# S3 by curl's SigV4, the keys handed over in a config on a file descriptor (never on a command line).
S3_ENDPOINT=$(jq -r '.s3.endpoint' <<<"$cfg"); S3_BUCKET=$(jq -r '.s3.bucket' <<<"$cfg")
s3curl() {
  # UNSIGNED-PAYLOAD: the signature covers the headers, not the body (S3Proxy and S3 accept it).
  curl -sf -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -K <(jq -r '.s3 | "user = \"\(.access_key_id):\(.secret_access_key)\"\naws-sigv4 = \"aws:amz:\(.region):s3\""' <<<"$cfg") "$@"
}
s3get() { s3curl "$S3_ENDPOINT/$S3_BUCKET/$1"; }
s3put() { s3curl -T "$2" "$S3_ENDPOINT/$S3_BUCKET/$1" >/dev/null; }
# The newest committed manifest's file name under a prefix.
s3last() {
  s3curl "$S3_ENDPOINT/$S3_BUCKET?list-type=2&prefix=$(jq -rn --arg p "${1}manifests/run-" '$p | @uri')" |
    grep -o 'run-[0-9]*\.json' | sort | tail -1
}
# Replaces the first trips object of the newest manifest with a 256 MiB line that compresses to ~256 KiB,
# listed honestly (bytes, sha256) as 10 rows: only the loader's own limits stand between it and memory.
plant_oversized() {
  local run m key
  run=$(s3last "$1"); m="$TMP/manifest.json"
  s3get "${1}manifests/$run" >"$m"
  key=$(jq -r '[.objects[] | select(.table == "trips")][0].key' "$m")
  { printf '{"id":'; head -c $((256 << 20)) /dev/zero | tr '\0' ' '; } | gzip -1 >"$TMP/bomb.gz"
  s3put "$key" "$TMP/bomb.gz"
  jq --arg k "$key" --argjson b "$(stat -c %s "$TMP/bomb.gz")" --arg s "$(sha256sum "$TMP/bomb.gz" | cut -d' ' -f1)" \
    '(.objects[] | select(.key == $k)) |= (.bytes = $b | .sha256 = $s | .rows = 10)' "$m" >"$m.new"
  s3put "${1}manifests/$run" "$m.new"
}
# The N-stream \copy ceiling: as many streams as `fleetpipe load` opens connections (--parallel from LOAD_ARGS,
# else its default), and the export's object size (its --max-rows-per-object default; this script passes none).
LOAD_PARALLEL=$(sed -nE 's/.*--parallel[= ]+([0-9]+).*/\1/p' <<<"${LOAD_ARGS:-}")
[[ -n "$LOAD_PARALLEL" ]] || LOAD_PARALLEL=$($BIN load --help 2>&1 | sed -nE 's/^ *--parallel [^=]*=([0-9]+).*/\1/p')
OBJECT_ROWS=$($BIN export --help 2>&1 | sed -nE 's/^ *--max-rows-per-object [^=]*=([0-9]+).*/\1/p')
[[ "$LOAD_PARALLEL" =~ ^[1-9][0-9]*$ && "$OBJECT_ROWS" =~ ^[1-9][0-9]*$ ]] ||
  { echo "could not read fleetpipe load's --parallel or export's --max-rows-per-object default" >&2; exit 1; }
COLS="id, vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color"

now() { date +%s.%N; }
rate() { python3 -c "print(f'{$1/($3-$2):,.0f}')"; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }

if [[ "${BENCH_REUSE:-}" == 1 ]] && (( $(psql -tA "$WEB" -c "SELECT count(*) FROM trips WHERE vehicle_id > 900000") == ROWS )); then
  echo "== reusing the $ROWS prepared trip rows (BENCH_REUSE=1)"
else
echo "== preparing $ROWS trip rows (vehicles 900001..900100)"
psql -q "$WEB" -v ON_ERROR_STOP=1 <<SQL
-- Logged as deletes, but never exported: a fresh prefix starts with a full export, which carries none.
DELETE FROM trips WHERE vehicle_id > 900000;
INSERT INTO drivers (id, name, license_number) SELECT 900000 + g, 'Bench ' || g, 'BENCH-' || g
  FROM generate_series(1, 100) g ON CONFLICT DO NOTHING;
INSERT INTO vehicles (id, driver_id, make, model, fuel_capacity, color) SELECT 900000 + g, 900000 + g, 'Make', 'Model', 15, 'blue'
  FROM generate_series(1, 100) g ON CONFLICT DO NOTHING;
SQL
chunk=1000000
for ((start = 0; start < ROWS; start += chunk)); do
  n=$((ROWS - start < chunk ? ROWS - start : chunk))
  psql -q "$WEB" -v ON_ERROR_STOP=1 -c "INSERT INTO trips (vehicle_id, trip_id, measurement_sequence, measurement_time,
      latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color)
    SELECT 900001 + g % 100, 1 + g / 100000, 1 + (g / 100) % 1000, timestamp '2024-04-01' + g * interval '50 ms',
      40 + (g % 1000) / 1000.0, -73 - (g % 777) / 777.0, 15, (g % 1000) * 0.01, 50 + (g % 50) / 3.0, 7.5, 'red'
    FROM generate_series($start, $((start + n - 1))) g"
done
psql -q "$WEB" -c "VACUUM ANALYZE trips"
fi
TOTAL=$(psql -tA "$WEB" -c "SELECT count(*) FROM trips")
echo "webapp trips: $TOTAL rows (the export takes them all: fresh prefix)"
((REPS > 0)) || exit 0  # BENCH_REPS=0: prepare only
# The native stack's S3Proxy keeps objects as files: drop a finished repetition's prefix there (several GB at
# 10 M rows). Against another object store the objects stay; delete them with that store's tools.
aws_prefix_cleanup() {
  local bucket dir
  bucket=$(jq -r '.s3.bucket' <<<"$cfg")
  dir="${FLEETPIPE_STATE_DIR:-$PWD/var}/s3proxy/data/$bucket/${1%/}"
  if [[ -d "$dir" ]]; then rm -rf "$dir"; else echo "(objects under $1 left in the bucket)"; fi
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
declare -A R
for rep in $(seq "$REPS"); do
PREFIX="bench-$(date +%s)/"
LOADAVG_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
psql -q "$DW" -c "TRUNCATE raw.trips, raw.vehicles, raw.drivers, raw.load_manifest"

echo "== rep $rep/$REPS: ceiling: psql \\copy out"
t0=$(now)
psql -q "$WEB" -c "\\copy (SELECT $COLS FROM trips ORDER BY id) TO '$TMP/trips.txt'"
t1=$(now)
CEIL_OUT_S=$(secs "$t0" "$t1"); CEIL_OUT_RATE=$(rate "$TOTAL" "$t0" "$t1")

echo "== fleetpipe export"
t0=$(now)
/usr/bin/time -f "%M" -o "$TMP/export.rss" $BIN export --prefix "$PREFIX" 2>"$TMP/export.log" >/dev/null
t1=$(now)
EXP_S=$(secs "$t0" "$t1"); EXP_RATE=$(rate "$TOTAL" "$t0" "$t1"); EXP_RSS_MB=$(( $(cat "$TMP/export.rss") / 1024 ))

# The loader uses min(--parallel, objects) connections; so does the N-stream ceiling (one per object-sized chunk).
STREAMS=$(( (TOTAL + OBJECT_ROWS - 1) / OBJECT_ROWS )); STREAMS=$(( STREAMS < LOAD_PARALLEL ? STREAMS : LOAD_PARALLEL ))
STREAMS=$(( STREAMS > 0 ? STREAMS : 1 ))
echo "== ceiling: psql \\copy in (table shaped like raw.trips, same primary key and index), one stream"
psql -q "$DW" -v ON_ERROR_STOP=1 <<SQL
DROP TABLE IF EXISTS public.bench_copy_ceiling;
CREATE TABLE public.bench_copy_ceiling (LIKE raw.trips INCLUDING DEFAULTS INCLUDING INDEXES);
ALTER TABLE public.bench_copy_ceiling ALTER COLUMN _object_key SET DEFAULT 'x';
CHECKPOINT;
SQL
t0=$(now)
psql -q "$DW" -c "\\copy public.bench_copy_ceiling ($COLS) FROM '$TMP/trips.txt'"
t1=$(now)
CEIL_IN_S=$(secs "$t0" "$t1"); CEIL_IN_RATE=$(rate "$TOTAL" "$t0" "$t1")
echo "== ceiling: $STREAMS psql \\copy in streams at once (the load's connections), same table emptied"
# The same rows in chunks of the export's object size, dealt round-robin to the streams: like the loader's
# workers, each taking the next object, the streams write neighbouring id ranges at the same time. Each stream
# is its own psql, its own connection, its own COPY. (The split, not timed, briefly doubles the file on disk.)
awk -v n="$STREAMS" -v c="$OBJECT_ROWS" -v d="$TMP" '{ print > (d "/part" (int((NR - 1) / c) % n) ".txt") }' "$TMP/trips.txt"
rm -f "$TMP/trips.txt"
psql -q "$DW" -c "TRUNCATE public.bench_copy_ceiling" -c "CHECKPOINT"
t0=$(now)
pids=()
for ((i = 0; i < STREAMS; i++)); do
  psql -q "$DW" -v ON_ERROR_STOP=1 -c "\\copy public.bench_copy_ceiling ($COLS) FROM '$TMP/part$i.txt'" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
t1=$(now)
CEIL_INN_S=$(secs "$t0" "$t1"); CEIL_INN_RATE=$(rate "$TOTAL" "$t0" "$t1")
(( $(psql -tA "$DW" -c "SELECT count(*) FROM public.bench_copy_ceiling") == TOTAL )) ||
  { echo "the $STREAMS \\copy streams did not load all $TOTAL rows" >&2; exit 1; }
psql -q "$DW" -c "DROP TABLE public.bench_copy_ceiling" -c "CHECKPOINT"
rm -f "$TMP"/part*.txt

echo "== fleetpipe load ${LOAD_ARGS:-}"
t0=$(now)
/usr/bin/time -f "%M" -o "$TMP/load.rss" $BIN load --prefix "$PREFIX" ${LOAD_ARGS:-} 2>"$TMP/load.log" >/dev/null
t1=$(now)
LOAD_S=$(secs "$t0" "$t1"); LOAD_RATE=$(rate "$TOTAL" "$t0" "$t1"); LOAD_RSS_MB=$(( $(cat "$TMP/load.rss") / 1024 ))

echo "== fleetpipe verify"
$BIN verify --prefix "$PREFIX" && VERIFY=PASS || VERIFY=FAIL

echo "== churn: 1 % of the rows deleted, 1 % updated"
WM=$(s3get "${PREFIX}manifests/$(s3last "$PREFIX")" | jq -r '.xid_to')
[[ "$WM" =~ ^[0-9]+$ ]] || { echo "could not read the watermark of $PREFIX" >&2; exit 1; }
# A residue of id % 100 that still has rows (earlier runs deleted theirs): 1 % of the rows.
R0=$(psql -tA "$WEB" -c "SELECT id % 100 FROM trips WHERE vehicle_id > 900000 ORDER BY id DESC LIMIT 1")
psql -q "$WEB" -v ON_ERROR_STOP=1 -c "DELETE FROM trips WHERE vehicle_id > 900000 AND id % 100 = $R0" \
  -c "UPDATE trips SET latitude = latitude + 0.001 WHERE vehicle_id > 900000 AND id % 100 = $(((R0 + 50) % 100))"
echo "== ceiling: psql \\copy out of the changed rows (rows and delete log above the watermark)"
t0=$(now)
psql -q "$WEB" -c "\\copy (SELECT $COLS FROM trips WHERE _export_xid >= '$WM'::xid8 ORDER BY id) TO '$TMP/changed.txt'" \
  -c "\\copy (SELECT id, day, _export_xid FROM export_deletes WHERE _export_xid >= '$WM'::xid8 ORDER BY day, id) TO '$TMP/deleted.txt'"
t1=$(now)
CHANGED=$(( $(wc -l < "$TMP/changed.txt") + $(wc -l < "$TMP/deleted.txt") ))
CEIL2_S=$(secs "$t0" "$t1"); CEIL2_RATE=$(rate "$CHANGED" "$t0" "$t1")
rm -f "$TMP/changed.txt" "$TMP/deleted.txt"
echo "== fleetpipe export (incremental: $CHANGED changed rows and deletes)"
t0=$(now)
$BIN export --prefix "$PREFIX" 2>"$TMP/export2.log"
t1=$(now)
EXP2_S=$(secs "$t0" "$t1"); EXP2_RATE=$(rate "$CHANGED" "$t0" "$t1")
echo "== fleetpipe load (incremental)"
t0=$(now)
/usr/bin/time -f "%M" -o "$TMP/load2.rss" $BIN load --prefix "$PREFIX" ${LOAD_ARGS:-} 2>"$TMP/load2.log"
t1=$(now)
LOAD2_S=$(secs "$t0" "$t1"); LOAD2_RATE=$(rate "$CHANGED" "$t0" "$t1"); LOAD2_RSS_MB=$(( $(cat "$TMP/load2.rss") / 1024 ))
$BIN verify --prefix "$PREFIX" && VERIFY2=PASS || VERIFY2=FAIL

echo "== oversized object: a 256 MiB line listed in a new run's manifest as 10 rows"
# A loaded run is never read again, so the object goes into a run of its own (1000 rows touched).
psql -q "$WEB" -c "UPDATE trips SET latitude = latitude WHERE id IN
  (SELECT id FROM trips WHERE vehicle_id > 900000 ORDER BY id DESC LIMIT 1000)"
$BIN export --prefix "$PREFIX" >/dev/null 2>>"$TMP/export2.log"
plant_oversized "$PREFIX"
set +e
/usr/bin/time -f "%M" -o "$TMP/load3.rss" $BIN load --prefix "$PREFIX" 2>"$TMP/load3.log" >/dev/null
BOMB_RC=$?
set -e
# time(1) puts "Command exited with non-zero status N" before the figure: the last line is the RSS.
BOMB_RSS_MB=$(( $(tail -1 "$TMP/load3.rss") / 1024 ))

cat <<EOF2

rep $rep/$REPS, $(date -u '+%F %H:%M'), load average before/after: $LOADAVG_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)
| stage | rows | seconds | rows/s | ceiling rows/s (psql \\copy) | ratio | peak RSS |
|---|---|---|---|---|---|---|
| export (webapp -> S3, NDJSON.gz) | $TOTAL | $EXP_S | $EXP_RATE | $CEIL_OUT_RATE ($CEIL_OUT_S s, out to file) | $(ratio "$CEIL_OUT_S" "$EXP_S") | $EXP_RSS_MB MB |
| load --parallel $LOAD_PARALLEL (S3 -> warehouse raw.trips) | $TOTAL | $LOAD_S | $LOAD_RATE | $CEIL_INN_RATE ($CEIL_INN_S s, $STREAMS streams in from files at once; one stream: $CEIL_IN_RATE, $CEIL_IN_S s) | $(ratio "$CEIL_INN_S" "$LOAD_S") | $LOAD_RSS_MB MB |

| export, incremental (1 % deleted + 1 % updated) | $CHANGED | $EXP2_S | $EXP2_RATE | $CEIL2_RATE ($CEIL2_S s, the same rows out to file) | $(ratio "$CEIL2_S" "$EXP2_S") | |
| load, incremental (staged upsert + tombstones) | $CHANGED | $LOAD2_S | $LOAD2_RATE | | | $LOAD2_RSS_MB MB |
| load with a 256 MiB-line object (quarantined, exit $BOMB_RC) | | | | | | $BOMB_RSS_MB MB |

verify: $VERIFY (full run), $VERIFY2 (after the incremental run)
EOF2
R[exp]+="$(python3 -c "print($TOTAL/$EXP_S)") "; R[cout]+="$(python3 -c "print($TOTAL/$CEIL_OUT_S)") "
R[load]+="$(python3 -c "print($TOTAL/$LOAD_S)") "; R[cin]+="$(python3 -c "print($TOTAL/$CEIL_IN_S)") "
R[cinn]+="$(python3 -c "print($TOTAL/$CEIL_INN_S)") "
R[exp_rss]+="$EXP_RSS_MB "; R[load_rss]+="$LOAD_RSS_MB "; R[verify]+="$VERIFY/$VERIFY2 "
R[exp2]+="$(python3 -c "print($CHANGED/$EXP2_S)") "; R[load2]+="$(python3 -c "print($CHANGED/$LOAD2_S)") "
R[c2]+="$(python3 -c "print($CHANGED/$CEIL2_S)") "; R[bomb_rss]+="$BOMB_RSS_MB "; R[load2_rss]+="$LOAD2_RSS_MB "; R[exp2_s]+="$EXP2_S "; R[load2_s]+="$LOAD2_S "
# The bucket's objects of this repetition are not needed any more (disk).
aws_prefix_cleanup "$PREFIX"
done

med() { tr ' ' '\n' <<<"${R[$1]}" | grep . | median; }
printf '\n%d rows, %d repetitions, medians (raw: export [%s] ceiling out [%s] load [%s] ceiling in, %d streams [%s], one stream [%s]; verify %s)\n\n' \
  "$TOTAL" "$REPS" "${R[exp]}" "${R[cout]}" "${R[load]}" "$STREAMS" "${R[cinn]}" "${R[cin]}" "${R[verify]}"
printf '| stage | rows/s | ceiling rows/s | ratio | peak RSS MB |\n|---|---:|---:|---:|---:|\n'
printf '| export | %.0f | %.0f (psql \\copy out) | %.2f | %s |\n' "$(med exp)" "$(med cout)" "$(python3 -c "print($(med exp)/$(med cout))")" "$(med exp_rss)"
printf '| load --parallel %d | %.0f | %.0f (psql \\copy in, %d streams at once; one stream: %.0f) | %.2f | %s |\n' "$LOAD_PARALLEL" "$(med load)" "$(med cinn)" \
  "$STREAMS" "$(med cin)" "$(python3 -c "print($(med load)/$(med cinn))")" "$(med load_rss)"
printf '| export, incremental (%s s) | %.0f | %.0f (psql \\copy of the changed rows) | %.2f | |\n' "$(med exp2_s)" "$(med exp2)" "$(med c2)" "$(python3 -c "print($(med exp2)/$(med c2))")"
printf '| load, incremental (%s s) | %.0f | | | %s |\n' "$(med load2_s)" "$(med load2)" "$(med load2_rss)"
printf '| load, oversized object in the bucket | | | | %s |\n' "$(med bomb_rss)"
