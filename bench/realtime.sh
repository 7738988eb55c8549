#!/usr/bin/env bash
# Realtime dashboard benchmark: commit -> viewer latency at a sustained insert rate, for 1 viewer and for
# many, and the service's peak memory. The generator (real-time mode) inserts RATE rows/s into the webapp
# database for SECONDS_RUN s; they travel Postgres -> Debezium -> Kafka -> fleetpipe realtime -> SSE.
# build/sse_viewers (bench/sse_viewers.cpp: one Asio thread, N connections) records per point change
#   total = arrival - payload.source.ts_ms (Postgres commit), and splits it into
#   upstream (Kafka record time - commit: Postgres + Debezium + Kafka, the floor beside us that the dashboard
#   cannot go below), service (handed to the sockets - record time) and delivery (arrival - handed over).
# Usage: bench/realtime.sh  (needs the running stack; env as for fleetpipe; RATE=2000 SECONDS_RUN=60
#   VIEWERS=1 MANY_VIEWERS=500 MANY_RATE=$RATE REALTIME_PORT=18099; BUILD=dir of the fleetpipe serving;
#   BROWSER_PAGES=1: a round between the two where the dashboard page itself, in headless Chromium
#   (bench/realtime_browser.mjs), records commit -> event in its handler; 0 skips it;
#   SKIP_SUSTAINED=1 skips the 1-viewer round, MANY_VIEWERS=0 the many-viewer round;
#   STATE_VEHICLES=N: N more vehicles with 200 points each in the database before the rounds;
#   GZIP=1: the viewers ask for gzip streams as browsers do and inflate them; off by default, because one
#   client process inflating 500 streams on the same 2 cores as the server measures itself more than the server)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${RATE:-2000}" SECS="${SECONDS_RUN:-60}" VIEWERS="${VIEWERS:-1}"
MANY_VIEWERS="${MANY_VIEWERS:-500}" MANY_RATE="${MANY_RATE:-$RATE}"
PORT="${REALTIME_PORT:-18099}" BUILD="${BUILD:-build}" GZIP="${GZIP:-0}"
# ROUND_VEHICLES: the simulated vehicles of each round (50 unless set; the fleet-scale run uses 5 000), each
# round with ids of its own: a vehicle's new points must be newer than what it had, or they are redraws.
ROUND_VEHICLES="${ROUND_VEHICLES:-50}"
SPAN=$(( ROUND_VEHICLES > 500 ? ROUND_VEHICLES : 500 ))
FIRST_VEHICLE=$(( 100000 + (RANDOM % 50) * 10 * SPAN ))  # fresh vehicles each run

base="http://127.0.0.1:$PORT"
# REALTIME_ARGS: more options for the service (e.g. --no-rebuild, to compare builds with the same empty state).
# shellcheck disable=SC2086
FLEETPIPE_LOG_LEVEL=warn "$BUILD/fleetpipe" realtime --port "$PORT" --group "bench-realtime-$$" --new-group-from-end \
  ${REALTIME_ARGS:-} >/tmp/fleetpipe-realtime-bench.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

