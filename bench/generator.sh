#!/usr/bin/env bash
# Bulk throughput of `fleetpipe generate` beside its ceilings, 1 M rows:
#   Postgres sink        vs  psql \copy of the same CSV into the same (truncated) trips table
#   Kafka sink           vs  Kafka's ProducerPerformance, same record count and (mean) record size, acks=all
#   both sinks together  vs  both ceilings at once: psql \copy and ProducerPerformance of the same rows running
#                            side by side (a row counts when it is in both), target >= 100 000 rows/s
#   and, for the PostgreSQL side alone, two psql \copy streams at once (each half the CSV): what the server
#   takes with both cores
# Each configuration runs REPS times (default 3), alternating with its ceiling; medians are reported.
# Peak RSS from /usr/bin/time -v.
#
# DESTRUCTIVE: truncates trips (and trip_latest) in the configured webapp database. Run it against your own
# stack only, with BENCH_TRUNCATE_OK=1. Uses the environment of `fleetpipe` (POSTGRES_*, KAFKA_BOOTSTRAP_SERVERS).
#
#   BENCH_TRUNCATE_OK=1 bench/generator.sh [ROWS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
REPS=${2:-3}
. bench/webapp_env.sh
. "${HOME}/.cache/fleetpipe/jars/paths.env"
JAVA=(java -Xmx256m -XX:+UseG1GC -Djava.awt.headless=true -Dlog4j2.configurationFile="$PWD/stack/conf/log4j2-tools.xml" -cp "$FLEETPIPE_KAFKA_LIB/*")
WORK=$(mktemp -d /tmp/fp-bench-gen.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
COLS="vehicle_id, trip_id, measurement_sequence, measurement_time, latitude, longitude, fuel_capacity, distance_traveled, fuel_remaining_percent, fuel_remaining_gallon, color"

echo "generating $ROWS rows (simulator, 500 vehicles, bulk) ..." >&2
$BIN generate --simulate --vehicles 500 --first-vehicle-id 1 --seed 99 --count "$ROWS" --bulk --csv-out "$WORK/trips.csv" >/dev/null
topic() {  # create a 3-partition topic like `trips`
  "${JAVA[@]}" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOT" --create --if-not-exists \
    --topic "$1" --partitions 3 --replication-factor 1 >/dev/null 2>&1
}
reset_pg() { "${PSQL[@]}" -c "SET fleetpipe.allow_truncate = on; TRUNCATE trips, trip_latest; DELETE FROM generator_checkpoints WHERE run_id LIKE 'bench%'; CHECKPOINT" >/dev/null; }
# timed CMD... -> "seconds maxrss_kb" on fd 3
timed() { /usr/bin/time -f "%e %M %U %S" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }; cat "$WORK/time"; }
# CPU seconds each part of the stack spent between two bench/stack_cpu.sh samples, per row (us).
TICK=$(getconf CLK_TCK)
cpu_per_row() {  # BEFORE AFTER -> "pg_webapp=us kafka=us connect=us"
  local -A a b; local kv
  for kv in $1; do a[${kv%%=*}]=${kv#*=}; done
  for kv in $2; do b[${kv%%=*}]=${kv#*=}; done
  for k in pg_webapp kafka connect; do printf '%s=%.1f ' "$k" "$(echo "(${b[$k]} - ${a[$k]}) * 1000000 / $TICK / $ROWS" | bc -l)"; done
}
gen() { timed $BIN generate --csv "$WORK/trips.csv" --bulk "$@"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Halves by vehicle (so the two streams never wait on each other's natural-key index entries), no header.
awk -F, -v d="$WORK" 'NR > 1 { print > ($1 % 2 ? d "/half1.csv" : d "/half2.csv") }' "$WORK/trips.csv"
topic bench_gen_trips; topic bench_perf_trips
# Exact JSON size: one line of the sink's output format.
RECSIZE=$($BIN generate --csv "$WORK/trips.csv" --bulk --sink kafka --topic bench_gen_trips --run-id bench-size >/dev/null 2>&1; \
  kcat -b "$BOOT" -C -t bench_gen_trips -c 20000 -e -q -f '%S\n' 2>/dev/null | awk '{ n += $1 } END { print int(n / NR) }')
echo "mean JSON value size: $RECSIZE bytes" >&2

declare -A R
CPU_LINES=""
for rep in $(seq "$REPS"); do
  echo "rep $rep/$REPS" >&2
  reset_pg; read -r s m _ < <(gen --sink postgres --run-id bench-pg); R[pg]+="$(echo "$ROWS / $s" | bc -l) "; R[pg_rss]+="$m "
  reset_pg; read -r s m _ < <(timed "${PSQL[@]}" -c "\\copy trips ($COLS) FROM '$WORK/trips.csv' CSV HEADER"); R[copy]+="$(echo "$ROWS / $s" | bc -l) "
  read -r s m _ < <(gen --sink kafka --topic bench_gen_trips --run-id bench-kafka); R[kafka]+="$(echo "$ROWS / $s" | bc -l) "; R[kafka_rss]+="$m "
  timed "${JAVA[@]}" org.apache.kafka.tools.ProducerPerformance --topic bench_perf_trips --num-records "$ROWS" \
    --record-size "$RECSIZE" --throughput -1 --command-property bootstrap.servers="$BOOT" acks=all >/dev/null
  R[perf]+="$(tail -1 "$WORK/out" | sed -E 's/.*sent, ([0-9.]+) records\/sec.*/\1/') "
  # Both ceilings side by side: rows/s = ROWS / the slower of the two.
  reset_pg
  t0=$(date +%s.%N)
  "${PSQL[@]}" -c "\\copy trips ($COLS) FROM '$WORK/trips.csv' CSV HEADER" &
  cpid=$!
  "${JAVA[@]}" org.apache.kafka.tools.ProducerPerformance --topic bench_perf_trips --num-records "$ROWS" \
    --record-size "$RECSIZE" --throughput -1 --command-property bootstrap.servers="$BOOT" acks=all >/dev/null 2>&1
  wait $cpid
  R[both_ceiling]+="$(echo "$ROWS / ($(date +%s.%N) - $t0)" | bc -l) "
  # PostgreSQL with both cores: two \copy streams of half the rows each.
  reset_pg
  t0=$(date +%s.%N)
  "${PSQL[@]}" -c "\\copy trips ($COLS) FROM '$WORK/half1.csv' CSV" & c1pid=$!
  "${PSQL[@]}" -c "\\copy trips ($COLS) FROM '$WORK/half2.csv' CSV"
  wait $c1pid
  R[copy2]+="$(echo "$ROWS / ($(date +%s.%N) - $t0)" | bc -l) "
  reset_pg; c0=$(bench/stack_cpu.sh)
  read -r s m u y < <(gen --sink postgres,kafka --topic bench_gen_trips --run-id bench-both); R[both]+="$(echo "$ROWS / $s" | bc -l) "; R[both_rss]+="$m "
  c1=$(bench/stack_cpu.sh)
  CPU_LINES+="rep $rep both sinks: $(printf '%.0f' "$(echo "$ROWS / $s" | bc -l)") rows/s, CPU us/row: generator=$(echo "($u + $y) * 1000000 / $ROWS" | bc -l | xargs printf '%.1f') $(cpu_per_row "$c0" "$c1")(2 cores = 2 000 000 us of CPU per wall second), load average $(cut -d' ' -f1-3 /proc/loadavg)
"
done
reset_pg

med() { tr ' ' '\n' <<<"${R[$1]}" | grep . | median; }
pg=$(med pg); copy=$(med copy); kafka=$(med kafka); perf=$(med perf); both=$(med both)
both_ceiling=$(med both_ceiling); copy2=$(med copy2)
printf '\n%d rows, %d repetitions (medians), mean record %d bytes, %s\n\n' "$ROWS" "$REPS" "$RECSIZE" "$(date -u +%F)"
printf '| %-28s | %12s | %12s | %6s | %12s |\n' "run" "rows/s" "ceiling" "ratio" "peak RSS MB"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------" "--------------" "--------------" "--------" "--------------"
printf '| %-28s | %12.0f | %12.0f | %6.2f | %12.1f |\n' "generate --sink postgres" "$pg" "$copy" "$(echo "$pg / $copy" | bc -l)" "$(echo "$(med pg_rss) / 1024" | bc -l)"
printf '| %-28s | %12.0f | %12.0f | %6.2f | %12.1f |\n' "generate --sink kafka" "$kafka" "$perf" "$(echo "$kafka / $perf" | bc -l)" "$(echo "$(med kafka_rss) / 1024" | bc -l)"
printf '| %-28s | %12.0f | %12.0f | %6.2f | %12.1f |\n' "generate --sink postgres,kafka" "$both" "$both_ceiling" "$(echo "$both / $both_ceiling" | bc -l)" "$(echo "$(med both_rss) / 1024" | bc -l)"
printf '| %-28s | %12.0f | %12s | %6.2f | %12s |\n' "  (target)" "100000" "" "$(echo "$both / 100000" | bc -l)" ""
printf '| %-28s | %12.0f | %12s | %6s | %12s |\n' "two psql \\copy streams at once" "$copy2" "" "" ""
printf '\nceilings: psql \\copy into trips (same CSV, truncated table); ProducerPerformance acks=all, %d-byte records, 3 partitions;\n' "$RECSIZE"
printf 'both sinks: the two run side by side, rows/s of the slower\n'
printf 'raw rows/s: pg=[%s] copy=[%s] kafka=[%s] perf=[%s] both=[%s] both_ceiling=[%s] copy2=[%s]\n' "${R[pg]}" "${R[copy]}" "${R[kafka]}" "${R[perf]}" "${R[both]}" "${R[both_ceiling]}" "${R[copy2]}"
printf '%s' "$CPU_LINES"
