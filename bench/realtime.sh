#!/usr/bin/env bash
# Realtime dashboard benchmark: commit -> browser-event latency at a sustained insert rate, and the
# service's memory. The generator inserts RATE rows/s into the webapp database (through Debezium into
# Kafka) for SECONDS; VIEWERS SSE clients (bench/realtime_viewers.mjs) measure now - payload.source.ts_ms
# per event, and split off the upstream share (commit -> Kafka record time: Postgres + Debezium), the floor
# the dashboard cannot go below (the "ceiling" beside us). Then a second round with MANY_VIEWERS viewers.
# Usage: bench/realtime.sh  (needs the running stack; env as for fleetpipe; RATE=2000 SECONDS=60 VIEWERS=1
# MANY_VIEWERS=500 MANY_RATE=200)
set -euo pipefail
cd "$(dirname "$0")/.."
RATE="${RATE:-2000}" SECS="${SECONDS_RUN:-60}" VIEWERS="${VIEWERS:-1}"
MANY_VIEWERS="${MANY_VIEWERS:-500}" MANY_RATE="${MANY_RATE:-200}"
FIRST_VEHICLE=$(( 900000 + (RANDOM % 70) * 1000 ))  # fresh vehicles each run

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
base="http://127.0.0.1:$port"
FLEETPIPE_LOG_LEVEL=warn build/fleetpipe realtime --port "$port" --group "bench-realtime-$$" \
  >/tmp/fleetpipe-realtime-bench.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
# Let a fresh consumer group catch up with the topic before measuring.
for _ in $(seq 1 120); do
  lag=$(curl -fs "$base/metrics" | awk '/^fp_realtime_consumer_lag /{print $2}')
  [[ "${lag:-1}" == "0" ]] && break; sleep 1
done

round() {  # rate viewers label first-vehicle (each round its own vehicles: same keys would be conflicts)
  local rate=$1 viewers=$2 count=$(( $1 * SECS )) first=$4
  BASE="$base" VIEWERS="$viewers" SECONDS_RUN=$(( SECS + 5 )) MIN_VEHICLE="$first" MAX_VEHICLE=$(( first + 1000 )) \
    node bench/realtime_viewers.mjs >/tmp/fleetpipe-realtime-viewers.json &
  local vpid=$!
  sleep 1
  FLEETPIPE_LOG_LEVEL=warn build/fleetpipe generate --simulate --vehicles 50 --first-vehicle-id "$first" \
    --seed $RANDOM --start-time now --rate "$rate" --count "$count" --sink postgres --batch-size $(( rate / 100 > 0 ? rate / 100 : 1 )) \
    --run-id "bench-realtime-$$-$rate" >/dev/null 2>&1
  wait $vpid
  echo "$3: rate=$rate/s for ${SECS}s, viewers=$viewers: $(cat /tmp/fleetpipe-realtime-viewers.json)"
}
[[ -n "${SKIP_SUSTAINED:-}" ]] || round "$RATE" "$VIEWERS" "sustained" $FIRST_VEHICLE
round "$MANY_RATE" "$MANY_VIEWERS" "many viewers" $(( FIRST_VEHICLE + 1000 ))
echo "realtime RSS: $(awk '/VmRSS/{print $2" "$3}' /proc/$pid/status), peak $(awk '/VmHWM/{print $2" "$3}' /proc/$pid/status)"
curl -fs "$base/metrics" | grep -E '^fp_realtime_(events_per_second|consumer_lag|viewers|malformed)' || true
# The bench's vehicles leave the webapp database again.
STATE="${FLEETPIPE_STATE_DIR:-$PWD/var}"
PGPASSWORD="${POSTGRES_PASSWORD:-$(grep '^POSTGRES_PASSWORD=' "$STATE/credentials.env" | cut -d= -f2-)}" \
  psql -h "${POSTGRES_HOST:-localhost}" -p "${POSTGRES_PORT:-5433}" -U "${POSTGRES_USER:-fleetpipe}" \
  -d "${POSTGRES_DB:-webapp}" -qAt -c "DELETE FROM trips WHERE vehicle_id >= $FIRST_VEHICLE AND vehicle_id < $FIRST_VEHICLE + 2000" >/dev/null
