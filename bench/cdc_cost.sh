#!/usr/bin/env bash
# CPU per row of each part of the stack for one bulk run of `fleetpipe generate --sink postgres,kafka`,
# sampled (bench/stack_cpu.sh) before the run and again once Debezium has published a change event for every
# row (the sum of webapp.public.trips' end offsets grew by ROWS), so Kafka Connect's whole share is counted;
# bench/generator.sh samples right after the generator exits, while Debezium is still catching up.
# Also prints how long Debezium took to catch up after the generator finished.
#
# DESTRUCTIVE: truncates trips (and trip_latest) in the configured webapp database first. Own stack only, with
# BENCH_TRUNCATE_OK=1. Needs kcat.
#
#   BENCH_TRUNCATE_OK=1 bench/cdc_cost.sh [ROWS] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
REPS=${2:-3}
. bench/webapp_env.sh
CDC_TOPIC=webapp.public.trips
WORK=$(mktemp -d /tmp/fp-bench-cdc.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TICK=$(getconf CLK_TCK)

cdc_end() {  # sum of the CDC topic's end offsets
  local args=() p
  for p in $(kcat -b "$BOOT" -L -t "$CDC_TOPIC" 2>/dev/null | awk '/partition [0-9]+,/ { sub(",", "", $2); print $2 }'); do
    args+=(-t "$CDC_TOPIC:$p:-1")
  done
  kcat -b "$BOOT" -Q "${args[@]}" 2>/dev/null | awk '{ n += $NF } END { print n + 0 }'
}

$BIN generate --simulate --vehicles 500 --first-vehicle-id 1 --seed 99 --count "$ROWS" --bulk --csv-out "$WORK/trips.csv" >/dev/null
for rep in $(seq "$REPS"); do
  "${PSQL[@]}" -c "SET fleetpipe.allow_truncate = on; TRUNCATE trips, trip_latest; DELETE FROM generator_checkpoints WHERE run_id LIKE 'bench-cdc%'; CHECKPOINT" >/dev/null
  sleep 5  # Debezium publishes the truncate
  e0=$(cdc_end); c0=$(bench/stack_cpu.sh)
  /usr/bin/time -f "%e %U %S" -o "$WORK/time" $BIN generate --csv "$WORK/trips.csv" --bulk --sink postgres,kafka \
    --topic bench_gen_trips --run-id "bench-cdc-$$-$rep" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  t1=$(date +%s.%N)
  for _ in $(seq 1 600); do (( $(cdc_end) - e0 >= ROWS )) && break; sleep 0.5; done
  t2=$(date +%s.%N); c1=$(bench/stack_cpu.sh)
  read -r s u y <"$WORK/time"
  declare -A a=() b=()
  for kv in $c0; do a[${kv%%=*}]=${kv#*=}; done
  for kv in $c1; do b[${kv%%=*}]=${kv#*=}; done
  line=$(printf 'generator=%.1f' "$(echo "($u + $y) * 1000000 / $ROWS" | bc -l)")
  total=$(echo "($u + $y) * 1000000 / $ROWS" | bc -l)
  for k in pg_webapp kafka connect; do
    v=$(echo "(${b[$k]} - ${a[$k]}) * 1000000 / $TICK / $ROWS" | bc -l)
    line+=$(printf ' %s=%.1f' "$k" "$v"); total=$(echo "$total + $v" | bc -l)
  done
  printf 'rep %d: %.0f rows/s both sinks; Debezium caught up %.1f s later (%d events); CPU us/row: %s total=%.1f; load %s\n' \
    "$rep" "$(echo "$ROWS / $s" | bc -l)" "$(echo "$t2 - $t1" | bc -l)" "$(( $(cdc_end) - e0 ))" "$line" "$total" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
done
"${PSQL[@]}" -c "SET fleetpipe.allow_truncate = on; TRUNCATE trips, trip_latest" >/dev/null
