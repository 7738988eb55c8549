#!/usr/bin/env bash
# CPU time (clock ticks, user + system) used so far by each part of the stack under FLEETPIPE_STATE_DIR:
#   stack_cpu.sh  ->  "pg_webapp=N pg_warehouse=N kafka=N connect=N s3=N"
# A PostgreSQL server counts its postmaster, its live children and the children it has reaped (backends of
# closed sessions): take two samples around a run and subtract. Used by the benchmarks to show where the
# CPU of a run goes on a shared machine, where wall-clock rates depend on everybody else's load.
set -euo pipefail
STATE=${FLEETPIPE_STATE_DIR:-$PWD/var}
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {  # postmaster of data dir $1: own + reaped children + live children
  local pm; pm=$(head -1 "$1/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  local t; t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
  for c in $(ps -o pid= --ppid "$pm"); do t=$((t + $(ticks "$c"))); done
  echo "$t"
}
jvm_ticks() {  # the java process whose command line names $1 and the state dir
  local p
  for p in $(pgrep -f -- "$1" || true); do
    if tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "$STATE"; then ticks "$p"; return; fi
  done
  echo 0
}
echo "pg_webapp=$(pg_ticks "$STATE/postgres/webapp") pg_warehouse=$(pg_ticks "$STATE/postgres/warehouse")" \
  "kafka=$(jvm_ticks kafka.Kafka) connect=$(jvm_ticks ConnectDistributed) s3=$(jvm_ticks s3proxy)"
