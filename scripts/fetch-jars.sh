#!/usr/bin/env bash
# fetch-jars.sh — fetch the jars of fleetpipe's three JVM engines from Maven Central, cached.
#
#   kafka    Kafka broker + CLI tools (StorageTool, ProducerPerformance)  stack/maven/kafka/pom.xml
#   connect  Kafka Connect worker classpath + Debezium PostgreSQL plugin  stack/maven/connect/pom.xml
#   s3proxy  S3Proxy (filesystem backend)                                 stack/maven/s3proxy/pom.xml
#
# Each component lands in $CACHE/<component>-<version>-<pom hash>/ (a changed POM is a new
# directory), built in a temporary directory and renamed into place, with a .complete marker.
# A warm run does not start Maven at all. The classpaths are kept apart: they conflict.
#
# Output: the resolved directories as shell assignments, on stdout and in $CACHE/paths.env:
#   FLEETPIPE_KAFKA_LIB, FLEETPIPE_CONNECT_LIB, FLEETPIPE_CONNECT_PLUGINS, FLEETPIPE_S3PROXY_LIB
# Use them as java -cp "$FLEETPIPE_KAFKA_LIB/*" (the JVM expands the * itself).
#
# Environment: FLEETPIPE_CACHE (default ~/.cache/fleetpipe), MVN (default mvn),
#              MVN_ARGS (extra Maven arguments, e.g. -o for offline).
# Usage: scripts/fetch-jars.sh [component...]   (default: all three)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FLEETPIPE_CACHE:-$HOME/.cache/fleetpipe}/jars"
MVN="${MVN:-mvn}"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

die() { echo "fetch-jars: $*" >&2; exit 1; }

TMPDIRS=()
cleanup() { local d; for d in "${TMPDIRS[@]+"${TMPDIRS[@]}"}"; do [[ -e "$d" ]] && rm -rf -- "$d"; done; return 0; }
trap cleanup EXIT

pom_of() { echo "$ROOT/stack/maven/$1/pom.xml"; }

# <component>-<fleetpipe.component.version>-<first 12 hex of the POM's sha256>
dir_of() {
  local pom ver hash
  pom="$(pom_of "$1")"
  [[ -f "$pom" ]] || die "no POM for component '$1' at $pom"
  ver="$(sed -n 's:.*<fleetpipe.component.version>\(.*\)</fleetpipe.component.version>.*:\1:p' "$pom" | head -n1)"
  [[ -n "$ver" ]] || die "$pom has no <fleetpipe.component.version>"
  hash="$(sha256sum "$pom" | cut -c1-12)"
  echo "$CACHE/$1-$ver-$hash"
}

# Report a Maven failure: which artifact, which registry.
mvn_failed() {
  local component="$1" log="$2"
  {
    echo "fetch-jars: fetching '$component' from Maven Central failed (registry: Maven Central, via mvn)."
    echo "fetch-jars: POM: $(pom_of "$component")"
    local lines
    lines="$(grep -E 'Could not (resolve|find|transfer)|Checksum validation failed|checksum|Failed to (read|collect|execute)|Non-resolvable|not found' "$log" | sed -e 's/^\[ERROR\] *//' -e 's/ -> \[Help [0-9]*\]$//' | awk '!seen[$0]++' | head -n 8 || true)"
    if [[ -n "$lines" ]]; then
      echo "fetch-jars: artifact(s) at fault:"
      printf '  %s\n' "$lines"
    else
      echo "fetch-jars: Maven output (last lines):"
      tail -n 20 "$log" | sed 's/^/  /'
    fi
    echo "fetch-jars: full Maven log: $log"
    echo "fetch-jars: Maven remembers failed look-ups in ~/.m2; once the cause is fixed, retry with MVN_ARGS=-U"
  } >&2
  exit 1
}

# mvn <component> <log> <goal and -D args...>
run_mvn() {
  local component="$1" log="$2"; shift 2
  # -B batch, -q quiet, -C strict checksums (a bad checksum fails instead of warning).
  # shellcheck disable=SC2086
  if ! "$MVN" -B -q -C ${MVN_ARGS:-} -f "$(pom_of "$component")" "$@" >>"$log" 2>&1; then
    mvn_failed "$component" "$log"
  fi
}

fetch() {
  local component="$1" final tmp log
  final="$(dir_of "$component")"
  if [[ -f "$final/.complete" ]]; then
    return 0
  fi
  command -v "$MVN" >/dev/null 2>&1 || die "'$MVN' not found: install Maven (apt-get install -y maven) to fetch '$component'"
  mkdir -p "$CACHE"
  [[ -e "$final" ]] && rm -rf -- "$final"        # left over without .complete: redo
  tmp="$(mktemp -d "$CACHE/.tmp-$component.XXXXXX")"
  TMPDIRS+=("$tmp")
  log="$CACHE/$component.mvn.log"
  : >"$log"
  echo "fetch-jars: fetching $component into $final (Maven Central) ..." >&2

  local common=(-DincludeScope=runtime -DexcludeTypes=pom -DmarkersDirectory="$tmp/.markers"
                -Dmdep.copyPom=false -DoverWriteIfNewer=true)
  run_mvn "$component" "$log" "$DEP_PLUGIN:copy-dependencies" "${common[@]}" -DoutputDirectory="$tmp/lib"
  if [[ "$component" == connect ]]; then
    # The Debezium plugin tar.gz unpacks to plugins/debezium-connector-postgres/*.jar
    run_mvn "$component" "$log" "$DEP_PLUGIN:unpack@debezium-plugin" \
      -Dfleetpipe.markers.dir="$tmp/.markers" -Dfleetpipe.plugin.dir="$tmp/plugins"
    compgen -G "$tmp/plugins/*/debezium-connector-postgres-*.jar" >/dev/null \
      || die "Debezium plugin unpacked but no debezium-connector-postgres jar found under $tmp/plugins"
  fi
  compgen -G "$tmp/lib/*.jar" >/dev/null || die "no jars copied for '$component' (see $log)"
  rm -rf -- "$tmp/.markers"
  touch "$tmp/.complete"
  # Atomic publish: rename the finished directory into place. If another run won the race, keep its copy.
  if ! mv -T -- "$tmp" "$final" 2>/dev/null; then
    [[ -f "$final/.complete" ]] || die "could not move $tmp to $final"
    rm -rf -- "$tmp"
  fi
  rm -f -- "$log"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(kafka connect s3proxy)
for c in "${components[@]}"; do
  case "$c" in kafka|connect|s3proxy) fetch "$c" ;; *) die "unknown component '$c' (kafka, connect, s3proxy)" ;; esac
done

# Report the directories of all components that are present (requested ones are, by now).
out=""
for c in kafka connect s3proxy; do
  d="$(dir_of "$c")"
  [[ -f "$d/.complete" ]] || continue
  case "$c" in
    kafka)   out+="FLEETPIPE_KAFKA_LIB=$d/lib"$'\n' ;;
    connect) out+="FLEETPIPE_CONNECT_LIB=$d/lib"$'\n'"FLEETPIPE_CONNECT_PLUGINS=$d/plugins"$'\n' ;;
    s3proxy) out+="FLEETPIPE_S3PROXY_LIB=$d/lib"$'\n' ;;
  esac
done
mkdir -p "$CACHE"
envtmp="$(mktemp "$CACHE/.paths.env.XXXXXX")"
printf '%s' "$out" >"$envtmp" && mv -f -- "$envtmp" "$CACHE/paths.env"
printf '%s' "$out"
