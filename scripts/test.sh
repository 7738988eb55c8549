#!/usr/bin/env bash
# test.sh — every test: unit tests, (in CI) the unit tests again under ASan/UBSan and the format check,
# then the integration tests against the real stack. Exits non-zero on any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FLEETPIPE=build/fleetpipe

step() { printf '\n== %s\n' "$*"; }

step "unit tests"
ctest --preset unit --output-on-failure -j 2
step "front-end unit tests (node)"
node --test tests/web/

if [[ "${CI:-}" == "true" || "${FLEETPIPE_ASAN:-}" == "1" ]]; then
  step "unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  make --no-print-directory build-asan
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset asan-unit --output-on-failure -j 2
  step "format check"
  make --no-print-directory format-check
fi

step "docker-compose.yml static checks (no Docker engine here)"
tests/compose/check.sh

# The integration tests need the stack; bring it up (idempotent) and stop it afterwards if we started it.
started=0
if ! $FLEETPIPE status >/dev/null 2>&1; then started=1; fi
# Armed before `up`: an `up` that fails half way must not leave the parts it did start running.
cleanup() { if ((started)); then step "stack down"; $FLEETPIPE down || true; fi; }
trap cleanup EXIT
step "stack up"
# pgAdmin too: tests/browser/pgadmin.test.mjs logs into it. `down` stops it with the rest.
$FLEETPIPE up --with-pgadmin

step "integration tests"
ctest --preset integration --output-on-failure

step "browser tests (headless Chromium)"
node --test tests/browser/

# Last: these stop, kill and restart parts of the stack.
step "stack lifecycle tests"
ctest --preset lifecycle --output-on-failure
