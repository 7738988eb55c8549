#!/usr/bin/env bash
# check.sh — static checks of docker-compose.yml, Dockerfile and .env.example (no Docker engine needed):
# the YAML parses (Debian's yq, PyYAML underneath, merge keys resolved), every image is pinned by a tag,
# no IP address is hard-coded, host ports bind 127.0.0.1, every depends_on names a service (and a
# service_healthy one has a healthcheck), every secret fleetpipe's Config needs reaches its services, every
# ${VAR} the file reads is in .env.example and vice versa, and the README names every service.
# Exit 1 with one line per failure.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
fail=0
bad() { printf 'compose check: %s\n' "$*" >&2; fail=1; }

json="$(yq . docker-compose.yml)" || { bad "docker-compose.yml does not parse"; exit 1; }
q() { jq -r "$@" <<<"$json"; }

mapfile -t services < <(q '.services | keys[]')
((${#services[@]} >= 10)) || bad "only ${#services[@]} services"

# Images: the seed's real engines, each pinned by an explicit tag (not :latest, not bare).
for s in "${services[@]}"; do
  image="$(q --arg s "$s" '.services[$s].image // ""')"
  build="$(q --arg s "$s" '.services[$s].build // ""')"
  [[ -n "$image" ]] || { bad "$s has no image"; continue; }
  [[ -n "$build" ]] && continue  # fleetpipe:local, built from ./Dockerfile
  tag="${image##*:}"
  [[ "$image" == *:* && -n "$tag" && "$tag" != latest && "$tag" != "$image" ]] || bad "$s: image $image is not pinned by a tag"
done
for want in 'redpanda:' 'debezium/connect:' 'minio/minio:' 'debezium/postgres:' 'dpage/pgadmin4:'; do
  q '.services[].image' | grep -q "$want" || bad "no service runs the seed's image $want"
done
# Every FROM line pinned (an earlier stage's name aside): one unpinned base fails, however many others are.
mapfile -t stages < <(sed -nE 's/^FROM .* AS ([^ ]+).*/\1/ip' Dockerfile)
while read -r _ base _; do
  [[ " ${stages[*]} " == *" $base "* ]] && continue
  [[ "$base" == *:* && "${base##*:}" != latest ]] || bad "Dockerfile base image $base is not pinned by a tag"
done < <(grep -E '^FROM ' Dockerfile)
grep -qE '^FROM ' Dockerfile || bad "Dockerfile has no FROM"

# Names, not addresses: no IPv4 literal other than the loopback/any binds.
if grep -nE '\b([0-9]{1,3}\.){3}[0-9]{1,3}\b' docker-compose.yml | grep -vE '127\.0\.0\.1|0\.0\.0\.0'; then
  bad "hard-coded IP address (use the service name)"
fi
[[ "$(q '.services[].environment.AWS_ENDPOINT_URL // empty' | sort -u)" == "http://minio:9000" ]] \
  || bad "fleetpipe services must reach the object store as http://minio:9000"

# Host ports: loopback only.
while read -r p; do
  [[ "$p" == 127.0.0.1:* ]] || bad "port $p is published on every interface"
done < <(q '.services[].ports // [] | .[]')

# depends_on: existing services; service_healthy only on services with a healthcheck.
while IFS=$'\t' read -r s dep cond; do
  q --arg d "$dep" '.services | has($d)' | grep -q true || { bad "$s depends on unknown $dep"; continue; }
  if [[ "$cond" == service_healthy ]]; then
    q --arg d "$dep" '.services[$d].healthcheck.test // empty' | grep -q . || bad "$s waits for $dep to be healthy, which has no healthcheck"
  fi
done < <(q '.services | to_entries[] | .key as $s | (.value.depends_on // {}) | to_entries[] | [$s, .key, .value.condition] | @tsv')

# Every secret Config has no default for (generated natively) is given to the fleetpipe services.
mapfile -t secrets < <(sed -n '/^const std::vector<std::string>& generated_secret_names() {/,/return names/p' src/common/config.cpp | grep -oE '"[A-Z_]+"' | tr -d '"')
((${#secrets[@]} >= 5)) || bad "could not read the secret names from src/common/config.cpp"
for v in "${secrets[@]}"; do
  [[ "$v" == PGADMIN_* ]] && continue  # pgAdmin's own container takes these
  q --arg v "$v" '.services.webapp.environment | has($v)' | grep -q true || bad "fleetpipe services lack $v"
done
# And every other variable Config reads is set or has its default in code (the service names must be set).
for v in POSTGRES_HOST DW_POSTGRES_HOST KAFKA_BOOTSTRAP_SERVERS KAFKA_CONNECT_URL AWS_ENDPOINT_URL; do
  q --arg v "$v" '.services.webapp.environment | has($v)' | grep -q true || bad "fleetpipe services lack $v"
done

# ${VAR} references and .env.example agree.
mapfile -t referenced < <(grep -oE '\$\{[A-Z0-9_]+' docker-compose.yml | tr -d '${' | sort -u)
mapfile -t example < <(grep -oE '^[A-Z0-9_]+=' .env.example | tr -d '=' | sort -u)
for v in "${referenced[@]}"; do printf '%s\n' "${example[@]}" | grep -qx "$v" || bad ".env.example lacks $v"; done
for v in "${example[@]}"; do printf '%s\n' "${referenced[@]}" | grep -qx "$v" || bad ".env.example sets $v, which docker-compose.yml never reads"; done
grep -qx '/.env' .gitignore || bad ".env is not git-ignored"

# The README's compose section names every service, and names no service that does not exist.
section="$(sed -n '/^## With Docker/,/^## /p' README.md)"
[[ -n "$section" ]] || bad "README has no '## With Docker' section"
for s in "${services[@]}"; do grep -q "\`$s\`" <<<"$section" || bad "README does not name service $s"; done
while read -r named; do
  printf '%s\n' "${services[@]}" | grep -qx "$named" || bad "README names service $named, which does not exist"
done < <(grep -oE '^\| `[a-z_-]+`' <<<"$section" | tr -d '|` ')

((fail == 0)) && echo "compose check: ${#services[@]} services OK"
exit "$fail"
