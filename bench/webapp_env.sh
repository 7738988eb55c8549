# Sourced by the benchmarks that write into the webapp database and Kafka (cwd: the repository): the
# stack's credentials and endpoints, as every fleetpipe command sees them, and the guard for destructive
# runs. Defines BIN, STATE, PSQL (array), BOOT; exports PGPASSWORD.
[[ "${BENCH_TRUNCATE_OK:-}" == 1 ]] || { echo "refusing: set BENCH_TRUNCATE_OK=1 (truncates trips)" >&2; exit 2; }
BIN=./build/fleetpipe
STATE=${FLEETPIPE_STATE_DIR:-$PWD/var}
set -a; . "$STATE/credentials.env"; set +a
export PGPASSWORD=$POSTGRES_PASSWORD
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "${POSTGRES_HOST:-localhost}" -p "${POSTGRES_PORT:-5433}" -U "${POSTGRES_USER:-fleetpipe}" "${POSTGRES_DB:-webapp}")
BOOT=${KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}
