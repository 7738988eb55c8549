# fleetpipe's own services in a container (docker-compose.yml runs them beside the seed's real images).
# Untested here: the machine fleetpipe is developed on has no Docker engine. Build: docker compose build
#
# Stage 1: Debian 12 with the same build packages as scripts/apt-packages.txt (toolchain + C++ libraries).
FROM debian:12.11-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/apt-packages.txt /tmp/apt-packages.txt
# The packages between "# Toolchain" and "# Engines" of the list: what the binary builds with.
RUN sed -n '/^# Toolchain/,/^# Engines/p' /tmp/apt-packages.txt | grep -vE '^\s*(#|$)' > /tmp/build-packages.txt \
 && apt-get update \
 && xargs -a /tmp/build-packages.txt apt-get install -y --no-install-recommends \
 && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN cmake --preset release >/dev/null && ninja -C build fleetpipe
# The Debian packages that own the shared libraries the binary links: exactly what the runtime needs.
RUN ldd build/fleetpipe | awk '/=> \//{print $3}' | xargs -r realpath | xargs -r dpkg -S 2>/dev/null \
      | cut -d: -f1 | sort -u > /runtime-packages.txt \
 && test -s /runtime-packages.txt

# Stage 2: the binary, its shared libraries and the files it reads (sql/, config/, stack/conf, web/, npm bundle).
FROM debian:12.11-slim
ENV DEBIAN_FRONTEND=noninteractive
COPY --from=build /runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1001 --home-dir /var/lib/fleetpipe --create-home fleetpipe
COPY --from=build /src/build/fleetpipe /usr/local/bin/fleetpipe
COPY --from=build /src/sql /opt/fleetpipe/sql
COPY --from=build /src/config /opt/fleetpipe/config
COPY --from=build /src/stack/conf /opt/fleetpipe/stack/conf
COPY --from=build /src/web /opt/fleetpipe/web
COPY --from=build /src/data /opt/fleetpipe/data
COPY --from=build /src/node_modules /opt/fleetpipe/node_modules
# dbt for the scheduler's dbt build step: the same pinned requirements as the native venv.
COPY dbt /opt/fleetpipe/dbt
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/dbt && /opt/dbt/bin/pip install --no-cache-dir -r /opt/fleetpipe/dbt/requirements.txt
ENV FLEETPIPE_HOME=/opt/fleetpipe FLEETPIPE_STATE_DIR=/var/lib/fleetpipe FLEETPIPE_LOG_FORMAT=json \
    FLEETPIPE_DBT=/opt/dbt/bin/dbt
WORKDIR /opt/fleetpipe
USER fleetpipe
ENTRYPOINT ["/usr/local/bin/fleetpipe"]
CMD ["--help"]
