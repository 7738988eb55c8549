#!/usr/bin/env bash
# Bulk throughput of `fleetpipe generate` beside its ceilings, 1 M rows:
#   Postgres sink        vs  psql \copy of the same CSV into the same (truncated) trips table
#   Kafka sink           vs  Kafka's ProducerPerformance, same record count, with the generator's own producer
#                            settings (read from the source, see "Kafka ceiling" below) and the generator's own
#                            JSON values of the median size as records
#   both sinks together  vs  both ceilings at once: psql \copy and ProducerPerformance of the same rows running
#                            side by side (a row counts when it is in both), target >= 100 000 rows/s
#   and, for the PostgreSQL side alone, two psql \copy streams at once (each half the CSV): what the server
#   takes with both cores
# The settings of the Kafka ceiling are printed beside its figure.
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
# --- Kafka ceiling: ProducerPerformance with the generator's own producer settings (like with like) ---
# Read from the source the generator is built from, so the ceiling follows it; the script stops when it cannot
# find one. The generator's librdkafka property -> the Java producer's property:
#   linger.ms (librdkafka alias of queue.buffering.max.ms): po.linger_ms in src/generator/kafka_sink.cpp, else
#     ProducerOptions' default (src/common/kafka/producer.h)                          -> linger.ms
#   batch.size: ProducerOptions::batch_size_bytes (kafka_sink.cpp, else producer.h)  -> batch.size (bytes)
#   compression.type (alias of compression.codec): ProducerOptions::compression       -> compression.type
#   acks, enable.idempotence: kGuarantees in src/common/kafka/producer.cpp             -> the same names
#   max.in.flight.requests.per.connection: librdkafka caps it at 5 with idempotence    -> 5 (Java's default)
#   message.timeout.ms = generate's --kafka-timeout-ms default (src/generator/runner.h) -> delivery.timeout.ms
# Not mapped: queue.buffering.max.kbytes (16 MiB of queued messages in kafka_sink.cpp). Java's buffer.memory
# counts whole batch.size buffers instead, so 16 MiB there would hold only 16 batches of 1 MiB and throttle the
# ceiling where librdkafka would not; Java's default (32 MiB) stays.
# Records: ProducerPerformance cannot send keys; the generator keys every row by its vehicle id, which spreads
# a batch's rows over all partitions. RoundRobinPartitioner does the same with unkeyed records (Java's
# built-in partitioner would fill one partition's batch at a time).
src_setting() {  # FILE SED_REGEX_WITH_ONE_GROUP -> the group of the first matching line, or nothing
  sed -nE "s/$2/\1/p" "$1" | head -1
}
LINGER=$(src_setting src/generator/kafka_sink.cpp '.*po\.linger_ms = ([0-9]+);.*')
[[ -n "$LINGER" ]] || LINGER=$(src_setting src/common/kafka/producer.h '.*int linger_ms = ([0-9]+);.*')
BATCH=$(src_setting src/generator/kafka_sink.cpp '.*po\.batch_size_bytes = ([0-9 <]+);.*')
[[ -n "$BATCH" ]] || BATCH=$(src_setting src/common/kafka/producer.h '.*int batch_size_bytes = ([0-9 <]+);.*')
CODEC=$(src_setting src/generator/kafka_sink.cpp '.*po\.compression = Compression::k([A-Za-z0-9]+);.*')
[[ -n "$CODEC" ]] || CODEC=$(src_setting src/common/kafka/producer.h '.*Compression compression = Compression::k([A-Za-z0-9]+);.*')
IDEMPOTENCE=$(src_setting src/common/kafka/producer.cpp '.*kGuarantees = .*"enable\.idempotence", "([a-z]+)".*')
ACKS=$(src_setting src/common/kafka/producer.cpp '.*kGuarantees = .*"acks", "([a-z0-9-]+)".*')
TIMEOUT_MS=$(src_setting src/generator/runner.h '.*int kafka_timeout_ms = ([0-9]+);.*')
for v in LINGER BATCH CODEC IDEMPOTENCE ACKS TIMEOUT_MS; do
  [[ -n "${!v}" ]] || { echo "bench/generator.sh: cannot find the generator's producer setting $v in src/; update the script" >&2; exit 1; }
done
PERF_PROPS=(linger.ms="$LINGER" batch.size=$((BATCH)) compression.type="${CODEC,,}" acks="$ACKS"
  enable.idempotence="$IDEMPOTENCE" max.in.flight.requests.per.connection=5 delivery.timeout.ms="$TIMEOUT_MS"
  partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner)

# The generator's own JSON values: every STEP-th row of the CSV (about 100 000 rows) through its Kafka sink,
# read back from the moment just before. Records of the ceiling: those values whose size is the median (a size
# that occurs: the lower middle), or the 2 000 closest to it if fewer have it exactly; ProducerPerformance
# picks one at random per record, so they compress like the generator's rows, not like random letters.
STEP=$(( ROWS > 100000 ? ROWS / 100000 : 1 ))
awk -v s="$STEP" 'NR == 1 || (NR - 2) % s == 0' "$WORK/trips.csv" >"$WORK/sample.csv"
SAMPLE=$(( $(wc -l <"$WORK/sample.csv") - 1 ))
since_ms=$(date +%s%3N)
$BIN generate --csv "$WORK/sample.csv" --bulk --sink kafka --topic bench_gen_trips --run-id bench-size >/dev/null 2>"$WORK/err" ||
  { cat "$WORK/err" >&2; exit 1; }
