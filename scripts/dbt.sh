#!/usr/bin/env bash
# dbt.sh ARGS... — runs the project's pinned dbt (venv from dbt/requirements.txt) on dbt/ against the
# warehouse, e.g. `scripts/dbt.sh build`, `scripts/dbt.sh docs generate`. The connection comes from the same
# environment fleetpipe reads (DW_POSTGRES_* for the address, FLEETPIPE_PIPELINE_DB_* for the pipeline's
# login); a password not in the environment is read from <state>/credentials.env, which `fleetpipe up`
# generates. target/ and logs/ go to <state>/dbt/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export FLEETPIPE_STATE_DIR="${FLEETPIPE_STATE_DIR:-$ROOT/var}"
if [[ -z "${FLEETPIPE_PIPELINE_DB_PASSWORD:-}" && -f "$FLEETPIPE_STATE_DIR/credentials.env" ]]; then
  line="$(grep -E '^FLEETPIPE_PIPELINE_DB_PASSWORD=' "$FLEETPIPE_STATE_DIR/credentials.env" | tail -1 || true)"
  value="${line#FLEETPIPE_PIPELINE_DB_PASSWORD=}"
  value="${value%\"}"; value="${value#\"}"; value="${value%\'}"; value="${value#\'}"
  export FLEETPIPE_PIPELINE_DB_PASSWORD="$value"
fi
export DBT_TARGET_PATH="$FLEETPIPE_STATE_DIR/dbt/target" DBT_LOG_PATH="$FLEETPIPE_STATE_DIR/dbt/logs"
venv="$(scripts/python-venv.sh dbt dbt/requirements.txt)"
exec "$venv/bin/dbt" "$@" --project-dir dbt --profiles-dir dbt
