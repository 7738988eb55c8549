#!/usr/bin/env bash
# python-venv.sh NAME REQUIREMENTS — make (once) and print the path of a Python virtual environment with
# exactly the packages pinned in REQUIREMENTS, built on Debian's python3 (python3-venv) from PyPI.
# Cached under ~/.cache/fleetpipe/venvs/NAME-<hash of REQUIREMENTS>: a changed pin builds a new venv, an
# unchanged one costs a stat. A venv counts only once pip has succeeded (a marker file); a half-built one is
# removed and built again. Concurrent callers wait on a lock instead of building the same venv twice.
set -euo pipefail
name="${1:?usage: python-venv.sh NAME REQUIREMENTS}"
req="${2:?usage: python-venv.sh NAME REQUIREMENTS}"
[[ -f "$req" ]] || { echo "python-venv: no requirements file $req" >&2; exit 1; }
cache="${FLEETPIPE_CACHE:-$HOME/.cache/fleetpipe}/venvs"
venv="$cache/$name-$(sha256sum "$req" | cut -c1-16)"
done_marker="$venv/.fleetpipe-complete"
if [[ -f "$done_marker" ]]; then
  echo "$venv"
  exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/$name.lock"
flock -w 900 9 || { echo "python-venv: timed out waiting for $cache/$name.lock" >&2; exit 1; }
if [[ ! -f "$done_marker" ]]; then
  echo "python-venv: building $name from $req (PyPI)" >&2
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  log="$cache/$name.pip.log"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --timeout 120 --retries 5 \
    -r "$req" >"$log" 2>&1; then
    tail -20 "$log" >&2
    rm -rf "$venv"
    echo "python-venv: pip install -r $req failed (registry: PyPI; full log $log)" >&2
    exit 1
  fi
  touch "$done_marker"
fi
echo "$venv"