kcat -b "$BOOT" -C -t bench_gen_trips -o "s@$since_ms" -c "$SAMPLE" -e -q -f '%K\t%s\n' >"$WORK/sample.kv"
GOT=$(wc -l <"$WORK/sample.kv")
(( GOT * 100 >= SAMPLE * 99 )) || { echo "read back $GOT of the $SAMPLE sampled messages" >&2; exit 1; }
lower_median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
RECSIZE=$(LC_ALL=C awk -F'\t' '{ print length($2) }' "$WORK/sample.kv" | lower_median)
MEANSIZE=$(LC_ALL=C awk -F'\t' '{ n += length($2) } END { printf "%.0f", n / NR }' "$WORK/sample.kv")
KEYSIZE=$(cut -f1 "$WORK/sample.kv" | lower_median)
LC_ALL=C awk -F'\t' -v m="$RECSIZE" '{ d = length($2) - m; print (d < 0 ? -d : d) "\t" $2 }' "$WORK/sample.kv" |
  sort -s -n -k1,1 | awk -F'\t' 'NR <= 2000 || $1 == 0' | cut -f2- >"$WORK/payloads.txt"
PAYLOADS=$(wc -l <"$WORK/payloads.txt")
PAYLOAD_SIZES=$(LC_ALL=C awk '{ print length($0) }' "$WORK/payloads.txt" | sort -n | sed -n '1p;$p' | paste -sd-)
KAFKA_CEILING="ProducerPerformance with the generator's producer settings: ${PERF_PROPS[*]};
  records: $PAYLOADS of the generator's own JSON values, $PAYLOAD_SIZES bytes (median of $GOT sampled values: $RECSIZE bytes,
  mean $MEANSIZE), no keys (the generator's: vehicle ids, median $KEYSIZE bytes); 3 partitions"
echo "Kafka ceiling: $KAFKA_CEILING" >&2
# ProducerPerformance of ROWS records with the settings above, to bench_perf_trips (--command-property is
# Kafka 4's name for the deprecated --producer-props).
PERF=("${JAVA[@]}" org.apache.kafka.tools.ProducerPerformance --topic bench_perf_trips --num-records "$ROWS"
  --payload-file "$WORK/payloads.txt" --throughput -1 --command-property bootstrap.servers="$BOOT" "${PERF_PROPS[@]}")

declare -A R
CPU_LINES=""
for rep in $(seq "$REPS"); do
  echo "rep $rep/$REPS" >&2
  reset_pg; read -r s m _ < <(gen --sink postgres --run-id bench-pg); R[pg]+="$(echo "$ROWS / $s" | bc -l) "; R[pg_rss]+="$m "
  reset_pg; read -r s m _ < <(timed "${PSQL[@]}" -c "\\copy trips ($COLS) FROM '$WORK/trips.csv' CSV HEADER"); R[copy]+="$(echo "$ROWS / $s" | bc -l) "
  read -r s m _ < <(gen --sink kafka --topic bench_gen_trips --run-id bench-kafka); R[kafka]+="$(echo "$ROWS / $s" | bc -l) "; R[kafka_rss]+="$m "
  timed "${PERF[@]}" >/dev/null
  rate=$(tail -1 "$WORK/out" | sed -nE 's/.*sent, ([0-9.]+) records\/sec.*/\1/p')
  [[ -n "$rate" ]] || { echo "ProducerPerformance printed no rate:" >&2; tail -3 "$WORK/out" "$WORK/err" >&2; exit 1; }
  R[perf]+="$rate "
  # Both ceilings side by side: rows/s = ROWS / the slower of the two.
  reset_pg
  t0=$(date +%s.%N)
  "${PSQL[@]}" -c "\\copy trips ($COLS) FROM '$WORK/trips.csv' CSV HEADER" &
  cpid=$!
  "${PERF[@]}" >/dev/null 2>&1
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
printf '\n%d rows, %d repetitions (medians), %s\n\n' "$ROWS" "$REPS" "$(date -u +%F)"
printf '| %-28s | %12s | %12s | %6s | %12s |\n' "run" "rows/s" "ceiling" "ratio" "peak RSS MB"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------" "--------------" "--------------" "--------" "--------------"
printf '| %-28s | %12.0f | %12.0f | %6.2f | %12.1f |\n' "generate --sink postgres" "$pg" "$copy" "$(echo "$pg / $copy" | bc -l)" "$(echo "$(med pg_rss) / 1024" | bc -l)"
printf '| %-28s | %12.0f | %12.0f | %6.2f | %12.1f |\n' "generate --sink kafka" "$kafka" "$perf" "$(echo "$kafka / $perf" | bc -l)" "$(echo "$(med kafka_rss) / 1024" | bc -l)"
printf '| %-28s | %12.0f | %12.0f | %6.2f | %12.1f |\n' "generate --sink postgres,kafka" "$both" "$both_ceiling" "$(echo "$both / $both_ceiling" | bc -l)" "$(echo "$(med both_rss) / 1024" | bc -l)"
printf '| %-28s | %12.0f | %12s | %6.2f | %12s |\n' "  (target)" "100000" "" "$(echo "$both / 100000" | bc -l)" ""
printf '| %-28s | %12.0f | %12s | %6s | %12s |\n' "two psql \\copy streams at once" "$copy2" "" "" ""
printf '\nceilings: psql \\copy into trips (same CSV, truncated table);\n'
printf 'Kafka: %s\n' "$KAFKA_CEILING"
printf 'both sinks: the two run side by side, rows/s of the slower\n'
printf 'raw rows/s: pg=[%s] copy=[%s] kafka=[%s] perf=[%s] both=[%s] both_ceiling=[%s] copy2=[%s]\n' "${R[pg]}" "${R[copy]}" "${R[kafka]}" "${R[perf]}" "${R[both]}" "${R[both_ceiling]}" "${R[copy2]}"
printf '%s' "$CPU_LINES"
