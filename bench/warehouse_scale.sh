#!/usr/bin/env bash
# The warehouse lane at fleet scale: does a scheduler run cost what is new, not the history?
#
#   1. History: BENCH_HISTORY simulated measurements (default 10 000 000, BENCH_HISTORY_VEHICLES = 500
#      vehicles once a minute, ending a day ago) written to the webapp database in bulk; the CDC connector
#      streams them like any other rows, and the bench waits until its replication slot has caught up.
#   2. One scheduler run brings the history into the bucket and the warehouse (timed), then
#      `dbt build --full-refresh` on that history: the ceiling an incremental build is compared with.
#   3. Live: BENCH_LIVE_VEHICLES vehicles (default 2 000) reporting once a second (the generator's live
#      simulator into both sinks) for BENCH_MINUTES (default 30), with the CDC connector, the live dashboard
#      (one SSE viewer connected) and `fleetpipe scheduler --every 60s` running. Whole-table tests are a daily
#      job (--full-tests-every), not part of a minute's run: off here.
#   4. Report: every run's duration against its interval, the median of all, of the first 10 and of the
#      last 10; the median incremental dbt build against the full refresh; warehouse freshness (the
#      scheduler's gauge, sampled every 10 s once the first live run has finished) p50/p99; verify's
#      outcome on every run; the dashboard's commit -> event p50/p99 (bucket bounds of
#      fp_realtime_delivery_latency_seconds); CPU per loaded row of the lane (the scheduler process with its
#      dbt children, and the warehouse server).
#
#   ./build/fleetpipe up            # the stack, without `demo`'s generator, scheduler and dashboard
#   bench/warehouse_scale.sh        # BENCH_MINUTES=5 BENCH_HISTORY=1000000 for a short look
#   BENCH_HISTORY=0 BENCH_LIVE_FIRST_VEHICLE=300001 bench/warehouse_scale.sh   # again, on the history there
#   BENCH_FULL_REFRESH_S=934.7 ...   # the ceiling timed by hand on the same history (`time scripts/dbt.sh
#                                    # build --full-refresh`), instead of a second full refresh
#
# Uses the stack's own webapp and warehouse databases (the CDC connector watches the webapp one): vehicles
# from 100001 (history) and BENCH_LIVE_FIRST_VEHICLE (live, default 200001) are added to what is there, so
# start from data that passes dbt's tests (a fresh state directory is simplest). Leaves the rows in place; the results and the services' logs
# go to BENCH_OUT (default: a new temporary directory, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
HISTORY=${BENCH_HISTORY:-10000000}
HISTORY_VEHICLES=${BENCH_HISTORY_VEHICLES:-500}
LIVE_VEHICLES=${BENCH_LIVE_VEHICLES:-2000}
LIVE_FIRST=${BENCH_LIVE_FIRST_VEHICLE:-200001}
MINUTES=${BENCH_MINUTES:-30}
OUT=${BENCH_OUT:-$(mktemp -d)}
BIN=build/fleetpipe
SCHED_PORT=18071
RT_PORT=18051
mkdir -p "$OUT"
echo "results and logs: $OUT"