caught_up() {  # measure only once the consumer has no lag (it starts at the end; the database supplies the past)
  for _ in $(seq 1 180); do
    lag=$(curl -fs "$base/metrics" | awk '/^fp_realtime_consumer_lag /{print $2}')
    [[ "${lag:-1}" == "0" ]] && return 0; sleep 1
  done
  echo "consumer lag did not reach 0" >&2; return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

round() {  # rate viewers label first-vehicle (each round its own vehicles: same keys would be conflicts)
  local rate=$1 viewers=$2 label=$3 first=$4 count=$(( $1 * SECS ))
  caught_up
  build/sse_viewers --port "$PORT" --viewers "$viewers" --seconds $(( SECS + 8 )) \
    --min-vehicle "$first" --max-vehicle $(( first + 1000 )) --gzip "$GZIP" >/tmp/fleetpipe-realtime-viewers.json &
  local vpid=$! t0 c0 gen
  sleep 3  # every viewer connected and past its first snapshot
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  gen=$(FLEETPIPE_LOG_LEVEL=warn build/fleetpipe generate --simulate --vehicles "$ROUND_VEHICLES" --first-vehicle-id "$first" \
    --seed $RANDOM --start-time now --rate "$rate" --count "$count" --sink postgres \
    --batch-size $(( rate / 100 > 0 ? rate / 100 : 1 )) --run-id "bench-realtime-$$-$label" 2>&1 | tail -1)
  local secs cpu
  secs=$(echo "$(date +%s.%N) - $t0" | bc); cpu=$(( $(cpu_ticks "$pid") - c0 ))
  wait $vpid || true
  echo "$label: $count rows at $rate/s in ${secs}s (generator: $gen), viewers=$viewers," \
       "service CPU $(echo "scale=1; $cpu * 100 / $(getconf CLK_TCK) / $secs" | bc)% of one core:"
  echo "  $(cat /tmp/fleetpipe-realtime-viewers.json)"
}
browser_round() {  # rate pages first-vehicle: the same load, seen by the dashboard page in headless Chromium
  local rate=$1 pages=$2 first=$3 count=$(( $1 * SECS )) out=/tmp/fleetpipe-realtime-browser.out
  caught_up
  : >"$out"
  node bench/realtime_browser.mjs "$base" $(( SECS + 5 )) "$pages" >"$out" 2>&1 &
  local bpid=$!
  for _ in $(seq 1 600); do grep -q '^ready$' "$out" && break; kill -0 $bpid 2>/dev/null || break; sleep 0.1; done
  grep -q '^ready$' "$out" || { echo "browser round: the page did not come up:"; cat "$out"; return 1; }
  FLEETPIPE_LOG_LEVEL=warn build/fleetpipe generate --simulate --vehicles "$ROUND_VEHICLES" --first-vehicle-id "$first" \
    --seed $RANDOM --start-time now --rate "$rate" --count "$count" --sink postgres \
    --batch-size $(( rate / 100 > 0 ? rate / 100 : 1 )) --run-id "bench-realtime-$$-browser" >/dev/null 2>&1
  wait $bpid || true
  echo "browser: $count rows at $rate/s, $pages page(s) of the dashboard in headless Chromium:"
  echo "  $(grep -v '^ready$' "$out")"
}
# Warm-up: a few rows (with their vehicles and drivers), so the first measured round does not pay for the
# service's first events (connections, allocations).
FLEETPIPE_LOG_LEVEL=warn build/fleetpipe generate --simulate --vehicles 5 --first-vehicle-id $(( FIRST_VEHICLE + 3 * SPAN )) \
  --seed 1 --start-time now --rate 200 --count 400 --sink postgres --batch-size 2 --run-id "bench-realtime-$$-warmup" >/dev/null 2>&1
# A larger state: STATE_VEHICLES vehicles with a full track each (200 points), in place before the rounds,
# so every snapshot and every draw of the page carries them.
if [[ "${STATE_VEHICLES:-0}" -gt 0 ]]; then
  FLEETPIPE_LOG_LEVEL=warn build/fleetpipe generate --simulate --vehicles "$STATE_VEHICLES" \
    --first-vehicle-id $(( FIRST_VEHICLE + 4 * SPAN )) --seed 2 --start-time now --bulk \
    --count $(( STATE_VEHICLES * 200 )) --sink postgres --run-id "bench-realtime-$$-state" >/dev/null 2>&1
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n "${SKIP_SUSTAINED:-}" ]] || round "$RATE" "$VIEWERS" "one-viewer" $FIRST_VEHICLE
[[ "${BROWSER_PAGES:-1}" == 0 ]] || browser_round "$RATE" "${BROWSER_PAGES:-1}" $(( FIRST_VEHICLE + SPAN ))
[[ "$MANY_VIEWERS" == 0 ]] || round "$MANY_RATE" "$MANY_VIEWERS" "many-viewers" $(( FIRST_VEHICLE + 2 * SPAN ))
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "realtime RSS: $(awk '/VmRSS/{print $2" "$3}' /proc/$pid/status), peak $(awk '/VmHWM/{print $2" "$3}' /proc/$pid/status)," \
  "vehicles in its state: $(curl -fs "$base/healthz" | grep -o '"vehicles":[0-9]*' | cut -d: -f2)"
curl -fs "$base/metrics" | grep -E '^fp_realtime_(events_per_second|consumer_lag|viewers|malformed|viewer_resyncs|batches)' || true
# The bench's rows leave the webapp database again.
STATE="${FLEETPIPE_STATE_DIR:-$PWD/var}"
PGPASSWORD="${POSTGRES_PASSWORD:-$(grep '^POSTGRES_PASSWORD=' "$STATE/credentials.env" | cut -d= -f2-)}" \
  psql -h "${POSTGRES_HOST:-localhost}" -p "${POSTGRES_PORT:-5433}" -U "${POSTGRES_USER:-fleetpipe}" \
  -d "${POSTGRES_DB:-webapp}" -qAt -c "DELETE FROM trips WHERE vehicle_id >= $FIRST_VEHICLE AND vehicle_id < $FIRST_VEHICLE + 4 * $SPAN + ${STATE_VEHICLES:-0}" >/dev/null
