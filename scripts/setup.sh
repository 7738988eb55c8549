#!/usr/bin/env bash
# setup.sh — install what fleetpipe needs on a Debian 12 machine, idempotently: apt packages that are
# missing, then the engines' jars (scripts/fetch-jars.sh, cached). A warm run takes well under a second.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf 'setup: %s\n' "$*" >&2; }

# ---- apt packages ------------------------------------------------------------------------------------
mapfile -t wanted < <(grep -vE '^\s*(#|$)' scripts/apt-packages.txt)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
if ((${#missing[@]})); then
  log "installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package lists older than a day (or absent) are refreshed first; an install failure names the packages.
  if [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]]; then
    $SUDO apt-get update -qq || { log "apt-get update failed (Debian's package registry unreachable?)"; exit 1; }
  fi
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/fleetpipe-apt.log 2>&1; then
    tail -20 /tmp/fleetpipe-apt.log >&2
    log "apt-get install failed for: ${missing[*]} (registry: Debian apt; full log /tmp/fleetpipe-apt.log)"
    exit 1
  fi
fi
# The Debian server package starts a default cluster on 5432; fleetpipe runs its own clusters and does not
# need it, but leaves it alone: it is the machine owner's.

# ---- jars from Maven Central -------------------------------------------------------------------------
scripts/fetch-jars.sh >/dev/null

# ---- Python venvs from PyPI, pinned (cached under ~/.cache/fleetpipe/venvs; a warm run is a stat) ----------
# pgAdmin 4 for `fleetpipe up --with-pgadmin` and `demo` (~600 MB, a few minutes the first time).
scripts/python-venv.sh pgadmin stack/pgadmin/requirements.txt >/dev/null
# dbt-core + dbt-postgres for the warehouse models (the scheduler's dbt build step, scripts/dbt.sh).
scripts/python-venv.sh dbt dbt/requirements.txt >/dev/null

# ---- npm packages (browser tests, front-end bundles), pinned by package-lock.json ------------------------
if [[ -f package-lock.json ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    # Node.js may come from elsewhere on this machine (its npm included); Debian's packages otherwise.
    log "installing Node.js and npm (Debian)"
    ${SUDO:-} apt-get install -y -qq nodejs npm >/tmp/fleetpipe-apt.log 2>&1 \
      || { tail -20 /tmp/fleetpipe-apt.log >&2; log "apt-get install nodejs npm failed"; exit 1; }
  fi
  stamp=node_modules/.fleetpipe-lock.sha256
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    log "installing npm packages (package-lock.json)"
    if ! npm ci --no-audit --no-fund --loglevel=error >/tmp/fleetpipe-npm.log 2>&1; then
      tail -20 /tmp/fleetpipe-npm.log >&2
      log "npm ci failed (registry: npm; full log /tmp/fleetpipe-npm.log)"
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
fi

log "ready"