cfg=$($BIN config --reveal-secrets)
pgurl() { jq -r ".$1 | \"postgresql://\(.user):\(.password)@\(.host):\(.port)/\(.dbname)\"" <<<"$cfg"; }
WEB=$(pgurl webapp)
DW=$(pgurl warehouse)
export FLEETPIPE_STATE_DIR=${FLEETPIPE_STATE_DIR:-$PWD/var}
q() { psql "$1" -XAtq -v ON_ERROR_STOP=1 -c "$2"; }
now() { date +%s.%N; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# ---- 1. history --------------------------------------------------------------------------------------
if ((HISTORY > 0)); then
  start=$(date -u -d "-$((HISTORY / HISTORY_VEHICLES / 1440 + 1)) days" '+%Y-%m-%d 00:00:00')
  echo "history: $HISTORY rows from $HISTORY_VEHICLES vehicles from $start"
  t0=$(now)
  $BIN generate --simulate --vehicles "$HISTORY_VEHICLES" --first-vehicle-id 100001 --seed 15 \
    --count "$HISTORY" --start-time "$start" --step 60 --bulk --sink postgres 2>"$OUT/history.log"
  echo "history written in $(echo "$(now) - $t0" | bc) s"
fi
echo "waiting for CDC to catch up"
while :; do
  behind=$(q "$WEB" "SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint
                     FROM pg_replication_slots WHERE slot_name = 'webapp_cdc'")
  [[ -z "$behind" || "$behind" -lt $((64 << 20)) ]] && break
  printf '\r  CDC slot %d MB behind ' $((behind >> 20)); sleep 10
done
echo

# ---- 2. the history into the warehouse, and the full-refresh ceiling ------------------------------------
t0=$(now)
$BIN scheduler --once --no-http --no-docs --full-tests-every 0 2>"$OUT/history-run.log"
HISTORY_RUN=$(echo "$(now) - $t0" | bc)
if [[ -n "${BENCH_FULL_REFRESH_S:-}" ]]; then
  # A full refresh timed on this same history just before (it takes a quarter of an hour on 28 M rows).
  FULL_REFRESH=$BENCH_FULL_REFRESH_S
  echo "full refresh: $FULL_REFRESH s as given (BENCH_FULL_REFRESH_S), not run again" >"$OUT/full-refresh.log"
else
  t0=$(now)
  scripts/dbt.sh build --full-refresh >"$OUT/full-refresh.log" 2>&1
  FULL_REFRESH=$(echo "$(now) - $t0" | bc)
fi
ROWS_BEFORE=$(q "$DW" "SELECT count(*) FROM staging.stg_trips")
echo "history run $HISTORY_RUN s; dbt build --full-refresh on $ROWS_BEFORE measurements: $FULL_REFRESH s"

# ---- 3. live ------------------------------------------------------------------------------------------
cpu_pg() { bench/stack_cpu.sh | tr ' ' '\n' | sed -n 's/^pg_warehouse=//p'; }
cpu_proc() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
LIVE_START=$(q "$DW" "SELECT now()")
# A consumer group of its own: the dashboard's default group may be behind (changes made while no dashboard
# ran), and its backlog would both load the machine and fill the latency histogram with old commits. A new
# group starts at the topics' end as of the database rebuild.
$BIN realtime --port "$RT_PORT" --group "bench-warehouse-scale-$(date +%s)" >"$OUT/realtime.log" 2>&1 &
pids+=($!)
# The viewer connects once the dashboard listens (it first rebuilds its state from the database).
until curl -s -o /dev/null "http://127.0.0.1:$RT_PORT/healthz"; do sleep 1; done  # any answer: it listens
curl -sN "http://127.0.0.1:$RT_PORT/events" >/dev/null &
pids+=($!)
$BIN scheduler --every 60s --listen "127.0.0.1:$SCHED_PORT" --no-docs --full-tests-every 0 \
  >"$OUT/scheduler.log" 2>&1 &
SCHED=$!
pids+=($SCHED)
pg0=$(cpu_pg)
$BIN generate --simulate --vehicles "$LIVE_VEHICLES" --first-vehicle-id "$LIVE_FIRST" --seed 16 --start-time now --step 1 \
  --rate "$LIVE_VEHICLES" >"$OUT/generator.log" 2>&1 &
GEN=$!
pids+=($GEN)
echo "live: $LIVE_VEHICLES vehicles once a second for $MINUTES min"
: >"$OUT/freshness.txt"
end=$(($(date +%s) + MINUTES * 60))
# Freshness is sampled from the end of the first live run on: before it, the gauge shows the lag that the
# history run and the full refresh left behind, not the lane's.
sampling=0
while (($(date +%s) < end)); do
  ((sampling)) || sampling=$(q "$DW" "SELECT count(*) FROM ops.pipeline_runs
                                      WHERE started_at >= '$LIVE_START' AND finished_at IS NOT NULL")
  if ((sampling)); then
    curl -s "http://127.0.0.1:$SCHED_PORT/metrics" |
      awk '/^fleetpipe_scheduler_warehouse_freshness_seconds /{ if ($2 >= 0) print $2 }' >>"$OUT/freshness.txt"
  fi
  printf '\r  %d s left ' $((end - $(date +%s))); sleep 10
done
echo
kill -INT "$GEN"; wait "$GEN" || true
# Let the run in flight finish (the scheduler stops between runs on SIGINT too, but a run it cuts short is
# recorded failed).
while [[ $(q "$DW" "SELECT count(*) FROM ops.pipeline_runs WHERE outcome = 'running'") != 0 ]]; do sleep 2; done
sched_cpu=$(cpu_proc "$SCHED")
pg1=$(cpu_pg)
curl -s "http://127.0.0.1:$RT_PORT/metrics" >"$OUT/realtime-metrics.txt"
kill -INT "$SCHED"; wait "$SCHED" || true

# ---- 4. report ----------------------------------------------------------------------------------------
runs="SELECT run_id, extract(epoch FROM finished_at - started_at) AS s, outcome FROM ops.pipeline_runs
      WHERE started_at >= '$LIVE_START' AND finished_at IS NOT NULL"
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2); else print "-" }'; }
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { if (NR) { i = int(NR * p / 100 + 0.999); print a[i < 1 ? 1 : i] } else print "-" }'; }
q "$DW" "$runs ORDER BY run_id" | tr '|' ' ' >"$OUT/runs.txt"
N=$(wc -l <"$OUT/runs.txt")
OK=$(awk '$3 == "success"' "$OUT/runs.txt" | wc -l)
OVER=$(awk '$2 > 60' "$OUT/runs.txt" | wc -l)
step_median() {
  q "$DW" "SELECT extract(epoch FROM s.finished_at - s.started_at) FROM ops.pipeline_steps s
           JOIN ops.pipeline_runs r USING (run_id) WHERE r.started_at >= '$LIVE_START' AND s.step = '$1'
           AND s.outcome = 'success'" | median
}
VERIFY_FAILS=$(q "$DW" "SELECT count(*) FROM ops.pipeline_steps s JOIN ops.pipeline_runs r USING (run_id)
                        WHERE r.started_at >= '$LIVE_START' AND s.step = 'verify' AND s.outcome <> 'success'")
LOADED=$(q "$DW" "SELECT coalesce(sum(rows), 0) FROM ops.pipeline_steps s JOIN ops.pipeline_runs r USING (run_id)
                  WHERE r.started_at >= '$LIVE_START' AND s.step = 'load' AND s.outcome = 'success'")
DBT=$(step_median dbt_build)
# Bucket bounds of the delivery histogram: the first bound whose cumulative count reaches the quantile.
latency() {
  awk -v p="$1" '/^fp_realtime_delivery_latency_seconds_bucket/ {
      match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); b[++n] = le; c[n] = $2 }
    /^fp_realtime_delivery_latency_seconds_count/ { total = $2 }
    END { if (total == 0) { print "- (nothing delivered)"; exit }
          for (i = 1; i <= n; i++) if (c[i] >= total * p) { print b[i]; exit } }' "$OUT/realtime-metrics.txt"
}
TICK=$(getconf CLK_TCK)
{
  echo "history: $ROWS_BEFORE measurements in the marts before the live phase ($HISTORY generated)"
  echo "live: $LIVE_VEHICLES vehicles x 1/s for $MINUTES min, scheduler every 60 s; $LOADED rows loaded"
  echo "runs: $N ($OK succeeded), $OVER longer than the 60 s interval"
  echo "run duration median: $(awk '{ print $2 }' "$OUT/runs.txt" | median) s (ceiling 15 s)"
  echo "  first 10: $(head -10 "$OUT/runs.txt" | awk '{ print $2 }' | median) s, last 10: $(tail -10 "$OUT/runs.txt" | awk '{ print $2 }' | median) s (ceiling 1.2x first)"
  echo "  steps median: export $(step_median export) s, load $(step_median load) s, dbt build $DBT s, verify $(step_median verify) s"
  echo "incremental dbt build median $DBT s vs dbt build --full-refresh $FULL_REFRESH s: $(echo "scale=3; $DBT / $FULL_REFRESH" | bc) (ceiling 0.1)"
  echo "freshness (commit -> marts) p50 $(pct 50 <"$OUT/freshness.txt") s, p99 $(pct 99 <"$OUT/freshness.txt") s (ceilings 75 / 120 s), $(wc -l <"$OUT/freshness.txt") samples"
  echo "verify: $VERIFY_FAILS run(s) without a passing verify"
  echo "dashboard commit -> event: p50 <= $(latency 0.5) s, p99 <= $(latency 0.99) s (ceiling p99 < 1 s)"
  if ((LOADED > 0)); then
    echo "lane CPU per loaded row: scheduler + dbt $(echo "scale=1; $sched_cpu * 1000000 / $TICK / $LOADED" | bc) us," \
      "warehouse server $(echo "scale=1; ($pg1 - $pg0) * 1000000 / $TICK / $LOADED" | bc) us"
  fi
} | tee "$OUT/report.txt"
